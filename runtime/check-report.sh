# shellcheck shell=sh
# What iptables-check found, into $work: report (printed), log (logged), results (for the
# metrics), and the status of the last comparison.
# shellcheck disable=SC2154 # work, textfile_dir: check-main.sh, check-cli.sh; GFW_*_AWK: inlined
# shellcheck disable=SC2034 # failed, status, drift: read by check-family.sh and check-main.sh

GFW_METRICS=iptables-check.prom

# One ruleset cannot be checked. When our own work directory is what failed (a full disk),
# nothing can: that is a fault of the whole run.
cannot() { # ruleset label message
  work_writable || fault "cannot write to $work_root ($probe_why)"
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
  awk -v sets="$is_sets" -v tally="$work/tally" "$GFW_REPORT_AWK" "$work/diff" > "$work/changes.raw" || work_fault "reporting the changes failed"
  read -r ra rr pc ca cr < "$work/tally" || work_fault "$work/tally: missing"
  if [ "$is_sets" = 1 ]; then
    summary="$2: drift (members: $ra added, $rr removed; sets: $pc changed, $ca added, $cr removed)"
  else
    summary="$2: drift (rules: $ra added, $rr removed; policies: $pc changed; chains: $ca added, $cr removed)"
  fi
  echo "$summary" >> "$work/report"
  by_place "$work/changes.raw" >> "$work/report" || work_fault "sorting the changes failed"
  echo "$summary" >> "$work/log"
  echo "$1 drift $6 $ra $rr $pc $ca $cr $5" >> "$work/results"
}

# The metrics, from the results on stdin, into the textfile directory: only one that
# belongs to the user running the check and that nobody else may write to (a directory
# others can write is one where they could swap the file for a symlink between our
# steps). Refused, or failing, it is a warning: the verdict and its exit code stand.
write_metrics() { # < results
  [ -n "$textfile_dir" ] && [ -d "$textfile_dir" ] || return 0
  # The packet counters of each family read (check-counters.awk).
  cat "$work"/v4.counters "$work"/v6.counters > "$work/counters" 2>/dev/null || :
  if ! metrics_why=$(textfile_write "$textfile_dir" 2>&1); then
    say "warning: metrics not written: ${metrics_why:-could not write $textfile_dir/$GFW_METRICS}"
  fi
}

# In a subshell, from inside the directory (cd -P: a path swapped after the checks cannot
# move us): a file made by mktemp there, written, chmod only once seen to be a regular
# file of ours, and renamed over the final name (mv -T: a symlink there is replaced, never
# followed, and never taken for a directory to move into).
textfile_write() ( # dir < results
  cd -P -- "$1" 2>/dev/null || { echo "cannot enter $1"; exit 1; }
  [ -O . ] || { echo "$1 does not belong to $(id -un 2>/dev/null || id -u) (the user running the check)"; exit 1; }
  # shellcheck disable=SC2012 # ls -ld of one directory: its mode string, nothing else
  case $(ls -ld . 2>/dev/null) in
    ?????w*|????????w*) echo "$1 may be written by group or others (chmod go-w $1)"; exit 1 ;;
    d*) ;;
    *) echo "cannot read the mode of $1"; exit 1 ;;
  esac
  tmp=$(mktemp ./.iptables-check.XXXXXX 2>/dev/null) || { echo "cannot create a file in $1"; exit 1; }
  if awk -v now="$(date +%s)" -v counters="$work/counters" "$GFW_METRICS_AWK" > "$tmp" &&
    [ -f "$tmp" ] && [ ! -L "$tmp" ] && [ -O "$tmp" ] && chmod 0644 "$tmp" &&
    mv -fT -- "$tmp" "$GFW_METRICS"; then
    exit 0
  fi
  rm -f -- "$tmp"
  echo "could not write $1/$GFW_METRICS"
  exit 1
)
