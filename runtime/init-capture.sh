# shellcheck shell=sh
# shellcheck disable=SC2154 # conf_d, prebuilt: init-cli.sh
# shellcheck disable=SC2034 # gfw_capturing, gfw_tmp, gfw_ran_fragment: read by init-exit.sh and init-main.sh

# ---------------------------------------------------------------------------------
# Capture. While the base rules and the fragments run, iptables and ip6tables are
# shell functions that turn each call into a record on fd 3:
#   R family table fragment -A CHAIN args   a rule
#   N family table CHAIN                    a chain we create (and own)
#   P family table CHAIN POLICY             a built-in policy (base only)
#   J family table BUILTIN CHAIN            a jump from a built-in chain into ours
# In a fragment, the built-in chains mean ours: INPUT is GFW-INPUT-RULES, nat
# POSTROUTING is GFW-POSTROUTING (jumped to from POSTROUTING), and so on.
gfw_frag=base

gfw_err() {
  say "$gfw_frag: $*"
  gfw_capturing=0
  gfw_exit 2
}

# Quote one argument for an iptables-restore line (it understands "..." with \" and \\).
gfw_word() {
  case $1 in
    '') gfw_w='""' ;;
    *[!A-Za-z0-9_.,:/=+@%!-]*)
      case $1 in
        *'
'*) gfw_err "an argument contains a newline" ;;
        *[\"\\]*) gfw_w=\"$(printf '%s' "$1" | sed 's/[\\"]/\\&/g')\" ;;
        *) gfw_w=\"$1\" ;;
      esac ;;
    *) gfw_w=$1 ;;
  esac
}

gfw_map_chain() {
  case $gfw_t:$gfw_c in
    filter:INPUT) gfw_c=GFW-INPUT-RULES ;;
    filter:OUTPUT) gfw_c=GFW-OUTPUT-RULES ;;
    filter:FORWARD) gfw_c=GFW-FORWARD-RULES ;;
    nat:PREROUTING|nat:INPUT|nat:OUTPUT|nat:POSTROUTING|\
    mangle:PREROUTING|mangle:INPUT|mangle:FORWARD|mangle:OUTPUT|mangle:POSTROUTING|\
    raw:PREROUTING|raw:OUTPUT|security:INPUT|security:FORWARD|security:OUTPUT)
      printf 'N %s %s GFW-%s\n' "$gfw_f" "$gfw_t" "$gfw_c" >&3
      printf 'J %s %s %s GFW-%s\n' "$gfw_f" "$gfw_t" "$gfw_c" "$gfw_c" >&3
      gfw_c=GFW-$gfw_c ;;
  esac
}

# The common call, `iptables [-t TABLE] -A|-I CHAIN args...`, takes a fast path that only
# quotes; anything else (options in another order, other commands) the general one.
gfw_ipt() {
  gfw_f=$1
  shift
  gfw_t=filter
  if [ "$1" = -t ] && [ $# -ge 2 ]; then gfw_t=$2; shift 2; fi
  case ${1-}:${2-} in
    -A:?*|-I:?*) ;;
    *) gfw_ipt_general "$gfw_f" -t "$gfw_t" "$@"; return ;;
  esac
  gfw_op=$1 gfw_c=$2 gfw_line=''
  shift 2
  for gfw_a do
    case $gfw_a in
      -t|--table|-w|--wait|-[AINPCDFXZLSER]|--append|--insert|--new-chain|--policy|--check|--delete|--flush|--delete-chain|--zero|--list|--list-rules|--rename-chain|--replace)
        gfw_ipt_general "$gfw_f" -t "$gfw_t" "$gfw_op" "$gfw_c" "$@"
        return ;;
      ''|*[!A-Za-z0-9_.,:/=+@%!-]*) gfw_word "$gfw_a"; gfw_line="$gfw_line $gfw_w" ;;
      *) gfw_line="$gfw_line $gfw_a" ;;
    esac
  done
  case $gfw_t in filter|nat|mangle|raw|security) ;; *) gfw_err "unknown table: $gfw_t" ;; esac
  case $gfw_c in *[!A-Za-z0-9_.-]*) gfw_err "not a chain name: $gfw_c" ;; esac
  case $gfw_c in INPUT|OUTPUT|FORWARD|PREROUTING|POSTROUTING) gfw_map_chain ;; esac
  printf 'R %s %s %s %s %s%s\n' "$gfw_f" "$gfw_t" "$gfw_frag" "$gfw_op" "$gfw_c" "$gfw_line" >&3
}

