/**
 * conntrack_limits: the nf_conntrack sysctls gen-fw sets, each a key of gen-fw.yaml, its
 * sysctl (net.netfilter.nf_conntrack_<key>) and the range it accepts. One table for the
 * schema, the fast path, the sysctl file and iptables-init's settings. Timeouts are seconds.
 */
export interface ConntrackLimit {
  key: string;
  min: number;
  max: number;
  /** Only the initial network namespace may set it (the kernel makes it read-only in the others). */
  initialOnly: boolean;
}

export const CONNTRACK_LIMITS = [
  // Below a few thousand entries a busy host drops new connections at once; 2^26 entries
  // take about 20 GB of kernel memory.
  { key: 'max', min: 1024, max: 67108864, initialOnly: true },
  // The kernel's default is 5 days; under a minute cuts idle SSH sessions without keepalives.
  { key: 'tcp_timeout_established', min: 60, max: 2592000, initialOnly: false },
  { key: 'tcp_timeout_time_wait', min: 1, max: 600, initialOnly: false },
  { key: 'tcp_timeout_close_wait', min: 1, max: 3600, initialOnly: false },
  { key: 'tcp_timeout_fin_wait', min: 1, max: 600, initialOnly: false },
  { key: 'udp_timeout', min: 1, max: 3600, initialOnly: false },
  { key: 'udp_timeout_stream', min: 1, max: 86400, initialOnly: false },
  { key: 'generic_timeout', min: 1, max: 86400, initialOnly: false },
] as const satisfies readonly ConntrackLimit[];

export type ConntrackLimitKey = (typeof CONNTRACK_LIMITS)[number]['key'];
export type ConntrackLimits = Partial<Record<ConntrackLimitKey, number>>;

export const CONNTRACK_LIMIT_KEYS: readonly ConntrackLimitKey[] = CONNTRACK_LIMITS.map((l) => l.key);

/** The sysctl's name under /proc/sys/net/netfilter/. */
export function conntrackSysctl(key: ConntrackLimitKey): string {
  return `nf_conntrack_${key}`;
}

/** The limits gen-fw.yaml sets, in table order: sysctl name, value, and whether only the initial namespace may set it. */
export function conntrackSettings(limits: ConntrackLimits | undefined): { name: string; value: number; initialOnly: boolean }[] {
  if (!limits) return [];
  return CONNTRACK_LIMITS.flatMap((l) =>
    limits[l.key] === undefined ? [] : [{ name: conntrackSysctl(l.key), value: limits[l.key]!, initialOnly: l.initialOnly }],
  );
}
