import { join } from 'node:path';
import { SAVED_STATE_MARK } from '../model/chains.js';
import { AUDIT_CHAIN, AUDIT_TARGETS, DROP_TARGETS, SERVICE_CHAIN_RE, countedBaseRulesWords } from '../model/counters.js';
import type { HostConfig } from '../validate/schema.js';
import type { Template } from './handlebars.js';
import type { OwnershipSettings } from './ownership-settings.js';

interface CheckFileData extends OwnershipSettings {
  version: string;
  inputs: Array<{ file: string; sha256: string }>;
}

/**
 * The drift check's part of the bundle: <install_dir>/iptables-check (0755) and
 * etc/cron.d/iptables-check (0644; cron ignores cron.d files with a dot in their name).
 */
export function renderCheckFiles(
  host: HostConfig,
  use: (name: string) => Template,
  data: CheckFileData,
): Array<[string, { content: string; mode: number }]> {
  const checkPath = join(host.install_dir, 'iptables-check');
  const textfileDir = host.drift_check.textfile_dir === false ? '' : host.drift_check.textfile_dir;
  return [
    [
      join('rootfs', checkPath),
      {
        mode: 0o755,
        content: use('iptables-check')({
          ...data,
          what: 'the drift check (iptables-check)',
          textfileDir,
          markChain: `${SAVED_STATE_MARK.table}:${SAVED_STATE_MARK.chain}`,
          textfileText: textfileDir || 'none: drift_check.textfile_dir is false',
          counted: countedBaseRulesWords(),
          dropTargets: DROP_TARGETS.join(' '),
          auditChain: AUDIT_CHAIN,
          auditTargets: AUDIT_TARGETS.join(' '),
          serviceChains: SERVICE_CHAIN_RE,
        }),
      },
    ],
    [
      'rootfs/etc/cron.d/iptables-check',
      {
        mode: 0o644,
        content: use('iptables-check.cron')({
          version: data.version,
          inputs: data.inputs,
          what: 'the drift-check schedule (cron.d)',
          schedule: host.drift_check.schedule,
          checkPath,
        }),
      },
    ],
  ];
}
