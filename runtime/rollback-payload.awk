# A rollback payload for iptables-restore --noflush (see init-rollback.sh): the part of the
# ruleset that gen-fw owns as the snapshot had it, everything else as it is now. Input: the
# snapshot (iptables-save before the apply), the live ruleset now (iptables-save), then the
# payload(s) applied since; -v builtins: the built-in chains, "table:CHAIN ...". Of a table:
# - the policies the payload set go back to the snapshot (ACCEPT if it had no such table);
# - the GFW- chains, and the other chains the payload declared (DOCKER-USER, hand-written
#   ones) or took gen-fw rules out of (DOCKER-USER with Docker support turned off), are
#   declared and refilled with the rules of the snapshot; one the snapshot did not have
#   is emptied and, if it is a GFW- chain, unhooked from wherever it is jumped to and deleted;
# - the plain jumps from a built-in chain into a GFW- chain are as in the snapshot: one
#   that is there stays where it is (its copies go), a missing one is inserted at the top,
#   one the snapshot did not have is deleted.
# Every other chain and rule is left as it is now.
BEGIN {
  nb = split(builtins, builtin, " ")
  for (i = 1; i <= nb; i++) { split(builtin[i], p, ":"); isbuiltin[p[1], p[2]] = 1; nbi[p[1]]++; bchain[p[1], nbi[p[1]]] = p[2] }
  ntab = split("raw mangle nat filter security", order, " ")
}
FNR == 1 { f++; t = "" }
/^#/ || NF == 0 || $1 == "COMMIT" { next }
substr($0, 1, 1) == "*" { t = substr($0, 2); next }
substr($0, 1, 1) == ":" {
  c = substr($1, 2)
  if (f == 3) {
    if ($2 == "-") declared[t, c] = 1
    else if ((t, c) in isbuiltin) setpol[t, c] = 1
    next
  }
  if (!((f, t, c) in has)) { has[f, t, c] = 1; chain[f, t, ++nchain[f, t]] = c }
  if (f == 1) pol[t, c] = $2
  next
}
f == 3 && $1 == "-D" && $2 == "DOCKER-USER" { declared[t, "DOCKER-USER"] = 1; next }
f < 3 && $1 == "-A" { rule[f, t, ++nrule[f, t]] = $0 }

function ours(t, c) { return !((t, c) in isbuiltin) && (c ~ /^GFW-/ || (t, c) in declared) }
function emit(s) { out[++nout] = s }
# The chain a rule ("-A CHAIN ...", split into w) jumps or goes to, if any.
function target(w, nw,   x) {
  for (x = 3; x < nw; x++) if (w[x] == "-j" || w[x] == "-g") return w[x + 1]
  return ""
}

END {
  for (i = 1; i <= ntab; i++) {
    t = order[i]
    nout = 0
    split("", refill); split("", gone); split("", flushed); split("", deleted); split("", kept); ngone = 0
    for (j = 1; j <= nbi[t]; j++) {
      c = bchain[t, j]
      if ((t, c) in setpol) emit(":" c " " ((t, c) in pol ? pol[t, c] : "ACCEPT") " [0:0]")
    }
    for (j = 1; j <= nchain[1, t]; j++) {
      c = chain[1, t, j]
      if (ours(t, c)) { refill[c] = 1; flushed[c] = 1; emit(":" c " - [0:0]") }
    }
    for (j = 1; j <= nchain[2, t]; j++) {
      c = chain[2, t, j]
      if (!ours(t, c) || (c in refill)) continue
      flushed[c] = 1; emit(":" c " - [0:0]")
      if (c ~ /^GFW-/) { gone[c] = 1; gonelist[++ngone] = c }
    }
    for (r = 1; r <= nrule[1, t]; r++) {
      split(rule[1, t, r], w, " ")
      if (w[2] in refill) emit(rule[1, t, r])
    }
    # What is still hooked into a chain that goes: unhooked (our own chains are refilled).
    for (r = 1; r <= nrule[2, t]; r++) {
      nw = split(rule[2, t, r], w, " ")
      if (w[2] in flushed) continue
      if (target(w, nw) in gone) { emit("-D" substr(rule[2, t, r], 3)); deleted[r] = 1 }
    }
    # The jumps from the built-in chains into GFW- chains, as the snapshot had them.
    for (j = 1; j <= nbi[t]; j++) {
      b = bchain[t, j]
      split("", want); split("", now); nmiss = 0
      for (r = 1; r <= nrule[1, t]; r++) {
        nw = split(rule[1, t, r], w, " ")
        if (nw == 4 && w[2] == b && w[3] == "-j" && w[4] ~ /^GFW-/ && !(w[4] in want)) { want[w[4]] = 1; wlist[++nwant] = w[4] }
      }
      for (r = 1; r <= nrule[2, t]; r++) {
        nw = split(rule[2, t, r], w, " ")
        if (nw == 4 && w[2] == b && w[3] == "-j" && w[4] ~ /^GFW-/ && !(r in deleted)) now[w[4]]++
      }
      for (r = 1; r <= nrule[2, t]; r++) {
        nw = split(rule[2, t, r], w, " ")
        if (nw != 4 || w[2] != b || w[3] != "-j" || !(w[4] in now) || (w[4] in gone)) continue
        # One copy of each jump the snapshot had stays (the first); every other goes.
        if ((w[4] in want) && !((b, w[4]) in kept)) { kept[b, w[4]] = 1; continue }
        emit("-D " b " -j " w[4])
      }
      for (k = 1; k <= nwant; k++) if (!(wlist[k] in now)) miss[++nmiss] = wlist[k]
      for (k = nmiss; k >= 1; k--) emit("-I " b " 1 -j " miss[k])
      nwant = 0
    }
    for (j = 1; j <= ngone; j++) emit("-X " gonelist[j])
    if (nout == 0) continue
    print "*" t
    for (j = 1; j <= nout; j++) print out[j]
    print "COMMIT"
  }
}