gfw_ipt_general() {
  gfw_f=$1
  shift
  gfw_t=filter gfw_op='' gfw_c='' gfw_line=''
  while [ $# -gt 0 ]; do
    case $1 in
      -t|--table) [ $# -ge 2 ] || gfw_err "-t needs a table name"; gfw_t=$2; shift 2; continue ;;
      -w|--wait) shift; case ${1-} in [0-9]*) shift ;; esac; continue ;;
      -A|--append|-I|--insert|-N|--new-chain|-P|--policy|-C|--check|-D|--delete|\
      -F|--flush|-X|--delete-chain|-Z|--zero|-L|--list|-S|--list-rules|-E|--rename-chain|-R|--replace)
        [ -z "$gfw_op" ] || gfw_err "two commands in one call ($gfw_op and $1)"
        gfw_op=$1
        shift
        if [ $# -gt 0 ]; then
          case $1 in -*) ;; *) gfw_c=$1; shift ;; esac
        fi
        continue ;;
    esac
    gfw_word "$1"
    gfw_line="$gfw_line $gfw_w"
    shift
  done
  case $gfw_t in filter|nat|mangle|raw|security) ;; *) gfw_err "unknown table: $gfw_t" ;; esac
  case $gfw_c in *[!A-Za-z0-9_.-]*) gfw_err "not a chain name: $gfw_c" ;; esac
  case $gfw_op in
    -A|--append|-I|--insert)
      [ -n "$gfw_c" ] || gfw_err "$gfw_op needs a chain"
      gfw_map_chain
      case $gfw_op in -A|--append) gfw_op=-A ;; *) gfw_op=-I ;; esac
      printf 'R %s %s %s %s %s%s\n' "$gfw_f" "$gfw_t" "$gfw_frag" "$gfw_op" "$gfw_c" "$gfw_line" >&3 ;;
    -N|--new-chain)
      [ -n "$gfw_c" ] || gfw_err "$gfw_op needs a chain name"
      # Declaring a chain in the payload flushes it: never one of Docker's or Kubernetes'.
      if [ "$gfw_frag" != base ] && printf '%s\n' "$gfw_c" | grep -Eq "$GFW_IGNORE" && ! printf '%s\n' "$gfw_c" | grep -Eq "$GFW_OWNED"; then
        gfw_err "creates chain $gfw_c, which belongs to another tool (drift_check.ignore_chains); name your chains GFW-..."
      fi
      printf 'N %s %s %s\n' "$gfw_f" "$gfw_t" "$gfw_c" >&3 ;;
    -P|--policy)
      [ "$gfw_frag" = base ] || gfw_err "sets a policy; policies come from gen-fw.yaml (policy:)"
      printf 'P %s %s %s%s\n' "$gfw_f" "$gfw_t" "$gfw_c" "$gfw_line" >&3 ;;
    # The ruleset is built from nothing: no rule exists yet to check, delete or flush.
    -C|--check) return 1 ;;
    -D|--delete|-F|--flush|-X|--delete-chain|-Z|--zero) return 0 ;;
    '') gfw_err "an iptables call with no command (-A, -I or -N)" ;;
    *) gfw_err "$gfw_op is not supported in a fragment (use -A, -I or -N)" ;;
  esac
}

iptables() { gfw_ipt 4 "$@"; }
ip6tables() { gfw_ipt 6 "$@"; }
gfw_jump() { printf 'J %s %s %s %s\n' "$1" "$2" "$3" "$4" >&3; }
gfw_chains() { sed 's/^/N /' >&3; }

# A fragment that runs iptables by its full path would change the live firewall
# outside the atomic apply. One grep over all fragments (a process per fragment would
# cost more than the fragments themselves on a host with hundreds of them).
gfw_check_path_calls() {
  bad=$(grep -lE '(^|[^A-Za-z0-9_.-])/[A-Za-z0-9_./-]*/ip6?tables(-legacy|-nft)?([[:space:]]|;|$)' "$@" 2>/dev/null || true)
  [ -z "$bad" ] || {
    gfw_frag=$(printf '%s' "$bad" | head -n 1)
    gfw_frag=${gfw_frag##*/}
    gfw_err "runs iptables by its full path; write plain 'iptables' so iptables-init can apply it atomically"
  }
}

gfw_capture_file() {
  gfw_file=$1
  gfw_ran_fragment=1
  gfw_frag=${gfw_file##*/}
  # The fragment's name goes into records as one word.
  case $gfw_frag in *[!A-Za-z0-9_.-]*) gfw_frag=$(printf '%s' "$gfw_frag" | tr -c 'A-Za-z0-9_.-' '_') ;; esac
  # Without a scratch network namespace a real iptables call in a fragment (command
  # iptables, a variable holding its path, ...) would change the live firewall: as root,
  # run none. The generated fragments need not run: the pre-built records stand in.
  [ "$gfw_contained" = 1 ] || gfw_err "cannot contain this fragment without a scratch network namespace (unshare --net is not permitted here), so it was not run; nothing was changed"
  printf '%s\n' "$gfw_frag" > "$gfw_running"
  # gen-fw's own fragments are only iptables calls: sourced in place, without the cost
  # of a subshell each (an exit in one is caught by gfw_on_exit). Anything else runs
  # in a subshell.
  gfw_l2=""
  { IFS= read -r gfw_l2 && IFS= read -r gfw_l2; } < "$gfw_file" || true  # the second line
  case $gfw_l2 in
    '# Generated by gen-fw '*)
      # shellcheck source=/dev/null
      . "$gfw_file"
      return 0 ;;
  esac
  set +e
  # shellcheck source=/dev/null
  (set -e; . "$gfw_file")
  gfw_rc=$?
  set -e
  gfw_check_direct
  if [ "$gfw_rc" -ne 0 ]; then
    gfw_check_records
    gfw_err "stopped with exit code $gfw_rc"
  fi
  # In a scratch namespace, a real iptables call (xargs, a variable holding its path, ...)
  # shows: a rule, a chain or a policy other than ACCEPT.
  if [ "$gfw_in_scratch" = 1 ]; then
    for fam in $gfw_fams; do
      if gfw_save "$fam" 2>/dev/null | grep -Eq '^(-A |:[^ ]+ (DROP|REJECT|-) )'; then
        gfw_err "$GFW_DIRECT_MSG"
      fi
    done
  fi
}

