import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bench, rulesOf } from '../helpers/netns.js';
import { makeProject, render, type Project } from '../helpers/render.js';

// iptables-init keeps its work files in /run/gen-fw (root's, 0700). When that cannot be
// had, or a work file cannot be written, it is the system's failure: exit 3, naming what
// failed, nothing changed — never 2 ("the ruleset is wrong") nor 1. Each case runs
// iptables-init in the test's network namespace and in a private mount namespace
// (unshare -m) with its own tmpfs on /run: those mounts exist only in that namespace and
// end with its last process, so this machine's /run is never touched (checked below).

/** This process's mounts at or below /run, as the mount table lists them (not the namespaces other tests add meanwhile). */
const runMounts = () =>
  readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((p) => (p === '/run' || p.startsWith('/run/')) && !p.startsWith('/run/netns/'))
    .sort();

describe('iptables-init: a system failure is exit 3, never 2 or 1', () => {
  let bench: Bench;
  let project: Project;
  let mountsBefore: string[];
  const both = async () => [rulesOf(await bench.iptablesSave(4)), rulesOf(await bench.iptablesSave(6))];
  const fragment = () => join(project.sbin, 'iptables_conf.d', 'iptables_zz-new.sh');
  /** Run `setup` (as root, in a private mount namespace of the test namespace), then iptables-init there; then `after`. */
  const applyIn = (setup: string, after = 'true') =>
    bench.exec(
      bench.host,
      'unshare',
      ['-m', '--propagation', 'private', 'sh', '-c', `set -e; ${setup}; set +e; sh "$0"; rc=$?; ${after}; exit $rc`, project.init],
      {
        reject: false,
      },
    );

  beforeAll(async () => {
    mountsBefore = runMounts();
    bench = await Bench.create();
    project = makeProject({ services: { 'web.yaml': 'rules:\n  - { direction: in, proto: tcp, dport: 80 }\n' } });
    await render(project);
    await bench.exec(bench.host, 'sh', [project.init]);
    // From here on, an apply that got through would change the ruleset (port 8081).
    writeFileSync(fragment(), 'iptables -A INPUT -p tcp --dport 8081 -j ACCEPT\n');
  });
  afterAll(async () => {
    await bench?.cleanup();
    project?.cleanup();
  });

  it.each([
    ['/run is read-only: /run/gen-fw cannot be created', 'mount -t tmpfs -o ro tmpfs /run', /cannot create \/run\/gen-fw$/m],
    ['/run/gen-fw is a file', 'mount -t tmpfs tmpfs /run && : > /run/gen-fw', /cannot create \/run\/gen-fw$/m],
    [
      '/run/gen-fw is a symlink to a directory',
      'mount -t tmpfs tmpfs /run && mkdir -m 0700 /run/elsewhere && ln -s /run/elsewhere /run/gen-fw',
      /\/run\/gen-fw is not a directory of root's/,
    ],
    [
      "/run/gen-fw is nobody's",
      'mount -t tmpfs tmpfs /run && mkdir -m 0700 /run/gen-fw && chown 65534:65534 /run/gen-fw',
      /\/run\/gen-fw is not a directory of root's/,
    ],
    [
      '/run/gen-fw is read-only',
      'mount -t tmpfs tmpfs /run && mkdir /run/gen-fw && mount -t tmpfs -o ro,mode=0700 tmpfs /run/gen-fw',
      /\/run\/gen-fw/,
    ],
  ])('%s: exit 3 naming /run/gen-fw, nothing changed', async (_what, setup, message) => {
    const before = await both();
    const r = await applyIn(setup, 'ls -A /run/elsewhere 2>/dev/null | sed "s/^/left in elsewhere: /"');
    expect(r.exitCode, r.stderr).toBe(3);
    expect(r.stderr).toMatch(message);
    expect(r.stdout, 'nothing written through the symlink').not.toMatch(/left in elsewhere/);
    expect(await both()).toEqual(before);
  });

  it('a work file that cannot be created (no inode left for the captured rules): exit 3, nothing changed', async () => {
    const before = await both();
    // Room for the work directory and not one file more.
    const r = await applyIn('mount -t tmpfs tmpfs /run && mkdir /run/gen-fw && mount -t tmpfs -o nr_inodes=2,mode=0700 tmpfs /run/gen-fw');
    expect(r.exitCode, r.stderr).toBe(3);
    // The first work file it writes (its pid, once it holds the lock) or the capture's records.
    expect(r.stderr).toMatch(/cannot (create|write) \/run\/gen-fw\/work\.[^/]+\/(records|pid)/);
    expect(r.stderr).toMatch(/a system failure/);
    expect(r.stderr).not.toMatch(/ended the capture early|refused/);
    expect(await both()).toEqual(before);
  });

  it('applies the same change once /run is as it should be (the cases above would have changed the ruleset)', async () => {
    const before = await both();
    try {
      const r = await applyIn('mount -t tmpfs tmpfs /run');
      expect(r.exitCode, r.stderr).toBe(0);
      expect(await both()).not.toEqual(before);
      expect(await bench.iptablesSave(4)).toMatch(/--dport 8081 -j ACCEPT/);
    } finally {
      rmSync(fragment());
    }
  });

  it("leaves this machine's /run as it was: every mount was the private namespace's", () => {
    expect(runMounts()).toEqual(mountsBefore);
  });
});
