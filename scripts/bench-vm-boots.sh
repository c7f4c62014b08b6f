#!/usr/bin/env bash
# The bare-boot baseline of the VM benchmark (npm run bench:vm): N guests of the local box
# (scripts/build-box.sh) booted at once with plain QEMU, as the lab's VMs boot (TCG emulation,
# the box's kernel and initrd, 768 MiB, one CPU, every CPU feature TCG has, as libvirt's
# host-model gives the lab's guests), each on a copy-on-write
# disk of its own. Prints, per guest, the seconds until its sshd sent its banner, then stops
# them. QEMU's user networking forwards each guest's port 22 to a loopback port of a network
# namespace made for the run (nothing else is reachable from there), and everything is removed
# on exit. Usage: bench-vm-boots.sh BOX_DIR [N] [CPU_MODEL] [KERNEL_ARGS]   (root; BOX_DIR holds
# box.img, vmlinuz, initrd.img, as Vagrant keeps an added box; KERNEL_ARGS are added to the
# kernel command line, e.g. the lab VMs' modprobe.blacklist=..., to compare boots with and without)
set -euo pipefail
box=${1:?usage: bench-vm-boots.sh BOX_DIR [N] [CPU_MODEL] [KERNEL_ARGS]}
n=${2:-3}
cpu=${3:-max}
extra=${4:-}
[ "$(id -u)" -eq 0 ] || { echo "bench-vm-boots: needs root (a network namespace)" >&2; exit 77; }
for f in box.img vmlinuz initrd.img; do [ -s "$box/$f" ] || { echo "bench-vm-boots: no $box/$f" >&2; exit 66; }; done

work=$(mktemp -d "${TMPDIR:-/tmp}/overlab-bench-vm.XXXXXX")
ns=ovlbench-vm.$$
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do while kill -0 "$p" 2>/dev/null; do sleep 0.1; done; done
  ip netns delete "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ip netns add "$ns"
ip -n "$ns" link set lo up

started=$(date +%s%N)
for i in $(seq 1 "$n"); do
  qemu-img create -q -f qcow2 -F qcow2 -b "$box/box.img" "$work/g$i.qcow2"
  # (A simple command in the background: $! is QEMU itself once ip has entered the namespace.)
  ip netns exec "$ns" qemu-system-x86_64 -machine pc,accel=tcg -cpu "$cpu" -m 768 -smp 1 \
    -kernel "$box/vmlinuz" -initrd "$box/initrd.img" \
    -append "root=/dev/vda rw console=ttyS0 net.ifnames=0 apparmor=0${extra:+ $extra}" \
    -drive "file=$work/g$i.qcow2,if=virtio" \
    -netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$((2220 + i))-:22" -device virtio-net-pci,netdev=n0 \
    -display none -serial "file:$work/g$i.console" -monitor none -nodefaults -no-user-config &
  pids+=($!)
done

# A guest is up when its sshd sends "SSH-2.0" on the forwarded port.
banner() { ip netns exec "$ns" timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1 && head -c 7 <&3" 2>/dev/null; }
declare -A done_at=()
deadline=$(( $(date +%s) + 1800 ))
while [ "${#done_at[@]}" -lt "$n" ]; do
  [ "$(date +%s)" -lt "$deadline" ] || { echo "bench-vm-boots: guests not up after 1800 s" >&2; exit 1; }
  for i in $(seq 1 "$n"); do
    [ -z "${done_at[$i]:-}" ] || continue
    if [ "$(banner $((2220 + i)))" = SSH-2.0 ]; then
      done_at[$i]=$(( ($(date +%s%N) - started) / 1000000 ))
    fi
  done
  sleep 1
done
for i in $(seq 1 "$n"); do printf 'guest %d: ssh banner after %d.%01d s\n' "$i" $((done_at[$i] / 1000)) $((done_at[$i] % 1000 / 100)); done
