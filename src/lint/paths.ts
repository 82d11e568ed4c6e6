import { CHAIN, serviceInputChain } from '../model/chains.js';
import type { BaseRuleset, FragmentModel, IptRule } from '../model/types.js';
import type { Family } from '../validate/values.js';

/** Where a rule of the model came from: a service file's rule, or one of gen-fw's base rules. */
export type Origin =
  | { kind: 'service'; service: string; file: string; index: number }
  | { kind: 'base'; tag: string; title: string };

export interface PathRule {
  rule: IptRule;
  origin: Origin;
  /** One config rule (or base section): its LOG, rate-limit and action rules share it. */
  group: string;
  /** The group counts connections (recent): none of its rules takes every packet it matches. */
  limited: boolean;
}

/** What lint reads of a fragment: its service, file, and each section's rules (no titles, no dispatch guards). */
export interface LintFragment {
  service: string;
  file: string;
  sections: readonly { rules: readonly IptRule[] }[];
}

export interface LintRuleset {
  base: BaseRuleset;
  fragments: readonly LintFragment[];
}

export function lintFragment(f: FragmentModel): LintFragment {
  return { service: f.service, file: f.file, sections: f.sections.map((s) => ({ rules: s.rules })) };
}

export type Direction = 'in' | 'out' | 'forward' | 'docker';

export interface Path {
  family: Family;
  direction: Direction;
  rules: PathRule[];
}

/** A packet's way through our chains for each direction: the base chain, the jump into the services. */
const WAYS: Record<Direction, { chain: string; into: string }> = {
  in: { chain: CHAIN.input, into: CHAIN.inputRules },
  out: { chain: CHAIN.output, into: CHAIN.outputRules },
  forward: { chain: CHAIN.forward, into: CHAIN.forwardRules },
  docker: { chain: CHAIN.dockerUser, into: CHAIN.dockerRules },
};

/** The service chains every service shares, by direction (inbound rules have a chain per service). */
const SHARED_CHAINS = new Map<string, Direction>([
  [CHAIN.outputRules, 'out'],
  [CHAIN.forwardRules, 'forward'],
  [CHAIN.dockerRules, 'docker'],
]);

const isLimited = (rules: readonly IptRule[]) => rules.some((r) => r.args.includes('recent'));

function baseTag(args: readonly string[]): string {
  const i = args.indexOf('--comment');
  const c = i >= 0 ? args[i + 1] ?? '' : '';
  return c.replace(/^gen-fw: /, '');
}

/**
 * Every rule a new connection of one family and direction can meet, in the order it meets
 * them: the base chain up to the jump into the services, each service's rules in name
 * order (the jumps into a service's chain only skip services it cannot match), then the
 * rest of the base chain. Nothing returns from a service's rules but by falling through.
 */
export function pathsOf(ruleset: LintRuleset): Path[] {
  const out: Path[] = [];
  const services = serviceRules(ruleset.fragments);
  for (const family of [4, 6] as Family[]) {
    for (const direction of ['in', 'out', 'forward', 'docker'] as Direction[]) {
      const way = WAYS[direction];
      const rules: PathRule[] = [];
      ruleset.base.sections.forEach((section, si) => {
        const limited = isLimited(section.rules);
        for (const rule of section.rules) {
          if (rule.family !== family || rule.chain !== way.chain || rule.table !== 'filter') continue;
          if (rule.args[rule.args.length - 1] === way.into) {
            for (const r of services.get(`${family}/${direction}`) ?? []) rules.push(r);
            continue;
          }
          rules.push({ rule, origin: { kind: 'base', tag: baseTag(rule.args), title: section.title }, group: `base:${si}`, limited });
        }
      });
      if (rules.length) out.push({ family, direction, rules });
    }
  }
  return out;
}

/** The services' rules of each family and direction (`4/in`), in service and rule order: one pass over the fragments. */
function serviceRules(fragments: readonly LintFragment[]): Map<string, PathRule[]> {
  const out = new Map<string, PathRule[]>();
  for (const f of fragments) {
    const inbound = serviceInputChain(f.service);
    f.sections.forEach((section, index) => {
      let origin: Origin | undefined;
      let limited = false;
      for (const rule of section.rules) {
        // The raw table's chains (notrack rules) share names with filter's, never a path.
        if (rule.table !== 'filter') continue;
        const direction = rule.chain === inbound ? 'in' : SHARED_CHAINS.get(rule.chain);
        if (!direction) continue;
        if (!origin) {
          origin = { kind: 'service', service: f.service, file: f.file, index };
          limited = isLimited(section.rules);
        }
        const key = `${rule.family}/${direction}`;
        let list = out.get(key);
        if (!list) out.set(key, (list = []));
        list.push({ rule, origin, group: `${f.service}:${index}`, limited });
      }
    });
  }
  return out;
}
