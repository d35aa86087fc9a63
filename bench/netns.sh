#!/usr/bin/env bash
# Network namespaces for the slow-link benchmarks: desloc-r0..r3 (one replica each, 10.231.77.1-4) joined by veth
# pairs to a bridge in desloc-hub; the benchmark process reaches them from the host through desloc-op
# (10.231.77.254). With ONE-WAY-MS, every namespace's eth0 and the host's desloc-op are instead TUN devices of the
# delay line (bench/delay-line.sh), so each packet between any two of them arrives ONE-WAY-MS after it left (a
# round trip of twice that); tc still shapes each replica's outgoing link. Touches only what it creates.
# usage: bash bench/netns.sh up [ONE-WAY-MS] | down | rate RATE (e.g. 1gbit, 50mbit)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/delay-line.sh
N=4
HUB=desloc-hub
PIDFILE=/run/desloc-netns-delay.pid

down() {
  delay_line_stop "$PIDFILE"
  for i in $(seq 0 $((N - 1))); do ip netns del "desloc-r$i" 2>/dev/null || true; done
  ip netns del "$HUB" 2>/dev/null || true
  ip link del desloc-op 2>/dev/null || true
}

up() {
  down
  if [[ -n ${1:-} ]]; then
    up_delayed "$1"
    return
  fi
  ip netns add "$HUB"
  ip -n "$HUB" link add br0 type bridge
  ip -n "$HUB" link set br0 up
  for i in $(seq 0 $((N - 1))); do
    ns="desloc-r$i"
    ip netns add "$ns"
    ip link add "$ns-a" type veth peer name "$ns-b"
    ip link set "$ns-a" netns "$ns"
    ip -n "$ns" link set "$ns-a" name eth0
    ip -n "$ns" addr add "10.231.77.$((i + 1))/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
    ip link set "$ns-b" netns "$HUB"
    ip -n "$HUB" link set "$ns-b" master br0 up
  done
  ip link add desloc-op type veth peer name desloc-op-b
  ip link set desloc-op-b netns "$HUB"
  ip -n "$HUB" link set desloc-op-b master br0 up
  ip addr add 10.231.77.254/24 dev desloc-op
  ip link set desloc-op up
}

# The replicas and the host behind the delay line; its own rate is unlimited (100 Gbit/s), tc sets the replicas'.
up_delayed() {
  local sites=(desloc-op=10.231.77.254)
  for i in $(seq 0 $((N - 1))); do sites+=("desloc-tun$i=10.231.77.$((i + 1))"); done
  delay_line_start "$PIDFILE" 100000 "$1" 1000 "${sites[@]}"
  for i in $(seq 0 $((N - 1))); do
    ns="desloc-r$i"
    ip netns add "$ns"
    ip link set "desloc-tun$i" netns "$ns"
    ip -n "$ns" link set "desloc-tun$i" name eth0
    ip -n "$ns" addr add "10.231.77.$((i + 1))/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
  done
  ip addr add 10.231.77.254/24 dev desloc-op
  ip link set desloc-op up
}

# Every replica's outgoing link shaped to RATE (token bucket; the burst is about 2 ms of traffic, at least 32 KB).
rate() {
  local bits burst
  bits=$(tc_bits "$1")
  burst=$((bits / 8 / 500))
  ((burst < 32768)) && burst=32768
  for i in $(seq 0 $((N - 1))); do
    ip netns exec "desloc-r$i" tc qdisc replace dev eth0 root tbf rate "$1" burst "$burst" latency 100ms
  done
}

tc_bits() {
  case "$1" in
    *gbit) echo $(( ${1%gbit} * 1000000000 )) ;;
    *mbit) echo $(( ${1%mbit} * 1000000 )) ;;
    *kbit) echo $(( ${1%kbit} * 1000 )) ;;
    *) echo "$1" ;;
  esac
}

case "${1:-}" in
  up) up "${2:-}" ;;
  down) down ;;
  rate) rate "$2" ;;
  *) echo "usage: $0 up [ONE-WAY-MS] | down | rate RATE" >&2; exit 2 ;;
esac
