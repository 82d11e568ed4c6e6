import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EnvironmentError, ExitError } from '../errors.js';
import type { Reporter } from './reporter.js';

/**
 * `gen-fw schema [--out DIR]`: the JSON Schemas of gen-fw.yaml, a service file and an
 * expectations file (src/validate/json-schema.ts), one file each, replaced whole.
 */
export async function schemaCommand(out: string, report: Reporter): Promise<number> {
  const { SCHEMA_FILES, jsonSchemas } = await import('../validate/json-schema.js');
  const schemas = jsonSchemas();
  try {
    await mkdir(out, { recursive: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTDIR') throw new ExitError(2, `--out: ${out} is not a directory`);
    throw new EnvironmentError(`cannot create ${out}: ${(e as Error).message}`);
  }
  const written: string[] = [];
  for (const [kind, file] of Object.entries(SCHEMA_FILES) as [keyof typeof SCHEMA_FILES, string][]) {
    const path = join(out, file);
    const aside = join(out, `.${file}.tmp-${process.pid}`);
    try {
      await writeFile(aside, JSON.stringify(schemas[kind], null, 2) + '\n');
      await rename(aside, path);
    } catch (e) {
      throw new EnvironmentError(`cannot write ${path}: ${(e as Error).message}`);
    }
    written.push(path);
  }
  report.result(`wrote ${written.join(', ')}`);
  return 0;
}
