#!/usr/bin/env bash
# Builds a libvirt Vagrant box of Debian 12 from Debian's packages (no hypervisor, no loop
# mounts) and adds it as overlab/debian12-<hash>, where <hash> is the hash of this script, the
# package lists in it included. A box whose hash is already built and added is left as it is.
#   sudo scripts/build-box.sh            build (if needed) and add the box; print its name
#   scripts/build-box.sh --name          print the box name only
# Cache: $OVERLAB_BOX_CACHE, default ~/.cache/overlab/box. Mirror: $OVERLAB_BOX_MIRROR.
# The image has no boot loader: the box's Vagrantfile boots the kernel and initrd it carries
# (vagrant-libvirt's kernel/initrd/cmd_line), under QEMU's emulation.
set -euo pipefail

suite=bookworm
mirror=${OVERLAB_BOX_MIRROR:-http://deb.debian.org/debian}
cache=${OVERLAB_BOX_CACHE:-${HOME:-/root}/.cache/overlab/box}
disk_gib=4
# Packages debootstrap unpacks into the minimal base.
base_packages=systemd-sysv,openssh-server,sudo,iproute2,ifupdown,isc-dhcp-client,linux-image-cloud-amd64,ca-certificates,iputils-ping
# Packages installed in a chroot afterwards: what overlab runs on a host.
chroot_packages=(dbus docker.io etcd-server busybox-static iptables tcpdump)
# Host tools: package:command that proves it is installed.
host_tools=(debootstrap:debootstrap e2fsprogs:mkfs.ext4 qemu-utils:qemu-img vagrant:vagrant)

log() { printf 'build-box: %s\n' "$*" >&2; }
die() { log "$1"; exit "${2:-1}"; }

self=$(readlink -f "${BASH_SOURCE[0]}")
hash=$(sha256sum "$self" | cut -c1-12)
name=overlab/debian12-$hash

case "${1:-}" in
  --name) printf '%s\n' "$name"; exit 0 ;;
  -h|--help) sed -n '2,9p' "$self"; exit 0 ;;
  '') ;;
  *) die "unknown option $1 (try --help)" 64 ;;
esac

# shellcheck disable=SC1091 # scripts/lib/need-root.sh, checked on its own
. "$(dirname "$(readlink -f "$0")")/lib/need-root.sh"
need_root "$0" "$@"

# --- host tools, from Debian's packages, only what is missing
missing=()
for entry in "${host_tools[@]}"; do
  PATH="$PATH:/usr/sbin:/sbin" command -v "${entry#*:}" >/dev/null || missing+=("${entry%%:*}")
done
if [ "${#missing[@]}" -gt 0 ]; then
  command -v apt-get >/dev/null || die "needs ${missing[*]}, and apt-get is not there to install them" 69
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
export PATH="$PATH:/usr/sbin:/sbin"

box_dir=$cache/$hash
box_file=$box_dir/overlab-debian12.box

box_added() { vagrant box list --machine-readable 2>/dev/null | grep -q ",box-name,${name}\$"; }

if [ -s "$box_file" ] && box_added; then
  log "$name is built and added ($box_file)"
  printf '%s\n' "$name"
  exit 0
fi

mkdir -p "$box_dir"
started=$SECONDS

