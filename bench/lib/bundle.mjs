// Render a bundle with the built CLI and read back what iptables-init would apply.
import { execa } from 'execa';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, NODE, inNs, netnsAdd, netnsDel, useLegacyIn } from './util.mjs';
import { splitDryRun } from './gen.mjs';

/**
 * `gen-fw render --conf-d DIR/conf.d --out DIR/out` (with DIR/gen-fw.yaml when present);
 * returns the paths of the rendered scripts.
 */
export async function renderBundle(dir) {
  const args = [CLI, 'render', '--conf-d', join(dir, 'conf.d'), '--out', join(dir, 'out')];
  if (existsSync(join(dir, 'gen-fw.yaml'))) args.push('--config', join(dir, 'gen-fw.yaml'));
  await execa(NODE, args, { cwd: dir });
  return bundlePaths(join(dir, 'out'));
}

export function bundlePaths(out) {
  const rootfs = join(out, 'rootfs');
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
  // install_dir is in the manifest when rendered; otherwise find iptables-init.
  let installDir = manifest.install_dir ?? manifest.host?.install_dir;
  if (!installDir || !existsSync(join(rootfs, installDir, 'iptables-init'))) installDir = findInit(rootfs);
  const base = join(rootfs, installDir);
  return {
    out,
    init: join(base, 'iptables-init'),
    check: existsSync(join(base, 'iptables-check')) ? join(base, 'iptables-check') : undefined,
  };
}

function findInit(rootfs, rel = '') {
  for (const e of readdirSync(join(rootfs, rel), { withFileTypes: true })) {
    const p = join(rel, e.name);
    if (e.isFile() && e.name === 'iptables-init') return rel;
    if (e.isDirectory()) {
      const r = findInit(rootfs, p);
      if (r !== undefined) return r;
    }
  }
  return undefined;
}

/** The payloads iptables-init would apply to an empty host ({ 4, 6 }), via --dry-run in a fresh namespace. */
export async function dryRunPayloads(init, backend = 'nft') {
  const ns = await netnsAdd('dry');
  try {
    if (backend === 'legacy') await useLegacyIn(ns);
    const r = await inNs(ns, 'sh', [init, '--dry-run'], { maxBuffer: 1 << 30 });
    return splitDryRun(r.stdout);
  } finally {
    await netnsDel(ns);
  }
}
