import { execa } from 'execa';
import { chmodSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bench } from '../helpers/netns.js';
import { makeProject, render, type Project } from '../helpers/render.js';
import { effectivePart, genfwPart, netnsInode, setMembers } from '../helpers/ruleset-parts.js';

// iptables-init killed with SIGKILL at every step of an apply that changes rules and set
// members together: a wrapper first in PATH counts its calls of iptables-restore,
// ip6tables-restore and ipset in the live namespace and kills it at the N-th, for every N,
// either just before the call ("before": the call never happens) or while the call runs
// ("during": the call, orphaned, completes). Each time, each family has the old rules with
// the old members or the new rules with the new members, and the next run applies cleanly.

const opts = { dockerUser: false };
const list = (extra: string[]) => ['10.9.0.1', '2001:db8:9::1', ...extra].join('\n') + '\n';

const OLD = {
  host: 'sets: { blocklist: { file: lists/blocklist.txt }, office: { file: lists/office.txt } }\ndeny: { source: ["@blocklist"] }\nssh: { rate_limit: false }\n',
  files: { 'lists/blocklist.txt': list([]), 'lists/office.txt': '198.51.100.0/28\n2001:db8:5::/48\n' },
  services: { 'web.yaml': 'rules:\n  - { direction: in, proto: tcp, dport: 80, source: ["@office"] }\n' },
};
/** New members in both sets (the peer's second addresses blocked), and new rules. */
const NEW = {
  host: OLD.host,
  files: { 'lists/blocklist.txt': list(['192.0.2.100', '2001:db8::100']), 'lists/office.txt': '198.51.100.16/28\n2001:db8:6::/48\n' },
  services: {
    'web.yaml':
      'rules:\n  - { direction: in, proto: tcp, dport: 80, source: ["@office"] }\n  - { direction: in, proto: tcp, dport: 8080, source: ["@office"] }\n',
    'api.yaml': 'rules:\n  - { direction: in, proto: tcp, dport: 81 }\n',
  },
};

