import { afterAll, beforeAll, describe } from 'vitest';
import { Bench } from './netns.js';
import { makeProject, render, type Project } from './render.js';

export interface FirewallOptions {
  host?: string;
  services?: (b: Bench) => Record<string, string>;
}

/**
 * A describe block with a fresh bench whose host namespace has the rendered project
 * applied (iptables-init, no options). Cleans up the namespaces and the project after.
 */
export function describeFirewall(
  name: string,
  opts: FirewallOptions,
  body: (ctx: { bench: () => Bench; project: () => Project }) => void,
): void {
  describe(name, () => {
    let bench: Bench;
    let project: Project;
    beforeAll(async () => {
      bench = await Bench.create();
      project = makeProject({ host: opts.host, services: opts.services?.(bench) });
      await render(project);
      await bench.exec(bench.host, 'sh', [project.init]);
    });
    afterAll(async () => {
      await bench?.cleanup();
      project?.cleanup();
    });
    body({ bench: () => bench, project: () => project });
  });
}
