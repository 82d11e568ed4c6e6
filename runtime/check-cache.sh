# shellcheck shell=sh
# shellcheck disable=SC2154 # work, cache_dir: check-main.sh, check-cli.sh
# shellcheck disable=SC2034 # key: read by check-family.sh

# The key of the cache (set in `key`; empty without the sums): what the normalised live
# state was last found in sync with.
cache_key() { # 4|6
  key=
  [ -s "$work/v$1.sums" ] || return 0
  { read -r script_sum _ && read -r saved_sum _; } < "$work/v$1.sums" || return 0
  # (sha256sum writes a backslash before the sum of a file whose name needs escaping)
  key="gen-fw iptables-check cache 1 script=${script_sum#\\} saved=${saved_sum#\\} ignore=$GFW_IGNORE owned=$GFW_OWNED ifaces=$GFW_IGNORE_IFACES"
}

# In sync when the cache is ours, starts with this key and then holds exactly this
# normalised live state. `read` leaves the file offset just past the key line, so `cmp -`
# compares the rest.
cache_hit() { # cache-file key normalised
  [ -n "$2" ] && [ -f "$1" ] && [ -O "$1" ] || return 1
  { IFS= read -r head && [ "$head" = "$2" ] && cmp -s - "$3"; } < "$1" 2>/dev/null
}

# Keep a normalised live state found in sync, under its key. A cache that cannot be
# written is no error: the next run compares in full again.
cache_store() { # cache-file key normalised
  [ -n "$2" ] || return 0
  [ -d "$cache_dir" ] || mkdir -m 0700 "$cache_dir" 2>/dev/null || return 0
  [ -O "$cache_dir" ] || return 0
  tmp=$(mktemp "$cache_dir/.iptables-check.XXXXXX" 2>/dev/null) || return 0
  if { printf '%s\n' "$2" && cat "$3"; } > "$tmp" 2>/dev/null && mv -f "$tmp" "$1" 2>/dev/null; then return 0; fi
  rm -f "$tmp"
}
