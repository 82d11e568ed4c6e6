#!/bin/sh
# packer/rehearse.sh BUNDLE ROOT [SUITE [MIRROR]] — the null.rehearsal build's step.
#
# Bakes a rendered gen-fw bundle into a local Debian root, as the AMI build does on its
# instance, then "boots" it: netfilter-persistent start inside a scratch network
# namespace (so this machine's firewall is never touched), and the drift check there.
# ROOT is debootstrapped (minbase) when it has no etc/debian_version; it is kept, and
# a second run reuses it (install.sh is idempotent). Needs root, debootstrap, unshare.
set -eu
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH

[ $# -ge 2 ] || { echo "usage: rehearse.sh BUNDLE ROOT [SUITE [MIRROR]]" >&2; exit 2; }
bundle=$1 root=$2 suite=${3:-bookworm} mirror=${4:-http://deb.debian.org/debian}
[ "$(id -u)" = 0 ] || { echo "rehearse.sh: must run as root (sudo packer build ...)" >&2; exit 3; }
[ -f "$bundle/install.sh" ] || { echo "rehearse.sh: $bundle is not a rendered bundle" >&2; exit 2; }

if [ ! -f "$root/etc/debian_version" ]; then
  echo "rehearse.sh: debootstrap $suite into $root ($mirror)"
  mkdir -p "$root"
  debootstrap --variant=minbase "$suite" "$root" "$mirror"
fi

sh "$bundle/install.sh" --root "$root"

install_dir=$(sed -n 's/^  "install_dir": "\(.*\)",$/\1/p' "$bundle/manifest.json")
echo "rehearse.sh: booting $root in a scratch network namespace"
# shellcheck disable=SC2016 # expanded by the inner shell
unshare --net --mount --propagation private -- sh -eu -c '
  root=$1 install_dir=$2
  mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
  mount -t tmpfs -o mode=0755 tmpfs "$root/run"
  ip link set lo up
  chroot "$root" /usr/sbin/netfilter-persistent start
  chroot "$root" /usr/sbin/netfilter-persistent reload
  echo "rehearse.sh: booted; IPv4 filter table:"
  chroot "$root" iptables-save -t filter | grep -v "^#"
  if [ -x "$root$install_dir/iptables-check" ]; then chroot "$root" "$install_dir/iptables-check"; fi
' sh "$root" "$install_dir"
echo "rehearse.sh: $root is baked and boots with its firewall"
