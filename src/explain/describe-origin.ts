import { CHAIN } from '../model/chains.js';
import type { RuleLocator } from './rule-positions.js';
import type { Step, Verdict } from './walk.js';

/** Base rules that both INPUT and OUTPUT have are named with their direction on the way out. */
const BOTH_WAYS = new Set(['dns', 'ntp', 'dhcp', 'dhcpv6', 'loopback', 'established', 'invalid', 'services', 'icmpv6']);

/** Where a step's rule came from, as people look for it: `conf.d/db.yaml:7:5 rules[1]`, `base rule "ssh"`, `policy`. */
export function describeOrigin(step: Step, verdict: Verdict, locate: RuleLocator): string {
  const o = step.origin;
  switch (o.kind) {
    case 'service': {
      if (o.index === undefined) return `${o.file} (the jump into ${o.service}'s chain)`;
      const at = locate(o.file, o.index);
      return at ? `${o.file}:${at.line}:${at.col} rules[${o.index}]` : `${o.file} rules[${o.index}]`;
    }
    case 'base': {
      let name = o.name;
      if (name === '') return `the ${step.chain} chain`;
      if (name === 'final') name = step.args.includes(CHAIN.audit) ? 'final (mode audit)' : `final ${verdict}`;
      else if (step.chain === CHAIN.output && BOTH_WAYS.has(name)) name = `${name} out`;
      return `base rule "${name}"`;
    }
    case 'dispatch':
      return 'the port dispatch';
    case 'jump':
      return 'the jump from the built-in chain';
    case 'policy':
      return `policy of ${step.chain}`;
    case 'docker':
      return "Docker's own chains";
    case 'end':
      return 'end of chain';
  }
}

/** A rule's arguments as iptables -S shows them, less the comment (the origin says it better). */
export function ruleText(args: readonly string[]): string {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '-m' && args[i + 1] === 'comment' && args[i + 2] === '--comment') {
      i += 3;
      continue;
    }
    const a = args[i]!;
    out.push(/^[\w@%+,.:/=-]+$/.test(a) ? a : JSON.stringify(a));
  }
  return out.join(' ');
}
