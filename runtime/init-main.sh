# shellcheck shell=sh
# iptables-init's flow: the modes, then the apply. The functions come from the other
# init-*.sh files, the settings (gfw_base, GFW_SETS, ...) from the generated part above.
# shellcheck disable=SC2154 # mode, save, try, work, token, self, here, conf_d: init-cli.sh
# shellcheck disable=SC2034 # gfw_in_scratch, gfw_tmp: read by init-capture.sh and init-exit.sh

# The caller's PATH first: that is how a host picks iptables-legacy or iptables-nft.
PATH=${PATH:+$PATH:}/usr/sbin:/usr/bin:/sbin:/bin
LC_ALL=C
export PATH LC_ALL
umask 077

gfw_locate "$0"
gfw_parse_args "$@"
trap gfw_on_exit EXIT

if [ "$mode" = capture-only ] || [ "$mode" = capture-live ]; then
  # The capture's child process (see gfw_capture_bounded): --capture-only in a fresh
  # network namespace, where a stray real iptables call only touches this namespace.
  [ "$mode" = capture-live ] || gfw_in_scratch=1
  gfw_capture_child
  gfw_exit 0
fi

if [ "$mode" = scratch-check ]; then
  # A fresh network namespace: the sets, then the captured records, against nothing.
  gfw_load_sets || die 2 "the ipsets were refused by the kernel; nothing was changed"
  gfw_load_into_empty "$work/records" || die 2 "the ruleset was refused by the kernel; nothing was changed"
  gfw_remember_validated "$(cat "$work/key")"
  exit 0
fi

# One apply at a time per network namespace; a pending --try keeps its snapshot on disk.
nsid=$(stat -L -c %i /proc/self/ns/net)
lock=/run/gen-fw.$nsid.lock
trydir=/var/lib/gen-fw/try-$nsid
gfw_lock() {
  exec 9> "$lock"
  flock -w 60 9 || die 3 "another iptables-init holds $lock"
}

if [ "$mode" = confirm ]; then
  gfw_lock
  [ -f "$trydir/pending" ] || die 1 "nothing to confirm (no --try is pending; it may have been rolled back already)"
  rm -f "$trydir/pending"
  if [ -f "$trydir/save" ]; then gfw_write_saved; fi
  rm -rf "$trydir"
  echo "iptables-init: confirmed; the new ruleset stays"
  exit 0
fi

if [ "$mode" = rollback-after ]; then
  # The --try timer, in its own session: it outlives the shell and the SSH connection.
  # It waits for the lock as long as it takes: it must never give up silently.
  sleep "$try"
  exec 9> "$lock"
  flock 9
  if [ "$(cat "$work/pending" 2>/dev/null)" = "$token" ]; then
    if gfw_rollback_from "$work"; then
      rm -rf "$work"
      logger -t iptables-init -p auth.warning "--try was not confirmed within ${try}s: the previous firewall was put back" 2>/dev/null || true
    else
      logger -t iptables-init -p auth.err "--try was not confirmed within ${try}s, and putting the previous firewall back failed (kept in $work)" 2>/dev/null || true
    fi
  fi
  exit 0
fi

# ---------------------------------------------------------------------------------
# Work files live under /run/gen-fw (root's, 0700): boot empties /tmp while
# netfilter-persistent runs (systemd-tmpfiles-setup is not ordered against it), never /run.
# A dry run as another user keeps them in TMPDIR.
if [ "$(id -u)" = 0 ]; then
  gfw_run=/run/gen-fw
  mkdir -p "$gfw_run" 2>/dev/null || die 3 "cannot create $gfw_run"
  if [ ! -d "$gfw_run" ] || [ -L "$gfw_run" ] || [ "$(stat -c %u "$gfw_run")" != 0 ]; then
    die 3 "$gfw_run is not a directory of root's"
  fi
  chmod 0700 "$gfw_run" || die 3 "cannot make $gfw_run private"
else
  gfw_run=${TMPDIR:-/tmp}
fi
work=$(mktemp -d "$gfw_run/work.XXXXXX") || die 3 "cannot create a work directory in $gfw_run"
gfw_tmp=$work
trap 'gfw_exit 130' INT TERM HUP

if [ "$mode" = dry-run ]; then
  # Fragments are code: as root, run them where a stray real iptables call is harmless.
  if [ "$(id -u)" = 0 ] && unshare --net true 2>/dev/null; then
    gfw_capture_bounded scratch
  else
    gfw_capture_bounded live
  fi
  for fam in $(gfw_families); do
    if [ "$(id -u)" != 0 ] || ! gfw_save "$fam" > "$work/snap.v$fam" 2>/dev/null; then : > "$work/snap.v$fam"; fi
    echo "# ---- IPv$fam: iptables-restore --noflush payload"
    gfw_assemble "$fam" "$work/records" "$work/snap.v$fam"
  done
  exit 0
fi

[ "$(id -u)" = 0 ] || die 3 "must run as root (try --dry-run to see the rules)"

gfw_lock
gfw_clean_killed "$gfw_run"
{ echo "$$" > "$work/pid"; } 2>/dev/null || die 3 "cannot write $work/pid: a system failure (is the file system of $gfw_run full?); nothing was changed"

# The validation runs in its own scratch namespace while the live snapshot is taken and
# the payloads assembled (both only read); nothing live changes before it has passed.
gfw_validator=
if unshare --net true 2>/dev/null; then
  gfw_capture_bounded scratch
  gfw_validation_key > "$work/key"
  if grep -qxF -f "$work/key" "$GFW_VALIDATED" 2>/dev/null; then
    : > "$work/validated-before"
  else
    # Not holding the lock: should this run be killed, a restore still finishing in the
    # scratch namespace must not keep the next run waiting.
    unshare --net -- sh "$self" --scratch-check "$work" 9>&- &
    gfw_validator=$!
  fi