GFW_DIRECT_MSG="ran iptables directly instead of through iptables-init's capture (write plain 'iptables ...' lines)"

# While fragments run, iptables, ip6tables and their variants found on PATH (by
# `command iptables`, xargs, env, ...) are scripts that only note the call and fail: even
# a call that changes nothing a scratch namespace can show (-P INPUT ACCEPT) is caught.
GFW_DIRECT_NAMES='iptables ip6tables iptables-legacy ip6tables-legacy iptables-nft ip6tables-nft
iptables-restore ip6tables-restore iptables-legacy-restore ip6tables-legacy-restore
iptables-nft-restore ip6tables-nft-restore xtables-legacy-multi xtables-nft-multi'
gfw_guard_path() { # dir
  mkdir -p "$1/bin" || die 3 "cannot create $1/bin; nothing was changed"
  for gfw_n in $GFW_DIRECT_NAMES; do
    # shellcheck disable=SC2016 # the $ are the wrapper's
    printf '#!/bin/sh\necho "$0" >> "$GFW_DIRECT_MARK"\necho "iptables-init: ${0##*/} was called directly in a fragment: refused" >&2\nexit 1\n' > "$1/bin/$gfw_n" ||
      die 3 "cannot write $1/bin/$gfw_n (is its file system full?); nothing was changed"
  done
  # One chmod for all of them (a process each cost a small apply ~15 ms); the names are plain words.
  # shellcheck disable=SC2086 # GFW_DIRECT_NAMES: one word per name
  (cd "$1/bin" && exec chmod 0755 -- $GFW_DIRECT_NAMES) ||
    die 3 "cannot make the wrappers in $1/bin executable; nothing was changed"
  GFW_DIRECT_MARK=$1/direct
  export GFW_DIRECT_MARK
  PATH=$1/bin:$PATH
}
gfw_check_direct() {
  [ ! -s "${GFW_DIRECT_MARK:-/nonexistent}" ] || gfw_err "$GFW_DIRECT_MSG"
}

# A capture that ended early because its records could not be written (a full disk, the
# work directory gone) is the system's failure, not the fragment's: exit 3.
gfw_records_writable() {
  gfw_free=$(stat -f -c %a -- "$gfw_records" 2>/dev/null) || gfw_free=0
  [ -f "$gfw_records" ] && [ "$gfw_free" -gt 0 ]
}
gfw_check_records() {
  gfw_records_writable || {
    gfw_capturing=0
    die 3 "cannot write the capture's records to $gfw_records (its file system is full, or the file is gone); nothing was changed"
  }
}

