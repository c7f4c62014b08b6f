#!/usr/bin/env bash
# The real-VM tests (specs/vm, outside the normal suite): installs what they need when it is
# missing (Debian packages: libvirt, vagrant-libvirt, QEMU, dnsmasq), builds the local box when
# it is not built (scripts/build-box.sh), then runs mocha on specs/vm. Needs root (as another
# user it runs itself again with sudo):
#   npm run test:vm                 prepare, then run the VM specs
#   npm run test:vm -- --prepare    prepare only (packages and box), print the box name
# Never starts the machine's own libvirtd: the tests start one of the lab's own, or a test
# server's, in a namespace.
set -euo pipefail

log() { printf 'test-vm: %s\n' "$*" >&2; }
die() { log "$1"; exit "${2:-1}"; }

# shellcheck disable=SC1091 # scripts/lib/need-root.sh, checked on its own
. "$(dirname "$(readlink -f "$0")")/lib/need-root.sh"
need_root "$0" "$@"
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."

prepare_only=false
if [ "${1:-}" = --prepare ]; then prepare_only=true; shift; fi

# What --libvirt local needs: libvirt, vagrant-libvirt, QEMU, dnsmasq (and the box builder's tools).
t=$SECONDS
scripts/setup-host.sh --with-libvirt >&2
log "packages ready ($((SECONDS - t)) s)"
t=$SECONDS
box=$(bash scripts/build-box.sh)
log "box $box ready ($((SECONDS - t)) s)"
if $prepare_only; then printf '%s\n' "$box"; exit 0; fi

export OVERLAB_VM_BOX=$box
exec npx mocha --no-config --node-option import=tsx --extension ts --timeout 3600000 --reporter ./specs/support/summary-reporter.cjs 'specs/vm/**/*.spec.ts' "$@"
