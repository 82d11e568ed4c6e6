/**
 * One line for people about every key of gen-fw.yaml, a service file and an expectations
 * file, by key path (`ssh.rate_limit.hits`, `rules[].dport`, `[].packet.dport`). The JSON
 * Schemas carry them as `description` (editors show them on hover) and `gen-fw init`
 * writes them as the comments of its gen-fw.yaml. `example` is written, commented out, for
 * a key that has no default. test/init/schema.test.ts checks that every key of the
 * schemas is here.
 */
export interface KeyDoc {
  text: string;
  example?: string;
}

export const HOST_KEY_DOCS: Record<string, KeyDoc> = {
  install_dir: { text: 'where iptables-init, iptables-check and iptables_conf.d/ live on the image' },
  ipv6: { text: 'also render ip6tables rules (IPv6 addresses in rules need this)' },
  policy: { text: 'built-in chain policies: accept or drop (for "reject", see final)' },
  'policy.input': { text: 'what INPUT does with a packet no rule accepted' },
  'policy.forward': { text: 'what FORWARD does with routed traffic no rule accepted' },
  'policy.output': { text: 'what OUTPUT does with a packet no rule accepted (drop: only dns, ntp, dhcp, metadata and out rules leave)' },
  loopback: { text: 'accept everything on lo' },
  conntrack: { text: 'connection tracking' },
  'conntrack.established': {
    text: 'accept replies of connections already allowed (accept | false; false with a drop policy locks you out)',
  },
  'conntrack.invalid': { text: 'drop packets conntrack calls invalid (drop | false)' },
  icmp: { text: 'ICMP (IPv6 neighbour discovery is always allowed when ipv6 is on)' },
  'icmp.echo_request': { text: 'ping: accept | drop' },
  deny: { text: 'dropped before anything else is allowed, SSH included' },
  'deny.source': { text: 'addresses, CIDRs or "@set" names to drop', example: '[198.51.100.0/24]' },
  ssh: { text: 'inbound SSH (false: none; then open tcp 22 in a service or set allow_no_ssh)' },
  'ssh.port': { text: 'the port sshd listens on' },
  'ssh.source': { text: 'who may connect: addresses, CIDRs or "@set" names' },
  'ssh.interface': { text: 'only on this interface ("+" as in iptables)', example: 'eth0' },
  'ssh.rate_limit': { text: 'at most `hits` new connections per source per `seconds` (false: no limit)' },
  'ssh.rate_limit.hits': { text: 'new connections allowed per source in the window (1-19)' },
  'ssh.rate_limit.seconds': { text: 'length of the window in seconds' },
  dns: { text: 'outbound DNS, udp and tcp 53: true, false, or a list of resolver addresses' },
  ntp: { text: 'outbound NTP, udp 123: true, false, or a list of server addresses' },
  dhcp: { text: 'DHCP client (udp 67/68; DHCPv6 546/547 and router adverts when ipv6)' },
  metadata: { text: 'cloud metadata service (169.254.169.254, fd00:ec2::254): root-only (cloud-init, agents) | allow | block' },
  final: { text: 'what unmatched inbound traffic gets: drop | reject' },
  conntrack_limits: {
    text: 'optional nf_conntrack sysctls, written to /etc/sysctl.d/60-gen-fw.conf and applied by iptables-init',
    example: '{ max: 262144, tcp_timeout_established: 300 }',
  },
  'conntrack_limits.max': { text: 'nf_conntrack_max: the size of the conntrack table (initial network namespace only)' },
  'conntrack_limits.tcp_timeout_established': { text: 'seconds an idle established TCP connection stays in the table' },
  'conntrack_limits.tcp_timeout_time_wait': { text: 'seconds in TIME_WAIT' },
  'conntrack_limits.tcp_timeout_close_wait': { text: 'seconds in CLOSE_WAIT' },
  'conntrack_limits.tcp_timeout_fin_wait': { text: 'seconds in FIN_WAIT' },
  'conntrack_limits.udp_timeout': { text: 'seconds a one-way UDP flow stays in the table' },
  'conntrack_limits.udp_timeout_stream': { text: 'seconds a two-way UDP flow stays in the table' },
  'conntrack_limits.generic_timeout': { text: 'seconds for other protocols' },
  mode: { text: 'enforce | audit: audit drops nothing and logs ("FW-AUDIT: ") what enforce would drop or reject' },
  logging: { text: 'log what is dropped at the end of the chains' },
  'logging.dropped': { text: 'log packets the final rule drops or rejects' },
  'logging.prefix': { text: 'log prefix (at most 29 bytes)' },
  'logging.limit': { text: 'at most this many log lines ("5/min", "10/second", "100/hour")' },
  'logging.level': { text: 'syslog level 0-7' },
  docker: { text: 'hosts that run Docker' },
  'docker.enabled': { text: "keep Docker's chains and allow direction: docker rules (DOCKER-USER)" },
  'docker.bridge': { text: 'Docker\'s bridge interfaces: one name or a list ("+" as in iptables); block_metadata covers every one' },
  'docker.block_metadata': { text: 'containers may not reach the cloud metadata service' },
  kubernetes: { text: 'hosts that run kube-proxy' },
  'kubernetes.enabled': { text: "leave kube-proxy's chains alone" },
  sets: {
    text: 'named ipsets for "@name" in addresses: one address or CIDR a line in the file',
    example: '{ blocklist: { file: lists/blocklist.txt } }',
  },
  'sets.*': { text: 'one set' },
  'sets.*.file': { text: "the set's file, relative to gen-fw.yaml's directory and inside it" },
  'sets.*.allow_outside_project': { text: 'allow a set file outside gen-fw.yaml\'s directory (an absolute path, or ".." out of it)' },
  persistence: { text: 'how the rules come back after a reboot' },
  'persistence.iptables_persistent': { text: "install iptables-persistent's answers (debconf-selections) and saved rules" },
  'persistence.pre_up': { text: 'restore the rules before interfaces come up (ifupdown hook)' },
  drift_check: { text: 'iptables-check, run from cron: is the live firewall still the one baked in?' },
  'drift_check.schedule': { text: 'cron schedule (five fields, or @hourly and friends)' },
  'drift_check.ignore_chains': { text: 'chains others own (globs), left out of the comparison' },
  'drift_check.ignore_chains[]': { text: 'a chain-name glob' },
  'drift_check.textfile_dir': { text: 'node exporter textfile directory for the metrics (false: none)' },
  allow_no_ssh: { text: 'allow a drop policy with no way in over SSH (a lock-out, unless you know better)' },
};

