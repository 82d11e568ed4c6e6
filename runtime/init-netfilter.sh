# shellcheck shell=sh
# The families iptables-init manages, and their save and restore commands.

# IPv6 is always locked down when the kernel has it (with ipv6: false, to loopback only).
gfw_families() {
  echo 4
  if [ -e /proc/net/if_inet6 ] && command -v ip6tables-restore >/dev/null 2>&1; then echo 6; fi
}

gfw_restore() { # family [options]
  if [ "$1" = 4 ]; then shift; iptables-restore "$@"; else shift; ip6tables-restore "$@"; fi
}
gfw_save() { # family [options]
  if [ "$1" = 4 ]; then shift; iptables-save "$@"; else shift; ip6tables-save "$@"; fi
}
