# iptables-check (see check_sets in check-family.sh): an `ipset save` file, gfw-* sets
# only (not gfw-tmp.N, the sets iptables-init is loading: no set of the user has a dot):
# "set :NAME DEFINITION" (without what the kernel picks)
# and "set -A NAME MEMBER" (without timeouts left, counters and comments).
NF < 3 || $2 !~ /^gfw-/ || $2 ~ /^gfw-tmp\./ { next }
$1 == "create" {
  def = ""
  for (i = 3; i <= NF; i++) {
    if ($i == "hashsize" || $i == "bucketsize" || $i == "initval") { i++; continue }
    def = def (def == "" ? "" : " ") $i
  }
  print "set :" $2 " " def
  next
}
$1 == "add" {
  m = $3
  for (i = 4; i <= NF; i++) if ($i == "nomatch") { m = m " nomatch"; break }
  print "set -A " $2 " " m
}
