# shellcheck shell=sh
# iptables-check's command line: usage, and the options (into quiet, family, the files to
# compare, the ignore lists, the textfile and cache directories), then which rulesets to
# check (fams, sets). check-main.sh reads what these set.
# shellcheck disable=SC2034

GFW_CACHE_DIR=/var/cache/gen-fw

usage() {
  cat <<'EOF'
Usage: iptables-check [--quiet] [--family ipv4|ipv6|both] [--ignore-chain GLOB]...
         [--ignore-interface GLOB]... [--saved FILE] [--live FILE]
         [--saved-sets FILE] [--live-sets FILE] [--textfile-dir DIR | --no-textfile]
         [--cache-dir DIR | --no-cache]
  --quiet           print nothing when in sync (cron mails only drift and failures)
  --family          rulesets to check (default both; ipv4 when --saved or --live is given)
  --ignore-chain    leave out chains matching GLOB, and the jumps into them (repeatable;
                    replaces the list rendered from gen-fw.yaml)
  --ignore-interface  leave out the rules in built-in chains (INPUT, FORWARD, OUTPUT,
                    PRE-/POSTROUTING) whose -i or -o matches GLOB: Docker's own
                    (repeatable; replaces the rendered list of Docker's bridges)
  --saved, --live   compare these files (one family) instead of /etc/iptables/rules.vN
                    and iptables-save
  --saved-sets, --live-sets  compare these `ipset save` files instead of
                    /etc/iptables/ipsets and ipset save
  --textfile-dir    write node_exporter metrics (iptables-check.prom) into DIR
  --no-textfile     write no metrics
  --cache-dir       keep what was last found in sync in DIR (default /var/cache/gen-fw;
                    used only when DIR and its files belong to the user running the check)
  --no-cache        compare in full every time, and write no cache
Exit codes: 0 in sync; 1 drift; 2 cannot check (nothing saved, a saved state without
gen-fw's chains, no iptables-save, a full or failing $TMPDIR).
The textfile directory must belong to the user running the check and be writable by
no one else; otherwise no metrics are written (a warning; the exit code stands).
EOF
}

say() { echo "iptables-check: $*" >&2; }
die() { code=$1; shift; say "$@"; planned=1; exit "$code"; }
need() { [ "$1" -ge 2 ] || die 2 "$2 needs a value (see --help)"; }

check_parse_args() { # args...
  quiet=0
  family=
  saved_file=
  live_file=
  saved_sets=
  live_sets=
  ignore=
  ifaces=
  textfile_dir=$GFW_TEXTFILE_DIR
  cache_dir=$GFW_CACHE_DIR
  while [ $# -gt 0 ]; do
    case $1 in
      -q|--quiet) quiet=1 ;;
      --family) need $# "$1"; family=$2; shift ;;
      --saved) need $# "$1"; saved_file=$2; shift ;;
      --live) need $# "$1"; live_file=$2; shift ;;
      --saved-sets) need $# "$1"; saved_sets=$2; shift ;;
      --live-sets) need $# "$1"; live_sets=$2; shift ;;
      --ignore-chain)
        need $# "$1"
        case $2 in ''|*[!A-Za-z0-9_.*?-]*) die 2 "--ignore-chain: not a chain-name glob: $2" ;; esac
        [ "${#2}" -le 28 ] || die 2 "--ignore-chain: not a chain-name glob: $2"
        ignore="$ignore${ignore:+|}$(printf '%s\n' "$2" | sed 's/\./[.]/g; s/\*/.*/g; s/?/./g')"
        shift ;;
      --ignore-interface)
        need $# "$1"
        case $2 in ''|*[!A-Za-z0-9_.:@*?+-]*) die 2 "--ignore-interface: not an interface-name glob: $2" ;; esac
        [ "${#2}" -le 15 ] || die 2 "--ignore-interface: not an interface-name glob: $2"
        ifaces="$ifaces${ifaces:+|}$(printf '%s\n' "$2" | sed 's/\./[.]/g; s/\*/.*/g; s/?/./g; s/+/.*/g')"
        shift ;;
      --textfile-dir) need $# "$1"; textfile_dir=$2; shift ;;
      --no-textfile) textfile_dir= ;;
      --cache-dir) need $# "$1"; cache_dir=$2; shift ;;
      --no-cache) cache_dir= ;;
      -h|--help) usage; exit 0 ;;
      *) die 2 "unknown option: $1 (see --help)" ;;
    esac
    shift
  done
  [ -z "$ignore" ] || GFW_IGNORE="^($ignore)\$"
  [ -z "$ifaces" ] || GFW_IGNORE_IFACES="^($ifaces)\$"
}

# Which rulesets to check: the families (fams) and whether the ipsets too (sets).
check_plan() {
  files=0
  [ -z "$saved_file$live_file" ] || files=1
  if [ -z "$family" ]; then
    family=both
    [ "$files" = 0 ] || family=ipv4
  fi
  case $family in
    ipv4) fams=4 ;;
    ipv6) fams=6 ;;
    both)
      [ "$files" = 0 ] || die 2 "--saved and --live files hold one family: add --family ipv4 or --family ipv6"
      fams=4
      if [ -e /proc/net/if_inet6 ]; then fams="4 6"; fi ;;
    *) die 2 "--family: $family is not ipv4, ipv6 or both" ;;
  esac
  sets=0
  if [ -n "$saved_sets$live_sets" ]; then
    sets=1
  elif [ "$files" = 0 ] && [ "$family" = both ] && [ -e "$GFW_STATE_DIR/ipsets" ]; then
    sets=1
  fi
}
