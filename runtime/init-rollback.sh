# shellcheck shell=sh
# shellcheck disable=SC2154 # GFW_ROLLBACK_AWK: rollback-tables.awk, inlined; GFW_BUILTIN_CHAINS: the settings

# Put a snapshot back (snap.vN and payload.vN in a directory): the tables the snapshot had
# are restored whole; the tables only the payload had are emptied; sets are refilled.
gfw_rollback_from() { # dir
  d=$1
  if [ -s "$d/sets.snap" ]; then
    { grep '^create' "$d/sets.snap"; awk '$1 == "create" { print "flush " $2 }' "$d/sets.snap"; grep '^add' "$d/sets.snap"; } |
      ipset restore -exist || say "could not put back the ipsets (kept in $d)"
  fi
  for snap in "$d"/snap.v4 "$d"/snap.v6; do
    [ -f "$snap" ] || continue
    fam=${snap##*.v}
    awk -v builtins="$GFW_BUILTIN_CHAINS" "$GFW_ROLLBACK_AWK" "$snap" "$d/payload.v$fam" > "$d/rollback.v$fam"
    gfw_restore "$fam" -w < "$d/rollback.v$fam" || say "could not put back the IPv$fam snapshot (kept in $d)"
  done
}
