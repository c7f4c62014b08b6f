# shellcheck shell=bash
# The KV store's packages on the kv host (etcd-server, zookeeper, HashiCorp's consul) and the
# busybox the harness probes it with. Installed only: `up` runs the store as a transient unit.

# ensure_package PACKAGE PATH: installs PACKAGE unless PATH exists.
ensure_package() {
  if [ ! -e "$2" ]; then apt_install "$1"; fi
}

# consul_apt_repo: HashiCorp's apt repository, for the consul package.
consul_apt_repo() {
  local key=$apt_keyrings/hashicorp.asc codename arch
  codename=$(os_field UBUNTU_CODENAME)
  [ -n "$codename" ] || codename=$(os_field VERSION_CODENAME)
  if [ ! -s "$key" ]; then
    command -v curl >/dev/null || apt_install ca-certificates curl
    install -m 0755 -d "$apt_keyrings"
    log "fetching HashiCorp's apt key into $key"
    curl -fsSL https://apt.releases.hashicorp.com/gpg -o "$key.tmp" || die "cannot fetch https://apt.releases.hashicorp.com/gpg: does this host reach the internet?"
    chmod a+r "$key.tmp"
    mv "$key.tmp" "$key"
  fi
  arch=$(dpkg --print-architecture)
  write_file "$apt_sources/hashicorp.list" "deb [arch=$arch signed-by=/etc/apt/keyrings/hashicorp.asc] https://apt.releases.hashicorp.com $codename main"
  if [ "$changed" = 1 ]; then apt_fresh=0; fi
}

# ensure_busybox: the harness probes the store with busybox wget (and nc, od for ZooKeeper).
ensure_busybox() {
  command -v busybox >/dev/null || apt_install busybox-static
}
