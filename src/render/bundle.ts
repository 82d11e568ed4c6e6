import { sha256 } from '../shared/hash.js';

export interface BundleFile {
  content: string;
  mode: number;
}

/** The bundle as files in memory, keyed by path relative to the bundle root, sorted. */
export type Bundle = Map<string, BundleFile>;

/**
 * Where rendered files go, one at a time, as they are made: into memory (lint, tests) or
 * straight into the staging directory of a write (src/emit). Returns the file's sha256.
 */
export interface BundleSink {
  add(path: string, content: string, mode: number): string;
}

/**
 * Handlebars builds a file by appending its pieces one by one, which V8 keeps as a rope of
 * small strings several times the size of the text (10,000 fragments held that way cost
 * more memory than the rest of a render). Matching a regular expression flattens a string
 * in place. (Writing a file flattens it too: only a sink that keeps files needs this.)
 */
function flatten(text: string): string {
  /^/.test(text);
  return text;
}

/** A sink that keeps every file: the bundle in memory, sorted by path, manifest.json last. */
export function memorySink(): BundleSink & { bundle(): Bundle } {
  const files: [string, BundleFile][] = [];
  return {
    add(path, content, mode) {
      files.push([path, { content: flatten(content), mode }]);
      return sha256(content);
    },
    bundle() {
      const manifest = files.filter(([p]) => p === 'manifest.json');
      const rest = files.filter(([p]) => p !== 'manifest.json').sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return new Map([...rest, ...manifest]);
    },
  };
}