if [ ! -s "$box_file" ]; then
  # Vagrant's insecure public key, as Debian's vagrant package ships it.
  pubkey=$(find /usr/share/rubygems-integration/all/gems /usr/lib/ruby/vendor_ruby /opt/vagrant \
    -path '*/keys/vagrant.pub' -print -quit 2>/dev/null || true)
  [ -n "$pubkey" ] || die "Vagrant's insecure public key (gems/vagrant-*/keys/vagrant.pub) was not found: install Debian's vagrant package" 69

  work=$(mktemp -d "$cache/tmp.XXXXXX")
  root=$work/rootfs
  mounted=()

  cleanup() {
    local status=$? i m
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
      m=${mounted[i]}
      umount "$m" 2>/dev/null || umount -l "$m" || log "could not unmount $m"
    done
    # Never remove a tree that still has a mount in it: /dev bound inside would go with it.
    if grep -qF " $work/" /proc/self/mountinfo; then
      log "mounts are left under $work; not removing it"
    else
      rm -rf --one-file-system "$work"
    fi
    exit "$status"
  }
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM

  bind() { # bind SOURCE TARGET-IN-ROOT [mount options...]
    local src=$1 dst=$root$2
    shift 2
    mkdir -p "$dst"
    mount "$@" "$src" "$dst"
    mounted+=("$dst")
  }
  in_root() { LC_ALL=C DEBIAN_FRONTEND=noninteractive chroot "$root" "$@"; }

  log "debootstrap $suite (minbase) from $mirror"
  t=$SECONDS
  debootstrap --variant=minbase --include="$base_packages" "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -n 20 "$work/debootstrap.log" >&2; die "debootstrap failed (log above)"; }
  log "debootstrap took $((SECONDS - t)) s"

  bind proc /proc -t proc
  bind sysfs /sys -t sysfs
  bind /dev /dev --bind
  bind /dev/pts /dev/pts --bind

  # No service starts inside the chroot.
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod 0755 "$root/usr/sbin/policy-rc.d"

  log "installing ${chroot_packages[*]} in the chroot"
  t=$SECONDS
  in_root apt-get install -y -qq --no-install-recommends "${chroot_packages[@]}" >"$work/apt.log" 2>&1 \
    || { tail -n 20 "$work/apt.log" >&2; die "apt-get install in the chroot failed (log above)"; }
  log "chroot install took $((SECONDS - t)) s"

  rm -f "$root/usr/sbin/policy-rc.d"

  echo overlab-debian12 >"$root/etc/hostname"
  printf '127.0.0.1\tlocalhost\n127.0.1.1\toverlab-debian12\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
  printf '/dev/vda / ext4 defaults 0 1\n' >"$root/etc/fstab"
  printf 'auto lo\niface lo inet loopback\n\nauto eth0\niface eth0 inet dhcp\n\nsource /etc/network/interfaces.d/*\n' >"$root/etc/network/interfaces"

  in_root useradd --create-home --shell /bin/bash vagrant
  printf 'vagrant ALL=(ALL) NOPASSWD:ALL\n' >"$root/etc/sudoers.d/vagrant"
  chmod 0440 "$root/etc/sudoers.d/vagrant"
  install -d -m 0700 "$root/home/vagrant/.ssh"
  install -m 0600 "$pubkey" "$root/home/vagrant/.ssh/authorized_keys"
  in_root chown -R vagrant:vagrant /home/vagrant/.ssh

  # Every VM gets its own machine id and SSH host keys at first boot, not copies of these.
  # Under emulation an RSA key takes long to make: only ECDSA and Ed25519 keys.
  : >"$root/etc/machine-id"
  rm -f "$root"/etc/ssh/ssh_host_*
  cat >"$root/usr/local/sbin/overlab-host-keys" <<'KEYS'
#!/bin/sh
# overlab box: makes this machine's SSH host keys at first boot (ECDSA and Ed25519 only).
set -e
for type in ecdsa ed25519; do
  key=/etc/ssh/ssh_host_${type}_key
  [ -s "$key" ] || ssh-keygen -q -t "$type" -N '' -f "$key"
done
KEYS
  chmod 0755 "$root/usr/local/sbin/overlab-host-keys"
  printf 'HostKey /etc/ssh/ssh_host_ecdsa_key\nHostKey /etc/ssh/ssh_host_ed25519_key\n' \
    >"$root/etc/ssh/sshd_config.d/overlab-host-keys.conf"
  mkdir -p "$root/etc/systemd/system/ssh.service.d"
  printf '[Service]\nExecStartPre=\nExecStartPre=/usr/local/sbin/overlab-host-keys\nExecStartPre=/usr/sbin/sshd -t\n' \
    >"$root/etc/systemd/system/ssh.service.d/overlab-host-keys.conf"

  # What Vagrant would do over SSH after boot (insert a login key, set the hostname, configure
  # the lab's network), each a round trip of minutes under emulation, comes from the kernel
  # command line overlab writes per machine, before the network and sshd start:
  # overlab.hostname=NAME overlab.eth1=ADDRESS/PREFIX overlab.key=TYPE:BASE64. Without them
  # the box stays Vagrant's usual box (insecure key, DHCP on eth0 only).
  cat >"$root/usr/local/sbin/overlab-first-boot" <<'FIRSTBOOT'
