import { execa } from 'execa';
import fc from 'fast-check';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/render.js';
import { listFiles, snapshotTree, verifyBundle } from './support/tree.js';

/**
 * `gen-fw render --out` replaces only a bundle it made itself (issue 18 §0): anything else
 * at --out, and any --out that is or holds the project, is refused with exit 2 and left
 * byte for byte as it was, with nothing written anywhere (no hidden sibling, no parent).
 * --out is an ordinary directory that cp, tar and rsync copy without a trailing slash.
 */

const SERVICE = 'description: web\nrules:\n  - { direction: in, proto: tcp, dport: 443 }\n';
let root: string;
beforeAll(() => (root = mkdtempSync(join(tmpdir(), 'gfw-outdir-'))));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
/** A project of its own: gen-fw.yaml, conf.d/web.yaml, a README and a hidden file of the user's. */
function project(): string {
  const dir = join(root, `p${n++}`);
  mkdirSync(join(dir, 'conf.d'), { recursive: true });
  writeFileSync(join(dir, 'gen-fw.yaml'), 'install_dir: /opt/sbin\n');
  writeFileSync(join(dir, 'conf.d', 'web.yaml'), SERVICE);
  writeFileSync(join(dir, 'README.md'), '# my infrastructure\n');
  writeFileSync(join(dir, '.env'), 'SECRET=1\n');
  return dir;
}

async function render(cwd: string, ...args: string[]) {
  return runCli(['render', ...args], cwd);
}

/** Render with `args` in `cwd`; expect exit 2 with `message`, and `watched` exactly as before. */
async function refused(cwd: string, args: string[], message: string | RegExp, watched = cwd): Promise<string> {
  const before = snapshotTree(watched);
  const r = await render(cwd, ...args);
  expect(r.exitCode, r.stderr).toBe(2);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  expect(snapshotTree(watched)).toEqual(before);
  return r.stderr;
}

describe('render refuses an --out it did not make, and writes nothing', () => {
  it('the project directory itself: --out .', async () => {
    const p = project();
    await refused(p, ['--out', '.'], /--out \. is the project directory .*; nothing was written/, root);
  });

  it('a directory holding the project (--out ..)', async () => {
    const p = project();
    await refused(p, ['--out', '..'], /--out \.\. contains the config file gen-fw\.yaml; nothing was written/, root);
  });

  it('/', async () => {
    const p = project();
    const top = readdirSync('/').sort();
    await refused(p, ['--out', '/'], /--out \/ is the root directory; nothing was written/, root);
    expect(readdirSync('/').sort()).toEqual(top);
  });

  it('a directory that contains the config file, or conf.d, run from outside the project', async () => {
    const p = project();
    const name = relative(root, p);
    await refused(
      root,
      ['--config', `${name}/gen-fw.yaml`, '--conf-d', `${name}/conf.d`, '--out', name],
      `--out ${name} is the project directory (${name})`,
      root,
    );
    mkdirSync(join(p, 'etc'));
    writeFileSync(join(p, 'etc', 'gen-fw.yaml'), 'install_dir: /opt/sbin\n');
    await refused(
      root,
      ['--config', `${name}/etc/gen-fw.yaml`, '--conf-d', `${name}/conf.d`, '--out', name],
      `--out ${name} contains the config file ${name}/etc/gen-fw.yaml; nothing was written`,
      root,
    );
    rmSync(join(p, 'gen-fw.yaml'));
    await refused(
      root,
      ['--conf-d', `${name}/conf.d`, '--out', name],
      `--out ${name} contains conf.d (${name}/conf.d); nothing was written`,
      root,
    );
  });

  it('a place inside conf.d, whose parents are not even made', async () => {
    const p = project();
    await refused(
      p,
      ['--out', 'conf.d/build/firewall'],
      /--out conf\.d\/build\/firewall is inside conf\.d \(\.\/conf\.d\); nothing was written/,
      root,
    );
  });

  it('a directory of the user (hidden files too)', async () => {
    const p = project();
    mkdirSync(join(p, 'mine', '.git'), { recursive: true });
    writeFileSync(join(p, 'mine', '.git', 'HEAD'), 'ref: refs/heads/main\n');
    writeFileSync(join(p, 'mine', 'notes.txt'), 'keep me\n');
    await refused(
      p,
      ['--out', 'mine'],
      /^error: mine exists and is not a gen-fw bundle; nothing was written \(no manifest\.json\)$/m,
      root,
    );
  });

  it('a previous bundle with a file added, named in the message', async () => {
    const p = project();
    expect((await render(p)).exitCode).toBe(0);
    const extra = 'build/firewall/rootfs/opt/sbin/iptables_conf.d/iptables_mine.sh';
    writeFileSync(join(p, extra), 'iptables -A INPUT -p tcp --dport 8080 -j ACCEPT\n');
    writeFileSync(join(p, 'conf.d', 'web.yaml'), SERVICE.replace('443', '8443'));
    await refused(
      p,
      [],
      `./build/firewall exists and is not a gen-fw bundle; nothing was written (build/firewall/${extra.slice('build/firewall/'.length)} is not in its manifest.json)`,
      root,
    );
  });

  it('a previous bundle with a symlink added', async () => {
    const p = project();
    expect((await render(p)).exitCode).toBe(0);
    symlinkSync('/etc/passwd', join(p, 'build/firewall/rootfs/passwd'));
    await refused(p, [], 'build/firewall/rootfs/passwd is not a regular file', root);
  });

  it('a file', async () => {
    const p = project();
    writeFileSync(join(p, 'bundle'), 'not a directory\n');
    await refused(p, ['--out', 'bundle'], 'bundle exists and is not a gen-fw bundle; nothing was written (a file)', root);
  });

  it('a symlink, even to a bundle', async () => {
    const p = project();
    expect((await render(p, '--out', 'real')).exitCode).toBe(0);
    symlinkSync('real', join(p, 'link'));
    await refused(p, ['--out', 'link'], 'link exists and is not a gen-fw bundle; nothing was written (a symbolic link)', root);
  });
});

