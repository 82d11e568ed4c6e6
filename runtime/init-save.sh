# shellcheck shell=sh
# shellcheck disable=SC2154 # GFW_SAVE_AWK: chain-filter.awk and save-filter.awk, inlined

GFW_STATE_DIR=/etc/iptables

# The saved state: iptables-save without comment lines and counters, and without the
# chains of other tools (Docker, Kubernetes, ...) or the jumps into them, nor the rules
# dockerd puts straight into a built-in chain (-i/-o, or ! -i/! -o, one of its bridges).
# Docker writes those again when it starts; our own chains keep their -i docker0 rules.
gfw_filter_saved() {
  awk -v ignore="$GFW_IGNORE" -v owned="$GFW_OWNED" -v ifaces="$GFW_IGNORE_IFACES" -v builtins="$GFW_BUILTIN_CHAINS" -v drules="$GFW_IGNORE_RULES" "$GFW_SAVE_AWK"
}

# Called once the new ruleset is live: a failure here must say so (exit 3, naming the path).
gfw_save_failed() { die 3 "the new ruleset is live; saving failed: $*"; }

gfw_write_saved() {
  mkdir -p "$GFW_STATE_DIR" || gfw_save_failed "cannot create $GFW_STATE_DIR"
  if command -v ipset >/dev/null 2>&1; then
    gfw_saved_sets > "$GFW_STATE_DIR/.ipsets.tmp" || gfw_save_failed "cannot write $GFW_STATE_DIR/.ipsets.tmp"
    if [ -s "$GFW_STATE_DIR/.ipsets.tmp" ]; then
      mv -f "$GFW_STATE_DIR/.ipsets.tmp" "$GFW_STATE_DIR/ipsets" || gfw_save_failed "cannot replace $GFW_STATE_DIR/ipsets"
    else
      rm -f "$GFW_STATE_DIR/.ipsets.tmp"
    fi
  fi
  for fam in $(gfw_families); do
    gfw_save "$fam" > "$GFW_STATE_DIR/.rules.v$fam.raw" || gfw_save_failed "cannot read the live IPv$fam ruleset into $GFW_STATE_DIR/.rules.v$fam.raw; $GFW_STATE_DIR/rules.v$fam was left as it was"
    gfw_filter_saved < "$GFW_STATE_DIR/.rules.v$fam.raw" > "$GFW_STATE_DIR/.rules.v$fam.tmp" || gfw_save_failed "cannot write $GFW_STATE_DIR/.rules.v$fam.tmp; $GFW_STATE_DIR/rules.v$fam was left as it was"
    rm -f "$GFW_STATE_DIR/.rules.v$fam.raw"
    grep -q '^:GFW-INPUT ' "$GFW_STATE_DIR/.rules.v$fam.tmp" || gfw_save_failed "the live IPv$fam ruleset has no GFW-INPUT; not saving it over $GFW_STATE_DIR/rules.v$fam"
    chmod 0640 "$GFW_STATE_DIR/.rules.v$fam.tmp" || gfw_save_failed "cannot chmod $GFW_STATE_DIR/.rules.v$fam.tmp"
    mv -f "$GFW_STATE_DIR/.rules.v$fam.tmp" "$GFW_STATE_DIR/rules.v$fam" || gfw_save_failed "cannot replace $GFW_STATE_DIR/rules.v$fam"
  done
}
