import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage, DockerHost, haveDockerd, METADATA } from '../helpers/dockerd.js';
import type { Project } from '../helpers/render.js';
import { dockerProject, FORWARD_BLOCKED, NOBODY, PEER_PORT, PRIVATE, PUBLISHED, SANDBOX_BRIDGE } from './project.js';

/**
 * gen-fw against Debian's real dockerd 20.10, in both orders: the image baked with
 * gen-fw first (applied and saved, then dockerd starts, as at boot), and dockerd first
 * (gen-fw applied and saved on a host where Docker already runs). Real packets: probes
 * from the peer namespace and from the host (as root and as nobody), busybox nc from
 * inside the containers. The project (project.ts) is the seed use case: a sandbox network
 * on the custom-named bridge docker-sandbox, kept off the private ranges by docker-out.
 */
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
        await h.createNetwork('sandbox', { bridge: SANDBOX_BRIDGE });
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

      const containersHold = async (docker0: string[]) => {
        const b = bench();
        for (const c of docker0) {
          expect(await h.connect(c, b.peerV4, PEER_PORT), `docker0 container ${c} to the peer`).toBe('open');
          expect(await h.connect(c, METADATA, 80), `docker0 container ${c} to the metadata service`).toBe('filtered');
          expect(await h.connect(c, PRIVATE, 80), `docker0 container ${c} to the "private" address`).toBe('open');
          expect(await h.connect(c, FORWARD_BLOCKED, PEER_PORT), `docker0 container ${c}, rejected by a forward rule`).toBe('refused');
        }
        expect(await h.connect('sbx', b.peerV4, PEER_PORT), 'sandbox container to the peer (the internet)').toBe('open');
        expect(await h.connect('sbx', METADATA, 80), 'sandbox container to the metadata service').toBe('filtered');
        expect(await h.connect('sbx', PRIVATE, 80), 'sandbox container to the "private" address: docker-out rejects it').toBe('refused');
      };

      const userRuleHolds = async () => {
        const b = bench();
        const probe = [{ proto: 'tcp' as const, host: b.peerV4, port: PEER_PORT }];
        expect(await b.check(b.host, probe), 'root to the peer').toEqual(['open']);
        expect(await b.check(b.host, probe, NOBODY), 'nobody to the peer: the user rule rejects it').toEqual(['refused']);
      };

      const inSync = async () => {
        const r = await h.check(project.sbin + '/iptables-check');
        expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      };

      it('publishes the port to the allowed source and filters it from another', publishedPortHolds);

      it('lets containers out, but not to the metadata service (docker0 and docker-sandbox); forward and docker-out rules apply to them', async () => {
        await containersHold(['web']);
      });

      it('a user: nobody out rule holds for nobody and not for root', userRuleHolds);

      it('iptables-check is in sync with Docker running', inSync);

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
        await containersHold(['web', 'web2']);
        await userRuleHolds();
        await inSync();
      }, 120_000);

      it("a re-apply puts FORWARD's jump to DOCKER-USER back on top, and nothing else of ours is in FORWARD", async () => {
        // Another tool (or a hand) put a rule above it; iptables-init repairs the order.
        await h.gfw(['iptables', '-I', 'FORWARD', '1', '-i', 'lo', '-j', 'ACCEPT']);
        await apply();
        const forward = (await bench().iptablesSave(4)).split('\n').filter((l) => l.startsWith('-A FORWARD'));
        expect(forward[0]).toBe('-A FORWARD -j DOCKER-USER');
        expect(forward.filter((l) => l.includes('GFW-'))).toEqual([]);
        await h.gfw(['iptables', '-D', 'FORWARD', '-i', 'lo', '-j', 'ACCEPT']);
        await containersHold(['web']);
      });
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
