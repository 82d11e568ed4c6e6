import type { Box } from './boxes.js';
import { intersect, type IntervalSet } from './intervals.js';
import { ALL_PORTS, ALL_PROTOS, PROTO_NUMBERS, type Universe } from './universe.js';

/** What a packet gets from a rule: a verdict that ends its way through our chains, or not. */
export type Verdict = 'accept' | 'drop' | 'reject' | 'return';

export interface ReadRule {
  /** Every packet the rule's understood matches take (a superset when `understood` is false). */
  box: Box;
  /** The verdict, or a jump (`chain`), or LOG and friends (`undefined`). */
  verdict?: Verdict;
  jump?: string;
  /** Every match was read: the rule matches exactly `box`. */
  understood: boolean;
  /** A negation or something else that makes `box` no bound at all. */
  opaque: boolean;
  /** It cannot match a new connection's packet (e.g. conntrack RELATED,ESTABLISHED). */
  matchesNothing: boolean;
  /** Its source or destination is a set (--match-set). */
  named: { src: boolean; dst: boolean };
}

/** Targets that end a packet's way, as gen-fw names them. */
const VERDICTS: Record<string, Verdict> = {
  ACCEPT: 'accept',
  DROP: 'drop',
  'GFW-DROP': 'drop',
  REJECT: 'reject',
  'GFW-REJECT': 'reject',
  // mode: audit: logs, then accepts (GFW-AUDIT-PASS, on the forward path, logs and goes on: no verdict)
  'GFW-AUDIT': 'accept',
  RETURN: 'return',
};

/** The states a new connection's first packet can be in (DNAT: Docker's published ports). */
const NEW_STATES = new Set(['NEW', 'DNAT', 'SNAT']);

export function everything(u: Universe, realOnly: boolean): Box {
  return {
    proto: ALL_PROTOS,
    src: realOnly ? u.realAddresses : u.anyAddress,
    dst: realOnly ? u.realAddresses : u.anyAddress,
    sport: ALL_PORTS,
    dport: ALL_PORTS,
    iif: u.allIfaces,
    oif: u.allIfaces,
  };
}

/**
 * Read one rule's arguments (as the model builds them) into a box of the packets it
 * matches. As a later rule, `box` may be larger than the truth (unread matches are left
 * out); an earlier rule is taken to take `box` only when `understood`.
 *
 * `realOnly`: the rule is the subject, whose packets have real addresses unless it names a
 * set; a rule without -s before it covers the sets' unknown members too.
 */
export function readRule(args: readonly string[], u: Universe, realOnly: boolean): ReadRule {
  const box = everything(u, false);
  const named = { src: false, dst: false };
  // Every field from the start (verdict and jump too): one shape for every rule read.
  const r: ReadRule = { box, verdict: undefined, jump: undefined, understood: true, opaque: false, matchesNothing: false, named };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    // Each option's value is the next argument (read with args[++i]); no closure per argument.
    switch (a) {
      case '-i':
        box.iif = intersect(box.iif, u.iface(args[++i] ?? ''));
        break;
      case '-o':
        box.oif = intersect(box.oif, u.iface(args[++i] ?? ''));
        break;
      case '-s':
        box.src = intersect(box.src, u.cidr(args[++i] ?? ''));
        break;
      case '-d':
        box.dst = intersect(box.dst, u.cidr(args[++i] ?? ''));
        break;
      case '-p': {
        const p = args[++i] ?? '';
        if (p === 'all') break;
        const n = PROTO_NUMBERS[p];
        if (n === undefined) r.understood = false;
        else box.proto = intersect(box.proto, u.proto(n));
        break;
      }
      case '--dport':
      case '--dports':
      case '--ctorigdstport':
        box.dport = intersect(box.dport, u.ports(args[++i] ?? ''));
        break;
      case '--sport':
      case '--sports':
        box.sport = intersect(box.sport, u.ports(args[++i] ?? ''));
        break;
      case '--match-set': {
        const name = args[++i] ?? '';
        const dim = args[++i] === 'src' ? 'src' : 'dst';
        named[dim] = true;
        box[dim] = intersect(box[dim], u.setMembers(name));
        break;
      }
      case '--ctstate': {
        const states = (args[++i] ?? '').split(',');
        if (!states.some((s) => NEW_STATES.has(s))) r.matchesNothing = true;
        break;
      }
      case '--comment':
      case '-m': // Modules are named by their options; the options decide.
      case '--ctdir':
        i++;
        break;
      case '-j':
      case '-g': {
        const target = args[++i] ?? '';
        const verdict = VERDICTS[target];
        if (verdict) r.verdict = verdict;
        else if (target !== 'LOG' && target !== 'GFW-AUDIT-PASS') r.jump = target;
        i = args.length;
        break;
      }
      case '!':
        r.opaque = true;
        r.understood = false;
        break;
      default:
        // Anything else (limit, recent, owner, hop limit, ICMP types): a match lint cannot read.
        r.understood = false;
        if (args[i + 1] !== undefined && !args[i + 1]!.startsWith('-')) i++;
    }
  }
  if (realOnly) r.box = subjectBox(r, u);
  return r;
}

/** The box of a rule read as an earlier one (realOnly false), as the subject reads it: without the sets' unknown members unless it names a set. */
export function subjectBox(r: ReadRule, u: Universe): Box {
  const real = (set: IntervalSet) => (set === u.anyAddress ? u.realAddresses : intersect(set, u.realAddresses));
  return { ...r.box, src: r.named.src ? r.box.src : real(r.box.src), dst: r.named.dst ? r.box.dst : real(r.box.dst) };
}
