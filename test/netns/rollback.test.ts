import { execa } from 'execa';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bench } from '../helpers/netns.js';
import { makeProject, render, type Project } from '../helpers/render.js';
import { genfwPart, netnsInode, otherPart, setMembers, waitFor } from '../helpers/ruleset-parts.js';

// A rollback (a --try that times out, a live apply that fails) puts back gen-fw's part of
// the snapshot and nothing else: whatever Docker, kube-proxy and fail2ban wrote meanwhile
// stays. Each case on its own bench, the three at once (a --try lasts 20 s).

const opts = { dockerUser: true };

/** The rules of one chain of a dump, in order. */
function chainRules(dump: string, table: string, chain: string): string[] {
  const section = dump.split(/^\*/m).find((t) => t.startsWith(`${table}\n`)) ?? '';
  return section.split('\n').filter((l) => l.startsWith(`-A ${chain} `));
}

/** What dockerd has written before any of this: its chains and jumps, both families. */
const DOCKER_BEFORE = ['iptables', 'ip6tables']
  .map(
    (ipt) =>
      `${ipt} -N DOCKER && ${ipt} -N DOCKER-USER && ${ipt} -I FORWARD 1 -j DOCKER-USER && ${ipt} -A FORWARD -o docker0 -j DOCKER && ` +
      `${ipt} -t nat -N DOCKER && ${ipt} -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER`,
  )
  .join(' && ');

/** What other tools write while the change is pending: filter and nat, both families. */
const OTHER_TOOLS = `set -e
for v in 4 6; do
  if [ $v = 4 ]; then ipt=iptables c=172.17.0.2 k=10.96.0.1 bad=203.0.113.5 to=172.17.0.2:80
  else ipt=ip6tables c=fd00::2 k=fd00:96::1 bad=2001:db8:bad::5 to=[fd00::2]:80; fi
  # Docker: a container rule in DOCKER, a new chain of its own jumped to from FORWARD, a DNAT
  $ipt -A DOCKER -d $c ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT
  $ipt -N DOCKER-ISOLATION-STAGE-1
  $ipt -A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j RETURN
  $ipt -I FORWARD 2 -j DOCKER-ISOLATION-STAGE-1
  $ipt -t nat -A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination $to
  # kube-proxy: KUBE-SERVICES, jumped to first from PREROUTING and OUTPUT
  $ipt -t nat -N KUBE-SERVICES
  $ipt -t nat -A KUBE-SERVICES -d $k -p tcp -m tcp --dport 443 -j DNAT --to-destination $to
  $ipt -t nat -I PREROUTING 1 -j KUBE-SERVICES
  $ipt -t nat -I OUTPUT 1 -j KUBE-SERVICES
  # fail2ban: its chain, jumped to first from INPUT
  $ipt -N f2b-sshd
  $ipt -A f2b-sshd -s $bad -j REJECT
  $ipt -A f2b-sshd -j RETURN
  $ipt -I INPUT 1 -p tcp -m tcp --dport 22 -j f2b-sshd
done
`;

const setsFile = (extra: string[]) => ['# blocked', '10.9.0.1', '2001:db8:9::1', ...extra].join('\n') + '\n';

/** Before: Docker support, a blocklist set, one service. */
const BEFORE = {
  host: 'docker: { enabled: true }\nsets: { blocklist: { file: lists/blocklist.txt } }\ndeny: { source: ["@blocklist"] }\nssh: { rate_limit: false }\n',
  files: { 'lists/blocklist.txt': setsFile([]) },
  services: { 'web.yaml': 'rules:\n  - { direction: in, proto: tcp, dport: 80 }\n' },
};

/**
 * The change tried: another FORWARD policy, other DOCKER-USER rules, more members in the
 * blocklist (the peer's second addresses), a new set, a new service, and (a hand-written
 * fragment, written after the render) nat rules of ours in both families.
 */
const AFTER = {
  host:
    'docker: { enabled: true, block_metadata: false }\npolicy: { forward: accept }\nsets: { blocklist: { file: lists/blocklist.txt }, extra: { file: lists/extra.txt } }\n' +
    'deny: { source: ["@blocklist"] }\nssh: { rate_limit: false }\n',
  files: {
    'lists/blocklist.txt': setsFile(['10.9.0.2', '192.0.2.100', '2001:db8::100']),
    'lists/extra.txt': '198.51.100.7\n2001:db8:7::7\n',
  },
  services: {
    'web.yaml': 'rules:\n  - { direction: in, proto: tcp, dport: 80 }\n',
    'api.yaml': 'rules:\n  - { direction: in, proto: tcp, dport: 81, source: ["@extra"] }\n',
  },
};
const NAT_FRAGMENT = 'iptables -t nat -A POSTROUTING -o eth9 -j MASQUERADE\nip6tables -t nat -A POSTROUTING -o eth9 -j MASQUERADE\n';