else
  say "warning: cannot create a scratch network namespace; validating with iptables-restore --test only (and running no fragment: only the pre-built records)"
  gfw_capture_bounded live
  gfw_load_into_empty "$work/records" --noflush --test || die 2 "the ruleset was refused; nothing was changed"
fi

fams=$(gfw_families)
snap_failed=
for fam in $fams; do
  if ! gfw_save "$fam" > "$work/snap.v$fam" 2>"$work/save.err"; then
    snap_failed="cannot read the live IPv$fam ruleset: $(cat "$work/save.err")"
    break
  fi
  gfw_assemble "$fam" "$work/records" "$work/snap.v$fam" > "$work/payload.v$fam"
done
# The validation's verdict first: a wrong ruleset is 2 whatever else went wrong; anything
# but 0 and 2 from it (no namespace, killed) is the system's failure.
if [ -n "$gfw_validator" ]; then
  gfw_rc=0
  wait "$gfw_validator" || gfw_rc=$?
  gfw_validator=
  case $gfw_rc in
    0) ;;
    2) gfw_exit 2 ;;
    *) die 3 "the validation in a scratch namespace failed (exit $gfw_rc); nothing was changed" ;;
  esac
fi
[ -z "$snap_failed" ] || die 3 "$snap_failed"

# gen-fw's sets as they are (for a rollback), and as this ruleset wants them.
gfw_sets_live > "$work/sets.snap" || : > "$work/sets.snap"
gfw_sets_want > "$work/payload.sets"

gfw_rollback() { gfw_rollback_from "$work"; }

# A --try still pending: a plain apply replaces it (its timer then finds its token gone and
# does nothing); a new --try keeps its snapshot, so that the rollback goes back to the
# last state somebody confirmed.
keep_try_snapshot=0
if [ -f "$trydir/pending" ]; then
  if [ "$try" = 0 ]; then
    say "note: this replaces a pending --try (which will not roll back now)"
    rm -rf "$trydir"
  else
    keep_try_snapshot=1
  fi
fi

# From the first live change until the apply (and the --try timer) are complete, a
# hang-up or Ctrl-C must not leave half a ruleset behind.
trap '' HUP INT TERM

if [ "$try" != 0 ]; then
  # Keep the snapshot on disk and arm a timer that does not belong to this terminal,
  # before anything live changes.
  if [ "$keep_try_snapshot" = 1 ]; then
    for fam in $fams; do cat "$work/payload.v$fam" >> "$trydir/payload.v$fam"; done
  else
    rm -rf "$trydir"
    mkdir -p "$trydir"
    cp "$work"/snap.v* "$work"/payload.v* "$trydir"/
    [ ! -f "$work/sets.snap" ] || cp "$work/sets.snap" "$trydir"/
  fi
  rm -f "$trydir/save"
  [ "$save" = 0 ] || : > "$trydir/save"
  token="$(date +%s)-$$"
  echo "$token" > "$trydir/pending"
  setsid sh "$self" --rollback-after "$try" "$trydir" "$token" < /dev/null > /dev/null 2>&1 9>&- &
  gfw_rollback() { gfw_rollback_from "$trydir" && rm -rf "$trydir"; }
  save=0
fi

# The rules and the sets, as one change (init-commit.sh); if it fails, gen-fw's part of the
# snapshot goes back the same way (init-rollback.sh).
if ! gfw_commit "$work" payload "$fams"; then
  gfw_rollback || die 3 "$gfw_commit_step failed, and so did putting the previous firewall back (see above)"
  die 3 "$gfw_commit_step failed; the previous firewall was put back"
fi

trap 'gfw_exit 130' INT TERM HUP

# conntrack_limits (init-sysctl.sh): now that the rules have loaded nf_conntrack. Not
# part of the ruleset: a rollback leaves them as they are.
gfw_apply_sysctls

if [ "$save" = 1 ]; then
  gfw_write_saved
fi

rules=$(grep -c '^R ' "$work/records" || true)
set -- "$conf_d"/*.sh
frags=$#
[ -e "$1" ] || frags=0
families=
for fam in $fams; do families=${families:+$families+}IPv$fam; done
saved=
[ "$save" = 0 ] || saved="; saved to $GFW_STATE_DIR"
how=
[ ! -f "$work/validated-before" ] || how="; the kernel accepted this ruleset in a scratch namespace before"
echo "iptables-init: applied $rules rules (base and $frags fragments) for $families$saved$how"

if [ "$try" != 0 ]; then
  if [ -t 0 ] && [ -t 2 ]; then
    # Not holding the lock while we wait: the timer and --confirm from another shell need it.
    exec 9>&-
    printf 'Keep the new rules? They are rolled back in %s seconds unless you answer y: ' "$try" >&2
    answer=
    read -r answer || true
    case $answer in
      y|Y|yes|YES) rm -rf "$work"; exec sh "$self" --confirm ;;
      *)
        gfw_lock
        [ "$(cat "$trydir/pending" 2>/dev/null)" = "$token" ] || die 1 "the --try was already rolled back or replaced"
        gfw_rollback_from "$trydir"; rm -rf "$trydir"; die 1 "rolled back" ;;
    esac
  fi
  say "rolled back in $try seconds unless confirmed with: $self --confirm"
fi
