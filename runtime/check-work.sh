# shellcheck shell=sh
# iptables-check's work directory (in $TMPDIR) and what happens when the system fails it:
# a full or broken disk, a step that dies. Every such failure is "cannot check" (exit 2),
# never drift: `fault` ends the run with no verdict, and the EXIT trap turns any exit the
# flow did not choose (set -e) into one.
# shellcheck disable=SC2154 # work, readers, quiet: check-main.sh; fams, sets: check-cli.sh
# shellcheck disable=SC2034 # planned: read by on_exit

work_root=${TMPDIR:-/tmp}
planned=0

# Make the work directory (into `work`), or say why not and exit 2.
work_create() {
  if work=$(mktemp -d "$work_root/iptables-check.XXXXXX" 2>&1) && [ -d "$work" ]; then return 0; fi
  why=${work##*: }
  work=
  fault "cannot create a temporary directory in $work_root ($why)"
}

# Can the work directory still take a write? When not, `probe_why` says why (the system's
# words: "No space left on device"). Run only on a failure path: it writes 4 KiB.
work_writable() {
  probe_why=
  if probe_out=$(head -c 4096 /dev/zero 2>&1 > "$work/.probe"); then
    rm -f "$work/.probe"
    return 0
  fi
  rm -f "$work/.probe" 2>/dev/null || :
  probe_why=${probe_out##*: }
  [ -n "$probe_why" ] || probe_why="a write failed"
  return 1
}

# A step of ours failed (named in $1, when known): blame the disk when it is the disk.
work_fault() { # [what failed]
  if ! work_writable; then fault "cannot write to $work_root ($probe_why)"; fi
  fault "${1:-a step of iptables-check failed}"
}

# End the run with no verdict: the message on stderr and in the log, the metrics saying
# the check could not be done, exit 2.
fault() { # message
  planned=1
  say "cannot check: $1"
  logger -t iptables-check -p daemon.err -- "cannot check: $1" 2>/dev/null || :
  echo "all error" | write_metrics
  exit 2
}

# The EXIT trap: stop the readers, and make an exit the flow did not choose a fault.
# shellcheck disable=SC2317 # reached through the trap only
on_exit() {
  rc=$?
  for p in $readers; do kill "$p" 2>/dev/null || :; done
  readers=
  if [ "$planned" = 0 ] && [ -n "$work" ]; then
    # (in a subshell, which has no EXIT trap: fault's own exit ends only that)
    ( work_fault "iptables-check stopped unexpectedly (exit $rc)" ) || :
    rc=2
  fi
  [ -z "$work" ] || rm -rf "$work"
  exit "$rc"
}

# Exit with a verdict the flow chose.
finish() { # code
  planned=1
  exit "$1"
}
