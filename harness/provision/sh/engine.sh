# shellcheck shell=bash
# Installing the Docker engine: from Docker's apt repository (pinned to the newest release of
# the wanted version for the host's codename), the distribution's docker.io, or one already
# there. Each function checks what is installed before it changes anything. In kv mode an
# engine of 23.0 or newer is refused before it is installed, and after.

# refuse_kv_mode_engine VERSION WHAT: dies when VERSION is 23.0 or newer.
refuse_kv_mode_engine() {
  local major
  major=$(version_major "$1")
  if [ "$major" -ge 23 ]; then
    die "$2 is $(upstream_version "$1"): kv mode needs an engine older than 23.0, because --cluster-store and --cluster-advertise were removed in Docker 23.0 (moby/moby#42247). Set engine.version \"20.10\" with engine.install apt, use a host without this engine, or set engine.mode swarm"
  fi
}

# dockerd_version: the installed engine's version, from `dockerd --version`.
dockerd_version() {
  local out v
  out=$(dockerd --version 2>&1) || die "dockerd --version failed: $out"
  v=$(printf '%s\n' "$out" | sed -nE 's/^Docker version ([^ ,]+).*/\1/p')
  [ -n "$v" ] || die "cannot read the version in \`dockerd --version\`: $out"
  upstream_version "$v"
}

# pick_docker_version WANTED: reads `apt-cache madison docker-ce`; prints the full version string
# of the newest release whose upstream version is WANTED or a release of it ("latest": the
# newest), in either format: 5:20.10.13~3-0~ubuntu-jammy (before 23.0), 5:24.0.0-1~ubuntu.22.04~jammy.
pick_docker_version() {
  awk -F'|' -v want="$1" '
    {
      v = $2; gsub(/[[:space:]]/, "", v); u = v
      sub(/^[0-9]+:/, "", u); sub(/[-~+].*/, "", u)
      if (u != "" && (want == "latest" || u == want || index(u, want ".") == 1)) print u, v
    }' | sort -t' ' -k1,1Vr | awk 'NR == 1 { print $2 }'
}

# madison_upstreams: reads `apt-cache madison docker-ce`; prints its newest upstream versions on one line.
madison_upstreams() {
  awk -F'|' '{ v = $2; gsub(/[[:space:]]/, "", v); sub(/^[0-9]+:/, "", v); sub(/[-~+].*/, "", v); if (v != "") print v }' |
    sort -Vru | awk 'NR <= 12 { printf "%s%s", (NR > 1 ? " " : ""), $0 } END { print "" }'
}

# docker_repo_os: "ubuntu" or "debian", the name of Docker's repository for this host.
docker_repo_os() {
  local id
  id=$(os_field ID)
  case "$id" in
    ubuntu|debian) printf '%s\n' "$id" ;;
    *)
      if [ -n "$(os_field UBUNTU_CODENAME)" ]; then printf 'ubuntu\n'
      else die "Docker's apt repository serves Ubuntu and Debian; this host is '$id': set engine.install distro or preinstalled"
      fi ;;
  esac
}

# host_codename: the release codename that names the apt suites (jammy, bookworm).
host_codename() {
  local c
  c=$(os_field UBUNTU_CODENAME)
  [ -n "$c" ] || c=$(os_field VERSION_CODENAME)
  [ -n "$c" ] || die "$os_release names no release codename (VERSION_CODENAME)"
  printf '%s\n' "$c"
}

