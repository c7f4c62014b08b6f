#!/usr/bin/env bash
# The real-VM tests (specs/vm, outside the normal suite): installs what they need when it is
# missing (Debian packages: libvirt, vagrant-libvirt, QEMU, dnsmasq), builds the local box when
# it is not built (scripts/build-box.sh), then runs mocha on specs/vm. Needs root (as another
# user it runs itself again with sudo):
#   npm run test:vm                 prepare, then run the VM specs
#   npm run test:vm -- --prepare    prepare only (packages and box), print the box name
# Never starts the machine's own libvirtd: the tests start one of the lab's own, in a namespace.
set -euo pipefail

log() { printf 'test-vm: %s\n' "$*" >&2; }
die() { log "$1"; exit "${2:-1}"; }

# shellcheck disable=SC1091 # scripts/lib/need-root.sh, checked on its own
. "$(dirname "$(readlink -f "$0")")/lib/need-root.sh"
need_root "$0" "$@"
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."

# Debian packages the local libvirt needs (NOTES.md, "Real Vagrant VMs here").
packages=(libvirt-daemon-system libvirt-clients vagrant vagrant-libvirt qemu-system-x86 qemu-utils dnsmasq-base busybox-static)

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

install_missing() {
  local missing=() p
  for p in "${packages[@]}"; do installed "$p" || missing+=("$p"); done
  [ "${#missing[@]}" -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "needs ${missing[*]}, and apt-get is not there to install them" 69
  log "installing ${missing[*]}"
  local t=$SECONDS
  # No systemd here: installing libvirt-daemon-system starts no daemon.
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  log "installed in $((SECONDS - t)) s"
}

prepare_only=false
if [ "${1:-}" = --prepare ]; then prepare_only=true; shift; fi

install_missing
t=$SECONDS
box=$(bash scripts/build-box.sh)
log "box $box ready ($((SECONDS - t)) s)"
if $prepare_only; then printf '%s\n' "$box"; exit 0; fi

export OVERLAB_VM_BOX=$box
exec npx mocha --no-config --node-option import=tsx --extension ts --timeout 3600000 --reporter ./specs/support/summary-reporter.cjs 'specs/vm/**/*.spec.ts' "$@"
