# shellcheck shell=sh
# shellcheck disable=SC2154 # work, cache_dir: check-main.sh, check-cli.sh

# Run a save command: its stdout is the live state; its stderr is never read as rules.
live_state() { # ruleset label command [args] > file
  rs=$1 label=$2
  shift 2
  command -v "$1" >/dev/null 2>&1 || { cannot "$rs" "$label" "cannot run $1: not found"; return 1; }
  if ! "$@" > "$work/live" 2> "$work/err"; then
    cannot "$rs" "$label" "cannot run $1: $(head -n 3 "$work/err" | awk 'NR > 1 { printf "; " } { printf "%s", $0 }')"
    return 1
  fi
}

# ---------------------------------------------------------------------------------
# One family, in two steps. read_family, in the background (both families at once):
# the live state, normalised as iptables-save writes it, and the SHA-256 of this script
# and of the saved file, into $work/vN.*: why (it cannot be checked), err and rc (the
# save's stderr and exit code), n, nerr and nrc (the normalised live state, awk's stderr
# and exit code), meta ("RULES LEGACY") and sums. check_family, in order: the verdict.

read_family() { # 4|6 saved live-file|"" command
  p=$work/v$1
  if [ ! -f "$2" ]; then echo "$2: no such file" > "$p.why"; return 0; fi
  if [ -n "$3" ] && [ ! -f "$3" ]; then echo "$3: no such file" > "$p.why"; return 0; fi
  if [ -z "$3" ] && ! command -v "$4" >/dev/null 2>&1; then echo "cannot run $4: not found" > "$p.why"; return 0; fi
  if [ -n "$cache_dir" ] && [ -f "$0" ]; then
    ( sha256sum "$0" "$2" > "$p.sums" 2>/dev/null || rm -f "$p.sums" ) &
  fi
  if [ -n "$3" ]; then
    echo 0 > "$p.rc"
    : > "$p.err"
    nrc=0
    normalise "$3" "$3" "$p.meta" "$p.counters" "ipv$1" > "$p.n" 2> "$p.nerr" || nrc=$?
  else
    nrc=0
    # -c: the packet counters, for the metrics (the normalised state has none).
    { rc=0; "$4" -c 2> "$p.err" || rc=$?; echo "$rc" > "$p.rc"; } | normalise "$4" - "$p.meta" "$p.counters" "ipv$1" > "$p.n" 2> "$p.nerr" || nrc=$?
  fi
  echo "$nrc" > "$p.nrc"
  wait
}
