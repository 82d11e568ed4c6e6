# shellcheck shell=sh
# How iptables-init ends: its messages, its own exits, and gfw_on_exit (the EXIT trap),
# which turns any other way out into exit 3 and removes the work directory.
# shellcheck disable=SC2154 # work: init-cli.sh; gfw_capturing, gfw_frag, gfw_tmp, gfw_records, GFW_DIRECT_MSG: init-capture.sh

say() { echo "iptables-init: $*" >&2; }
# Every deliberate exit goes through gfw_exit: any other way out (a command failing under
# set -e, a redirection that cannot be opened) is the system's failure, exit 3 (see gfw_on_exit).
gfw_exiting=0
gfw_exit() { gfw_exiting=1; exit "$1"; }
die() { code=$1; shift; say "$@"; gfw_exit "$code"; }

gfw_on_exit() {
  gfw_rc=$?
  if [ "$gfw_capturing" = 1 ]; then
    # A fragment sourced in place ended this shell: a real iptables call refused by the
    # guard on PATH, records that could not be written (exit 3), or an exit in a fragment.
    gfw_capturing=0
    if [ -s "${GFW_DIRECT_MARK:-/nonexistent}" ]; then
      say "$gfw_frag: $GFW_DIRECT_MSG; nothing was changed"
      gfw_rc=2
    elif ! gfw_records_writable; then
      say "cannot write the capture's records to $gfw_records (its file system is full, or the file is gone); nothing was changed"
      gfw_rc=3
    else
      say "$gfw_frag: ended the capture early (exit in a fragment); nothing was changed"
      gfw_rc=2
    fi
  elif [ "$gfw_rc" != 0 ] && [ "$gfw_exiting" = 0 ]; then
    # Not one of our own exits: a command failed under set -e (a full disk, a missing
    # directory, EPERM). That is never "the ruleset is wrong".
    say "failed unexpectedly (exit $gfw_rc), a system failure: see the message above"
    if [ -n "${work:-}" ] && [ -d "$work" ] && [ "$(stat -f -c %a -- "$work" 2>/dev/null || echo 1)" -le 0 ]; then
      say "the file system of $work is full"
    fi
    gfw_rc=3
  fi
  # A capture (the process group timeout made) or a validation still running is of no
  # use any more.
  [ -z "${gfw_capture_pid:-}" ] || kill -s KILL -- "-$gfw_capture_pid" 2>/dev/null || true
  [ -z "${gfw_validator:-}" ] || kill "$gfw_validator" 2>/dev/null || true
  [ -z "$gfw_tmp" ] || rm -rf "$gfw_tmp"
  exit "$gfw_rc"
}
