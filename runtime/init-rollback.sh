# shellcheck shell=sh
# shellcheck disable=SC2154 # GFW_ROLLBACK_AWK: rollback-payload.awk, inlined; GFW_BUILTIN_CHAINS: the settings

# Put gen-fw's part of a snapshot back, and nothing else: the directory holds the snapshot
# (snap.vN, sets.snap) and the payload(s) applied since (payload.vN). gen-fw's chains,
# policies, jumps and DOCKER-USER rules go back to the snapshot's (rollback-payload.awk),
# its gfw-* sets too; every other chain and rule stays as it is now, Docker's, Kubernetes'
# and fail2ban's changes of the last seconds included. The same commit as an apply's
# (gfw_commit), so a rollback changes rules and set members together.
gfw_rollback_from() { # dir
  d=$1
  rfams=
  for fam in 4 6; do
    [ -f "$d/snap.v$fam" ] || continue
    if ! gfw_save "$fam" > "$d/now.v$fam" 2> "$d/now.err"; then
      say "could not put back the previous firewall (kept in $d): cannot read the live IPv$fam ruleset: $(cat "$d/now.err")"
      return 1
    fi
    touch "$d/payload.v$fam"
    awk -v builtins="$GFW_BUILTIN_CHAINS" "$GFW_ROLLBACK_AWK" "$d/snap.v$fam" "$d/now.v$fam" "$d/payload.v$fam" > "$d/rollback.v$fam"
    rfams="$rfams $fam"
  done
  if [ -f "$d/sets.snap" ]; then cp "$d/sets.snap" "$d/rollback.sets"; else : > "$d/rollback.sets"; fi
  gfw_commit "$d" rollback "$rfams" || { say "could not put back the previous firewall: $gfw_commit_step failed (kept in $d)"; return 1; }
}