#!/bin/sh
# overlab box: this machine's name, lab address and login key from the kernel command line.
set -eu
name='' eth1='' key=''
for arg in $(cat /proc/cmdline); do
  case "$arg" in
    overlab.hostname=*) name=${arg#*=} ;;
    overlab.eth1=*) eth1=${arg#*=} ;;
    overlab.key=*) key=${arg#*=} ;;
  esac
done
if [ -n "$name" ]; then
  printf '%s\n' "$name" >/etc/hostname
  hostname "$name"
  sed -i "s/^127\.0\.1\.1[[:space:]].*/127.0.1.1\t$name/" /etc/hosts
fi
if [ -n "$eth1" ]; then
  printf 'auto eth1\niface eth1 inet static\n\taddress %s\n' "$eth1" >/etc/network/interfaces.d/overlab-eth1
fi
if [ -n "$key" ]; then
  # The lab's key replaces Vagrant's insecure one.
  printf '%s %s overlab\n' "${key%%:*}" "${key#*:}" >/home/vagrant/.ssh/authorized_keys.new
  chown vagrant:vagrant /home/vagrant/.ssh/authorized_keys.new
  chmod 0600 /home/vagrant/.ssh/authorized_keys.new
  mv /home/vagrant/.ssh/authorized_keys.new /home/vagrant/.ssh/authorized_keys
fi
FIRSTBOOT
  chmod 0755 "$root/usr/local/sbin/overlab-first-boot"
  cat >"$root/etc/systemd/system/overlab-first-boot.service" <<'UNIT'
[Unit]
Description=overlab: name, lab address and login key from the kernel command line
DefaultDependencies=no
After=local-fs.target
Before=network-pre.target networking.service ssh.service
Wants=network-pre.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/overlab-first-boot

[Install]
WantedBy=sysinit.target
UNIT
  mkdir -p "$root/etc/systemd/system/sysinit.target.wants"
  ln -s /etc/systemd/system/overlab-first-boot.service "$root/etc/systemd/system/sysinit.target.wants/overlab-first-boot.service"

  # Boot to SSH sooner under emulation, where three guests share two cores: nothing starts at
  # boot that a lab host does not need then. The engine and its containerd start when overlab's
  # provisioning (re)starts docker.service with its drop-in (a unit that is not enabled starts
  # all the same); Debian's own etcd unit never does (overlab runs the KV store as its own unit,
  # overlab-etcd). Modules and file systems no lab uses are not loaded or mounted (each took
  # 6-19 s of a booting guest's time, measured with systemd-analyze blame).
  rm -f "$root/etc/systemd/system/multi-user.target.wants/docker.service" \
    "$root/etc/systemd/system/sockets.target.wants/docker.socket" \
    "$root/etc/systemd/system/multi-user.target.wants/containerd.service" \
    "$root/etc/systemd/system/multi-user.target.wants/etcd.service"
  for unit in modprobe@dm_mod.service modprobe@loop.service modprobe@fuse.service modprobe@efi_pstore.service \
    modprobe@drm.service e2scrub_reap.service sys-kernel-debug.mount sys-kernel-tracing.mount \
    sys-fs-fuse-connections.mount; do
    ln -sf /dev/null "$root/etc/systemd/system/$unit"
  done

  in_root apt-get clean
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/log/*.log "$root"/var/log/apt/*

  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount "${mounted[i]}"; done
  mounted=()

  kernel=$(find "$root/boot" -maxdepth 1 -name 'vmlinuz-*' | sort -V | tail -n 1)
  initrd=$(find "$root/boot" -maxdepth 1 -name 'initrd.img-*' | sort -V | tail -n 1)
  if [ -z "$kernel" ] || [ -z "$initrd" ]; then die "no kernel or initrd in $root/boot"; fi

  log "making the ${disk_gib} GiB ext4 image and converting it to qcow2"
  t=$SECONDS
  mkdir -p "$work/box"
  mkfs.ext4 -q -L overlab-root -d "$root" -F "$work/box.raw" "${disk_gib}G"
  qemu-img convert -O qcow2 "$work/box.raw" "$work/box/box.img"
  rm -f "$work/box.raw"
  cp "$kernel" "$work/box/vmlinuz"
  cp "$initrd" "$work/box/initrd.img"
  printf '{"provider":"libvirt","format":"qcow2","virtual_size":%d}\n' "$disk_gib" >"$work/box/metadata.json"
  cat >"$work/box/Vagrantfile" <<'VAGRANTFILE'
# overlab/debian12: no boot loader in the image; boot the kernel and initrd this box carries.
Vagrant.configure("2") do |config|
  config.vm.provider :libvirt do |lv|
    lv.driver = "qemu"
    lv.kernel = File.expand_path("vmlinuz", __dir__)
    lv.initrd = File.expand_path("initrd.img", __dir__)
    lv.cmd_line = "root=/dev/vda rw console=ttyS0 net.ifnames=0"
    lv.graphics_type = "none"
    lv.video_type = "none"
    lv.memory = 768
    lv.cpus = 1
  end
end
VAGRANTFILE
  tar -C "$work/box" -czf "$work/box.tmp" metadata.json Vagrantfile vmlinuz initrd.img box.img
  mv "$work/box.tmp" "$box_file"
  log "image and box took $((SECONDS - t)) s"
fi

if ! box_added; then
  vagrant box add --name "$name" "$box_file" >&2
fi
log "built $name in $((SECONDS - started)) s: $box_file ($(du -h "$box_file" | cut -f1))"
printf '%s\n' "$name"
