# shellcheck shell=sh
# The boot failsafe (the netfilter-persistent plugin and the ifupdown pre-up hook): when
# neither the ruleset nor the saved state loaded for a family, the host must come up
# closed, not open. It depends on no set and no fragment: DROP policies, then in
# GFW-FAILSAFE-IN and GFW-FAILSAFE-OUT (jumped to first from INPUT and OUTPUT, ending in
# DROP) loopback, established and related, SSH in on GFW_FAILSAFE_SSH_PORT from anywhere,
# DHCP and DNS out (and, for IPv6, neighbour discovery). With GFW_FAILSAFE_V6_OPEN=0
# (ipv6: false), IPv6 gets loopback alone, as the ruleset keeps it. A later successful
# iptables-init removes it (GFW- chains it does not create are unhooked and deleted); the
# drift check reports it. Settings: GFW_FAILSAFE_SSH_PORT, GFW_FAILSAFE_V6_OPEN; gfw_log
# from restore-saved.
# shellcheck disable=SC2154 # GFW_FAILSAFE_SSH_PORT, GFW_FAILSAFE_V6_OPEN: the settings

gfw_failsafe_open() { # family: SSH, DHCP, DNS (and ND) in this family's failsafe
  [ "$1" = 4 ] || [ "$GFW_FAILSAFE_V6_OPEN" = 1 ]
}

gfw_failsafe_payload() { # family
  echo '*filter'
  echo ':INPUT DROP [0:0]'
  echo ':FORWARD DROP [0:0]'
  echo ':OUTPUT DROP [0:0]'
  echo ':GFW-FAILSAFE-IN - [0:0]'
  echo ':GFW-FAILSAFE-OUT - [0:0]'
  echo '-I INPUT 1 -j GFW-FAILSAFE-IN'
  echo '-I OUTPUT 1 -j GFW-FAILSAFE-OUT'
  echo '-A GFW-FAILSAFE-IN -i lo -j ACCEPT'
  if ! gfw_failsafe_open "$1"; then
    echo '-A GFW-FAILSAFE-IN -j DROP'
    echo '-A GFW-FAILSAFE-OUT -o lo -j ACCEPT'
    echo '-A GFW-FAILSAFE-OUT -j DROP'
    echo 'COMMIT'
    return 0
  fi
  echo '-A GFW-FAILSAFE-IN -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT'
  echo "-A GFW-FAILSAFE-IN -p tcp --dport $GFW_FAILSAFE_SSH_PORT -j ACCEPT"
  if [ "$1" = 4 ]; then
    echo '-A GFW-FAILSAFE-IN -p udp --sport 67 --dport 68 -j ACCEPT'
  else
    echo '-A GFW-FAILSAFE-IN -p udp --sport 547 --dport 546 -j ACCEPT'
    for gfw_t in router-advertisement neighbour-solicitation neighbour-advertisement; do
      echo "-A GFW-FAILSAFE-IN -p ipv6-icmp --icmpv6-type $gfw_t -j ACCEPT"
    done
  fi
  echo '-A GFW-FAILSAFE-IN -j DROP'
  echo '-A GFW-FAILSAFE-OUT -o lo -j ACCEPT'
  echo '-A GFW-FAILSAFE-OUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT'
  if [ "$1" = 4 ]; then
    echo '-A GFW-FAILSAFE-OUT -p udp --sport 68 --dport 67 -j ACCEPT'
  else
    echo '-A GFW-FAILSAFE-OUT -p udp --sport 546 --dport 547 -j ACCEPT'
    for gfw_t in router-solicitation neighbour-solicitation neighbour-advertisement; do
      echo "-A GFW-FAILSAFE-OUT -p ipv6-icmp --icmpv6-type $gfw_t -j ACCEPT"
    done
  fi
  echo '-A GFW-FAILSAFE-OUT -p udp --dport 53 -j ACCEPT'
  echo '-A GFW-FAILSAFE-OUT -p tcp --dport 53 -j ACCEPT'
  echo '-A GFW-FAILSAFE-OUT -j DROP'
  echo 'COMMIT'
}

gfw_failsafe_restore() { # family [options]: iptables-restore or ip6tables-restore
  if [ "$1" = 4 ]; then shift; iptables-restore -w "$@"; else shift; ip6tables-restore -w "$@"; fi
}

gfw_failsafe_present() { # family
  if [ "$1" = 4 ]; then iptables-save -t filter 2>/dev/null | grep -q '^:GFW-FAILSAFE-IN '
  else ip6tables-save -t filter 2>/dev/null | grep -q '^:GFW-FAILSAFE-IN '; fi
}

# Load the failsafe for a family (once: a second call finds it in place). Should the
# kernel refuse the rules (conntrack missing, say), the DROP policies alone: closed without
# SSH is still better than open. Returns 1 when not even the policies could be set.
gfw_failsafe() { # family
  gfw_failsafe_present "$1" && return 0
  if gfw_failsafe_open "$1"; then
    gfw_what="only SSH on port $GFW_FAILSAFE_SSH_PORT in; DNS and DHCP out"
  else
    gfw_what="loopback only: ipv6 is false"
  fi
  if gfw_failsafe_payload "$1" | gfw_failsafe_restore "$1" --noflush; then
    gfw_log "FAILSAFE: IPv$1: neither the ruleset nor the saved state is loaded; the built-in failsafe is in place (policies DROP; $gfw_what). Fix the firewall and run iptables-init"
    return 0
  fi
  if printf '*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT DROP [0:0]\nCOMMIT\n' | gfw_failsafe_restore "$1" --noflush; then
    gfw_log "FAILSAFE: IPv$1: the failsafe rules were refused; only the DROP policies are set (SSH is closed too)"
    return 0
  fi
  gfw_log "FAILSAFE: IPv$1: could not even set the DROP policies: this family is OPEN"
  return 1
}

# The ruleset or the saved state is loaded after all: the failsafe goes (its DROP would
# shadow them). The policies are theirs.
gfw_failsafe_remove() { # family
  gfw_failsafe_present "$1" || return 0
  printf '%s\n' '*filter' '-D INPUT -j GFW-FAILSAFE-IN' '-D OUTPUT -j GFW-FAILSAFE-OUT' \
    '-F GFW-FAILSAFE-IN' '-F GFW-FAILSAFE-OUT' '-X GFW-FAILSAFE-IN' '-X GFW-FAILSAFE-OUT' 'COMMIT' |
    gfw_failsafe_restore "$1" --noflush || gfw_log "IPv$1: could not remove the failsafe chains"
}
