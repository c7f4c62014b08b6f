#!/usr/bin/env bash
# Everything CI runs (npm run test:all, as root; another user's run goes through sudo): the suite
# (npm test) and the real-VM job (npm run test:vm), side by side from the start. The suite keeps
# about 1.3 of the 2 cores busy (namespaces, engines, etcd) and has time bounds of its own, so
# the VM job (package installs, the box build, then QEMU under emulation) runs at the lowest CPU
# priority (nice 19; the lowest best-effort I/O priority, where the disk's scheduler honours
# it): it takes what the suite leaves, and both cores once the suite is done. Run one after the other, the two took 27 + 22 minutes.
# Both jobs always run; the exit status is non-zero when either fails. The VM job's log follows
# the suite's; the last lines recap both runners' summaries, the suite's last.
set -uo pipefail
# shellcheck disable=SC1091 # scripts/lib/need-root.sh, checked on its own
. "$(dirname "$(readlink -f "$0")")/lib/need-root.sh"
need_root "$0" "$@"
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." || exit

log() { printf 'test-all: %s\n' "$*" >&2; }

out=$(mktemp -d "${TMPDIR:-/tmp}/overlab-test-all.XXXXXX")
vm_pid=
cleanup() {
  # The VM job runs in a session of its own: end all of it (apt, debootstrap, mocha, overlab,
  # vagrant), with time for overlab to stop what it started, then whatever is left.
  if [ -n "$vm_pid" ]; then
    kill -TERM -- "-$vm_pid" 2>/dev/null
    for _ in $(seq 1 30); do kill -0 -- "-$vm_pid" 2>/dev/null || break; sleep 1; done
    kill -KILL -- "-$vm_pid" 2>/dev/null
    wait "$vm_pid" 2>/dev/null
  fi
  rm -rf "$out"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "the real-VM job runs beside the suite at the lowest CPU priority (its log follows the suite's)"
setsid nice -n 19 ionice -c 2 -n 7 bash scripts/test-vm.sh >"$out/vm.log" 2>&1 &
vm_pid=$!

npm test 2>&1 | tee "$out/suite.log"
suite_rc=$?
suite_summary=$(grep -E '^mocha: ' "$out/suite.log" | tail -n 1)

log "the suite is done; the real-VM job's log so far, then as it goes"
tail -n +1 -f --pid="$vm_pid" "$out/vm.log"
wait "$vm_pid"
vm_rc=$?
vm_pid=
vm_summary=$(grep -E '^mocha: ' "$out/vm.log" | tail -n 1)
vm_summary="real VMs (npm run test:vm): ${vm_summary:-no summary, status $vm_rc}"

printf '\n%s\n' "$vm_summary"
printf 'suite (npm test): status %s\n' "$suite_rc"
printf '%s\n' "${suite_summary:-mocha: no summary (npm test exited with status $suite_rc)}"
[ "$suite_rc" -eq 0 ] && [ "$vm_rc" -eq 0 ]
