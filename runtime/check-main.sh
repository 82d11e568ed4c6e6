# shellcheck shell=sh
# iptables-check's flow: the functions come from the other check-*.sh files, the
# settings (GFW_IGNORE, GFW_TEXTFILE_DIR, ...) from the generated part above.
# shellcheck disable=SC2154 # fams, sets, quiet: check-cli.sh

# The caller's PATH first (cron sets one), then the system's.
PATH=${PATH:+$PATH:}/usr/sbin:/usr/bin:/sbin:/bin
LC_ALL=C
export PATH LC_ALL

GFW_STATE_DIR=/etc/iptables

check_parse_args "$@"
check_plan

# ---------------------------------------------------------------------------------
readers=
work=
work_create
trap on_exit EXIT
trap 'die 2 "interrupted"' INT TERM HUP
: > "$work/report"
: > "$work/results"
: > "$work/log"
drift=0
failed=0

for fam in $fams; do
  cmd=iptables-save
  [ "$fam" = 4 ] || cmd=ip6tables-save
  read_family "$fam" "${saved_file:-$GFW_STATE_DIR/rules.v$fam}" "$live_file" "$cmd" &
  readers="$readers $!"
done
for p in $readers; do wait "$p" || :; done
readers=
for fam in $fams; do
  cmd=iptables-save
  [ "$fam" = 4 ] || cmd=ip6tables-save
  check_family "$fam" "${saved_file:-$GFW_STATE_DIR/rules.v$fam}" "$live_file" "$cmd"
done
[ "$sets" = 0 ] || check_sets

if [ "$drift" = 1 ] || [ "$quiet" = 0 ]; then
  cat "$work/report"
fi
write_metrics < "$work/results"
if [ "$drift" = 1 ]; then
  logger -t iptables-check -p daemon.warning -- "firewall drift: $(tr '\n' ';' < "$work/log" | sed 's/;$//; s/;/; /g')" 2>/dev/null || true
  finish 1
fi
if [ "$failed" = 1 ]; then
  logger -t iptables-check -p daemon.err -- "$(tr '\n' ';' < "$work/log" | sed 's/;$//; s/;/; /g')" 2>/dev/null || true
  finish 2
fi
finish 0
