# iptables-check (see check-report.sh):
# From `diff` of two normalised files to one line per change, keyed for sorting by table
# and chain; the counts go to the file named by `tally`.
# Set with -v: sets (1 when comparing ipsets), tally (a file).
function key(t, c, n) { return t "\t" c "\t" n "\t  " t " " c ": " }
/^[<>] / {
  side = substr($0, 1, 1)
  line = substr($0, 3)
  split(line, w, " ")
  t = w[1]
  if (substr(w[2], 1, 1) == ":") {
    c = substr(w[2], 2)
    rest = line
    sub(/^[^ ]+ [^ ]+ ?/, "", rest)
    if (!((t, c) in seen)) { seen[t, c] = 1; order[++nh] = t SUBSEP c }
    if (side == "<") old[t, c] = rest; else new[t, c] = rest
    next
  }
  c = w[3]
  rest = line
  if (sets) sub(/^[^ ]+ [^ ]+ [^ ]+ /, "", rest); else sub(/^[^ ]+ /, "", rest)
  if (side == "<") { rr++; print key(t, c, ++n) "- " rest } else { ra++; print key(t, c, ++n) "+ " rest }
}
END {
  for (i = 1; i <= nh; i++) {
    split(order[i], p, SUBSEP)
    k = p[1] SUBSEP p[2]
    if ((k in old) && (k in new)) { pc++; print key(p[1], p[2], 0) (sets ? "definition " : "policy ") old[k] " -> " new[k] }
    else if (k in old) { cr++; print key(p[1], p[2], 0) (sets ? "set" : "chain") " removed" }
    else { ca++; print key(p[1], p[2], 0) (sets ? "set" : "chain") " added" }
  }
  print ra + 0, rr + 0, pc + 0, ca + 0, cr + 0 > tally
}
