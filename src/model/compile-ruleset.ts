import { localeOrder } from '../shared/locale-order.js';
import type { Config } from '../validate/validate-config.js';
import type { Address } from '../validate/values.js';
import { compileBaseWithStretches } from './compile-base.js';
import { compileDispatch, type DispatchInput } from './compile-dispatch.js';
import { SetRegistry } from './compile-rule.js';
import { compileService } from './compile-service.js';
import { planFastPath } from './notrack-fast-path.js';
import type { FragmentModel, Guard, Ruleset, RulesetStream } from './types.js';

export interface NamedSet {
  origin: string;
  addresses: Address[];
}

/**
 * A guard kept for the dispatch, in arrays of its own size: the fragment's own were grown by
 * push, with room for 17 entries each, and 10,000 services keep 50,000 of them.
 */
function copyGuard(g: Guard): Guard {
  return g.ports ? { proto: g.proto, ports: g.ports.map((p) => ({ from: p.from, to: p.to })) } : { proto: g.proto };
}

/**
 * The whole firewall as data, one fragment at a time: each fragment is compiled when the
 * iteration reaches it and may be dropped once used; what depends on all of them (the base,
 * which declares every service's inbound chain, the sets, the port dispatch) comes after.
 * Pure, synchronous, no filesystem.
 */
export function compileRulesetStream(config: Config, namedSets: ReadonlyMap<string, NamedSet> = new Map()): RulesetStream {
  const sets = new SetRegistry(namedSets);
  const notrack = config.services.some((s) => s.rules.some((r) => r.notrack));
  // The notrack fast path: which rules may be hoisted, read off a first base (small) and the config.
  const families = config.host.ipv6 ? ([4, 6] as const) : ([4] as const);
  const probe = notrack ? compileBaseWithStretches(config.host, new SetRegistry(namedSets), { notrack }).stretches : undefined;
  const plan = probe ? planFastPath(config, families, probe.input, probe.output) : undefined;
  const { base } = compileBaseWithStretches(config.host, sets, {
    notrack,
    untrackedInput: plan?.input,
    earlyOutput: plan?.earlyOutput,
  });
  // Only what the dispatch needs of each fragment is kept: its service and inbound guards.
  const inbound: DispatchInput[] = [];
  let done = false;
  function* fragments(): Generator<FragmentModel> {
    for (const service of config.services) {
      const f = compileService(service, config.host, sets, plan?.rules.get(service.name));
      // The base declares every service's inbound chain: a fragment removed from the image
      // leaves an empty chain behind, never a jump to a missing one.
      for (const c of f.inbound) base.chains.push({ family: c.family, table: 'filter', name: c.chain });
      inbound.push({ service: f.service, inbound: f.inbound.map((c) => ({ family: c.family, guards: c.guards.map(copyGuard) })) });
      yield f;
    }
    done = true;
  }
  const complete = () => {
    if (!done) throw new Error('the ruleset is not complete before every fragment is compiled');
  };
  return {
    fragments: fragments(),
    rest() {
      complete();
      return { base, sets: [...sets.sets.values()].sort((a, b) => localeOrder(a.name, b.name)) };
    },
    dispatch() {
      complete();
      return compileDispatch(inbound);
    },
  };
}

/** The whole firewall as data, every fragment held at once. */
export function compileRuleset(config: Config, namedSets: ReadonlyMap<string, NamedSet> = new Map()): Ruleset {
  const stream = compileRulesetStream(config, namedSets);
  const fragments = [...stream.fragments];
  return { fragments, ...stream.rest(), dispatch: stream.dispatch() };
}
