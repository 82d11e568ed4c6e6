# shellcheck shell=sh
# iptables-init's command line: usage, where the script is, and the options (into mode,
# save, try, work and token, which init-main.sh reads).
# shellcheck disable=SC2034

usage() {
  cat <<'EOF'
Usage: iptables-init [--dry-run] [--save] [--try SECONDS]
       iptables-init --confirm
  --dry-run      print the iptables-restore payloads that would be applied; change nothing
  --save         after applying, write /etc/iptables/rules.v4 and rules.v6 (and ipsets)
  --try SECONDS  apply, then put the previous ruleset back after SECONDS unless confirmed
                 (answer the prompt, or run iptables-init --confirm); the snapshot is kept
                 on disk and the timer runs in its own session, so a dropped SSH
                 connection still rolls back. With --save, saving waits for the confirmation.
  --confirm      keep the ruleset of a pending --try
Exit codes: 0 applied; 2 the ruleset is wrong (nothing changed); 3 the system failed
(nothing changed, or the previous ruleset was put back); 1 only for --confirm with
nothing to confirm, or a --try answered "no" at its prompt (rolled back).
EOF
}

# Where the script is, and what it reads next to it.
gfw_locate() { # script-path
  self=$1
  here=$(CDPATH='' cd -- "$(dirname -- "$1")" && pwd)
  conf_d=$here/iptables_conf.d
  prebuilt=$here/iptables-init.prebuilt
}

gfw_parse_args() { # args...
  mode=apply
  save=0
  try=0
  work=
  while [ $# -gt 0 ]; do
    case $1 in
      --dry-run) mode=dry-run ;;
      --save) save=1 ;;
      --try)
        try=${2-}
        case $try in ''|*[!0-9]*|0) echo "iptables-init: --try needs a number of seconds" >&2; exit 2 ;; esac
        shift ;;
      --confirm) mode=confirm ;;
      --rollback-after) mode=rollback-after; try=${2:?}; work=${3:?}; token=${4:?}; shift 3 ;;
      --scratch-check) mode=scratch-check; work=${2:?}; shift ;;
      --capture-only) mode=capture-only; work=${2:?}; shift ;;
      --capture-live) mode=capture-live; work=${2:?}; shift ;;
      -h|--help) usage; exit 0 ;;
      *) echo "iptables-init: unknown option: $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
  done
}
