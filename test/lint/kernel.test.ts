import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyseRuleset } from '../../src/lint/lint.js';
import type { RuleReach } from '../../src/lint/reachability.js';
import { loadConfig } from '../../src/load/load-config.js';
import { readSets } from '../../src/load/read-sets.js';
import { compileRuleset } from '../../src/model/compile-ruleset.js';
import { Bench } from '../helpers/netns.js';
import { runCli } from '../helpers/render.js';

/**
 * The shadow check against the kernel. For random small rule lists (sources from a pool
 * of CIDRs, ports from a pool, random actions, over one or two services), the rendered
 * firewall is applied in a namespace and real TCP SYNs come from a peer namespace:
 *   - a rule lint calls unreachable never counts a packet: random packets, and for each
 *     such rule the packet lint names as taken before it, leave its counter at 0;
 *   - a rule lint calls reachable counts the witness packet lint gives for it.
 * Rules are told apart in `iptables-save -c` by their comment ("<service>: r<i>").
 */
const CASES = 20;
const seed = Number(process.env.LINT_SEED ?? Date.now() % 1_000_000);

function rng(s: number): () => number {
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NET = '198.51.100';
const CIDRS = [
  `${NET}.0/24`,
  `${NET}.0/25`,
  `${NET}.128/25`,
  `${NET}.0/26`,
  `${NET}.64/26`,
  `${NET}.128/26`,
  `${NET}.192/26`,
  `${NET}.16/28`,
  `${NET}.200`,
  `${NET}.10`,
];
/** One peer address in each piece the CIDRs cut 198.51.100.0/24 into, and one outside it. */
const PEER = [2, 10, 12, 17, 40, 70, 130, 195, 200, 220].map((n) => `${NET}.${n}`);
const OUTSIDE = '192.0.2.2';
const PORTS = ['1000', '1500', '2000', '2500', '"1000:2000"', '[1500, 2500]'];
const SEND_PORTS = [1000, 1500, 2000, 2500, 1200, 3000];
const ACTIONS = ['accept', 'drop', 'reject'];

interface Case {
  services: Record<string, string[]>;
}

function randomCase(r: () => number): Case {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const services: Record<string, string[]> = {};
  const n = 2 + Math.floor(r() * 4);
  for (let i = 0; i < n; i++) {
    const svc = r() < 0.5 ? 's1' : 's2';
    const lines = [`  - direction: in`, `    proto: tcp`, `    dport: ${pick(PORTS)}`];
    if (r() < 0.8) lines.push(`    source: ${r() < 0.2 ? `[${pick(CIDRS)}, ${pick(CIDRS)}]` : pick(CIDRS)}`);
    lines.push(`    action: ${pick(ACTIONS)}`);
    (services[svc] ??= []).push(lines.join('\n'));
  }
  return { services };
}

function writeCase(dir: string, c: Case): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'conf.d'), { recursive: true });
  writeFileSync(join(dir, 'gen-fw.yaml'), 'ipv6: false\nlogging: { dropped: false }\n');
  for (const [svc, rules] of Object.entries(c.services)) {
    const text = rules.map((rule, i) => `${rule}\n    comment: r${i}`).join('\n');
    writeFileSync(join(dir, 'conf.d', `${svc}.yaml`), `rules:\n${text}\n`);
  }
}

/** Packets counted by each service rule's action rule, by comment. */
function counters(save: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of save.split('\n')) {
    const m = /^\[(\d+):\d+\] -A GFW-I-\S+ .*--comment "?([^"]+?)"? -j (ACCEPT|DROP|REJECT)/.exec(line);
    if (m) out.set(m[2]!, (out.get(m[2]!) ?? 0) + Number(m[1]));
  }
  return out;
}

const commentOf = (r: RuleReach) => {
  const o = r.rule.origin;
  return o.kind === 'service' ? `${o.service}: r${o.index}` : '';
};

