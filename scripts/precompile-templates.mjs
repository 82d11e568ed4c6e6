#!/usr/bin/env node
// Build step, run after tsc: precompile templates/ into dist/templates.precompiled.cjs, so
// that a render need not compile them (see src/render/handlebars.ts). Without it, renders
// compile the templates each time: slower, the same output. It also refuses runtime/ files
// that cannot be joined into the scripts (see src/render/runtime-files.ts).
import { fileURLToPath } from 'node:url';
import { writePrecompiled } from '../dist/render/precompile-templates.js';

const root = fileURLToPath(new URL('..', import.meta.url));
writePrecompiled(`${root}templates`, `${root}dist/templates.precompiled.cjs`, `${root}runtime`);
