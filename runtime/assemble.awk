# One iptables-restore --noflush payload (see init-assemble.sh). Input: a snapshot of the
# live ruleset (iptables-save), then the records; -v fam=4|6, -v first="table:CHAIN:TARGET
# ..." (the jumps that must be the first rule of their chain).
BEGIN {
  ntab = split("raw mangle nat filter security", order, " ")
  nfirst = split(first, fj, " ")
  for (i = 1; i <= nfirst; i++) { split(fj[i], fp, ":"); isfirst[fp[1], fp[2] " " fp[3]] = 1 }
}
FILENAME == ARGV[1] {
  if (substr($0, 1, 1) == "*") { t = substr($0, 2); next }
  if (substr($0, 1, 1) == ":") {
    c = substr($1, 2)
    if (!((t, c) in snapchain)) { snapchain[t, c] = 1; snaplist[t, ++nsnapc[t]] = c }
    next
  }
  if ($1 == "-A") { snaprule[t, ++nsnap[t]] = $0; if (!((t, $2) in top)) top[t, $2] = $0 }
  next
}
$2 != fam { next }
$1 == "P" { tables[$3] = 1; if (!(($3, $4) in pol)) polorder[$3, ++npol[$3]] = $4; pol[$3, $4] = $5; next }
$1 == "N" {
  tables[$3] = 1
  if (!(($3, $4) in declared)) { declared[$3, $4] = 1; decl[$3, ++ndecl[$3]] = $4 }
  next
}
$1 == "J" {
  tables[$3] = 1; k = $4 " " $5
  if (!(($3, k) in jump)) { jump[$3, k] = 1; jmp[$3, ++njmp[$3]] = k }
  next
}
$1 == "R" {
  tables[$3] = 1
  if ($4 != lastfrag[$3]) { lastfrag[$3] = $4; rule[$3, ++nrule[$3]] = "# from " $4 }
  line = $0; sub(/^R [^ ]+ [^ ]+ [^ ]+ /, "", line)
  rule[$3, ++nrule[$3]] = line
  next
}
END {
  for (k in snapchain) { split(k, p, SUBSEP); if (p[2] ~ /^GFW-/) tables[p[1]] = 1 }
  for (i = 1; i <= ntab; i++) {
    t = order[i]
    if (!(t in tables)) continue
    print "*" t
    for (j = 1; j <= npol[t]; j++) print ":" polorder[t, j] " " pol[t, polorder[t, j]] " [0:0]"
    for (j = 1; j <= ndecl[t]; j++) print ":" decl[t, j] " - [0:0]"
    nst = 0
    for (j = 1; j <= nsnapc[t]; j++) {
      c = snaplist[t, j]
      if (c ~ /^GFW-/ && !((t, c) in declared)) { stale[t, c] = 1; st[++nst] = c; print ":" c " - [0:0]" }
    }
    for (j = 1; j <= nrule[t]; j++) print rule[t, j]
    # Our jumps from the built-in chains: a missing one is inserted at the top, a duplicate
    # removed. One that must be first (FORWARD to DOCKER-USER: see ownership.ts) and is
    # not is moved back to the top; those come last, so they end up above the others.
    for (pass = 1; pass <= 2; pass++) {
      for (j = 1; j <= njmp[t]; j++) {
        if (((t, jmp[t, j]) in isfirst) != (pass == 2)) continue
        split(jmp[t, j], q, " ")
        want = "-A " q[1] " -j " q[2]
        have = 0
        for (r = 1; r <= nsnap[t]; r++) if (snaprule[t, r] == want) have++
        if (pass == 2 && have > 0 && top[t, q[1]] != want) while (have > 0) { print "-D " q[1] " -j " q[2]; have-- }
        if (have == 0) print "-I " q[1] " 1 -j " q[2]
        while (have > 1) { print "-D " q[1] " -j " q[2]; have-- }
      }
    }
    # A jump from another chain into one of ours that this run does not make (FORWARD to
    # GFW-FORWARD once Docker support is on: GFW-FORWARD is entered from DOCKER-USER then).
    for (r = 1; r <= nsnap[t]; r++) {
      nw = split(snaprule[t, r], w, " ")
      if (nw != 4 || w[3] != "-j" || w[4] !~ /^GFW-/ || !((t, w[4]) in declared) || ((t, w[2]) in declared)) continue
      if ((t, w[2] " " w[4]) in jump) continue
      print "-D" substr(snaprule[t, r], 3); gone[t, r] = 1
    }
    # Docker turned off: our rules in DOCKER-USER (the chain Docker creates) go, the chain stays.
    if (t == "filter" && !((t, "DOCKER-USER") in declared)) {
      for (r = 1; r <= nsnap[t]; r++) {
        split(snaprule[t, r], w, " ")
        if (w[2] == "DOCKER-USER" && index(snaprule[t, r], "--comment \"gen-fw: docker")) { print "-D" substr(snaprule[t, r], 3); gone[t, r] = 1 }
      }
    }
    if (nst > 0) {
      for (r = 1; r <= nsnap[t]; r++) {
        nw = split(snaprule[t, r], w, " ")
        if ((t, w[2]) in declared || (t, w[2]) in stale || (t, r) in gone) continue
        for (x = 3; x < nw; x++) {
          if ((w[x] == "-j" || w[x] == "-g") && ((t, w[x + 1]) in stale)) { print "-D" substr(snaprule[t, r], 3); break }
        }
      }
      for (j = 1; j <= nst; j++) print "-X " st[j]
    }
    print "COMMIT"
  }
}
