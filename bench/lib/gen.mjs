// Input generators for the benchmarks: conf.d trees, gen-fw.yaml, a blocklist, the
// equivalent ferm configuration, and the baselines derived from a rendered payload (the
// same rules as a sequential script of iptables calls, the same policy written naively).
// All generated addresses are in 198.18.0.0/15 (RFC 2544, benchmarking); nothing is ever
// sent to them.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The i-th address of 198.18.0.0/15 (i < 131072). */
export function benchAddr(i) {
  return `198.${18 + ((i >> 16) & 1)}.${(i >> 8) & 255}.${i & 255}`;
}

/**
 * conf.d with `rules` IPv4 service rules: services of `perService` rules each (the last
 * one may have fewer), every rule one `in` tcp/udp port from one source address, so each
 * renders to exactly one iptables rule.
 */
export function writeRulesConfD(dir, rules, perService = 10) {
  mkdirSync(dir, { recursive: true });
  const services = Math.ceil(rules / perService);
  for (let s = 0; s < services; s++) {
    const lines = [`description: benchmark service ${s}`, 'rules:'];
    for (let j = 0; j < perService && s * perService + j < rules; j++) {
      const i = s * perService + j;
      lines.push(
        '  - direction: in',
        `    proto: ${j % 3 === 2 ? 'udp' : 'tcp'}`,
        `    dport: ${20000 + (i % 40000)}`,
        `    source: ${benchAddr(i)}`,
      );
    }
    writeFileSync(join(dir, `svc${String(s).padStart(5, '0')}.yaml`), lines.join('\n') + '\n');
  }
  return services;
}

/**
 * conf.d of `n` realistic services (web.yaml's shape): public tcp ports for both families
 * and a metrics port for one IPv4 network; three payload rules each. `extra` adds one more
 * service file, named to sort last.
 */
export function writeServicesConfD(dir, n, extra) {
  mkdirSync(dir, { recursive: true });
  for (let s = 0; s < n; s++) {
    const p = 20000 + ((3 * s) % 30000);
    writeFileSync(
      join(dir, `svc${String(s).padStart(5, '0')}.yaml`),
      [
        `description: benchmark service ${s}`,
        'rules:',
        '  - direction: in',
        '    proto: tcp',
        `    dport: [${p}, ${p + 1}]`,
        '    comment: public',
        '  - direction: in',
        '    proto: tcp',
        `    dport: ${p + 2}`,
        `    source: 198.18.${s & 255}.0/24`,
        '    comment: metrics',
        '',
      ].join('\n'),
    );
  }
  if (extra) writeFileSync(join(dir, `${extra.name}.yaml`), extra.yaml);
}

/** One address a line: `n` /32s of 198.18.0.0/15. */
export function writeBlocklist(file, n) {
  const lines = ['# benchmark blocklist'];
  for (let i = 0; i < n; i++) lines.push(benchAddr(i));
  writeFileSync(file, lines.join('\n') + '\n');
}

/** gen-fw.yaml with a deny list from a set file (path relative to the yaml). */
export function writeHostConfig(file, setFile) {
  const lines = ['# benchmark host'];
  if (setFile) lines.push('deny: { source: ["@blocklist"] }', `sets: { blocklist: { file: ${setFile} } }`);
  writeFileSync(file, lines.join('\n') + '\n');
}

/**
 * The same policy for ferm: base rules like gen-fw's defaults (loopback, conntrack, SSH,
 * ping, DHCP, DNS, NTP out, final drop), one file per service in ferm.d/ (included as a
 * directory, like conf.d), and optionally the blocklist read from its file.
 */
