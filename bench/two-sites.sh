#!/usr/bin/env bash
# Two sites for the two-tier benchmark (DESIGN.md §6): desloc-s{0,1}w{0,1} are the 2 x 2 workers' namespaces
# (10.231.78.{1..4}: site 0 holds .1 and .2, site 1 holds .3 and .4), joined inside each site by veth pairs to the
# site's bridge (desloc-site0, desloc-site1; links left unshaped: several Gbit/s on this machine). The sites are
# joined by one WAN veth pair whose both ends are shaped with tc netem (RATE each way, DELAY each way); on a kernel
# without sch_netem (this project's VMs: "Specified qdisc kind is unknown") the WAN gets tc tbf at RATE and no delay,
# and `up` says so on its last line ("wan: ..."), which the benchmark copies into its table. The
# benchmark process reaches every worker from the host through desloc-op2 (10.231.78.254) on site 0's bridge.
# Touches only what it creates. usage: bash bench/two-sites.sh up [RATE DELAY] | down | wan-bytes
set -euo pipefail
SITES=2
WORKERS=2

ns() { echo "desloc-s${1}w${2}"; }

down() {
  for s in $(seq 0 $((SITES - 1))); do
    for w in $(seq 0 $((WORKERS - 1))); do ip netns del "$(ns "$s" "$w")" 2>/dev/null || true; done
    ip netns del "desloc-site$s" 2>/dev/null || true
  done
  ip link del desloc-op2 2>/dev/null || true
}

up() {
  local rate="${1:-100mbit}" delay="${2:-10ms}"
  down
  for s in $(seq 0 $((SITES - 1))); do
    hub="desloc-site$s"
    ip netns add "$hub"
    ip -n "$hub" link add br0 type bridge
    ip -n "$hub" link set br0 up
    for w in $(seq 0 $((WORKERS - 1))); do
      n=$(ns "$s" "$w")
      ip netns add "$n"
      ip link add "$n-a" type veth peer name "$n-b"
      ip link set "$n-a" netns "$n"
      ip -n "$n" link set "$n-a" name eth0
      ip -n "$n" addr add "10.231.78.$((s * WORKERS + w + 1))/24" dev eth0
      ip -n "$n" link set eth0 up
      ip -n "$n" link set lo up
      ip link set "$n-b" netns "$hub"
      ip -n "$hub" link set "$n-b" master br0 up
    done
  done
  # The WAN: one veth pair between the two site bridges, shaped on both ends.
  ip link add desloc-wan0 type veth peer name desloc-wan1
  local shaping="netem rate $rate delay $delay each way"
  for s in 0 1; do
    ip link set "desloc-wan$s" netns "desloc-site$s"
    ip -n "desloc-site$s" link set "desloc-wan$s" master br0 up
    if ! ip netns exec "desloc-site$s" tc qdisc replace dev "desloc-wan$s" root netem rate "$rate" delay "$delay" limit 100000 2>/dev/null; then
      ip netns exec "desloc-site$s" tc qdisc replace dev "desloc-wan$s" root tbf rate "$rate" burst 32768 latency 100ms
      shaping="tbf rate $rate each way, no delay (this kernel has no sch_netem)"
    fi
  done
  ip link add desloc-op2 type veth peer name desloc-op2-b
  ip link set desloc-op2-b netns desloc-site0
  ip -n desloc-site0 link set desloc-op2-b master br0 up
  ip addr add 10.231.78.254/24 dev desloc-op2
  ip link set desloc-op2 up
  echo "wan: $shaping"
}

# Bytes that crossed the WAN so far, both directions (transmit counters of its two ends).
wan_bytes() {
  local total=0
  for s in 0 1; do
    total=$((total + $(ip netns exec "desloc-site$s" cat "/sys/class/net/desloc-wan$s/statistics/tx_bytes")))
  done
  echo "$total"
}

case "${1:-}" in
  up) up "${2:-100mbit}" "${3:-10ms}" ;;
  down) down ;;
  wan-bytes) wan_bytes ;;
  *) echo "usage: $0 up [RATE DELAY] | down | wan-bytes" >&2; exit 2 ;;
esac
