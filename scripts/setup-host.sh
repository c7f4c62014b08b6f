#!/usr/bin/env bash
# Installs what overlab needs on a Debian/Ubuntu machine, from the distribution's packages,
# and only what is missing: the netns provider's engine, KV stores, busybox for the test
# image, sshd, iptables and iproute2, tcpdump for the underlay captures of the wire specs; Vagrant for `overlab render` checks; Graphviz for
# `overlab graph`; Chromium, headless, for the tests that look at pages; patchelf, gpgv, the
# Debian archive keyring (Ubuntu has its own), xz and zstd for engines from package archives; ZooKeeper and a Java
# runtime with --with-zookeeper; libvirt, vagrant-libvirt, QEMU and dnsmasq for
# `--libvirt local` (real VMs under emulation) with --with-libvirt. Safe to run again: it
# changes nothing when all is there.
# As another user it runs itself again with sudo (or says to run it as root, without sudo).
set -euo pipefail

with_zookeeper=0
with_libvirt=0
for arg in "$@"; do
  case "$arg" in
    --with-zookeeper) with_zookeeper=1 ;;
    --with-libvirt) with_libvirt=1 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "setup-host: unknown option $arg" >&2; exit 64 ;;
  esac
done

# shellcheck disable=SC1091 # scripts/lib/need-root.sh, checked on its own
. "$(dirname "$(readlink -f "$0")")/lib/need-root.sh"
need_root "$0" "$@"
if ! command -v apt-get >/dev/null; then
  echo "setup-host: needs apt-get (Debian or Ubuntu); install docker.io, etcd-server, busybox-static, openssh-server, iptables, iproute2 and vagrant by hand" >&2
  exit 69
fi

# package:command-that-proves-it-is-installed
wanted=(
  docker.io:dockerd
  etcd-server:etcd
  busybox-static:busybox
  openssh-server:sshd
  openssh-client:ssh
  iptables:iptables
  iproute2:ip
  tcpdump:tcpdump
  util-linux:nsenter
  vagrant:vagrant
  shellcheck:shellcheck
  file:file
  graphviz:dot
  chromium:chromium
  patchelf:patchelf
  gpgv:gpgv
  zstd:zstd
  xz-utils:xz
  nftables:nft
  debian-archive-keyring:/usr/share/keyrings/debian-archive-keyring.gpg
)
if [ "$with_zookeeper" = 1 ]; then
  wanted+=(zookeeper:/usr/share/java/zookeeper.jar default-jre-headless:java)
fi
if [ "$with_libvirt" = 1 ]; then
  # No systemd here: installing libvirt-daemon-system starts no daemon; the lab starts its own.
  wanted+=(libvirt-daemon-system:libvirtd libvirt-clients:virsh vagrant-libvirt:/usr/share/doc/vagrant-libvirt qemu-system-x86:qemu-system-x86_64 qemu-utils:qemu-img dnsmasq-base:dnsmasq debootstrap:debootstrap e2fsprogs:mkfs.ext4)
fi

missing=()
for entry in "${wanted[@]}"; do
  pkg=${entry%%:*}
  probe=${entry#*:}
  if [[ "$probe" == /* ]]; then
    [ -e "$probe" ] || missing+=("$pkg")
  else
    PATH="$PATH:/usr/sbin:/sbin" command -v "$probe" >/dev/null || missing+=("$pkg")
  fi
done
# A dynamically linked busybox cannot serve as the test image's only binary.
if command -v busybox >/dev/null && file -L "$(command -v busybox)" 2>/dev/null | grep -q dynamically; then
  missing+=(busybox-static)
fi

if [ "${#missing[@]}" -eq 0 ]; then
  echo "setup-host: everything is installed"
  exit 0
fi
echo "setup-host: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup-host: done"
