import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { buildImage, DockerHost, haveDockerd } from '../helpers/dockerd.js';
import { dockerProject, PUBLISHED } from './project.js';

/**
 * Not a test: the recorder behind docs/docker-facts.md and test/check/corpus-docker/.
 * `GFWT_CAPTURE_DIR=/tmp/x npx vitest run test/docker/capture-facts.test.ts` writes
 * iptables-save and ip6tables-save after each step, in both orders, as NN-step.v4/.v6.
 */
const out = process.env.GFWT_CAPTURE_DIR;

describe.skipIf(!out || !haveDockerd)('capture what dockerd 20.10 writes (GFWT_CAPTURE_DIR)', () => {
  const run = async (order: string, steps: (h: DockerHost, snap: (name: string) => Promise<void>) => Promise<void>) => {
    const dir = join(out as string, order);
    mkdirSync(dir, { recursive: true });
    const h = await DockerHost.create();
    let n = 0;
    const snap = async (name: string) => {
      const tag = `${String(n++).padStart(2, '0')}-${name}`;
      writeFileSync(join(dir, `${tag}.v4`), await h.bench.iptablesSave(4));
      writeFileSync(join(dir, `${tag}.v6`), await h.bench.iptablesSave(6));
    };
    try {
      await snap('empty');
      await steps(h, snap);
    } finally {
      await h.cleanup();
    }
  };

  const dockerSteps = (image: () => string) => async (h: DockerHost, snap: (name: string) => Promise<void>) => {
    await h.start();
    await snap('dockerd-started');
    await h.importImage(image());
    await h.runWeb('web', { publish: [`${PUBLISHED}:80`] });
    await snap('container-published');
    await h.createNetwork('sandbox', { bridge: 'docker-sandbox' });
    await snap('network-docker-sandbox');
    await h.runWeb('sbx', { network: 'sandbox', publish: ['8081:80'] });
    await snap('sandbox-container-published');
    await h.restart();
    await snap('dockerd-restarted');
    await h.removeContainers();
    await snap('containers-removed');
  };

  it('gen-fw first (baked, saved), then dockerd', async () => {
    const image = await buildImage();
    try {
      await run('gen-fw-first', async (h, snap) => {
        const project = await dockerProject(h.bench);
        try {
          await h.applyInit(project.init, ['--save']);
          await snap('gen-fw-applied');
          writeFileSync(
            join(out as string, 'gen-fw-first', 'saved-rules.v4'),
            (await h.gfw(['cat', '/etc/iptables/rules.v4'])).stdout + '\n',
          );
          await dockerSteps(() => image.tarball)(h, snap);
          await h.applyInit(project.init);
          await snap('gen-fw-reapplied');
        } finally {
          project.cleanup();
        }
      });
    } finally {
      image.cleanup();
    }
  }, 240_000);

  it('dockerd first, then gen-fw', async () => {
    const image = await buildImage();
    try {
      await run('dockerd-first', async (h, snap) => {
        const project = await dockerProject(h.bench);
        try {
          await h.start();
          await snap('dockerd-started');
          await h.importImage(image.tarball);
          await h.runWeb('web', { publish: [`${PUBLISHED}:80`] });
          await snap('container-published');
          await h.applyInit(project.init, ['--save']);
          await snap('gen-fw-applied');
          writeFileSync(
            join(out as string, 'dockerd-first', 'saved-rules.v4'),
            (await h.gfw(['cat', '/etc/iptables/rules.v4'])).stdout + '\n',
          );
          await h.createNetwork('sandbox', { bridge: 'docker-sandbox' });
          await snap('network-docker-sandbox');
          await h.restart();
          await snap('dockerd-restarted');
          await h.removeContainers();
          await snap('containers-removed');
          await h.applyInit(project.init);
          await snap('gen-fw-reapplied');
        } finally {
          project.cleanup();
        }
      });
    } finally {
      image.cleanup();
    }
  }, 240_000);
});