describe.concurrent('a rollback puts back what gen-fw owns, and nothing else', () => {
  let before: Project;
  let after: Project;
  let bin: string;

  beforeAll(async () => {
    before = makeProject(BEFORE);
    after = makeProject(AFTER);
    await render(before);
    await render(after);
    writeFileSync(join(after.sbin, 'iptables_conf.d', 'iptables_zz-nat.sh'), NAT_FRAGMENT);
    // A wrapper first in PATH that makes the live IPv6 commit of an apply fail (the IPv4 one
    // is then live already), after the other tools wrote their chains: the scratch
    // namespace's restores and the rollback's go through.
    bin = mkdtempSync(join(tmpdir(), 'gen-fw-rollback-'));
    const real = (await execa('sh', ['-c', 'command -v ip6tables-restore'])).stdout.trim();
    writeFileSync(join(bin, 'other-tools.sh'), OTHER_TOOLS);
    writeFileSync(
      join(bin, 'ip6tables-restore'),
      `#!/bin/sh
case " $* " in
  *" --noflush "*)
    if [ "$(stat -L -c %i /proc/self/ns/net)" = "$GFWT_LIVE_NS" ] && mkdir "$GFWT_STATE/failed" 2>/dev/null; then
      sh ${bin}/other-tools.sh
      iptables-save > "$GFWT_STATE/during.v4"
      ip6tables-save > "$GFWT_STATE/during.v6"
      cat > /dev/null
      echo "ip6tables-restore: the test makes this commit fail" >&2
      exit 1
    fi ;;
esac
exec ${real} "$@"
`,
    );
    chmodSync(join(bin, 'ip6tables-restore'), 0o755);
  });
  afterAll(() => {
    before?.cleanup();
    after?.cleanup();
    if (bin) rmSync(bin, { recursive: true, force: true });
  });

  /** A bench with Docker's chains and the "before" ruleset applied; SSH served. */
  async function setUp(): Promise<{ bench: Bench; dumps: () => Promise<[string, string]>; sets: () => Promise<string> }> {
    const bench = await Bench.create();
    await bench.sh(bench.host, DOCKER_BEFORE);
    await bench.exec(bench.host, 'sh', [before.init]);
    await bench.serve(bench.host, ['tcp:22']);
    const dumps = async (): Promise<[string, string]> => [await bench.iptablesSave(4), await bench.iptablesSave(6)];
    const sets = async () => (await bench.exec(bench.host, 'ipset', ['save'])).stdout;
    return { bench, dumps, sets };
  }

  const ssh = (bench: Bench) =>
    bench.check(bench.peer, [
      { proto: 'tcp', host: bench.hostV4, port: 22, source: bench.peerV4 },
      { proto: 'tcp', host: bench.hostV6, port: 22, source: bench.peerV6 },
      { proto: 'tcp', host: bench.hostV4, port: 22, source: bench.peerV4b },
      { proto: 'tcp', host: bench.hostV6, port: 22, source: bench.peerV6b },
    ]);

  /** gen-fw's sets: name -> members; and the names of every set. */
  const gfwSets = (save: string) => [...setMembers(save)].filter(([name]) => name.startsWith('gfw')).sort();

  /** The checks after a rollback, against the dumps before the change and while it was live. */
  async function expectRolledBack(
    bench: Bench,
    start: { dumps: [string, string]; sets: string },
    during: [string, string],
    now: { dumps: [string, string]; sets: string },
    changed = [true, true],
  ) {
    for (const i of [0, 1]) {
      if (changed[i]) expect(genfwPart(during[i]!, opts)).not.toEqual(genfwPart(start.dumps[i]!, opts));
      expect(genfwPart(now.dumps[i]!, opts)).toEqual(genfwPart(start.dumps[i]!, opts));
      // Everything of the other tools exactly as it was while the change was live.
      expect(otherPart(now.dumps[i]!, opts)).toEqual(otherPart(during[i]!, opts));
      const added = otherPart(during[i]!, opts).filter((l) => !otherPart(start.dumps[i]!, opts).includes(l));
      for (const wanted of [
        /^filter -A DOCKER -d \S+ ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT$/,
        /^filter :DOCKER-ISOLATION-STAGE-1/,
        /^filter -A FORWARD -j DOCKER-ISOLATION-STAGE-1$/,
        /^nat -A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT/,
        /^nat :KUBE-SERVICES/,
        /^nat -A PREROUTING -j KUBE-SERVICES$/,
        /^nat -A OUTPUT -j KUBE-SERVICES$/,
        /^filter :f2b-sshd/,
        /^filter -A INPUT -p tcp -m tcp --dport 22 -j f2b-sshd$/,
      ]) {
        expect(
          added.filter((l) => wanted.test(l)),
          `IPv${i ? 6 : 4}: ${wanted}`,
        ).toHaveLength(1);
      }
    }
    // fail2ban's jump stays first in INPUT, kube-proxy's first in PREROUTING, ours after them.
    for (const dump of now.dumps) {
      expect(chainRules(dump, 'filter', 'INPUT').slice(0, 2)).toEqual([
        '-A INPUT -p tcp -m tcp --dport 22 -j f2b-sshd',
        '-A INPUT -j GFW-INPUT',
      ]);
      expect(chainRules(dump, 'nat', 'PREROUTING')[0]).toBe('-A PREROUTING -j KUBE-SERVICES');
    }
    // gen-fw's sets as they were: the blocklist's members back, the new set gone, no temporary sets.
    expect(gfwSets(now.sets)).toEqual(gfwSets(start.sets));
    expect(now.sets).not.toMatch(/gfw-extra|gfw\./);
    expect(await ssh(bench)).toEqual(['open', 'open', 'open', 'open']);
  }

  for (const killed of [false, true]) {
    it(`after an unconfirmed --try${killed ? ', the shell that started it killed with SIGKILL' : ''}`, async () => {
      const { bench, dumps, sets } = await setUp();
      try {
        const start = { dumps: await dumps(), sets: await sets() };
        expect(await ssh(bench)).toEqual(['open', 'open', 'open', 'open']);
        const trydir = `/var/lib/gen-fw/try-${await netnsInode(bench)}`;
        if (killed) {
          // A shell that runs --try and then hangs, like an SSH session; killed, its process
          // group with it, once iptables-init has said that the try is pending.
          const shell = execa('ip', ['netns', 'exec', bench.host, 'sh', '-c', `sh ${after.init} --try 20 </dev/null; sleep 300`], {
            reject: false,
            detached: true,
            buffer: false,
          });
          let stderr = '';
          await new Promise<void>((resolve, reject) => {
            shell.stderr!.on('data', (d: Buffer) => {
              stderr += d.toString();
              if (/rolled back in 20 seconds unless confirmed/.test(stderr)) resolve();
            });
            void shell.then(() => reject(new Error(`the shell ended before the try was pending: ${stderr}`)));
          });
          process.kill(-shell.pid!, 'SIGKILL');
          await shell;
        } else {
          const r = await bench.exec(bench.host, 'sh', [after.init, '--try', '20'], { input: '' });
          expect(r.stderr).toContain('rolled back in 20 seconds unless confirmed');
        }
        expect(existsSync(`${trydir}/pending`)).toBe(true);
        await bench.sh(bench.host, OTHER_TOOLS);
        const during = await dumps();
        // The change is live: the blocklist now holds the peer's second addresses.
        expect(await ssh(bench)).toEqual(['open', 'open', 'filtered', 'filtered']);
        expect(during[0]).toContain('-A POSTROUTING -j GFW-POSTROUTING');
        await waitFor('the --try to roll back', async () => !existsSync(trydir), 60_000);
        await expectRolledBack(bench, start, during, { dumps: await dumps(), sets: await sets() });
      } finally {
        await bench.cleanup();
      }
    });
  }

  it('after a live apply that fails (IPv4 committed, IPv6 refused)', async () => {
    const { bench, dumps, sets } = await setUp();
    const state = mkdtempSync(join(tmpdir(), 'gen-fw-failed-'));
    try {
      const start = { dumps: await dumps(), sets: await sets() };
      const env = { PATH: `${bin}:${process.env.PATH}`, GFWT_LIVE_NS: await netnsInode(bench), GFWT_STATE: state };
      const r = await bench.exec(bench.host, 'sh', [after.init], { env, reject: false });
      expect(r.stderr).toContain('the test makes this commit fail');
      expect(r.stderr).toContain('the live apply (IPv6) failed; the previous firewall was put back');
      expect(r.exitCode).toBe(3);
      // The state the other tools saw when the IPv6 commit failed: the new IPv4 ruleset was live.
      const during: [string, string] = [readFileSync(join(state, 'during.v4'), 'utf8'), readFileSync(join(state, 'during.v6'), 'utf8')];
      expect(during[0]).toContain('-A POSTROUTING -j GFW-POSTROUTING');
      await expectRolledBack(bench, start, during, { dumps: await dumps(), sets: await sets() }, [true, false]);
      // The next apply (nothing fails now) applies the change and keeps the other tools' chains.
      const next = await bench.exec(bench.host, 'sh', [after.init], { reject: false });
      expect(next.exitCode).toBe(0);
      const [v4, v6] = await dumps();
      expect(v4).toContain('-A PREROUTING -j KUBE-SERVICES');
      expect(v6).toContain('-A INPUT -p tcp -m tcp --dport 22 -j f2b-sshd');
      expect(await ssh(bench)).toEqual(['open', 'open', 'filtered', 'filtered']);
    } finally {
      rmSync(state, { recursive: true, force: true });
      await bench.cleanup();
    }
  });
});
