import { CHAIN, serviceInputChain } from '../model/chains.js';
import type { BaseRuleset, FragmentModel, IptRule } from '../model/types.js';
import type { Family } from '../validate/values.js';

/** Where a rule of the model came from: a service file's rule, or one of gen-fw's base rules. */
export type Origin = { kind: 'service'; service: string; file: string; index: number } | { kind: 'base'; tag: string; title: string };

export interface PathRule {
  rule: IptRule;
  origin: Origin;
  /** One config rule (or base section): its LOG, rate-limit and action rules share it. */
  group: string;
  /** The group counts connections (recent): none of its rules takes every packet it matches. */
  limited: boolean;
}

/** What lint keeps of a fragment section: its families, whether it counts connections, and the rules a path can meet. */
export interface LintSection {
  /** The families of every rule the section compiled to. */
  families: readonly Family[];
  limited: boolean;
  /** Its filter rules in the service chains. */
  rules: readonly KeptRule[];
}

/**
 * A service rule as lint keeps it while the rest of the render goes on: its family, chain
 * and arguments, these in one flat string (comment left out: lint reads no service rule's
 * comment). An array of short strings per rule, some of them slices of the source text,
 * cost five times as much: 25 MB at 10,000 services.
 */
export interface KeptRule {
  family: Family;
  chain: string;
  line: string;
}

/** Between the arguments of a KeptRule's line: no argument holds a control character (free text is refused with one by parseRuleText; the rest are names, addresses and numbers). */
const SEP = '\u0001';

/** What lint reads of a fragment: its service, file and sections (no titles, no dispatch guards, no raw rules). */
export interface LintFragment {
  service: string;
  file: string;
  sections: readonly LintSection[];
}

export interface LintRuleset {
  base: BaseRuleset;
  fragments: readonly LintFragment[];
}

const FAMILIES: readonly (readonly Family[])[] = [[], [4], [6], [4, 6]];

/** A rule's arguments without `-m comment --comment TEXT`, as a KeptRule's line. */
function lineOf(args: readonly string[]): string {
  const i = args.indexOf('--comment');
  if (i < 2 || args[i - 1] !== 'comment' || args[i - 2] !== '-m') return args.join(SEP);
  return [...args.slice(0, i - 2), ...args.slice(i + 2)].join(SEP);
}

/**
 * What lint keeps of a fragment as the model streams it: small enough to hold for 10,000
 * services while the rest of the fragment is rendered and dropped.
 */
export function lintFragment(f: FragmentModel): LintFragment {
  const inbound = serviceInputChain(f.service);
  const sections = f.sections.map((s): LintSection => {
    let mask = 0;
    const rules: KeptRule[] = [];
    for (const r of s.rules) {
      mask |= r.family === 4 ? 1 : 2;
      if (r.table !== 'filter' || (r.chain !== inbound && !SHARED_CHAINS.has(r.chain) && r.chain !== CHAIN.inputUntracked)) continue;
      rules.push({ family: r.family, chain: r.chain === inbound ? inbound : r.chain, line: lineOf(r.args) });
    }
    return { families: FAMILIES[mask]!, limited: isLimited(s.rules), rules };
  });
  return { service: f.service, file: f.file, sections };
}

export type Direction = 'in' | 'out' | 'forward' | 'docker' | 'docker-out';

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
  'docker-out': { chain: CHAIN.dockerUser, into: CHAIN.dockerOut },
};

/** The service chains every service shares, by direction (inbound rules have a chain per service). */
const SHARED_CHAINS = new Map<string, Direction>([
  [CHAIN.outputRules, 'out'],
  [CHAIN.forwardRules, 'forward'],
  [CHAIN.dockerRules, 'docker'],
  [CHAIN.dockerOut, 'docker-out'],
]);

const isLimited = (rules: readonly IptRule[]) => rules.some((r) => r.args.includes('recent'));

function baseTag(args: readonly string[]): string {
  const i = args.indexOf('--comment');
  const c = i >= 0 ? (args[i + 1] ?? '') : '';
  return c.replace(/^gen-fw: /, '');
}

