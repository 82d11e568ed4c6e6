# shellcheck shell=sh
# shellcheck disable=SC2154 # GFW_NORMALISE_AWK: chain-filter.awk and check-normalise.awk, inlined

tab='	'

normalise() { # name file|- meta > keyed lines, in the order they came
  awk -v ignore="$GFW_IGNORE" -v owned="$GFW_OWNED" -v ifaces="$GFW_IGNORE_IFACES" -v builtins="$GFW_BUILTIN_CHAINS" -v drules="$GFW_IGNORE_RULES" \
    -v name="$1" -v meta="$3" \
    "$GFW_NORMALISE_AWK" "$2"
}

by_place() { # keyed lines > the lines, grouped by table and chain, rules in their order
  sort -t "$tab" -k1,1 -k2,2 -k3,3n "$1" | cut -f4-
}
