# shellcheck shell=sh
# shellcheck disable=SC2154 # GFW_NORMALISE_AWK: chain-filter.awk and check-normalise.awk, inlined

tab='	'

# With a counters file (and the ruleset's name), the live state's packet counters of
# gen-fw's drop, reject and audit rules are summed there (check-counters.awk).
normalise() { # name file|- meta [counters ruleset] > keyed lines, in the order they came
  awk -v ignore="$GFW_IGNORE" -v owned="$GFW_OWNED" -v ifaces="$GFW_IGNORE_IFACES" -v builtins="$GFW_BUILTIN_CHAINS" -v drules="$GFW_IGNORE_RULES" \
    -v counted="$GFW_COUNTED" -v drop_targets="$GFW_DROP_TARGETS" -v audit_chain="$GFW_AUDIT_CHAIN" -v audit_targets="$GFW_AUDIT_TARGETS" \
    -v service_chains="$GFW_SERVICE_CHAINS" -v counters="${4:-}" -v ruleset="${5:-}" \
    -v name="$1" -v meta="$3" \
    "$GFW_NORMALISE_AWK" "$2"
}

by_place() { # keyed lines > the lines, grouped by table and chain, rules in their order
  # (sorted into a file first: in a pipe, a sort that failed would read as no lines)
  sort -t "$tab" -k1,1 -k2,2 -k3,3n -o "$1.sorted" "$1" && cut -f4- "$1.sorted"
}

# Does a normalised saved state hold gen-fw's chains? One without them was never written by
# iptables-init --save (an empty file, a bare ruleset): comparing with it proves nothing.
has_gfw_chains() { # normalised
  grep -q "^${GFW_MARK_CHAIN%%:*}$tab${GFW_MARK_CHAIN#*:}${tab}0$tab" "$1" && return 0
  [ $? = 1 ] || work_fault "reading $1 failed"
  return 1
}
