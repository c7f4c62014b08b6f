# shellcheck shell=bash
# dockerd under systemd with the lab's flags: a drop-in that clears the unit's ExecStart and
# sets its own, written only when it differs, then daemon-reload and a restart.

# configure_dockerd DROPIN CONTENT DOCKERD
configure_dockerd() {
  local conflict
  [ -x "$3" ] || die "the drop-in runs $3, which is not there (this host's dockerd: $(command -v dockerd || echo none))"
  systemctl cat docker.service >/dev/null 2>&1 || die "there is no docker.service unit: overlab configures dockerd through a systemd drop-in"
  if [ -f "$docker_daemon_json" ]; then
    conflict=$(grep -oE '"(hosts|cluster-store|cluster-advertise|cluster-store-opts|labels)"[[:space:]]*:' "$docker_daemon_json" | sed -E 's/^"([^"]+)".*/\1/' | paste -sd, - | sed 's/,/, /g' || true)
    if [ -n "$conflict" ]; then
      die "$docker_daemon_json sets $conflict, which overlab passes as dockerd flags; dockerd refuses a setting given both ways, and a hosts entry also conflicts with the unit's -H fd://: remove those keys"
    fi
  fi
  write_file "$1" "$2"
  if [ "$changed" = 1 ]; then systemctl daemon-reload; fi
  ensure_unit docker "$changed"
}
