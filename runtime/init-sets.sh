# shellcheck shell=sh
# shellcheck disable=SC2154 # here, work: init-cli.sh, init-main.sh; GFW_SETS, GFW_HAS_SETS: the settings; GFW_SETS_PLAN_AWK: sets-plan.awk, inlined

# ipsets (hash:net), members in ipsets.d/NAME.txt. A set state is a file of `ipset save`
# lines made comparable (gfw_sets_normal): the sets gen-fw wants (gfw_sets_want), the live
# ones, a snapshot's; gfw_commit (init-commit.sh) makes the live sets what is wanted,
# together with the rules that name them.
gfw_has_sets() { [ "$GFW_HAS_SETS" = 1 ]; }

# gen-fw's sets in `ipset save` lines (gfw-*, and gfw.*: the temporary sets of a commit),
# made comparable: without what the kernel picks (hashsize, bucketsize, initval), members
# as ipset prints them (no /32 or /128, IPv6 in lower case), sorted, each line once.
gfw_sets_normal() {
  awk '$2 !~ /^gfw[-.]/ { next }
    $1 == "create" {
      d = "create " $2
      for (i = 3; i <= NF; i++) { if ($i == "hashsize" || $i == "bucketsize" || $i == "initval") { i++; continue }; d = d " " $i }
      print d; next
    }
    $1 == "add" {
      m = $3
      if (m ~ /:/) { m = tolower(m); sub(/\/128$/, "", m) } else sub(/\/32$/, "", m)
      d = "add " $2 " " m
      for (i = 4; i <= NF; i++) d = d " " $i
      print d
    }' | sort -u
}

# The sets this ruleset uses, with their members.
gfw_sets_want() {
  printf '%s\n' "$GFW_SETS" | while read -r name fam max; do
    [ -n "$name" ] || continue
    echo "create $name hash:net family $fam maxelem $max"
    awk -v s="$name" 'NF && $1 !~ /^#/ { print "add " s " " $1 }' "$here/ipsets.d/$name.txt"
  done | gfw_sets_normal
}

# The live sets of gen-fw; fails when they cannot be read (no ipset, no kernel support).
gfw_sets_live() {
  command -v ipset >/dev/null 2>&1 || return 1
  ipset save > "$work/ipset.save" 2>/dev/null || return 1
  gfw_sets_normal < "$work/ipset.save"
}

# The ipset commands from the sets wanted to the live ones: prefix.stage, .map, .final and
# .drop (see sets-plan.awk). Temporary names are gfw.TIME.PID.N: unique to this commit.
gfw_sets_plan() { # wanted live prefix
  awk -v alt="gfw.$(date +%s).$$." -v out="$3" "$GFW_SETS_PLAN_AWK" "$1" "$2"
}

# In the scratch namespace (nothing is live there): the sets, created and filled.
gfw_load_sets() {
  gfw_has_sets || return 0
  command -v ipset >/dev/null 2>&1 || die 3 "this ruleset uses ipsets, but the ipset command is missing"
  gfw_sets_want > "$work/scratch.sets"
  : > "$work/scratch.live"
  gfw_sets_plan "$work/scratch.sets" "$work/scratch.live" "$work/scratch"
  ipset restore < "$work/scratch.stage" 2> "$work/scratch.err" || { cat "$work/scratch.err" >&2; return 1; }
}

# gen-fw's sets as `ipset save` writes them, made byte-stable (for --save): no random
# initval, creates first, then members sorted. Never a commit's temporary gfw.* sets.
gfw_saved_sets() {
  ipset save 2>/dev/null | awk '$2 ~ /^gfw-/' |
    sed 's/ initval 0x[0-9a-fA-F]*//' | sort -k1,1r -k2,2 -k3,3
}
