# shellcheck shell=sh
# How iptables-init ends: its messages, its own exits, and gfw_on_exit (the EXIT trap),
# which turns any other way out into exit 3 and removes the work directory.
# shellcheck disable=SC2154 # gfw_capturing, gfw_frag, gfw_tmp: init-capture.sh

say() { echo "iptables-init: $*" >&2; }
# Every deliberate exit goes through gfw_exit: any other way out (a command failing under
# set -e, a redirection that cannot be opened) is the system's failure, exit 3 (see gfw_on_exit).
gfw_exiting=0
gfw_exit() { gfw_exiting=1; exit "$1"; }
die() { code=$1; shift; say "$@"; gfw_exit "$code"; }

gfw_on_exit() {
  gfw_rc=$?
  if [ "$gfw_capturing" = 1 ]; then
    gfw_capturing=0
    say "$gfw_frag: ended the capture early (exit in a fragment); nothing was changed"
    gfw_rc=2
  elif [ "$gfw_rc" != 0 ] && [ "$gfw_exiting" = 0 ]; then
    # Not one of our own exits: a command failed under set -e (a full disk, a missing
    # directory, EPERM). That is never "the ruleset is wrong".
    say "failed unexpectedly (exit $gfw_rc), a system failure: see the message above"
    gfw_rc=3
  fi
  # A validation still running in its scratch namespace is of no use any more.
  [ -z "${gfw_validator:-}" ] || kill "$gfw_validator" 2>/dev/null || true
  [ -z "$gfw_tmp" ] || rm -rf "$gfw_tmp"
  exit "$gfw_rc"
}
