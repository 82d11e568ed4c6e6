# The payloads of a commit (see gfw_commit in init-commit.sh). Input: the map of the sets
# loaded under temporary names ("NAME TEMPORARY" lines), then an iptables-restore --noflush
# payload that names the sets by their own names. -v phase:
#   1  the payload, its rules (-A, -I) naming each mapped set by its temporary name
#   2  only the chains the payload declares that name a mapped set, declared (so flushed)
#      and refilled with the same rules, naming the sets by their own names again
FILENAME == ARGV[1] { tmp[$1] = $2; next }
phase == 1 {
  if ($1 == "-A" || $1 == "-I") {
    for (s in tmp) {
      key = " --match-set " s " "
      while ((p = index($0, key)) > 0) $0 = substr($0, 1, p - 1) " --match-set " tmp[s] " " substr($0, p + length(key))
    }
  }
  print
  next
}
substr($0, 1, 1) == "*" { t = substr($0, 2); if (!(t in seen)) { seen[t] = 1; tables[++ntab] = t }; next }
substr($0, 1, 1) == ":" && $2 == "-" { c = substr($1, 2); decl[t, c] = 1; chains[t, ++nchain[t]] = c; next }
$1 == "-A" || $1 == "-I" {
  line[t, ++nline[t]] = $0
  for (s in tmp) if (index($0, " --match-set " s " ")) mark[t, $2] = 1
}
END {
  if (phase != 2) exit
  for (i = 1; i <= ntab; i++) {
    t = tables[i]
    any = 0
    for (j = 1; j <= nchain[t]; j++) if ((t, chains[t, j]) in mark) any = 1
    if (!any) continue
    print "*" t
    for (j = 1; j <= nchain[t]; j++) if ((t, chains[t, j]) in mark) print ":" chains[t, j] " - [0:0]"
    for (j = 1; j <= nline[t]; j++) {
      split(line[t, j], w, " ")
      if ((t, w[2]) in mark && (t, w[2]) in decl) print line[t, j]
    }
    print "COMMIT"
  }
}
