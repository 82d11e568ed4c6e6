import type { Bench } from '../helpers/netns.js';
import { makeProject, render, type Project } from '../helpers/render.js';

/** Ports the real-dockerd tests publish and probe. */
export const PUBLISHED = 8080;
/** Where the peer's probe server listens; the forward rule rejects it on the second peer address. */
export const PEER_PORT = 9000;
export const FORWARD_BLOCKED = '198.51.100.2';

/**
 * The Docker host's project: Docker on, one published port open to the peer's first
 * address only, and a forward rule that rejects container traffic to one peer address
 * (issue 13 item 3: today it loses to Docker's FORWARD accepts).
 */
export async function dockerProject(bench: Bench): Promise<Project> {
  const p = makeProject({
    host: 'docker: { enabled: true }\n',
    services: {
      'app.yaml': [
        'description: the web container, published on 8080',
        'rules:',
        `  - { direction: docker, proto: tcp, dport: ${PUBLISHED}, source: ${bench.peerV4} }`,
        `  - { direction: forward, proto: tcp, dport: ${PEER_PORT}, destination: ${FORWARD_BLOCKED}, action: reject, comment: no containers to the second peer }`,
        '',
      ].join('\n'),
    },
  });
  try {
    await render(p);
  } catch (e) {
    p.cleanup();
    throw e;
  }
  return p;
}
