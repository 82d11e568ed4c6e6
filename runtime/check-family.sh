# shellcheck shell=sh
# shellcheck disable=SC2154 # work, cache_dir, saved_sets, live_sets, status, key: check-*.sh; GFW_SETS_AWK: inlined

check_family() { # 4|6 saved live-file|"" command
  rs=ipv$1 label=IPv$1 p=$work/v$1
  # What read_family left: a file it could not write means our disk failed us.
  if [ -f "$p.why" ]; then
    IFS= read -r why < "$p.why" || work_fault "$p.why: empty"
    cannot "$rs" "$label" "$why"
    return 0
  fi
  read -r rc < "$p.rc" || work_fault "$p.rc: missing"
  read -r nrc < "$p.nrc" || work_fault "$p.nrc: missing"
  # A save that died of SIGPIPE (141) only stopped because awk had refused its output.
  if [ "$rc" != 0 ] && { [ "$rc" != 141 ] || [ "$nrc" = 0 ]; }; then
    cannot "$rs" "$label" "cannot run $4: $(head -n 3 "$p.err" | awk 'NR > 1 { printf "; " } { printf "%s", $0 }')"
    return 0
  fi
  rules=0 legacy=0
  [ ! -s "$p.meta" ] || read -r rules legacy < "$p.meta"
  if [ -s "$p.err" ] && grep -q 'legacy tables present' "$p.err"; then legacy=1; fi
  [ "$legacy" = 0 ] || say "warning: $label: iptables-legacy tables present: their rules are not checked (see iptables-legacy-save)"
  if [ -s "$p.err" ]; then
    grep -v 'legacy tables present' "$p.err" | while IFS= read -r line; do
      [ -z "$line" ] || say "warning: $label: $4 said: $line"
    done
  fi
  cache_key "$1"
  cache=$cache_dir/iptables-check.v$1
  if [ "$nrc" = 0 ] && cache_hit "$cache" "$key" "$p.n"; then
    in_sync "$rs" "$label" "$rules" "$legacy"
    return 0
  fi
  normalise "$2" "$2" "$p.smeta" > "$p.sn" 2> "$p.serr" || { cannot "$rs" "$label" "$(first_line "$p.serr")"; return 0; }
  if ! has_gfw_chains "$p.sn"; then
    cannot "$rs" "$label" "$2: the saved $label state has no gen-fw chains ($GFW_MARK_CHAIN): was iptables-init --save ever run?"
    return 0
  fi
  [ "$nrc" = 0 ] || { cannot "$rs" "$label" "$(first_line "$p.nerr")"; return 0; }
  read -r size _ < "$p.smeta" || work_fault "$p.smeta: missing"
  by_place "$p.sn" > "$p.saved" || work_fault "sorting the saved $label state failed"
  by_place "$p.n" > "$p.live" || work_fault "sorting the live $label state failed"
  compare "$rs" "$label" "$p.saved" "$p.live" "$legacy" "$size"
  [ "$status" != in-sync ] || cache_store "$cache" "$key" "$p.n"
}

check_sets() {
  saved=${saved_sets:-$GFW_STATE_DIR/ipsets}
  [ -f "$saved" ] || { cannot ipsets ipsets "$saved: no such file"; return 0; }
  if [ -n "$live_sets" ]; then
    [ -f "$live_sets" ] || { cannot ipsets ipsets "$live_sets: no such file"; return 0; }
    live=$live_sets
  else
    live_state ipsets ipsets ipset save || return 0
    live=$work/live
  fi
  sets_normalise "$saved" "$work/saved.n" || { cannot ipsets ipsets "$(first_line "$work/saved.n.err")"; return 0; }
  sets_normalise "$live" "$work/live.n" || { cannot ipsets ipsets "$(first_line "$work/live.n.err")"; return 0; }
  size=$(awk '$2 == "-A" { n++ } END { print n + 0 }' "$work/saved.n") || work_fault "counting the saved members failed"
  compare ipsets ipsets "$work/saved.n" "$work/live.n" 0 "$size"
}

# An ipset save file to sorted "set ..." lines; its awk's complaint (an unreadable file) in OUT.err.
sets_normalise() { # file out
  awk "$GFW_SETS_AWK" "$1" > "$2.raw" 2> "$2.err" || return 1
  sort -u -o "$2" "$2.raw" || work_fault "sorting $1 failed"
}

# The first line of a file of messages: the one that says why.
first_line() { # file
  line=
  IFS= read -r line < "$1" 2>/dev/null || :
  printf '%s\n' "${line:-failed, and said nothing}"
}
