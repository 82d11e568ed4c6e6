# iptables-check (see write_metrics in check-report.sh):
# node_exporter textfile metrics from the results ("ruleset status size added removed
# policies chains-added chains-removed legacy", or "ruleset error"); gen-fw check
# --format prometheus writes the same lines.
# Set with -v: now (Unix time).
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
}
