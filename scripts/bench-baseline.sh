#!/usr/bin/env bash
# The bare-shell baseline the benchmark compares overlab with: the tutorial's steps done by
# hand (namespaces, etcd, two dockerds, image import, overlay, two containers, one cross-host
# ping), as fast as a shell can do them. Usage: bench-baseline.sh up|down ROOTFS_TAR
set -euo pipefail
P=ovlbench
R=/tmp/$P
verb=$1
tar=${2:-}

ns() { echo "$P.$1"; }
dk() { local h=$1; shift; docker -H "unix://$R/$h/docker.sock" "$@"; }

if [ "$verb" = up ]; then
  mkdir -p "$R"
  ip netns add "$(ns sw)"
  ip -n "$(ns sw)" link add br0 type bridge
  ip -n "$(ns sw)" link set br0 up
  i=5
  for h in kv d0 d1; do
    ip netns add "$(ns $h)"
    ip link add eth1 netns "$(ns $h)" type veth peer name "p$i" netns "$(ns sw)"
    ip -n "$(ns sw)" link set "p$i" master br0 up
    ip -n "$(ns $h)" addr add "172.28.128.$i/24" dev eth1
    ip -n "$(ns $h)" link set eth1 up
    ip -n "$(ns $h)" link set lo up
    i=$((i + 1))
  done
  nsenter --net="/run/netns/$(ns kv)" etcd --name kv --data-dir "$R/etcd" --enable-v2=true \
    --listen-client-urls http://172.28.128.5:2379 --advertise-client-urls http://172.28.128.5:2379 \
    --listen-peer-urls http://172.28.128.5:2380 --initial-advertise-peer-urls http://172.28.128.5:2380 \
    --initial-cluster kv=http://172.28.128.5:2380 >"$R/etcd.log" 2>&1 &
  echo $! >"$R/etcd.pid"
  until nsenter --net="/run/netns/$(ns kv)" busybox wget -q -O - http://172.28.128.5:2379/health 2>/dev/null | grep -q true; do sleep 0.05; done
  i=6
  for h in d0 d1; do
    mkdir -p "$R/$h"
    nsenter --net="/run/netns/$(ns $h)" unshare --uts --mount --propagation private sh -c \
      "hostname $h; mount -t tmpfs tmpfs /run; exec dockerd -H unix://$R/$h/docker.sock --data-root $R/$h/data --exec-root $R/$h/exec --pidfile $R/$h/docker.pid --cluster-store etcd://172.28.128.5:2379 --cluster-advertise 172.28.128.$i:2376 --dns 172.28.128.$i" \
      >"$R/$h.log" 2>&1 &
    echo $! >"$R/$h.pid"
    i=$((i + 1))
  done
  jobs=()
  for h in d0 d1; do
    until dk "$h" version >/dev/null 2>&1; do sleep 0.05; done
    dk "$h" import -c 'CMD ["sh"]' "$tar" overlab/busybox:latest >/dev/null &
    jobs+=($!)
  done
  wait "${jobs[@]}"
  dk d0 network create -d overlay --subnet 10.0.4.0/24 my-net >/dev/null
  until dk d1 network inspect my-net >/dev/null 2>&1; do sleep 0.05; done
  dk d0 run -d --name c0 --net my-net overlab/busybox:latest sh -c "trap 'exit 0' TERM; while :; do sleep 3600 & wait $!; done" >/dev/null &
  jobs=($!)
  dk d1 run -d --name c1 --net my-net overlab/busybox:latest sh -c "trap 'exit 0' TERM; while :; do sleep 3600 & wait $!; done" >/dev/null &
  jobs+=($!)
  wait "${jobs[@]}"
  dk d1 exec c1 ping -c 1 -W 2 c0 >/dev/null
elif [ "$verb" = down ]; then
  for h in d0 d1; do
    if [ -f "$R/$h.pid" ]; then kill "$(cat "$R/$h.pid")" 2>/dev/null || true; fi
  done
  for h in d0 d1; do while [ -f "$R/$h.pid" ] && kill -0 "$(cat "$R/$h.pid")" 2>/dev/null; do sleep 0.02; done; done
  if [ -f "$R/etcd.pid" ]; then kill "$(cat "$R/etcd.pid")" 2>/dev/null || true; fi
  while [ -f "$R/etcd.pid" ] && kill -0 "$(cat "$R/etcd.pid")" 2>/dev/null; do sleep 0.02; done
  for n in sw kv d0 d1; do ip netns del "$(ns $n)" 2>/dev/null || true; done
  rm -rf "$R"
else
  echo "usage: $0 up|down ROOTFS_TAR" >&2
  exit 64
fi
