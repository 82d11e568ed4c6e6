import type IpAddr from 'ipaddr.js';
import { createRequire } from 'node:module';
import type { IpSet } from '../model/types.js';
import type { Packet } from './packet.js';

const ipaddr = createRequire(import.meta.url)('ipaddr.js') as typeof IpAddr;

/** What a rule does when it matches: the target and, for a jump or goto, where to. */
export interface Target {
  /** CT (raw table, `-j CT --notrack`): conntrack leaves the packet untracked; the walk goes on. */
  kind: 'ACCEPT' | 'DROP' | 'REJECT' | 'RETURN' | 'LOG' | 'CT' | 'jump' | 'goto' | 'none';
  chain?: string;
}

export interface MatchResult {
  matches: boolean;
  /**
   * An xt_recent check (a rate limit) that a first packet passes: every other match held,
   * and the packet is under the limit, so the rule does not match.
   */
  underLimit?: { hits: number; seconds: number };
}

/** Whether `addr` lies in `net` (an address or CIDR of the same family). */
export function addressIn(addr: string, net: string): boolean {
  const a = ipaddr.parse(addr);
  const [base, bits] = net.includes('/') ? ipaddr.parseCIDR(net) : [ipaddr.parse(net), a.kind() === 'ipv4' ? 32 : 128];
  return a.kind() === base.kind() && a.match(base, bits);
}

function portIn(port: number | undefined, spec: string): boolean {
  if (port === undefined) return false;
  return spec.split(',').some((p) => {
    const [from, to] = p.split(':').map(Number) as [number, number | undefined];
    return port >= from && port <= (to ?? from);
  });
}

/** `eth+` matches every name starting with eth, as iptables has it. */
export function interfaceIs(name: string | undefined, pattern: string): boolean {
  if (name === undefined) return false;
  return pattern.endsWith('+') ? name.startsWith(pattern.slice(0, -1)) : name === pattern;
}

const ECHO_REQUEST = new Set(['echo-request', '8', '128']);

/** What the walk knows beyond the packet: whether the raw table left it untracked, and whose names the owner match takes. */
export interface MatchContext {
  /** A raw-table `CT --notrack` matched: conntrack never sees it, whatever its --state. */
  untracked?: boolean;
  /** Local users and groups by name (the owner match takes names); undefined when there is none. */
  owners?: { uid(name: string): number | undefined; gid(name: string): number | undefined };
}

/** The conntrack states the packet has: Docker's published-port traffic is also DNAT; an untracked one has only UNTRACKED. */
function ctStates(p: Packet, ctx: MatchContext): Set<string> {
  if (ctx.untracked) return new Set(['UNTRACKED']);
  const s = new Set([p.state === 'new' ? 'NEW' : 'ESTABLISHED']);
  if (p.direction === 'docker') s.add('DNAT');
  return s;
}

/** `--uid-owner` / `--gid-owner` take a number or a name, which iptables resolves when the rule is loaded. */
function ownerIs(id: number | undefined, spec: string, byName: ((name: string) => number | undefined) | undefined, name?: string): boolean {
  if (id === undefined) return false;
  if (/^\d+$/.test(spec)) return id === Number(spec);
  return name === spec || byName?.(spec) === id;
}

/** The target of a rule's arguments (`-j X ...` or `-g X`); none for a rule that only matches. */
export function targetOf(args: readonly string[]): Target {
  const j = args.indexOf('-j');
  const g = args.indexOf('-g');
  if (g >= 0) return { kind: 'goto', chain: args[g + 1] };
  if (j < 0) return { kind: 'none' };
  const t = args[j + 1] ?? '';
  if (t === 'ACCEPT' || t === 'DROP' || t === 'REJECT' || t === 'RETURN' || t === 'LOG' || t === 'CT') return { kind: t };
  return { kind: 'jump', chain: t };
}

/**
 * Does the packet match the rule's matches? The rule is read as iptables reads its
 * arguments; an argument the model never writes is an internal error, not a guess.
 */
export function matchRule(args: readonly string[], p: Packet, sets: ReadonlyMap<string, IpSet>, ctx: MatchContext = {}): MatchResult {
  const inIf = p.direction === 'out' ? undefined : p.interface;
  const outIf = p.direction === 'out' ? p.interface : undefined;
  let ok = true;
  let recent: { update: boolean; seconds?: number; hitcount?: number } | undefined;
  let negate = false;
  const check = (cond: boolean) => {
    if (negate ? cond : !cond) ok = false;
    negate = false;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const v = args[i + 1] ?? '';
    switch (a) {
      case '!':
        negate = true;
        continue;
      case '-j':
      case '-g':
        i = args.length;
        continue;
      case '-m':
        i++;
        continue;
      case '-i':
        check(interfaceIs(inIf, v));
        break;
      case '-o':
        check(interfaceIs(outIf, v));
        break;
      case '-s':
        check(addressIn(p.source, v));
        break;
      case '-d':
        check(addressIn(p.destination, v));
        break;
      case '-p':
        check(v === 'all' || v === p.proto || (v === 'icmpv6' && p.proto === 'ipv6-icmp'));
        break;
      case '--dport':
      case '--dports':
        check(portIn(p.dport, v));
        break;
      case '--sport':
      case '--sports':
        check(portIn(p.sport, v));
        break;
      case '--comment':
      case '--name':
      case '--mask':
      case '--limit':
      case '--limit-burst':
        break;
      case '--ctstate': {
        const have = ctStates(p, ctx);
        check(v.split(',').some((s) => have.has(s)));
        break;
      }
      case '--ctdir':
        check(v === 'ORIGINAL');
        break;
      case '--ctorigdstport':
        check(p.direction === 'docker' && !ctx.untracked && portIn(p.dport, v));
        break;
      case '--set':
      case '--rsource':
        recent ??= { update: false };
        i--;
        break;
      case '--update':
        recent = { update: true };
        i--;
        break;
      case '--seconds':
        if (recent) recent.seconds = Number(v);
        break;
      case '--hitcount':
        if (recent) recent.hitcount = Number(v);
        break;
      case '--match-set': {
        const dir = args[i + 2];
        const set = sets.get(v);
        const addr = dir === 'src' ? p.source : p.destination;
        check(set !== undefined && set.members.some((m) => addressIn(addr, m)));
        i++;
        break;
      }
      case '--uid-owner':
        check(p.direction === 'out' && ownerIs(p.user.uid, v, ctx.owners?.uid, p.user.name));
        break;
      case '--gid-owner':
        check(p.direction === 'out' && ownerIs(p.user.gid, v, ctx.owners?.gid));
        break;
      case '--syn':
        // A new TCP connection's packet is a SYN; an established one's is not.
        check(p.proto === 'tcp' && p.state === 'new');
        i--;
        break;
      case '--icmp-type':
      case '--icmpv6-type':
        check(ECHO_REQUEST.has(v));
        break;
      case '--hl-eq':
        // Our packets leave their sender with the usual hop limit, not 255 (neighbour discovery's).
        check(v === '64');
        break;
      default:
        throw new Error(`explain cannot read the rule argument "${a}" (in: ${args.join(' ')})`);
    }
    i++;
  }
  if (recent?.update) {
    // A packet under the limit: a first connection from its source is never over it.
    return ok ? { matches: false, underLimit: { hits: (recent.hitcount ?? 1) - 1, seconds: recent.seconds ?? 0 } } : { matches: false };
  }
  return { matches: ok };
}
