import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readSets } from '../../src/load/read-sets.js';
import { validateHost } from '../../src/validate/validate-config.js';
import { parseYamlFile } from '../../src/parse/parse-yaml.js';
import { formatProblem } from '../../src/errors.js';

const root = mkdtempSync(join(tmpdir(), 'gfw-read-sets-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const SECRET = 'root:$6$s3cr3tsalt$0123456789abcdefghij:19000:0:99999:7:::';

/** A project in root/<name>/ with gen-fw.yaml, and a "host file" beside it, outside the project. */
async function project(name: string, sets: string, files: Record<string, string> = {}) {
  const dir = join(root, name);
  mkdirSync(join(dir, 'lists'), { recursive: true });
  writeFileSync(join(root, 'shadow'), `${SECRET}\n`);
  for (const [path, text] of Object.entries(files)) writeFileSync(join(dir, path), text);
  const yaml = `sets: ${sets}\n`;
  writeFileSync(join(dir, 'gen-fw.yaml'), yaml);
  const r = parseYamlFile('gen-fw.yaml', yaml);
  if (!r.ok) throw new Error('bad yaml');
  const { host, problems } = await validateHost({ parsed: r.parsed, sha256: 'x' });
  expect(problems).toEqual([]);
  const got = await readSets(host!, join(dir, 'gen-fw.yaml'));
  return { ...got, text: got.problems.map(formatProblem).join('\n') };
}

describe('set files stay inside the project and are never echoed (issue 19.10)', () => {
  it('refuses ".." out of the project, an absolute path, and a symlink out, without reading them', async () => {
    expect((await project('dotdot', '{ x: { file: ../shadow } }')).text).toContain('sets.x.file: leads out of the project');
    expect((await project('abs', `{ x: { file: ${join(root, 'shadow')} } }`)).text).toContain('sets.x.file: is an absolute path');
    mkdirSync(join(root, 'link/lists'), { recursive: true });
    symlinkSync(join(root, 'shadow'), join(root, 'link/lists/x.txt'));
    const link = await project('link', '{ x: { file: lists/x.txt } }');
    expect(link.text).toContain("sets.x.file: leads out of the project (gen-fw.yaml's directory, through a symlink)");
    for (const r of [link]) expect(r.text).not.toContain('s3cr3t');
  });

  it('reads a file outside the project when the set says allow_outside_project: true, and echoes no line of it', async () => {
    const r = await project('allowed', '{ x: { file: ../shadow, allow_outside_project: true } }');
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatchObject({ line: 1, col: 1 });
    expect(r.text).toContain('not an address or CIDR (58 characters, starting "root:$"…)');
    expect(r.text).not.toContain('s3cr3t');
    expect(r.text).not.toContain('19000');
  });

  it('reads a set file inside the project', async () => {
    const r = await project('inside', '{ x: { file: lists/x.txt } }', { 'lists/x.txt': '# office\n192.0.2.0/24\n  2001:db8::/32 # v6\n' });
    expect(r.problems).toEqual([]);
    expect(r.sets.get('x')!.addresses.map((a) => a.text)).toEqual(['192.0.2.0/24', '2001:db8::/32']);
  });

  it('quotes an address-like token and locates it at its column', async () => {
    const r = await project('bad', '{ x: { file: lists/x.txt } }', { 'lists/x.txt': '  10.0.0.1/8\n' });
    expect(r.text).toContain('lists/x.txt:1:3: 10.0.0.1/8 has host bits set');
  });
});