export function writeFermConfig(dir, services, setFile) {
  const fd = join(dir, 'ferm.d');
  mkdirSync(fd, { recursive: true });
  const deny = setFile ? `        saddr \`grep -v '^#' ${setFile}\` jump GFW-DROP;\n` : '';
  writeFileSync(
    join(dir, 'ferm.conf'),
    `# benchmark: gen-fw's default host policy in ferm
domain ip table filter chain GFW-OUTPUT {
    daddr 169.254.169.254 mod owner uid-owner 0 ACCEPT;
    daddr 169.254.169.254 jump GFW-DROP;
    proto udp sport 68 dport 67 ACCEPT;
}
domain ip6 table filter chain GFW-OUTPUT {
    daddr fd00:ec2::254 mod owner uid-owner 0 ACCEPT;
    daddr fd00:ec2::254 jump GFW-DROP;
    proto udp sport 546 dport 547 ACCEPT;
}
domain (ip ip6) table filter {
    chain GFW-DROP { mod limit limit 5/minute LOG log-prefix "FW-DROP: " log-level 4; DROP; }
    chain INPUT { policy DROP; jump GFW-INPUT; }
    chain OUTPUT { policy DROP; jump GFW-OUTPUT; }
    chain FORWARD { policy DROP; jump GFW-FORWARD; }
    chain GFW-INPUT {
        interface lo ACCEPT;
${deny}        mod conntrack ctstate INVALID DROP;
        mod conntrack ctstate (RELATED ESTABLISHED) ACCEPT;
        proto tcp dport 22 mod conntrack ctstate NEW mod recent name gfw-ssh set NOP;
        proto tcp dport 22 mod conntrack ctstate NEW mod recent name gfw-ssh update seconds 60 hitcount 5 jump GFW-DROP;
        proto tcp dport 22 ACCEPT;
        jump GFW-INPUT-RULES;
        jump GFW-DROP;
    }
    chain GFW-OUTPUT {
        outerface lo ACCEPT;
        mod conntrack ctstate INVALID DROP;
        mod conntrack ctstate (RELATED ESTABLISHED) ACCEPT;
        proto (udp tcp) dport 53 ACCEPT;
        proto udp dport 123 ACCEPT;
        jump GFW-OUTPUT-RULES;
        jump GFW-DROP;
    }
    chain GFW-FORWARD { mod conntrack ctstate (RELATED ESTABLISHED) ACCEPT; jump GFW-FORWARD-RULES; }
    chain (GFW-INPUT-RULES GFW-OUTPUT-RULES GFW-FORWARD-RULES) {}
}
domain ip table filter chain GFW-INPUT proto icmp icmp-type echo-request ACCEPT;
domain ip6 table filter chain GFW-INPUT proto ipv6-icmp icmpv6-type echo-request ACCEPT;
@include 'ferm.d/';
`,
  );
  for (let s = 0; s < services; s++) {
    const p = 20000 + ((3 * s) % 30000);
    writeFileSync(
      join(fd, `svc${String(s).padStart(5, '0')}.ferm`),
      `# benchmark service ${s}
domain (ip ip6) table filter chain GFW-INPUT-RULES proto tcp dport (${p} ${p + 1}) mod comment comment "svc${s}: public" ACCEPT;
domain ip table filter chain GFW-INPUT-RULES saddr 198.18.${s & 255}.0/24 proto tcp dport ${p + 2} mod comment comment "svc${s}: metrics" ACCEPT;
`,
    );
  }
  return join(dir, 'ferm.conf');
}

/** Split `iptables-init --dry-run` output into { 4: payload, 6: payload }. */
export function splitDryRun(text) {
  const out = { 4: '', 6: '' };
  let fam;
  for (const line of text.split('\n')) {
    const m = /^# ---- IPv([46]):/.exec(line);
    if (m) fam = m[1];
    else if (fam) out[fam] += line + '\n';
  }
  return out;
}

export function countRules(payload) {
  return payload.split('\n').filter((l) => /^-[AI] /.test(l)).length;
}

const BUILTIN = new Set(['INPUT', 'OUTPUT', 'FORWARD', 'PREROUTING', 'POSTROUTING']);

/** The same payload as a sh script of one iptables (ip6tables) process per rule. */
export function sequentialScript(payloads) {
  const out = ['#!/bin/sh', 'set -e'];
  for (const [fam, text] of Object.entries(payloads)) {
    const cmd = fam === '6' ? 'ip6tables' : 'iptables';
    let table = 'filter';
    for (const line of text.split('\n')) {
      if (line.startsWith('*')) table = line.slice(1);
      else if (line.startsWith(':')) {
        const [chain, policy] = line.slice(1).split(' ');
        out.push(BUILTIN.has(chain) ? `${cmd} -t ${table} -P ${chain} ${policy}` : `${cmd} -t ${table} -N ${chain}`);
      } else if (/^-[AIDX] /.test(line)) out.push(`${cmd} -t ${table} ${line}`);
    }
  }
  return out.join('\n') + '\n';
}

/**
 * The same policy written naively, from the rendered IPv4 payload: the deny-list ipset
 * match becomes one rule per address (`addrs`), and the conntrack ESTABLISHED shortcut
 * moves from the top of each chain to just before its final rule, so every packet walks
 * the deny list and the services. IPv6 keeps its payload minus the set match.
 */
export function naivePayloads(payloads, addrs) {
  const conv = (text, fam) => {
    const lines = text.split('\n');
    const out = [];
    const established = {};
    for (const l of lines) {
      const m = /^-A (\S+) .*--match-set \S+ src .*-j (\S+)/.exec(l);
      if (m) {
        if (fam === '4') for (const a of addrs) out.push(`-A ${m[1]} -s ${a}/32 -j ${m[2]}`);
        continue;
      }
      const e = /^-A (\S+) -m conntrack --ctstate RELATED,ESTABLISHED /.exec(l);
      if (e) {
        established[e[1]] = l;
        continue;
      }
      const f = /^-A (\S+) .*"gen-fw: final"/.exec(l);
      if (f && established[f[1]]) {
        out.push(established[f[1]]);
        delete established[f[1]];
      }
      if (l === 'COMMIT')
        for (const c of Object.keys(established)) {
          out.push(established[c]);
          delete established[c];
        }
      out.push(l);
    }
    return out.join('\n');
  };
  return { 4: conv(payloads[4], '4'), 6: conv(payloads[6], '6') };
}