export const SERVICE_KEY_DOCS: Record<string, KeyDoc> = {
  description: { text: 'what this service is, for people (written into its fragment)' },
  rules: { text: 'the rules of this service, in order' },
  'rules[]': { text: 'one rule' },
  'rules[].direction': { text: 'in | out | forward | docker | docker-out' },
  'rules[].proto': { text: 'tcp | udp | icmp | ipv6-icmp | all' },
  'rules[].dport': { text: 'destination port: a number, a "from:to" range, or a list of both (needs tcp or udp)' },
  'rules[].sport': { text: 'source port: a number, a "from:to" range, or a list of both (needs tcp or udp)' },
  'rules[].interface': { text: 'interface (-i for in/forward/docker, -o for out; "+" as in iptables)' },
  'rules[].source': { text: 'an address, a CIDR, "@set", or a list of them' },
  'rules[].destination': { text: 'an address, a CIDR, "@set", or a list of them' },
  'rules[].action': { text: 'accept | drop | reject' },
  'rules[].log': { text: 'log before acting: true, or { prefix, limit, level }' },
  'rules[].log.prefix': { text: 'log prefix (at most 29 bytes)' },
  'rules[].log.limit': { text: 'at most this many log lines ("5/min")' },
  'rules[].log.level': { text: 'syslog level 0-7' },
  'rules[].rate_limit': { text: 'at most `hits` new connections per source per `seconds`' },
  'rules[].rate_limit.hits': { text: 'new connections allowed per source in the window (1-19)' },
  'rules[].rate_limit.seconds': { text: 'length of the window in seconds' },
  'rules[].audit': { text: 'drop/reject rules only: log what it would drop ("<service> audit: ") and pass it on' },
  'rules[].notrack': { text: 'in rules with tcp/udp and a dport: stateless, skips conntrack (raw table)' },
  'rules[].user': { text: 'out rules only: the local user (name or uid) that sends it' },
  'rules[].group': { text: 'out rules only: the local group (name or gid) that sends it' },
  'rules[].comment': { text: 'a comment for the rule (every rule is tagged with its service anyway)' },
};

export const EXPECTATION_KEY_DOCS: Record<string, KeyDoc> = {
  '[]': { text: 'one expectation: a packet and what the firewall must do with it' },
  '[].packet': { text: 'the packet, as for gen-fw explain' },
  '[].packet.direction': { text: 'in | out | forward | docker | docker-out' },
  '[].packet.proto': { text: 'tcp | udp | icmp | ipv6-icmp' },
  '[].packet.source': { text: 'source address' },
  '[].packet.destination': { text: 'destination address' },
  '[].packet.sport': { text: 'source port' },
  '[].packet.dport': { text: 'destination port' },
  '[].packet.interface': { text: 'interface the packet comes in (or goes out) on' },
  '[].packet.user': { text: 'out packets: the local user (name or uid) that sends it (default root)' },
  '[].packet.state': { text: 'new | established (default new)' },
  '[].expect': { text: 'accept | drop | reject' },
};
