# iptables-init --save (see init-save.sh): an iptables-save dump without comment lines and
# counters, and without what belongs to other tools (foreign() and dockers() come from
# chain-filter.awk, which comes first).
/^#/ { next }
/^:/ { if (foreign(substr($1, 2))) next; sub(/\[[0-9]+:[0-9]+\]$/, "[0:0]"); print; next }
/^-A / {
  if (foreign($2) || dockers() || dockers_rule()) next
  for (i = 3; i < NF; i++) if (($i == "-j" || $i == "-g") && foreign($(i + 1))) next
  print; next
}
{ print }
