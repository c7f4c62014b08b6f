# shellcheck shell=bash
# Sourced by the scripts that need root. `need_root "$0" "$@"` returns when this is root; else
# it runs the script again with sudo when sudo is installed (keeping PATH, so npm and node are
# found), and otherwise says what to run and exits 77.
need_root() {
  [ "$(id -u)" -eq 0 ] && return 0
  local script name
  script=$(readlink -f "$1")
  name=$(basename "$script" .sh)
  shift
  if command -v sudo >/dev/null 2>&1; then
    printf '%s: needs root; running it again with sudo\n' "$name" >&2
    exec sudo -- env "PATH=$PATH" bash "$script" "$@"
  fi
  printf '%s: needs root, and sudo is not installed: run it as root, e.g. su -c %q\n' "$name" "$script${*:+ $*}" >&2
  exit 77
}
