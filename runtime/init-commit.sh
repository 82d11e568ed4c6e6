# shellcheck shell=sh
# shellcheck disable=SC2154 # GFW_COMMIT_AWK: commit-sets.awk, inlined
# shellcheck disable=SC2034 # gfw_commit_step: read by init-main.sh and init-rollback.sh

# The one change: a ruleset and its sets made live together, for an apply and for a
# rollback alike. Rules name sets by their own names (gfw-NAME-v4); a set whose members
# must change is not refilled under the rules that use it. Instead:
#   1. stage: the sets that are missing are created and filled; a set that differs is
#      filled under a temporary name (gfw.TIME.PID.N); nothing live names either yet;
#   2. commit: one iptables-restore --noflush per family, the new rules naming those
#      temporary sets: rules and members change in the same atomic table commit;
#   3. settle: each changed set refilled under its own name (ipset swap from a second
#      temporary set; no rule names it now), and the chains that name it committed again
#      naming it; then the temporary sets, and the sets no longer wanted, are destroyed.
# Killed at any point, each family has its old rules with their old members, or its new
# rules with their new members; what is left over (unused sets, temporary ones) the next
# commit destroys. gfw_commit_step says which step failed.
gfw_commit() { # dir name "families": dir/name.vN (payloads), dir/name.sets (the sets wanted)
  c=$1/$2
  gfw_commit_step="loading the ipsets"
  if ! gfw_sets_live > "$c.live"; then
    : > "$c.live"
    if [ -s "$c.sets" ]; then say "cannot read the live ipsets (is the ipset command installed?)"; return 1; fi
  fi
  gfw_sets_plan "$c.sets" "$c.live" "$c" || return 1
  if [ -s "$c.stage" ] && ! ipset restore < "$c.stage" 2> "$c.err"; then cat "$c.err" >&2; return 1; fi
  for fam in $3; do
    gfw_commit_step="the live apply (IPv$fam)"
    awk -v phase=1 "$GFW_COMMIT_AWK" "$c.map" "$c.v$fam" > "$c.commit.v$fam" || return 1
    if ! gfw_restore "$fam" -w --noflush < "$c.commit.v$fam" 2> "$c.err"; then
      gfw_explain "$c.commit.v$fam" "$c.err"
      return 1
    fi
  done
  if [ -s "$c.map" ]; then
    gfw_commit_step="settling the ipsets"
    if ! ipset restore < "$c.final" 2> "$c.err"; then cat "$c.err" >&2; return 1; fi
    for fam in $3; do
      awk -v phase=2 "$GFW_COMMIT_AWK" "$c.map" "$c.v$fam" > "$c.settle.v$fam" || return 1
      [ -s "$c.settle.v$fam" ] || continue
      if ! gfw_restore "$fam" -w --noflush < "$c.settle.v$fam" 2> "$c.err"; then cat "$c.err" >&2; return 1; fi
    done
  fi
  # Named by no rule of ours now; one that another tool's rule names stays.
  for s in $(cut -d' ' -f2 "$c.map") $(cat "$c.drop"); do ipset destroy "$s" 2>/dev/null || true; done
}

# What a killed apply leaves besides sets (which the next commit drops): its work directory.
# Each apply writes its pid there once it holds the lock; a directory whose process is gone
# is removed (a dry run's has no pid file, and holds no lock).
gfw_clean_killed() { # run-directory
  for pidf in "$1"/work.*/pid; do
    [ -f "$pidf" ] || continue
    read -r p < "$pidf" || continue
    [ -d "/proc/$p" ] || rm -rf "${pidf%/pid}"
  done
}
