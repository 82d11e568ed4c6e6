# shellcheck shell=sh
# shellcheck disable=SC2154 # work: init-main.sh; GFW_ASSEMBLE_AWK: assemble.awk, inlined

# Assemble one iptables-restore --noflush payload for a family from the records and a
# snapshot of the live ruleset (iptables-save; empty in the scratch namespace): policies,
# our chains (declared, hence flushed), our rules, then the fix-ups that depend on the
# live state: a missing jump is inserted, a duplicate removed, one that must be first
# (GFW_FIRST_JUMPS) moved back to the top, a jump into our chains that this run does not
# make removed, and GFW- chains an earlier run created that this one does not are
# unhooked and deleted.
gfw_assemble() { # family records snapshot
  awk -v fam="$1" -v first="$GFW_FIRST_JUMPS" "$GFW_ASSEMBLE_AWK" "$3" "$2"
}

# Error lines from iptables-restore name a payload line; show it and where it came from.
gfw_explain() { # payload stderr-file
  cat "$2" >&2
  n=$(sed -n 's/.*[Ee]rror occurred at line: *\([0-9][0-9]*\).*/\1/p; s/.*: line \([0-9][0-9]*\) failed.*/\1/p' "$2" | head -n 1)
  [ -n "$n" ] || return 0
  line=$(sed -n "${n}p" "$1")
  if [ "$line" = COMMIT ]; then
    # The kernel refused the table as a whole; iptables-restore names only its COMMIT.
    table=$(head -n "$n" "$1" | grep '^[*]' | tail -n 1 | cut -c2-)
    from=$(head -n "$n" "$1" | awk '/^[*]/ { f = "base"; split("", seen); seen["base"] = 1 }
      /^# from / && !($3 in seen) { seen[$3] = 1; f = f ", " $3 } END { print f }')
    say "the kernel refused the $table table as a whole (iptables-restore names only its COMMIT, line $n); its rules come from: $from"
    return 0
  fi
  from=$(head -n "$n" "$1" | grep '^# from ' | tail -n 1 | cut -c8-)
  say "the failing rule (line $n, from ${from:-base}): $line"
}

# Load the payloads against an empty ruleset. Run inside a scratch network namespace,
# this is the kernel's verdict on the whole ruleset (iptables-restore --test is not: it
# misses jumps to missing chains and targets in the wrong table). The scratch namespace
# is empty and ours alone, so a plain restore does it: --noflush, which the live apply
# needs for other tools' chains, costs iptables-nft a chain lookup per rule.
gfw_load_into_empty() { # records-file [iptables-restore options]
  recs=$1
  shift
  : > "$work/empty"
  for fam in $(gfw_families); do
    gfw_assemble "$fam" "$recs" "$work/empty" > "$work/check.v$fam"
    if ! gfw_restore "$fam" "$@" < "$work/check.v$fam" 2> "$work/check.err"; then
      gfw_explain "$work/check.v$fam" "$work/check.err"
      return 1
    fi
  done
}