describe(`lint's shadow check against the kernel (seed ${seed}; LINT_SEED=${seed} repeats it)`, () => {
  let bench: Bench;
  const dir = mkdtempSync(join(tmpdir(), 'gen-fw-lint-kernel-'));
  beforeAll(async () => {
    console.log(`lint kernel property test: seed ${seed}`);
    bench = await Bench.create();
    const vp = `gv${bench.id}p`;
    await bench.sh(
      bench.peer,
      PEER.filter((a) => a !== `${NET}.2`)
        .map((a) => `ip addr add ${a}/32 dev ${vp}`)
        .join(' && '),
    );
  });
  afterAll(async () => {
    await bench?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`holds for ${CASES} random rule lists`, { timeout: 170_000 }, async () => {
    const r = rng(seed);
    let shadowedSeen = 0;
    let witnessed = 0;
    for (let n = 0; n < CASES; n++) {
      const c = randomCase(r);
      const project = join(dir, `case-${n}`);
      writeCase(project, c);
      const context = `case ${n} (seed ${seed}):\n${Object.entries(c.services)
        .map(([s, rules]) => `${s}.yaml\n${rules.join('\n')}`)
        .join('\n')}`;

      const rendered = await runCli(['render', '--out', join(project, 'out')], project);
      expect(rendered.exitCode, `${context}\n${rendered.stderr}`).toBe(0);
      await bench.exec(bench.host, 'sh', [join(project, 'out/rootfs/opt/sbin/iptables-init')]);

      const { config } = await loadConfig({ config: join(project, 'gen-fw.yaml'), confD: join(project, 'conf.d') });
      const { sets } = await readSets(config.host, join(project, 'gen-fw.yaml'));
      const reach = analyseRuleset(compileRuleset(config, sets), { hints: [...PEER, OUTSIDE], witnesses: true }).filter(
        (x) => x.rule.rule.family === 4,
      );

      // Unreachable rules (every part of a service rule: what lint reports): random packets
      // and the packets lint names as taken before them never count on them.
      const groups = new Map<string, RuleReach[]>();
      for (const x of reach) groups.set(x.rule.group, [...(groups.get(x.rule.group) ?? []), x]);
      const dead = [...groups.values()].filter((g) => g.every((x) => !x.reachable)).map((g) => g[0]!);
      shadowedSeen += dead.length;
      const packets = [
        ...Array.from({ length: 15 }, () => ({
          source: r() < 0.1 ? OUTSIDE : PEER[Math.floor(r() * PEER.length)]!,
          port: SEND_PORTS[Math.floor(r() * SEND_PORTS.length)]!,
        })),
        ...[...groups.values()]
          .flat()
          .filter((x) => !x.reachable)
          .flatMap((x) => (x.witness ? [{ source: x.witness.source, port: x.witness.dport }] : [])),
      ];
      await bench.exec(bench.host, 'iptables', ['-Z']);
      await bench.check(
        bench.peer,
        packets.map((p) => ({ proto: 'tcp' as const, host: bench.hostV4, port: p.port, source: p.source, timeout: 300 })),
      );
      const after = counters((await bench.exec(bench.host, 'iptables-save', ['-c'])).stdout);
      for (const x of dead) expect(after.get(commentOf(x)) ?? 0, `${context}\n${commentOf(x)} is unreachable but counted packets`).toBe(0);

      // Reachable rules: the witness is counted by that very rule.
      for (const x of reach.filter((y) => y.reachable)) {
        const w = x.witness;
        expect(w, `${context}\n${commentOf(x)} has no witness`).toBeDefined();
        expect(w!.certain).toBe(true);
        await bench.exec(bench.host, 'iptables', ['-Z']);
        await bench.check(bench.peer, [{ proto: 'tcp', host: bench.hostV4, port: w!.dport, source: w!.source, timeout: 300 }]);
        const got = counters((await bench.exec(bench.host, 'iptables-save', ['-c'])).stdout).get(commentOf(x)) ?? 0;
        expect(got, `${context}\n${commentOf(x)}: witness ${w!.source} → :${w!.dport} did not reach it`).toBeGreaterThan(0);
        witnessed++;
      }
    }
    // Not vacuous: the random lists had rules of both kinds.
    expect(shadowedSeen).toBeGreaterThan(0);
    expect(witnessed).toBeGreaterThan(0);
  });
});