gfw_capture() {
  gfw_frag=base
  echo 'the base rules' > "$gfw_running"
  gfw_base
  set -- "$conf_d"/*.sh
  [ -e "$1" ] || return 0
  if gfw_plan=$(gfw_prebuilt_plan "$@"); then
    set -f
    gfw_ifs=$IFS
    IFS='
'
    # shellcheck disable=SC2086 # one plan line a word; names with a newline never get here
    set -- $gfw_plan
    # Only the fragments that run need the check: gen-fw's are as rendered (sha256).
    gfw_hand=
    for gfw_p do
      case $gfw_p in P) ;; *) gfw_hand="$gfw_hand${gfw_p#? }
" ;; esac
    done
    # shellcheck disable=SC2086
    [ -z "$gfw_hand" ] || gfw_check_path_calls $gfw_hand
    IFS=$gfw_ifs
    set +f
    for gfw_p do
      case $gfw_p in
        P)
          echo 'the pre-built records' > "$gfw_running"
          # grep: 1 when nothing matched; 2 (cannot read or write) is the system's failure.
          grep '^[RN] ' "$prebuilt" >&3 || [ $? = 1 ] || { gfw_check_records; die 3 "cannot copy the pre-built records from $prebuilt; nothing was changed"; } ;;
        *) gfw_capture_file "${gfw_p#? }" ;;
      esac
    done
    return 0
  fi
  gfw_check_path_calls "$@"
  [ ! -f "$prebuilt" ] || say "note: iptables_conf.d is not as rendered (a generated fragment edited, missing or from another render, or a hand-written one sorting between them): running every fragment; services are reached by a list of jumps instead of by port"
  for gfw_file do gfw_capture_file "$gfw_file"; done
}

# Capture into a file. A fragment sourced in place that calls exit ends this shell: the
# EXIT trap turns that into an error instead of a silently short ruleset.
gfw_capturing=0
gfw_tmp=
gfw_in_scratch=0
gfw_contained=1
gfw_ran_fragment=0
gfw_fams=
gfw_records=
gfw_running=/dev/null
gfw_capture_to() { # file
  gfw_records=$1
  # Opened before the capture starts: a file that cannot be created (a full or vanished
  # directory) is the system's failure, exit 3 in gfw_on_exit, not a fragment's exit 2.
  exec 3> "$1"
  gfw_capturing=1
  gfw_capture
  gfw_capturing=0
  exec 3>&-
}

# ---------------------------------------------------------------------------------
# The capture runs in a child process (iptables-init --capture-only DIR in a scratch
# network namespace, --capture-live DIR where none can be made), with standard input from
# /dev/null and bounded in time: GFW_CAPTURE_TIMEOUT seconds (60 unless set) for the base
# rules and every fragment together. Past it, the child's whole process group is killed
# (TERM, then KILL 5 s later) and nothing changes: exit 2 naming the fragment that was
# running (the child notes each in DIR/running). Whatever is left of the capture's process
# group when it ends is killed.
gfw_capture_pid=
gfw_capture_bounded() { # scratch|live
  gfw_limit=${GFW_CAPTURE_TIMEOUT:-60}
  case $gfw_limit in ''|*[!0-9]*|0*) die 2 "GFW_CAPTURE_TIMEOUT must be a whole number of seconds above 0 (it is: $gfw_limit)" ;; esac
  if [ "$1" = scratch ]; then set -- unshare --net -- sh "$self" --capture-only "$work"
  else set -- sh "$self" --capture-live "$work"; fi
  : > "$work/running"
  gfw_t0=$(date +%s)
  # In the background so that INT and TERM reach our trap at once (gfw_on_exit stops it).
  timeout -k 5 "$gfw_limit" "$@" < /dev/null &
  gfw_capture_pid=$!
  gfw_rc=0
  wait "$gfw_capture_pid" || gfw_rc=$?
  # timeout made its process group; whatever a fragment left there (a child that ignores
  # TERM, something in the background) must not outlive the capture.
  kill -s KILL -- "-$gfw_capture_pid" 2>/dev/null || true
  gfw_capture_pid=
  [ "$gfw_rc" != 0 ] || return 0
  if [ "$gfw_rc" = 124 ] || { [ "$gfw_rc" -gt 128 ] && [ $(($(date +%s) - gfw_t0)) -ge "$gfw_limit" ]; }; then
    gfw_frag=$(cat "$work/running" 2>/dev/null || true)
    die 2 "${gfw_frag:-the capture}: still running after ${gfw_limit}s, the limit for capturing the whole ruleset (GFW_CAPTURE_TIMEOUT); it was stopped; nothing was changed"
  fi
  case $gfw_rc in
    2|3) gfw_exit "$gfw_rc" ;;  # the child said why
    *) die 3 "the capture of the fragments failed (exit $gfw_rc); nothing was changed" ;;
  esac
}

# In the child: capture into DIR/records. In a scratch namespace, make sure afterwards
# that nothing bypassed the capture (only a fragment that ran can have done that: the
# pre-built records are only read).
gfw_capture_child() {
  gfw_fams=$(gfw_families)
  gfw_running=$work/running
  # As root outside a scratch namespace, nothing could contain a fragment's real call.
  if [ "$gfw_in_scratch" = 0 ] && [ "$(id -u)" = 0 ]; then gfw_contained=0; fi
  gfw_guard_path "$work"
  gfw_capture_to "$work/records"
  if [ "$gfw_in_scratch" = 1 ] && [ "$gfw_ran_fragment" = 1 ]; then
    for fam in $gfw_fams; do
      if gfw_save "$fam" 2>/dev/null | grep -Eq '^(-A |:[^ ]+ (DROP|REJECT|-) )'; then
        die 2 "a fragment ran iptables directly instead of through iptables-init's capture"
      fi
    done
  fi
}
