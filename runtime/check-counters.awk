# The packet counters of the drop, reject and audit rules of gen-fw, read from iptables-save -c
# by check-normalise.awk (count_rule on each rule of the filter table, count_end at the end),
# as src/check/count-drops.ts reads them for gen-fw check. A rule is known by its comment
# (src/model/counters.ts): "gen-fw: NAME" for a base rule, "SERVICE" or "SERVICE: text" for
# a service rule in a service chain; what it does by its target: a drop (DROP, REJECT,
# GFW-DROP, GFW-REJECT), an audit (GFW-AUDIT, GFW-AUDIT-PASS; or, in a service chain, no target at all and
# no rate-limit bookkeeping: the counting rule of audit: true). A --update (over a rate
# limit) makes the reason rate_limit. Sums go to the file `counters`, a line each, in the
# order each first appears in the dump: "RULESET dropped|audited REASON SERVICE|- PACKETS", then "RULESET mode - - 1|0" (1: the
# GFW-AUDIT chain of mode audit exists); nothing when no rule line had counters (a dump
# saved without -c). Set with -v: counters (a file, or empty), ruleset, counted
# ("NAME=REASON|..."), drop_targets ("DROP REJECT ..."), audit_chain (marks mode audit),
# audit_targets ("GFW-AUDIT ..."), service_chains (an ERE).
BEGIN {
  nc = split(counted, cparts, "|")
  for (ci = 1; ci <= nc; ci++) {
    eq = index(cparts[ci], "=")
    base_reason[substr(cparts[ci], 1, eq - 1)] = substr(cparts[ci], eq + 1)
  }
  nd = split(drop_targets, dparts, " ")
  for (ci = 1; ci <= nd; ci++) drop_target[dparts[ci]] = 1
  na = split(audit_targets, aparts, " ")
  for (ci = 1; ci <= na; ci++) audit_target[aparts[ci]] = 1
}
# The comment of a rule line (unquoted as iptables-save quotes it) into cm, and the line
# without it into rest.
function split_comment(line,   s, e, ch, i) {
  cm = ""
  rest = line
  if (!match(line, /[ \t]--comment[ \t]+/)) return
  rest = substr(line, 1, RSTART)
  s = substr(line, RSTART + RLENGTH)
  if (substr(s, 1, 1) != "\"") {
    e = match(s, /[ \t]/)
    if (e) { cm = substr(s, 1, e - 1); rest = rest substr(s, e) } else cm = s
    return
  }
  if (index(s, "\\") == 0) {
    e = index(substr(s, 2), "\"")
    cm = substr(s, 2, e - 1)
    rest = rest substr(s, e + 2)
    return
  }
  for (i = 2; i <= length(s); i++) {
    ch = substr(s, i, 1)
    if (ch == "\\") { i++; cm = cm substr(s, i, 1); continue }
    if (ch == "\"") break
    cm = cm ch
  }
  rest = rest substr(s, i + 1)
}
function count_rule(c, line, pk,   w, n, i, t, upd, st, svc, reason, what, k) {
  if (index(line, "--comment") == 0) return
  # A line that ends in "-j WORD" has its target there: iptables-save prints the target
  # last, and a comment with a space in it is quoted. A target that is neither a drop nor
  # an audit is never counted, and most rules are accepts: for them no comment is
  # unquoted and no line split (this halves the time of the normaliser at 10,000 rules).
  if (match(line, /[ \t]-j[ \t]+[^ \t"]+$/)) {
    t = substr(line, RSTART + 1)
    sub(/^-j[ \t]+/, "", t)
    if (!(t in drop_target) && !(t in audit_target)) return
  }
  split_comment(line)
  if (cm == "") return
  n = split(rest, w, /[ \t]+/)
  t = ""; upd = 0; st = 0
  for (i = 1; i <= n; i++) {
    if (w[i] == "-j") t = w[i + 1]
    else if (w[i] == "--update") upd = 1
    else if (w[i] == "--set") st = 1
  }
  if (substr(cm, 1, 8) == "gen-fw: ") {
    svc = "-"
    reason = upd ? "rate_limit" : ((substr(cm, 9) in base_reason) ? base_reason[substr(cm, 9)] : "")
    if (reason == "") return
  } else if (c ~ service_chains) {
    svc = cm
    sub(/: .*/, "", svc)
    if (svc !~ /^[a-z0-9][a-z0-9_-]*$/ || length(svc) > 22) return
    reason = upd ? "rate_limit" : "service"
  } else return
  if (t in drop_target) what = "dropped"
  else if (t in audit_target) what = "audited"
  else if (t == "" && !st && svc != "-") what = "audited"
  else return
  k = what " " reason " " svc
  if (!(k in total)) order[++nkeys] = k
  total[k] += pk
}
function count_end(   i) {
  if (counters == "" || !with_counters) return
  for (i = 1; i <= nkeys; i++) printf "%s %s %.0f\n", ruleset, order[i], total[order[i]] > counters
  print ruleset " mode - - " (audit_mode ? 1 : 0) > counters
  close(counters)
}
