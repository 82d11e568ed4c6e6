# shellcheck shell=sh
# shellcheck disable=SC2154 # here, work: init-cli.sh, init-main.sh; GFW_SETS, GFW_HAS_SETS: the settings

# ipsets (hash:net), members in ipsets.d/NAME.txt. Each is filled as a temporary set and
# swapped in with `ipset swap`, so a set is never seen half-loaded. The temporary sets
# are gfw-tmp.N: no set of the user's (gfw-NAME-vN, NAME without a dot) can be called so.
gfw_has_sets() { [ "$GFW_HAS_SETS" = 1 ]; }

gfw_sets_payload() {
  existing=$(ipset list -n 2>/dev/null || true)
  for tmp in $(printf '%s\n' "$existing" | grep '^gfw-tmp\.' || true); do echo "destroy $tmp"; done
  i=0
  printf '%s\n' "$GFW_SETS" | while read -r name fam max; do
    [ -n "$name" ] || continue
    i=$((i + 1))
    if ! printf '%s\n' "$existing" | grep -qx "$name"; then echo "create $name hash:net family $fam maxelem $max"; fi
    echo "create gfw-tmp.$i hash:net family $fam maxelem $max"
    awk -v s="gfw-tmp.$i" 'NF && $1 !~ /^#/ { print "add " s " " $1 }' "$here/ipsets.d/$name.txt"
    echo "swap gfw-tmp.$i $name"
    echo "destroy gfw-tmp.$i"
  done
}

gfw_load_sets() {
  gfw_has_sets || return 0
  command -v ipset >/dev/null 2>&1 || die 3 "this ruleset uses ipsets, but the ipset command is missing"
  gfw_sets_payload > "$work/sets.restore"
  ipset restore < "$work/sets.restore" 2> "$work/sets.err" || { cat "$work/sets.err" >&2; return 1; }
}

# gen-fw's sets as `ipset save` writes them, made byte-stable: no random initval, creates
# first, then members sorted.
gfw_saved_sets() {
  ipset save 2>/dev/null | awk '$2 ~ /^gfw-/ && $2 !~ /^gfw-tmp\./' |
    sed 's/ initval 0x[0-9a-fA-F]*//' | sort -k1,1r -k2,2 -k3,3
}
