# iptables-check (see write_metrics in check-report.sh):
# node_exporter textfile metrics from the results ("ruleset status size added removed
# policies chains-added chains-removed legacy", or "ruleset error"); gen-fw check
# --format prometheus writes the same lines.
# Then, from the file `counters` (the lines of check-counters.awk, IPv4 first), the packets the
# rules of gen-fw dropped and audited, summed by ruleset, reason and service, and whether the
# ruleset is in mode audit.
# Set with -v: now (Unix time), counters (a file).
function gauge(name, help, col, families,   i, any) {
  for (i = 1; i <= n; i++) if (st[i] != "error" && !(families && rs[i] == "ipsets")) any = 1
  if (!any) return
  print "# HELP " name " " help
  print "# TYPE " name " gauge"
  for (i = 1; i <= n; i++) {
    if (st[i] == "error" || (families && rs[i] == "ipsets")) continue
    print name "{ruleset=\"" rs[i] "\"} " (col == 0 ? (st[i] == "drift" ? 1 : 0) : v[i, col])
  }
}
function counter(name, help, kind, type,   i, any) {
  for (i = 1; i <= nk; i++) if (ck[i] == kind) any = 1
  if (!any) return
  print "# HELP " name " " help
  print "# TYPE " name " " type
  for (i = 1; i <= nk; i++) if (ck[i] == kind) print name cl[i] " " cv[i]
}
function read_counters(   line, f) {
  if (counters == "") return
  while ((getline line < counters) > 0) {
    split(line, f, " ")
    nk++
    ck[nk] = f[2]
    cv[nk] = f[5]
    cl[nk] = "{ruleset=\"" f[1] "\"" (f[2] == "mode" ? "" : ",reason=\"" f[3] "\"" (f[4] == "-" ? "" : ",service=\"" f[4] "\"")) "}"
  }
  close(counters)
}
{ n++; rs[n] = $1; st[n] = $2; if ($2 == "error") failed = 1; for (i = 3; i <= NF; i++) v[n, i] = $i }
END {
  print "# HELP gen_fw_drift_check_success 1 if the last drift check could compare every ruleset, 0 if it could not."
  print "# TYPE gen_fw_drift_check_success gauge"
  print "gen_fw_drift_check_success " (failed ? 0 : 1)
  print "# HELP gen_fw_drift_check_timestamp_seconds When the last drift check ran, in Unix time."
  print "# TYPE gen_fw_drift_check_timestamp_seconds gauge"
  print "gen_fw_drift_check_timestamp_seconds " now
  gauge("gen_fw_drift", "1 if the live ruleset differs from the saved one.", 0)
  gauge("gen_fw_drift_rules_added", "Rules (ipsets: members) live but not saved.", 4)
  gauge("gen_fw_drift_rules_removed", "Rules (ipsets: members) saved but not live.", 5)
  gauge("gen_fw_drift_policies_changed", "Built-in chains whose policy changed (ipsets: sets whose definition changed).", 6)
  gauge("gen_fw_drift_chains_added", "Chains (ipsets: sets) live but not saved.", 7)
  gauge("gen_fw_drift_chains_removed", "Chains (ipsets: sets) saved but not live.", 8)
  gauge("gen_fw_drift_legacy_tables", "1 if iptables-nft reported iptables-legacy tables, whose rules are not checked.", 9, 1)
  read_counters()
  counter("gen_fw_dropped_packets_total", "Packets the rules of gen-fw dropped or rejected since they were loaded, by reason.", "dropped", "counter")
  counter("gen_fw_audited_packets_total", "Packets the rules of gen-fw would have dropped or rejected, logged and let pass instead (mode audit, audit: true), by reason.", "audited", "counter")
  counter("gen_fw_audit_mode", "1 if the live ruleset is in mode audit (drops nothing), 0 if in enforce.", "mode", "gauge")
}
