# shellcheck shell=sh
# What iptables-check found, into $work: report (printed), log (logged), results (for the
# metrics), and the status of the last comparison.
# shellcheck disable=SC2154 # work, textfile_dir: check-main.sh, check-cli.sh; GFW_*_AWK: inlined
# shellcheck disable=SC2034 # failed, status, drift: read by check-family.sh and check-main.sh

GFW_METRICS=iptables-check.prom

cannot() { # ruleset label message
  failed=1
  say "$2: cannot check: $3"
  echo "$2: cannot check: $3" >> "$work/log"
  echo "$1 error" >> "$work/results"
}

in_sync() { # ruleset label size legacy
  status=in-sync
  unit=rules
  [ "$1" != ipsets ] || unit=members
  echo "$2: in sync ($3 $unit)" >> "$work/report"
  echo "$2: in sync ($3 $unit)" >> "$work/log"
  echo "$1 in-sync $3 0 0 0 0 0 $4" >> "$work/results"
}

compare() { # ruleset label saved-normalised live-normalised legacy size
  rc=0
  diff --minimal "$3" "$4" > "$work/diff" || rc=$?
  status=error
  [ "$rc" -le 1 ] || { cannot "$1" "$2" "diff failed"; return 0; }
  [ "$rc" = 1 ] || { in_sync "$1" "$2" "$6" "$5"; return 0; }
  status=drift
  drift=1
  is_sets=0
  [ "$1" != ipsets ] || is_sets=1
  awk -v sets="$is_sets" -v tally="$work/tally" "$GFW_REPORT_AWK" "$work/diff" > "$work/changes.raw"
  read -r ra rr pc ca cr < "$work/tally"
  if [ "$is_sets" = 1 ]; then
    summary="$2: drift (members: $ra added, $rr removed; sets: $pc changed, $ca added, $cr removed)"
  else
    summary="$2: drift (rules: $ra added, $rr removed; policies: $pc changed; chains: $ca added, $cr removed)"
  fi
  echo "$summary" >> "$work/report"
  by_place "$work/changes.raw" >> "$work/report"
  echo "$summary" >> "$work/log"
  echo "$1 drift $6 $ra $rr $pc $ca $cr $5" >> "$work/results"
}

write_metrics() {
  [ -n "$textfile_dir" ] && [ -d "$textfile_dir" ] || return 0
  # The packet counters of each family read (check-counters.awk).
  cat "$work"/v4.counters "$work"/v6.counters > "$work/counters" 2>/dev/null || :
  if tmp=$(mktemp "$textfile_dir/.iptables-check.XXXXXX" 2>/dev/null) &&
    awk -v now="$(date +%s)" -v counters="$work/counters" "$GFW_METRICS_AWK" "$work/results" > "$tmp" &&
    chmod 0644 "$tmp" && mv -f "$tmp" "$textfile_dir/$GFW_METRICS"; then
    return 0
  fi
  [ -z "${tmp:-}" ] || rm -f "$tmp"
  say "warning: could not write $textfile_dir/$GFW_METRICS"
}