/**
 * Every rule a new connection of one family and direction can meet, in the order it meets
 * them: the base chain up to the jump into the services, each service's rules in name
 * order (the jumps into a service's chain only skip services it cannot match), then the
 * rest of the base chain. Nothing returns from a service's rules but by falling through.
 */
export function* pathsOf(ruleset: LintRuleset): Generator<Path> {
  for (const family of [4, 6] as Family[]) {
    // One family's service rules at a time: a path is analysed and dropped before the next is made.
    const services = serviceRules(ruleset.fragments, family);
    for (const direction of ['in', 'out', 'forward', 'docker', 'docker-out'] as Direction[]) {
      const way = WAYS[direction];
      const rules: PathRule[] = [];
      ruleset.base.sections.forEach((section, si) => {
        const limited = isLimited(section.rules);
        for (const rule of section.rules) {
          if (rule.family !== family || rule.chain !== way.chain || rule.table !== 'filter') continue;
          if (rule.args[rule.args.length - 1] === way.into) {
            for (const r of services.get(direction) ?? []) rules.push(r);
            continue;
          }
          // The notrack fast path: the hoisted accepts stand where the kernel meets them
          // (each keeps its --ctstate UNTRACKED, which no new connection has).
          if (direction === 'in' && rule.args[rule.args.length - 1] === CHAIN.inputUntracked) {
            for (const r of services.get('in-untracked') ?? []) rules.push(r);
            continue;
          }
          rules.push({ rule, origin: { kind: 'base', tag: baseTag(rule.args), title: section.title }, group: `base:${si}`, limited });
        }
      });
      if (rules.length) yield { family, direction, rules };
    }
  }
}

/** A kept rule read as the model's rule: its arguments are split from the line each time they are read, never held (a path holds 20,000 rules). */
class KeptIptRule implements IptRule {
  readonly table = 'filter';
  constructor(private readonly kept: KeptRule) {}
  /** The arguments as one line (see KeptRule). */
  get line(): string {
    return this.kept.line;
  }
  get family(): Family {
    return this.kept.family;
  }
  get chain(): string {
    return this.kept.chain;
  }
  get args(): string[] {
    return this.kept.line.split(SEP);
  }
}

/**
 * The interface names a path's rules match (-i, -o), in order. A kept rule's line is
 * searched, not split: most rules name no interface, and a path holds 20,000 rules.
 */
export function interfacePatterns(path: Path): string[] {
  const out: string[] = [];
  for (const { rule } of path.rules) {
    if (rule instanceof KeptIptRule && !rule.line.includes(`-i${SEP}`) && !rule.line.includes(`-o${SEP}`)) continue;
    const args = rule.args;
    for (let i = 0; i < args.length - 1; i++) if ((args[i] === '-i' || args[i] === '-o') && args[i + 1]) out.push(args[i + 1]!);
  }
  return out;
}

/** The services' rules of one family by direction (`in`, `in-untracked`, `out`, ...), in service and rule order: one pass over the fragments. */
function serviceRules(fragments: readonly LintFragment[], family: Family): Map<string, PathRule[]> {
  const out = new Map<string, PathRule[]>();
  for (const f of fragments) {
    const inbound = serviceInputChain(f.service);
    f.sections.forEach((section, index) => {
      let origin: Origin | undefined;
      let group = '';
      for (const kept of section.rules) {
        if (kept.family !== family) continue;
        const direction =
          kept.chain === inbound ? 'in' : kept.chain === CHAIN.inputUntracked ? 'in-untracked' : SHARED_CHAINS.get(kept.chain);
        if (!direction) continue;
        if (!origin) {
          origin = { kind: 'service', service: f.service, file: f.file, index };
          group = `${f.service}:${index}`;
        }
        let list = out.get(direction);
        if (!list) out.set(direction, (list = []));
        list.push({ rule: new KeptIptRule(kept), origin, group, limited: section.limited });
      }
    });
  }
  return out;
}
