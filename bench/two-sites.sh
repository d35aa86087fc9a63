#!/usr/bin/env bash
# Two sites for the two-tier benchmark (DESIGN.md §6): network namespaces desloc-site0 (10.231.79.1) and desloc-site1
# (10.231.79.2), joined by veth pairs to a bridge in desloc-wan. Every worker of a site runs in its site's namespace,
# so traffic inside a site stays on that namespace's own address (unshaped: GB/s on this machine) and only traffic
# between sites crosses the bridge. Each site's link to the bridge is shaped with tc netem (RATE and DELAY on each
# way); on a kernel without sch_netem (this project's VMs answer "Specified qdisc kind is unknown") it gets tc tbf at
# RATE and no delay, and `up` says which on its last line ("wan: ..."), which the benchmark copies into its table.
# The benchmark process reaches both sites from the host through desloc-op2 (10.231.79.254).
# Touches only what it creates. usage: bash bench/two-sites.sh up [RATE [DELAY]] | down | wan-bytes
set -euo pipefail
HUB=desloc-wan

down() {
  for s in 0 1; do ip netns del "desloc-site$s" 2>/dev/null || true; done
  ip netns del "$HUB" 2>/dev/null || true
  ip link del desloc-op2 2>/dev/null || true
}

up() {
  local rate="$1" delay="$2" shaping
  down
  shaping="netem rate $rate delay $delay each way"
  ip netns add "$HUB"
  ip -n "$HUB" link add br0 type bridge
  ip -n "$HUB" link set br0 up
  for s in 0 1; do
    ns="desloc-site$s"
    ip netns add "$ns"
    ip link add "$ns-a" type veth peer name "$ns-b"
    ip link set "$ns-a" netns "$ns"
    ip -n "$ns" link set "$ns-a" name eth0
    ip -n "$ns" addr add "10.231.79.$((s + 1))/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
    ip link set "$ns-b" netns "$HUB"
    ip -n "$HUB" link set "$ns-b" master br0 up
    if ! ip netns exec "$ns" tc qdisc replace dev eth0 root netem rate "$rate" delay "$delay" limit 100000 2>/dev/null; then
      ip netns exec "$ns" tc qdisc replace dev eth0 root tbf rate "$rate" burst 32768 latency 100ms
      shaping="tbf rate $rate each way, no delay (this kernel has no sch_netem)"
    fi
  done
  ip link add desloc-op2 type veth peer name desloc-op2-b
  ip link set desloc-op2-b netns "$HUB"
  ip -n "$HUB" link set desloc-op2-b master br0 up
  ip addr add 10.231.79.254/24 dev desloc-op2
  ip link set desloc-op2 up
  echo "wan: $shaping"
}

# Bytes the two sites have sent out of their namespaces so far: everything that crossed between sites (and the few
# status replies to the benchmark process).
wan_bytes() {
  local total=0
  for s in 0 1; do
    total=$((total + $(ip netns exec "desloc-site$s" cat /sys/class/net/eth0/statistics/tx_bytes)))
  done
  echo "$total"
}

case "${1:-}" in
  up) up "${2:-100mbit}" "${3:-20ms}" ;;
  down) down ;;
  wan-bytes) wan_bytes ;;
  *) echo "usage: $0 up [RATE [DELAY]] | down | wan-bytes" >&2; exit 2 ;;
esac
