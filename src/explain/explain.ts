import { CHAIN } from '../model/chains.js';
import type { Ruleset } from '../model/types.js';
import type { Family } from '../validate/values.js';
import { assembleChains, type FamilyTable } from './assemble-chains.js';
import type { Packet } from './packet.js';
import { interfaceIs } from './match-rule.js';
import { walkPacket, type Explanation, type WalkOptions } from './walk.js';

/** A packet the model cannot answer for (a direction it has no rules of): bad input, exit 2. */
export class Unanswerable extends Error {
  /** The packet's field it is about. */
  constructor(
    message: string,
    readonly key: 'direction' | 'interface' = 'direction',
  ) {
    super(message);
  }
}

/** The model's ruleset, ready to explain packets of either family. */
export class Explainer {
  private readonly tables = new Map<Family, FamilyTable>();
  /** opts.dockerBridges: docker.bridge, when docker is enabled. */
  constructor(
    readonly ruleset: Ruleset,
    readonly opts: WalkOptions = {},
  ) {}

  table(family: Family): FamilyTable {
    let t = this.tables.get(family);
    if (!t) this.tables.set(family, (t = assembleChains(this.ruleset, family)));
    return t;
  }

  explain(packet: Packet): Explanation {
    const table = this.table(packet.family);
    const docker = table.chains.has(CHAIN.dockerUser);
    const off = `docker is not enabled in gen-fw.yaml${packet.family === 6 ? ' (or ipv6 is off)' : ''}, so gen-fw has no DOCKER-USER rules`;
    if (packet.direction === 'docker' && !docker) throw new Unanswerable(`direction docker: ${off}`);
    if (packet.direction === 'docker-out') {
      if (!docker) throw new Unanswerable(`direction docker-out: ${off}`);
      const bridges = this.opts.dockerBridges ?? [];
      if (!bridges.some((b) => interfaceIs(packet.interface, b))) {
        throw new Unanswerable(
          `direction docker-out: ${packet.interface} is not a Docker bridge (docker.bridge: ${bridges.join(', ')}); --interface names the bridge the container's connection comes in on`,
          'interface',
        );
      }
    }
    return walkPacket(table, packet, this.opts);
  }
}
