# The ipset commands that make the live sets (the second file) what is wanted (the first),
# both as gfw_sets_normal writes them (init-sets.sh). -v alt: the prefix of the temporary
# set names of this commit (gfw.TIME.PID.: no set name of gen-fw.yaml holds a "."); -v out:
# the prefix of the files written (see gfw_commit in init-commit.sh):
#   out.stage  before the rules: a set that is not live is created and filled under its own
#              name (no rule names it yet); a set whose definition or members differ is
#              filled under a temporary name, which the new rules name instead
#   out.map    "NAME TEMPORARY", a line for each of those
#   out.final  after the rules: each of those refilled under its own name (a second
#              temporary set, then ipset swap), for the rules to name it again
#   out.drop   the live sets that are not wanted: destroyed once no rule names them
# A set that is live as wanted is left alone.
FNR == 1 { f++ }
$1 == "create" {
  d = $0; sub(/^create [^ ]+ /, "", d)
  if (f == 1) { want[++nwant] = $2; wdef[$2] = d } else { live[++nlive] = $2; ldef[$2] = d }
  next
}
$1 == "add" {
  m = $0; sub(/^add [^ ]+ /, "", m)
  if (f == 1) wmem[$2] = wmem[$2] "\n" m; else lmem[$2] = lmem[$2] "\n" m
}
function fill(name, from, file,   n, j, m) {
  print "create " name " " wdef[from] > file
  n = split(substr(wmem[from], 2), m, "\n")
  for (j = 1; j <= n; j++) print "add " name " " m[j] > file
}
END {
  stage = out ".stage"; final = out ".final"; map = out ".map"; drop = out ".drop"
  printf "" > stage; printf "" > final; printf "" > map; printf "" > drop
  k = 0
  for (i = 1; i <= nwant; i++) {
    s = want[i]
    if (!(s in ldef)) { fill(s, s, stage); continue }
    if (ldef[s] == wdef[s] && lmem[s] == wmem[s]) continue
    k++
    fill(alt k, s, stage)
    print s " " alt k > map
    fill(alt "t" k, s, final)
    print "swap " alt "t" k " " s > final
    print "destroy " alt "t" k > final
  }
  for (i = 1; i <= nlive; i++) if (!(live[i] in wdef)) print live[i] > drop
}
