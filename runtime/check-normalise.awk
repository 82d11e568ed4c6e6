# The normalisation of iptables-check (see check-normalise.sh), after chain-filter.awk:
# one line per chain ("TABLE :CHAIN POLICY") and per rule ("TABLE -A CHAIN ..."), grouped
# by table and chain, rules in their order. Comment lines and counters go; so do the
# chains of other tools and the rules that jump (-j) or go (-g) into them, and the rules in
# a built-in chain whose -i or -o (also after "!") is a bridge of Docker (the MASQUERADE
# and FORWARD accepts of dockerd), as iptables-init --save leaves them out. Every built-in
# chain is there (an absent table is the same as an empty one at ACCEPT). Anything
# iptables-save would not write is an error: a truncated file must not read as "no rules". Lines are keyed "TABLE<tab>CHAIN<tab>PLACE<tab>" for
# sorting, in the order they came; `meta` gets "RULES LEGACY": how many rules were kept, and
# 1 if a comment said that iptables-legacy tables exist. Errors name the input as `name`.
# Set with -v (besides what chain-filter.awk and check-counters.awk read): name (the input,
# in errors), meta (a file). With counters set, the packet counters of the drop, reject
# and audit rules of gen-fw go there (check-counters.awk).
function bad(msg) { printf "%s:%d: %s\n", name, FNR, msg > "/dev/stderr"; failed = 1; exit 1 }
BEGIN { t = "" }
{ sub(/^[ \t]+/, ""); sub(/[ \t]+$/, "") }
$0 == "" { next }
substr($0, 1, 1) == "#" { if ($0 ~ /legacy tables present/) legacy = 1; next }
substr($0, 1, 1) == "*" { t = substr($0, 2); if (t == "") bad("a table line with no name"); next }
$0 == "COMMIT" { if (t == "") bad("COMMIT outside a table"); t = ""; next }
substr($0, 1, 1) == ":" {
  if (t == "") bad("a chain outside a table")
  c = substr($1, 2)
  if (c == "" || NF < 2) bad("not a chain line")
  if ((t, c) in declared) bad("chain " c " is declared twice")
  declared[t, c] = 1
  if (t == "filter" && c == audit_chain) audit_mode = 1
  if (!foreign(c)) print t "\t" c "\t0\t" t " :" c " " $2
  next
}
{
  pk = -1
  if (substr($0, 1, 1) == "[" && match($0, /^\[[0-9]+:/)) { pk = substr($0, 2, RLENGTH - 2) + 0; with_counters = 1 }
  sub(/^\[[0-9]+:[0-9]+\][ \t]+/, "")
  if ($1 != "-A" || NF < 2) bad("not a table, chain or rule line of iptables-save")
  if (t == "") bad("a rule outside a table")
  c = $2
  if (!((t, c) in declared)) bad("a rule in chain " c ", which is not declared")
  if (pk >= 0 && counters != "" && t == "filter") count_rule(c, $0, pk)
  if (foreign(c) || dockers() || dockers_rule()) next
  for (i = 3; i < NF; i++) if (($i == "-j" || $i == "-g") && foreign($(i + 1))) next
  print t "\t" c "\t" (++n[t, c]) "\t" t " " $0
  rules++
}
END {
  if (meta != "") print rules + 0, legacy + 0 > meta
  if (failed) exit 1
  if (t != "") bad("the last table has no COMMIT (a truncated dump?)")
  count_end()
  for (i = 1; i <= nb; i++) {
    split(builtin[i], p, ":")
    if (!((p[1], p[2]) in declared)) print p[1] "\t" p[2] "\t0\t" p[1] " :" p[2] " ACCEPT"
  }
}
