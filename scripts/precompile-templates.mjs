#!/usr/bin/env node
// Build step, run after tsc: precompile templates/ into dist/templates.precompiled.cjs, so
// that a render need not compile them (see src/render/handlebars.ts). Without it, renders
// compile the templates each time: slower, the same output.
import { fileURLToPath } from 'node:url';
import { writePrecompiled } from '../dist/render/precompile-templates.js';

const root = fileURLToPath(new URL('..', import.meta.url));
writePrecompiled(`${root}templates`, `${root}dist/templates.precompiled.cjs`);