describe('iptables-init killed with SIGKILL at any step of an apply', () => {
  let bench: Bench;
  let oldP: Project;
  let newP: Project;
  let bin: string;
  let state: string;
  let lock: string;
  type Snapshot = { dumps: string[]; sets: string };
  let before: Snapshot;
  let after: Snapshot;

  const snapshot = async (): Promise<Snapshot> => ({
    dumps: [await bench.iptablesSave(4), await bench.iptablesSave(6)],
    sets: (await bench.exec(bench.host, 'ipset', ['save'])).stdout,
  });
  const effective = (s: Snapshot) => s.dumps.map((d) => effectivePart(d, s.sets, opts));
  const setNames = (s: Snapshot) => [...setMembers(s.sets).keys()].filter((n) => n.startsWith('gfw')).sort();
  const apply = (p: Project, env: Record<string, string> = {}) =>
    bench.exec(bench.host, 'sh', ['-c', `echo $$ > ${state}/pid && exec sh ${p.init}`], { reject: false, env });

  beforeAll(async () => {
    bench = await Bench.create();
    oldP = makeProject(OLD);
    newP = makeProject(NEW);
    await render(oldP);
    await render(newP);
    state = mkdtempSync(join(tmpdir(), 'gen-fw-killed-'));
    lock = `/run/gen-fw.${await netnsInode(bench)}.lock`;
    bin = mkdtempSync(join(tmpdir(), 'gen-fw-killer-'));
    const killer = join(bin, 'killer');
    const real: Record<string, string> = {};
    for (const cmd of ['iptables-restore', 'ip6tables-restore', 'ipset'])
      real[cmd] = (await execa('sh', ['-c', `command -v ${cmd}`])).stdout.trim();
    writeFileSync(
      killer,
      `#!/bin/sh
case \${0##*/} in
  iptables-restore) real=${real['iptables-restore']} ;;
  ip6tables-restore) real=${real['ip6tables-restore']} ;;
  *) real=${real.ipset} ;;
esac
if [ -n "\${GFWT_KILL_AT:-}" ] && [ "$(stat -L -c %i /proc/self/ns/net)" = "$GFWT_LIVE_NS" ]; then
  n=$(( $(cat "$GFWT_STATE/count" 2>/dev/null || echo 0) + 1 ))
  echo "$n" > "$GFWT_STATE/count"
  echo "$n \${0##*/} $*" >> "$GFWT_STATE/calls"
  if [ "$n" = "$GFWT_KILL_AT" ]; then
    kill -9 "$(cat "$GFWT_STATE/pid")"
    [ "$GFWT_MODE" = during ] || exit 0
  fi
fi
exec "$real" "$@"
`,
    );
    chmodSync(killer, 0o755);
    for (const cmd of ['iptables-restore', 'ip6tables-restore', 'ipset']) symlinkSync(killer, join(bin, cmd));
    // The two states every kill must leave one of (per family).
    expect((await apply(oldP)).exitCode).toBe(0);
    before = await snapshot();
    expect((await apply(newP)).exitCode).toBe(0);
    after = await snapshot();
    await bench.serve(bench.host, ['tcp:22']);
  });
  afterAll(async () => {
    await bench?.cleanup();
    oldP?.cleanup();
    newP?.cleanup();
    for (const d of [bin, state]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it('the two states differ in rules and in set members, in both families', () => {
    for (const i of [0, 1]) {
      expect(effective(after)[i]).not.toEqual(effective(before)[i]);
      expect(genfwPart(after.dumps[i]!, opts)).not.toEqual(genfwPart(before.dumps[i]!, opts));
    }
    expect(setMembers(after.sets).get('gfw-blocklist-v4')).toContain('192.0.2.100');
    expect(setMembers(before.sets).get('gfw-blocklist-v4')).not.toContain('192.0.2.100');
  });

  for (const mode of ['before', 'during'] as const) {
    it(`leaves the old state or the new one, killed ${mode} each call, and the next run applies cleanly`, async () => {
      const seen: string[] = [];
      for (let n = 1; ; n++) {
        expect((await apply(oldP)).exitCode).toBe(0);
        expect(effective(await snapshot())).toEqual(effective(before));
        rmSync(join(state, 'count'), { force: true });
        rmSync(join(state, 'calls'), { force: true });
        const env = {
          PATH: `${bin}:${process.env.PATH}`,
          GFWT_KILL_AT: String(n),
          GFWT_MODE: mode,
          GFWT_STATE: state,
          GFWT_LIVE_NS: await netnsInode(bench),
        };
        const killed = await apply(newP, env);
        if (killed.exitCode === 0) {
          // N is past the last call: every step was a kill moment.
          expect(n).toBeGreaterThan(6);
          break;
        }
        expect(killed.signal).toBe('SIGKILL');
        const call = readFileSync(join(state, 'calls'), 'utf8').trim().split('\n').at(-1)!;
        seen.push(call);
        // An orphaned call holds iptables-init's lock until it ends.
        await bench.exec(bench.host, 'flock', [lock, 'true']);
        const now = effective(await snapshot());
        for (const i of [0, 1]) {
          const which =
            now[i]!.join('\n') === effective(before)[i]!.join('\n')
              ? 'old'
              : now[i]!.join('\n') === effective(after)[i]!.join('\n')
                ? 'new'
                : 'neither';
          expect(which, `IPv${i ? 6 : 4}, killed ${mode} call ${call}`).not.toBe('neither');
        }
        const next = await apply(newP);
        expect(next.exitCode, next.stderr).toBe(0);
        const clean = await snapshot();
        for (const i of [0, 1]) expect(genfwPart(clean.dumps[i]!, opts)).toEqual(genfwPart(after.dumps[i]!, opts));
        expect(effective(clean)).toEqual(effective(after));
        expect(setNames(clean)).toEqual(setNames(after));
      }
      // The kill moments included the set staging, both commits, the settling and the destroys.
      expect(seen.some((c) => / ipset restore/.test(c))).toBe(true);
      expect(seen.some((c) => / iptables-restore -w --noflush/.test(c))).toBe(true);
      expect(seen.some((c) => / ip6tables-restore -w --noflush/.test(c))).toBe(true);
      expect(seen.some((c) => / ipset destroy/.test(c))).toBe(true);
    });
  }

  it("ends in the new state, the peer's second addresses blocked", async () => {
    const v = await bench.check(bench.peer, [
      { proto: 'tcp', host: bench.hostV4, port: 22, source: bench.peerV4 },
      { proto: 'tcp', host: bench.hostV6, port: 22, source: bench.peerV6 },
      { proto: 'tcp', host: bench.hostV4, port: 22, source: bench.peerV4b },
      { proto: 'tcp', host: bench.hostV6, port: 22, source: bench.peerV6b },
    ]);
    expect(v).toEqual(['open', 'open', 'filtered', 'filtered']);
  });
});
