# What belongs to other tools: read by the save filter of iptables-init --save and by the
# normaliser of iptables-check, as src/check/normalise-dump.ts decides it for gen-fw check.
# The facts come from src/shared/ownership.ts, through the settings. Set with -v:
#   ignore    an ERE of the chain names of other tools (drift_check.ignore_chains)
#   owned     an ERE of the chain names gen-fw owns: never left out, whatever ignore says
#   ifaces    an ERE of the bridges of Docker: rules of dockerd in a built-in chain name one
#   builtins  the built-in chains, "table:CHAIN ..." (filter:INPUT filter:FORWARD ...)
#   drules    an ERE of whole rules ("-A CHAIN ...") dockerd writes into chains not its own
# (No single quotes in runtime awk files: the render puts each in a single-quoted string.)
BEGIN {
  nb = split(builtins, builtin, " ")
  for (bi = 1; bi <= nb; bi++) { split(builtin[bi], bp, ":"); builtin_name[bp[2]] = 1 }
}
function foreign(c) { return c ~ ignore && c !~ owned }
# A rule ($0, split) that dockerd put straight into a built-in chain: its -i or -o (also
# after "!") is a bridge of Docker.
function dockers(   i) {
  if (!($2 in builtin_name)) return 0
  for (i = 3; i < NF; i++) if (($i == "-i" || $i == "-o") && $(i + 1) ~ ifaces) return 1
  return 0
}
# A rule ($0, from "-A") that dockerd wrote into a chain that is not its own: its plain
# RETURN in DOCKER-USER, the hairpin MASQUERADE of a published port.
function dockers_rule() { return drules != "" && $0 ~ drules }
