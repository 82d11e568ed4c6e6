import { defineConfig } from 'vitest/config';

/**
 * Two projects, by glob (docs/development.md): `rootless` needs no privileges (unit, model,
 * render and golden files, the drift check's parsers and corpus, broken configs, the fuzzed
 * injection test — whose network-namespace sample skips itself without root); `root` needs
 * network namespaces or images. `npm run check` runs rootless, `npm test` both.
 */
const ROOT_ONLY = [
  'test/netns/**/*.test.ts',
  'test/image/**/*.test.ts',
  'test/docker/**/*.test.ts',
  'test/check/netns.test.ts',
  'test/check/prometheus.test.ts',
  'test/check/faults.test.ts',
  'test/check/textfile-safety.test.ts',
  'test/check/cache.test.ts',
  'test/explain/kernel-property.test.ts',
  'test/lint/kernel.test.ts',
];

export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Namespace tests are I/O bound; two workers keep a 2-core machine responsive.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'rootless', include: ['test/**/*.test.ts'], exclude: ROOT_ONLY } },
      { extends: true, test: { name: 'root', include: ROOT_ONLY } },
    ],
  },
});
