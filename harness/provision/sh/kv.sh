# shellcheck shell=bash
# KV stores on the kv host: as systemd units from packages (etcd-server, zookeeper, HashiCorp's
# consul), or Consul from the hashicorp/consul image. Readiness is probed by the harness.

# kv_unit UNIT BINARY CONTENT [RESTART]: the store as a systemd unit, restarted when the unit
# changed or RESTART is 1 (its configuration file changed).
kv_unit() {
  local restart=${4:-0}
  [ -x "$2" ] || die "$2 is not installed"
  write_file "$systemd_units/$1.service" "$3"
  if [ "$changed" = 1 ]; then systemctl daemon-reload; restart=1; fi
  ensure_unit "$1" "$restart"
}

# ensure_package PACKAGE PATH: installs PACKAGE unless PATH exists.
ensure_package() {
  if [ ! -e "$2" ]; then apt_install "$1"; fi
}

# ensure_docker: an engine to run the Consul image; the distribution's is enough here.
ensure_docker() {
  command -v docker >/dev/null || apt_install docker.io
  ensure_unit docker 0
}

# kv_consul_container IMAGE LABEL DATADIR ARGS...: the hashicorp/consul image, host network.
# Its entrypoint adds -data-dir=/consul/data and -config-dir=/consul/config to `agent`.
# LABEL identifies ARGS: a container with other arguments is replaced.
kv_consul_container() {
  local image=$1 label=$2 data=$3 state
  shift 3
  if ! docker image inspect "$image" >/dev/null 2>&1; then
    log "docker pull $image"
    docker pull "$image" >&2 || die "cannot pull $image: does this host reach Docker Hub?"
  fi
  state=$(docker container inspect -f '{{.State.Running}} {{index .Config.Labels "overlab.args"}}' overlab-consul 2>/dev/null || true)
  case "$state" in
    "true $label") log "container overlab-consul is running" ; return 0 ;;
    "false $label") log "docker start overlab-consul"; docker start overlab-consul >/dev/null; return 0 ;;
    "") ;;
    *) log "replacing container overlab-consul: its arguments changed"; docker rm -f overlab-consul >/dev/null ;;
  esac
  mkdir -p "$data"
  log "docker run overlab-consul ($image $*)"
  docker run -d --name overlab-consul --restart unless-stopped --net host \
    -v "$data:/consul/data" --label "overlab.args=$label" "$image" "$@" >/dev/null
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
