import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage, DockerHost, haveDockerd, METADATA } from '../helpers/dockerd.js';
import type { Project } from '../helpers/render.js';
import { dockerProject, FORWARD_BLOCKED, PEER_PORT, PUBLISHED } from './project.js';

/**
 * gen-fw against Debian's real dockerd 20.10, in both orders: the image baked with
 * gen-fw first (applied and saved, then dockerd starts, as at boot), and dockerd first
 * (gen-fw applied and saved on a host where Docker already runs). Real packets: curl-like
 * probes from the peer namespace, busybox nc from inside the containers.
 *
 * What gen-fw gets wrong today (issue 13) is written as tests too, skipped: run them with
 * GFWT_RUN_BROKEN=1 to see them fail; the change that fixes an item turns its tests on.
 */
const broken = process.env.GFWT_RUN_BROKEN ? it : it.skip;
const SECOND_PUBLISHED = 8081;

type Order = 'gen-fw first' | 'dockerd first';

describe.skipIf(!haveDockerd)('gen-fw with a real dockerd 20.10', () => {
  let image: Awaited<ReturnType<typeof buildImage>>;
  beforeAll(async () => {
    image = await buildImage();
  });
  afterAll(() => image?.cleanup());

  for (const order of ['gen-fw first', 'dockerd first'] as Order[]) {
    describe(order, () => {
      let h: DockerHost;
      let project: Project;
      const bench = () => h.bench;
      const apply = (args: string[] = []) => h.applyInit(project.init, args);

      beforeAll(async () => {
        h = await DockerHost.create();
        project = await dockerProject(h.bench);
        await h.bench.serve(h.bench.peer, [`tcp:${PEER_PORT}`, 'tcp:80']);
        if (order === 'gen-fw first') {
          await apply(['--save']); // baked: the saved state is from before Docker ever ran
          await h.start();
        } else {
          await h.start();
        }
        await h.importImage(image.tarball);
        await h.runWeb('web', { publish: [`${PUBLISHED}:80`], restart: 'always' });
        await h.createNetwork('sandbox', { bridge: 'docker-sandbox' });
        await h.runWeb('sbx', { network: 'sandbox', restart: 'always' });
        if (order === 'dockerd first') await apply(['--save']);
      }, 180_000);

      afterAll(async () => {
        await h?.cleanup();
        project?.cleanup();
      }, 120_000);

      const publishedPortHolds = async () => {
        const b = bench();
        const v = await b.check(b.peer, [
          { proto: 'tcp', host: b.hostV4, port: PUBLISHED, source: b.peerV4 },
          { proto: 'tcp', host: b.hostV4, port: PUBLISHED, source: b.peerV4b },
        ]);
        expect(v, 'published port from the allowed source, then from another').toEqual(['open', 'filtered']);
      };

      const docker0ContainerHolds = async () => {
        const b = bench();
        expect(await h.connect('web', b.peerV4, PEER_PORT), 'docker0 container to the peer').toBe('open');
        expect(await h.connect('web', METADATA, 80), 'docker0 container to the metadata service').toBe('filtered');
      };

      it('publishes the port to the allowed source and filters it from another', publishedPortHolds);

      it('lets a docker0 container out, but not to the metadata service', docker0ContainerHolds);

      // Issue 13 item 2: block_metadata matches docker0 and br-+ only; a bridge named
      // through com.docker.network.bridge.name (docker-sandbox) reaches 169.254.169.254.
      broken('keeps a container on the custom-named bridge docker-sandbox from the metadata service', async () => {
        expect(await h.connect('sbx', bench().peerV4, PEER_PORT), 'sandbox container to the peer').toBe('open');
        expect(await h.connect('sbx', METADATA, 80), 'sandbox container to the metadata service').toBe('filtered');
      });

      // Issue 13 item 3: Docker inserts its FORWARD accepts above -j GFW-FORWARD (at
      // start, after docker network create, after a restart), so forward rules stop
      // applying to container traffic. Applied after dockerd, our jump is still first:
      // that order works until Docker next moves its rules (see the test after the restart).
      (order === 'dockerd first' ? it : broken)('applies forward rules to container traffic', async () => {
        expect(await h.connect('web', FORWARD_BLOCKED, PEER_PORT), 'docker0 container, rejected by a forward rule').toBe('refused');
        expect(await h.connect('sbx', FORWARD_BLOCKED, PEER_PORT), 'sandbox container, rejected by a forward rule').toBe('refused');
      });

      // Issue 13 items 1 and 5: Docker's plain -j RETURN in DOCKER-USER, its move of
      // -j DOCKER-USER to the top of FORWARD, its per-bridge FORWARD rules and (saved
      // while a container ran) its hairpin MASQUERADE all show as drift. Saved with Docker
      // already running, the check is in sync until Docker next changes something.
      (order === 'dockerd first' ? it : broken)('iptables-check is in sync with Docker running', async () => {
        const r = await h.check(project.sbin + '/iptables-check');
        expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      });

      it('still holds after two re-applies, a dockerd restart, and a new container with a second published port', async () => {
        await apply();
        await apply();
        await h.restart();
        // restart: always brings web and sbx back; their rules come back with them.
        await waitRunning(h, ['web', 'sbx']);
        await h.runWeb('web2', { publish: [`${SECOND_PUBLISHED}:80`] });
        await publishedPortHolds();
        const b = bench();
        const second = await b.check(b.peer, [
          { proto: 'tcp', host: b.hostV4, port: SECOND_PUBLISHED, source: b.peerV4 },
          { proto: 'tcp', host: b.hostV4, port: SECOND_PUBLISHED, source: b.peerV4b },
        ]);
        expect(second, 'a port no docker rule allows').toEqual(['filtered', 'filtered']);
        await docker0ContainerHolds();
        expect(await h.connect('web2', METADATA, 80), 'the new container to the metadata service').toBe('filtered');
      }, 120_000);

      // After the restart and the new container above (each needs the one before).
      // Issue 13 item 2.
      broken('after that, the sandbox container still cannot reach the metadata service', async () => {
        expect(await h.connect('sbx', METADATA, 80)).toBe('filtered');
      });
      // Issue 13 item 3: the restart put Docker's FORWARD accepts above -j GFW-FORWARD, in both orders.
      broken('after that, forward rules still apply to container traffic', async () => {
        expect(await h.connect('web', FORWARD_BLOCKED, PEER_PORT)).toBe('refused');
        expect(await h.connect('web2', FORWARD_BLOCKED, PEER_PORT)).toBe('refused');
      });
      // Issue 13 items 1 and 5.
      broken('after that, iptables-check is still in sync', async () => {
        const r = await h.check(project.sbin + '/iptables-check');
        expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      });

      // Issue 13 item 4 and the new keys (SPEC §2): written by the helper that adds them.
      it.todo('docker-out rejects a sandbox container\'s connection to a private address while a docker0 container gets through');
      it.todo('a `user: nobody` out rule holds for nobody and not for root');
    });
  }
});

async function waitRunning(h: DockerHost, names: string[], deadlineMs = 60_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const r = await h.docker(['inspect', '-f', '{{.State.Running}}', ...names], { reject: false });
    if (r.exitCode === 0 && r.stdout.split('\n').every((l) => l.trim() === 'true')) return;
    if (Date.now() > end) throw new Error(`containers ${names.join(', ')} not running after ${deadlineMs} ms: ${r.stdout} ${r.stderr}`);
    await new Promise((res) => setTimeout(res, 200));
  }
}
