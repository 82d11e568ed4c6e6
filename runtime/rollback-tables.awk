# A rollback payload (see init-rollback.sh). Input: the snapshot, then the payload that was
# applied; -v builtins: the built-in chains, "table:CHAIN ...". The snapshot as it was, then
# each table that only the payload had, emptied: its built-in chains at ACCEPT.
BEGIN { nb = split(builtins, builtin, " ") }
FILENAME == ARGV[1] { if (substr($0, 1, 1) == "*") had[substr($0, 2)] = 1; print; next }
substr($0, 1, 1) == "*" && !(substr($0, 2) in had) {
  t = substr($0, 2); print
  for (i = 1; i <= nb; i++) { split(builtin[i], p, ":"); if (p[1] == t) print ":" p[2] " ACCEPT [0:0]" }
  print "COMMIT"
}
