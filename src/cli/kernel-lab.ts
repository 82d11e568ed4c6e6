import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeBundle } from '../emit/write-bundle.js';
import { packageRoot } from '../version.js';
import type { KernelLab } from '../system/netns.js';
import { planBundle } from './render-command.js';
import type { ModelOptions } from './load-model.js';
import type { Reporter } from './reporter.js';

/**
 * Render the bundle into a temporary directory, load it into a scratch namespace pair and
 * hand the lab to `use`; the namespaces and the directory are removed however it ends.
 */
export async function withKernelLab<T>(
  opts: ModelOptions & { installDir: string },
  report: Reporter,
  use: (lab: KernelLab) => Promise<T>,
): Promise<T> {
  const { KernelLab } = await import('../system/netns.js');
  const { cleanUpOnInterrupt } = await import('../system/interrupt.js');
  const quiet: Reporter = { ...report, warnings: () => undefined };
  const bundle = await planBundle({ ...opts, templates: join(packageRoot, 'templates') }, quiet);
  const dir = mkdtempSync(join(tmpdir(), 'gen-fw-explain-'));
  const forget = cleanUpOnInterrupt(() => rmSync(dir, { recursive: true, force: true }));
  try {
    const out = await writeBundle(bundle, join(dir, 'firewall'));
    const lab = await KernelLab.open(join(out, 'rootfs', opts.installDir, 'iptables-init'));
    try {
      return await use(lab);
    } finally {
      await lab.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
    forget();
  }
}
