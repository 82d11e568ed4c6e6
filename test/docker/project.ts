import type { Bench } from '../helpers/netns.js';
import { makeProject, render, type Project } from '../helpers/render.js';

/** Ports the real-dockerd tests publish and probe. */
export const PUBLISHED = 8080;
/** Where the peer's probe server listens; the forward rule rejects it on the second peer address. */
export const PEER_PORT = 9000;
/** The peer's third address: the forward rule rejects containers' connections to it on PEER_PORT. */
export const FORWARD_BLOCKED = '198.51.100.2';
/** A "private" address for the sandbox: 198.51.100.0/24 stands in for the VPC (tests use documentation ranges only). */
export const PRIVATE = '198.51.100.2';
/** The custom-named bridge of the sandbox network (com.docker.network.bridge.name). */
export const SANDBOX_BRIDGE = 'docker-sandbox';
export const NOBODY = 65534;

/**
 * The Docker host's project, the seed use case: Docker on with the sandbox bridge listed;
 * one published port open to the peer's first address only; a forward rule that rejects
 * container traffic to one peer address and port; the sandbox network's containers kept
 * off the private ranges and the "VPC" (docker-out); the local user nobody kept off the
 * peer's PEER_PORT, which everyone else may reach (out, user).
 */
export async function dockerProject(bench: Bench): Promise<Project> {
  const p = makeProject({
    host: `docker: { enabled: true, bridge: [docker0, "br-+", ${SANDBOX_BRIDGE}] }\n`,
    services: {
      'app.yaml': [
        'description: the web container, published on 8080',
        'rules:',
        `  - { direction: docker, proto: tcp, dport: ${PUBLISHED}, source: ${bench.peerV4} }`,
        `  - { direction: forward, proto: tcp, dport: ${PEER_PORT}, destination: ${FORWARD_BLOCKED}, action: reject, comment: no containers to the second peer }`,
        '',
      ].join('\n'),
      'sandbox.yaml': [
        'description: the sandbox network and the sandbox user stay off the private network',
        'rules:',
        `  - direction: docker-out`,
        `    interface: ${SANDBOX_BRIDGE}`,
        `    destination: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 169.254.0.0/16, 198.51.100.0/24]`,
        `    action: reject`,
        `  - { direction: out, user: nobody, proto: tcp, dport: ${PEER_PORT}, destination: ${bench.peerV4}, action: reject }`,
        `  - { direction: out, proto: tcp, dport: ${PEER_PORT}, destination: ${bench.peerV4} }`,
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