describe('render uses what is free and keeps a bundle that is current', () => {
  it('an empty directory becomes the bundle', async () => {
    const p = project();
    mkdirSync(join(p, 'empty'));
    const r = await render(p, '--out', 'empty');
    expect(r.exitCode, r.stderr).toBe(0);
    verifyBundle(join(p, 'empty'));
  });

  it('a re-render of the same input leaves the bundle, its inodes and mtimes untouched', async () => {
    const p = project();
    expect((await render(p)).exitCode).toBe(0);
    const out = join(p, 'build/firewall');
    const stamp = () => [out, ...listFiles(out).map((f) => join(out, f))].map((f) => `${f} ${statSync(f).ino} ${statSync(f).mtimeMs}`);
    const before = { tree: snapshotTree(join(p, 'build')), stamp: stamp() };
    const r = await render(p);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('left as it was');
    expect({ tree: snapshotTree(join(p, 'build')), stamp: stamp() }).toEqual(before);
  });

  it('a changed input replaces the bundle whole, and leaves no sibling', async () => {
    const p = project();
    expect((await render(p)).exitCode).toBe(0);
    writeFileSync(join(p, 'conf.d', 'web.yaml'), SERVICE.replace('443', '8443'));
    expect((await render(p)).exitCode).toBe(0);
    verifyBundle(join(p, 'build/firewall'));
    expect(readFileSync(join(p, 'build/firewall/rootfs/opt/sbin/iptables_conf.d/iptables_web.sh'), 'utf8')).toContain('8443');
    expect(readdirSync(join(p, 'build'))).toEqual(['firewall']);
  });

  it('iptables_conf.d is there with no service at all, holding only its README', async () => {
    const p = project();
    rmSync(join(p, 'conf.d', 'web.yaml'));
    expect((await render(p)).exitCode).toBe(0);
    const dir = join(p, 'build/firewall/rootfs/opt/sbin/iptables_conf.d');
    expect(readdirSync(dir)).toEqual(['README']);
    expect(readFileSync(join(dir, 'README'), 'utf8')).toMatch(/iptables_<name>\.sh[\s\S]*name order[\s\S]*atomic/);
  });
});

describe('copy tools see the files of build/firewall, with no trailing slash', () => {
  let p: string;
  let files: string[];
  beforeAll(async () => {
    p = project();
    expect((await render(p)).exitCode).toBe(0);
    expect(lstatSync(join(p, 'build/firewall')).isDirectory()).toBe(true);
    files = listFiles(join(p, 'build/firewall'));
    expect(files).toContain('rootfs/opt/sbin/iptables-init');
  });
  const same = (dir: string) => expect(snapshotTree(dir)).toEqual(snapshotTree(join(p, 'build/firewall')));

  it('cp -r', async () => {
    await execa('cp', ['-r', 'build/firewall', 'cp-copy'], { cwd: p });
    expect(listFiles(join(p, 'cp-copy'))).toEqual(files);
    await execa('cp', ['-a', 'build/firewall', 'cp-a-copy'], { cwd: p });
    same(join(p, 'cp-a-copy'));
  });

  it('tar -C build -c firewall', async () => {
    mkdirSync(join(p, 'untarred'));
    const tar = await execa('tar', ['-C', 'build', '-c', 'firewall'], { cwd: p, encoding: 'buffer' });
    await execa('tar', ['-C', 'untarred', '-x'], { cwd: p, input: tar.stdout });
    same(join(p, 'untarred', 'firewall'));
  });

  it('rsync -a', async () => {
    await execa('rsync', ['-a', 'build/firewall', 'synced'], { cwd: p });
    same(join(p, 'synced', 'firewall'));
  });
});

/** The kinds of entry a random tree is made of. */
type Tree = { [name: string]: Tree | string | { link: string } };