# install_engine_apt WANTED MODE: docker-ce, docker-ce-cli and containerd.io from Docker's repository.
install_engine_apt() {
  local want=$1 mode=$2 installed os codename arch madison version have
  local key=$apt_keyrings/docker.asc
  installed=$(pkg_version docker-ce)
  if [ -n "$installed" ] && version_matches "$installed" "$want"; then
    log "docker-ce $installed is installed"
    return 0
  fi
  if [ "$mode" = kv ] && command -v dockerd >/dev/null; then
    have=$(dockerd_version)
    refuse_kv_mode_engine "$have" "the Docker engine installed on this host"
  fi
  os=$(docker_repo_os)
  codename=$(host_codename)
  if [ ! -s "$key" ]; then
    command -v curl >/dev/null || apt_install ca-certificates curl
    install -m 0755 -d "$apt_keyrings"
    log "fetching Docker's apt key into $key"
    curl -fsSL "https://download.docker.com/linux/$os/gpg" -o "$key.tmp" || die "cannot fetch https://download.docker.com/linux/$os/gpg: does this host reach the internet?"
    chmod a+r "$key.tmp"
    mv "$key.tmp" "$key"
  fi
  arch=$(dpkg --print-architecture)
  write_file "$apt_sources/docker.list" "deb [arch=$arch signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.com/linux/$os $codename stable"
  if [ "$changed" = 1 ]; then apt_fresh=0; fi
  apt_update
  madison=$(apt-cache madison docker-ce)
  version=$(printf '%s\n' "$madison" | pick_docker_version "$want")
  if [ -z "$version" ]; then
    die "Docker's apt repository has no docker-ce $want for $os $codename (it has: $(printf '%s\n' "$madison" | madison_upstreams)). Pick an engine.version it has, a box of a release that $want was built for, or engine.install distro"
  fi
  if [ "$mode" = kv ]; then refuse_kv_mode_engine "$version" "docker-ce $version (the newest $want for $codename)"; fi
  if apt-cache show "docker-ce-cli=$version" >/dev/null 2>&1; then
    # docker-ce-cli and containerd.io exist from 18.09 on; containerd.io has its own versions.
    apt_install --allow-downgrades --allow-change-held-packages "docker-ce=$version" "docker-ce-cli=$version" containerd.io
    apt-mark hold docker-ce docker-ce-cli >/dev/null
  else
    apt_install --allow-downgrades --allow-change-held-packages "docker-ce=$version"
    apt-mark hold docker-ce >/dev/null
  fi
}

# install_engine_distro MODE: the distribution's docker.io.
install_engine_distro() {
  local mode=$1 installed candidate
  installed=$(pkg_version docker.io)
  if [ -n "$installed" ]; then
    log "docker.io $installed is installed"
    return 0
  fi
  apt_update
  candidate=$(apt-cache policy docker.io | awk '$1 == "Candidate:" { print $2 }')
  if [ -z "$candidate" ] || [ "$candidate" = "(none)" ]; then
    die "this distribution ($(os_field PRETTY_NAME)) has no docker.io package: set engine.install apt"
  fi
  if [ "$mode" = kv ]; then refuse_kv_mode_engine "$candidate" "the distribution's docker.io $candidate"; fi
  apt_install docker.io
}

# prepare_engine_tree: the lab's engine comes from a tree sent at up and runs under the host's
# docker.service (a drop-in), beside the host's own containerd: an installed engine brings the
# unit. Installs the distribution's docker.io for it only when the host has no engine (its
# version does not matter).
prepare_engine_tree() {
  if command -v dockerd >/dev/null; then
    log "the host's engine brings docker.service, which runs the lab's engine tree"
    return 0
  fi
  install_engine_distro swarm
}

# check_engine_preinstalled: the engine must already be there.
check_engine_preinstalled() {
  command -v dockerd >/dev/null ||
    die "engine.install is preinstalled, but this host has no dockerd (dockerd --version found nothing): install Docker on it, or set engine.install apt or distro"
}

# engine_outcome WANTED MODE: checks the installed engine against the mode and reports its version.
engine_outcome() {
  local v
  command -v dockerd >/dev/null || die "no dockerd after the engine was installed"
  v=$(dockerd_version)
  if [ "$2" = kv ]; then refuse_kv_mode_engine "$v" "the Docker engine on this host"; fi
  case "$1" in
    distro|latest) ;;
    *) version_matches "$v" "$1" || log "warning: engine.version is $1, but this host's engine is $v" ;;
  esac
  outcome engine "$v"
}

# allow_login_user: lets the user who logged in and ran sudo reach the engine's socket, which
# the harness forwards over SSH (a user outside group docker gets "permission denied").
allow_login_user() {
  local u=${SUDO_USER:-}
  if [ -z "$u" ] || [ "$u" = root ]; then return 0; fi
  getent group docker >/dev/null || return 0
  if id -nG "$u" | tr ' ' '\n' | grep -qx docker; then return 0; fi
  usermod -aG docker "$u"
  log "added $u to group docker"
}
