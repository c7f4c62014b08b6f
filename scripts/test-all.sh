#!/usr/bin/env bash
# Everything CI runs (npm run test:all, as root; another user's run goes through sudo): the suite (npm test) and the real-VM job
# (npm run test:vm). The VM job's network- and disk-bound preparation (libvirt packages and the
# box build, about 4 minutes on a fresh machine) runs beside the suite, which mostly waits on
# namespaces and engines; the VMs boot after the suite, as QEMU emulation needs both cores.
# (Tried: the whole VM job beside the suite at nice 19. The suite, which keeps about 1.3 of the
# 2 cores busy, then took 36 minutes instead of about 28 and the VMs ran at 55-75% of their
# speed: the run as a whole took longer than one job after the other.)
# Both jobs always run; the exit status is non-zero when either fails. The last lines recap
# both runners' summaries, the suite's last.
set -uo pipefail
# shellcheck disable=SC1091 # scripts/lib/need-root.sh, checked on its own
. "$(dirname "$(readlink -f "$0")")/lib/need-root.sh"
need_root "$0" "$@"
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." || exit

log() { printf 'test-all: %s\n' "$*" >&2; }

out=$(mktemp -d "${TMPDIR:-/tmp}/overlab-test-all.XXXXXX")
prep_pid=
cleanup() {
  # The preparation runs in a session of its own: stop all of it (apt, debootstrap), not just bash.
  if [ -n "$prep_pid" ]; then kill -- "-$prep_pid" 2>/dev/null; wait "$prep_pid" 2>/dev/null; fi
  rm -rf "$out"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "preparing the real-VM job in the background (log: $out/prepare.log)"
# (In a shell of its own that notes how long the preparation itself took: $SECONDS starts at 0 there.)
# shellcheck disable=SC2016
setsid bash -c 'bash scripts/test-vm.sh --prepare; rc=$?; echo "took $SECONDS s"; exit $rc' >"$out/prepare.log" 2>&1 &
prep_pid=$!

npm test 2>&1 | tee "$out/suite.log"
suite_rc=$?
suite_summary=$(grep -E '^mocha: ' "$out/suite.log" | tail -n 1)

wait "$prep_pid"
prep_rc=$?
prep_pid=
log "real-VM preparation, run beside the suite: status $prep_rc, $(tail -n 1 "$out/prepare.log")"
if [ "$prep_rc" -ne 0 ]; then
  tail -n 40 "$out/prepare.log" >&2
  vm_rc=$prep_rc
  vm_summary="mocha (real VMs): not run, the preparation failed (status $prep_rc)"
else
  bash scripts/test-vm.sh 2>&1 | tee "$out/vm.log"
  vm_rc=$?
  vm_summary=$(grep -E '^mocha: ' "$out/vm.log" | tail -n 1)
  vm_summary="real VMs (npm run test:vm): ${vm_summary:-no summary, status $vm_rc}"
fi

printf '\n%s\n' "$vm_summary"
printf 'suite (npm test): status %s\n' "$suite_rc"
printf '%s\n' "${suite_summary:-mocha: no summary (npm test exited with status $suite_rc)}"
[ "$suite_rc" -eq 0 ] && [ "$vm_rc" -eq 0 ]
