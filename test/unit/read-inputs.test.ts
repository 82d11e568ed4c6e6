import fc from 'fast-check';
import { posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import { displayPath, displayPathsIn } from '../../src/load/read-inputs.js';

const segment = fc.constantFrom('a', 'b', 'conf.d', '..', '.', 'x y');
const absolute = fc.array(segment, { maxLength: 4 }).map((s) => posix.resolve('/', ...s));

describe('the paths people are shown for service files', () => {
  it('are worked out once per directory, and are what displayPath gives for each file', () => {
    fc.assert(
      fc.property(absolute, absolute, fc.constantFrom('web.yaml', 'a.yml'), (dir, cwd, name) => {
        expect(displayPathsIn(dir, cwd)(name)).toBe(displayPath(posix.join(dir, name), cwd));
      }),
      { numRuns: 500 },
    );
  });
});
