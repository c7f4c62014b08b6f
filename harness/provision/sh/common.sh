# shellcheck shell=bash
# Helpers every provisioning script starts with. Logs go to stderr; stdout carries only the
# `overlab: key=value` outcome lines. apt runs with a lock timeout (fresh VMs run unattended
# upgrades at boot) and `apt-get update` at most once per run, only when something is
# installed. Files are written only when their content differs and packages are installed only
# when missing: a second run changes nothing. No service is started or configured here (a
# package may start its own): the host's service manager (remote/systemd-services.ts) does
# that at `up`.
# Expects OVERLAB_HOST to be set by the generated script.

# Where things live; the unit tests point these at temporary files. Not every script uses all.
# shellcheck disable=SC2034
os_release=/etc/os-release \
  apt_keyrings=/etc/apt/keyrings \
  apt_sources=/etc/apt/sources.list.d \
  systemd_run=/run/systemd/system \
  usr_bin=/usr/bin \
  java_share=/usr/share/java

log() { printf 'overlab[%s]: %s\n' "$OVERLAB_HOST" "$*" >&2; }
die() { printf 'overlab[%s]: error: %s\n' "$OVERLAB_HOST" "$*" >&2; exit 1; }
outcome() { printf 'overlab: %s=%s\n' "$1" "$2"; }

export DEBIAN_FRONTEND=noninteractive
apt_fresh=0
apt_update() {
  if [ "$apt_fresh" = 0 ]; then
    log "apt-get update"
    apt-get -o DPkg::Lock::Timeout=300 update -qq >&2
    apt_fresh=1
  fi
}
apt_install() {
  apt_update
  log "apt-get install $*"
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "$@" >&2
}
# pkg_version PACKAGE: the installed version, or nothing (dpkg-query fails on a package it never saw).
pkg_version() {
  { dpkg-query -W -f='${Status} ${Version}\n' "$1" 2>/dev/null || true; } | awk '$1 == "install" && $3 == "installed" { print $4 }'
}
# upstream_version VERSION: 5:20.10.13~3-0~ubuntu-jammy -> 20.10.13, 20.10.24+dfsg1-1+b3 -> 20.10.24.
upstream_version() { printf '%s\n' "$1" | sed -E 's/^[0-9]+://; s/[-~+].*//'; }
# version_major VERSION: its leading number; dies when there is none.
version_major() {
  local major
  major=$(upstream_version "$1" | sed -nE 's/^([0-9]+)\..*/\1/p')
  [ -n "$major" ] || die "cannot read a version number in '$1'"
  printf '%s\n' "$major"
}
# version_matches VERSION WANTED: VERSION is WANTED or a release of it (20.10.24 matches 20.10, not 20.1).
version_matches() {
  local v
  v=$(upstream_version "$1")
  [ "$2" = latest ] || [ "$v" = "$2" ] || [ "${v#"$2".}" != "$v" ]
}
os_field() { sed -nE "s/^$1=\"?([^\"]*)\"?\$/\1/p" "$os_release"; }

# write_file PATH CONTENT: writes CONTENT and a newline only when the file differs; sets changed=1 when it wrote.
changed=0
# shellcheck disable=SC2034 # `changed` is read by the callers
write_file() {
  changed=0
  if [ -f "$1" ] && printf '%s\n' "$2" | cmp -s - "$1"; then return 0; fi
  mkdir -p "$(dirname "$1")"
  printf '%s\n' "$2" >"$1.overlab-tmp"
  mv "$1.overlab-tmp" "$1"
  log "wrote $1"
  changed=1
}
# require_host: the host is one overlab can provision.
require_host() {
  [ -d "$systemd_run" ] || die "this host does not run systemd: overlab runs dockerd and the KV store as systemd units"
  command -v apt-get >/dev/null || die "this host has no apt-get: overlab provisions Debian and Ubuntu hosts"
  [ -r "$os_release" ] || die "this host has no $os_release: overlab provisions Debian and Ubuntu hosts"
  [ "$(id -u)" -eq 0 ] || die "provisioning runs as root: the provider's runner must run it through sudo"
}
# require_address ADDRESS: the KV store binds to ADDRESS at `up`, so the host must have it.
require_address() {
  # Not grep -q: it exits at the first match, ip gets SIGPIPE, and pipefail fails the check.
  ip -4 -o addr show | grep -F " $1/" >/dev/null ||
    die "$1 is not an address of this host: the lab gives it $1 on its private network (ip -4 addr show lists $(ip -4 -o addr show | awk '{print $4}' | paste -sd' ' -))"
}
