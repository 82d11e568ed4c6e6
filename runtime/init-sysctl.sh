# shellcheck shell=sh

# ---------------------------------------------------------------------------------
# conntrack_limits: the nf_conntrack sysctls of gen-fw.yaml (GFW_CONNTRACK_SYSCTLS, a
# line each: name, value, and "initial" when only the initial network namespace may set
# it). Each is written to /proc/sys/net/netfilter/NAME and read back; one the kernel
# does not allow here is a note on stderr, never a failure: the firewall is applied.
gfw_sysctl_dir=/proc/sys/net/netfilter

gfw_apply_sysctls() {
  case $GFW_CONNTRACK_SYSCTLS in *[a-z]*) ;; *) return 0 ;; esac
  printf '%s\n' "$GFW_CONNTRACK_SYSCTLS" | while read -r name value scope; do
    [ -n "$name" ] || continue
    gfw_sysctl_one "$name" "$value" "$scope"
  done
}

gfw_sysctl_one() { # name value scope
  f=$gfw_sysctl_dir/$1
  if [ ! -e "$f" ]; then
    say "note: conntrack_limits: $gfw_sysctl_dir/$1 does not exist (is nf_conntrack loaded?); not set"
    return 0
  fi
  [ "$(cat "$f" 2>/dev/null)" != "$2" ] || return 0
  if { printf '%s\n' "$2" > "$f"; } 2>/dev/null && [ "$(cat "$f" 2>/dev/null)" = "$2" ]; then
    return 0
  fi
  if [ "$3" = initial ]; then
    say "note: conntrack_limits: $1 is set only in the initial network namespace (this is another one: it is $(cat "$f" 2>/dev/null) here, the host's value); not set"
  else
    say "note: conntrack_limits: the kernel did not take $1 = $2 in this network namespace (it is $(cat "$f" 2>/dev/null)); not set"
  fi
}
