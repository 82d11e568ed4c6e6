# shellcheck shell=sh
# shellcheck disable=SC2154 # self, here, work: init-cli.sh, init-main.sh

# A ruleset the kernel accepted in a scratch namespace before is not loaded there again:
# the sha256 of what was loaded (this script, the records, the set files) and of the
# kernel and tools that loaded it, kept for the last few rulesets. Should the live
# apply fail after all, the snapshot goes back as always.
GFW_VALIDATED=/var/lib/gen-fw/validated
gfw_validation_key() {
  {
    uname -r
    for fam in $(gfw_families); do gfw_restore "$fam" --version 2>&1 || true; done
    if gfw_has_sets; then ipset version 2>&1 || true; fi
    cat -- "$self" "$work/records"
    if gfw_has_sets; then cat -- "$here"/ipsets.d/*.txt 2>/dev/null || true; fi
  } | sha256sum | cut -c1-64
}

gfw_remember_validated() { # key
  mkdir -p "${GFW_VALIDATED%/*}"
  if { tail -n 63 "$GFW_VALIDATED" 2>/dev/null || true; echo "$1"; } > "$GFW_VALIDATED.$$"; then
    mv -f "$GFW_VALIDATED.$$" "$GFW_VALIDATED"
  else
    rm -f "$GFW_VALIDATED.$$"
  fi
}
