import { CHAIN } from '../model/chains.js';
import type { Ruleset } from '../model/types.js';
import type { Family } from '../validate/values.js';
import { assembleChains, type FamilyTable } from './assemble-chains.js';
import type { Packet } from './packet.js';
import { walkPacket, type Explanation } from './walk.js';

/** A packet the model cannot answer for (a direction it has no rules of): bad input, exit 2. */
export class Unanswerable extends Error {}

/** The model's ruleset, ready to explain packets of either family. */
export class Explainer {
  private readonly tables = new Map<Family, FamilyTable>();
  constructor(readonly ruleset: Ruleset) {}

  table(family: Family): FamilyTable {
    let t = this.tables.get(family);
    if (!t) this.tables.set(family, (t = assembleChains(this.ruleset, family)));
    return t;
  }

  explain(packet: Packet): Explanation {
    const table = this.table(packet.family);
    if (packet.direction === 'docker-out') {
      throw new Unanswerable(
        "direction docker-out: this ruleset has no docker-out rules (containers' own traffic is Docker's to decide), so gen-fw cannot say what happens to it",
      );
    }
    if (packet.direction === 'docker' && !table.chains.has(CHAIN.dockerUser)) {
      throw new Unanswerable(`direction docker: docker is not enabled in gen-fw.yaml${packet.family === 6 ? ' (or ipv6 is off)' : ''}, so gen-fw has no DOCKER-USER rules`);
    }
    return walkPacket(table, packet);
  }
}