const names = fc.constantFrom('a', 'b', '.hidden', 'rootfs', 'manifest.json', 'install.sh', 'iptables_x.sh', 'opt');
const leaf = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.constantFrom('/etc/passwd', '../keep', 'missing', '.').map((link) => ({ link })),
);
const tree: fc.Arbitrary<Tree> = fc.letrec<{ tree: Tree }>((tie) => ({
  tree: fc.dictionary(names, fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('tree')), { maxKeys: 4 }),
})).tree;

function build(dir: string, t: Tree): void {
  for (const [name, v] of Object.entries(t)) {
    const p = join(dir, name);
    if (typeof v === 'string') writeFileSync(p, v);
    else if ('link' in v && typeof v.link === 'string') symlinkSync(v.link, p);
    else {
      mkdirSync(p);
      build(p, v as Tree);
    }
  }
}

/** What may be at --out before a render. */
type Start =
  | { kind: 'missing' }
  | { kind: 'file'; text: string }
  | { kind: 'symlink'; to: string }
  | { kind: 'tree'; tree: Tree }
  | { kind: 'bundle'; extra: Tree; at: string; drop: number };

const start: fc.Arbitrary<Start> = fc.oneof(
  fc.constant({ kind: 'missing' as const }),
  fc.string({ maxLength: 10 }).map((text) => ({ kind: 'file' as const, text })),
  fc.constantFrom('keep', 'nowhere', '.').map((to) => ({ kind: 'symlink' as const, to })),
  tree.map((t) => ({ kind: 'tree' as const, tree: t })),
  fc
    .record({ extra: tree, at: fc.constantFrom('', 'rootfs', 'rootfs/opt/sbin/iptables_conf.d', 'rootfs/new/deep'), drop: fc.nat(12) })
    .map((b) => ({ kind: 'bundle' as const, ...b })),
);

describe('property: nothing but a previous bundle’s own files is ever removed or changed', () => {
  it('random trees at --out', { timeout: 600_000 }, async () => {
    const template = project();
    expect((await render(template, '--out', 'prev')).exitCode).toBe(0);
    const prev = join(template, 'prev');
    const prevFiles = listFiles(prev);
    let runs = 0;
    const outcomes = { replaced: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(start, fc.boolean(), async (s, change) => {
        const p = project();
        runs++;
        mkdirSync(join(p, 'keep'));
        writeFileSync(join(p, 'keep', 'precious'), 'mine\n');
        const out = join(p, 'build', 'firewall');
        mkdirSync(join(p, 'build'));
        if (s.kind === 'file') writeFileSync(out, s.text);
        if (s.kind === 'symlink') symlinkSync(s.to, out);
        if (s.kind === 'tree') {
          mkdirSync(out);
          build(out, s.tree);
        }
        if (s.kind === 'bundle') {
          await execa('cp', ['-a', prev, out]);
          // A previous bundle may have lost files (it is still gen-fw's), and gained others.
          for (const f of prevFiles.filter((f) => f !== 'manifest.json').slice(0, s.drop % 3)) rmSync(join(out, f));
          mkdirSync(join(out, s.at), { recursive: true });
          build(join(out, s.at), Object.fromEntries(Object.entries(s.extra).filter(([k]) => !readdirSync(join(out, s.at)).includes(k))));
        }
        if (change) writeFileSync(join(p, 'conf.d', 'web.yaml'), SERVICE.replace('443', '8443'));

        // What render may replace: nothing, an empty directory, or a bundle holding only its own files.
        const st = lstatSync(out, { throwIfNoEntry: false });
        const own = new Set(prevFiles);
        const replaceable =
          !st ||
          (st.isDirectory() &&
            !st.isSymbolicLink() &&
            (readdirSync(out).length === 0 || (s.kind === 'bundle' && listFiles(out).every((f) => own.has(f)))));
        const before = snapshotTree(p);
        const r = await render(p);

        if (!replaceable) {
          expect(r.exitCode, r.stderr).toBe(2);
          expect(r.stderr).toContain('./build/firewall exists and is not a gen-fw bundle; nothing was written');
          expect(snapshotTree(p)).toEqual(before);
          outcomes.refused++;
          return;
        }
        expect(r.exitCode, r.stderr).toBe(0);
        outcomes.replaced++;
        verifyBundle(out);
        expect(lstatSync(out).isDirectory()).toBe(true);
        expect(readdirSync(join(p, 'build'))).toEqual(['firewall']);
        // Outside --out, everything as it was.
        const after = snapshotTree(p);
        const outside = (snap: Record<string, string>) =>
          Object.fromEntries(Object.entries(snap).filter(([k]) => k !== 'build/firewall' && !k.startsWith('build/firewall/')));
        expect(outside(after)).toEqual(outside(before));
      }),
      { numRuns: Number(process.env.GENFW_OUTDIR_RUNS ?? 40), seed: Number(process.env.GENFW_OUTDIR_SEED ?? 18) },
    );
    console.log(`out-dir property: ${runs} runs, ${JSON.stringify(outcomes)}`);
    expect(outcomes.refused).toBeGreaterThan(runs / 10);
    expect(outcomes.replaced).toBeGreaterThan(runs / 10);
  });
});
