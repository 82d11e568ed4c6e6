# shellcheck shell=sh
# shellcheck disable=SC2154 # prebuilt: init-cli.sh; GFW_PLAN_AWK: prebuilt-plan.awk, inlined

# iptables-init.prebuilt holds the capture of the generated fragments, done at render
# time. It stands in for them when every one it lists (S lines) is here with its sha256
# and no hand-written fragment sorts between them. Prints the plan, one line each in name
# order: "B FILE" (hand-written, before), "P" (the pre-built records), "A FILE" (after);
# fails when the pre-built form does not apply.
gfw_prebuilt_plan() { # fragment files...
  [ -f "$prebuilt" ] || return 1
  sums=$(sha256sum -- "$@") || return 1
  printf '%s\n' "$sums" | awk "$GFW_PLAN_AWK" "$prebuilt" -
}
