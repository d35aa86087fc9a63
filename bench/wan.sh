#!/usr/bin/env bash
# Two sites joined by an emulated wide-area link, for bench/transport.sh: network namespaces desloc-site-a (10.232.0.1)
# and desloc-site-b (10.232.0.2), each with a TUN device wan0 whose packets the delay line (bench/delay-line.sh)
# carries to the other site at RATE-MBIT after ONE-WAY-MS, with at most 50 ms of queue. Needs root.
# Touches only what it creates. usage: bash bench/wan.sh up RATE-MBIT ONE-WAY-MS [MTU=1500] | down
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/delay-line.sh
PIDFILE=/run/desloc-wan.pid
SITES=(a b)

down() {
  delay_line_stop "$PIDFILE"
  for s in "${SITES[@]}"; do ip netns del "desloc-site-$s" 2>/dev/null || true; done
}

up() {
  local rate=$1 delay=$2 mtu=${3:-1500} i=0
  down
  delay_line_start "$PIDFILE" "$rate" "$delay" 50 desloc-wan-a=10.232.0.1 desloc-wan-b=10.232.0.2
  for s in "${SITES[@]}"; do
    i=$((i + 1))
    ip netns add "desloc-site-$s"
    ip link set "desloc-wan-$s" netns "desloc-site-$s"
    ip -n "desloc-site-$s" link set "desloc-wan-$s" name wan0
    ip -n "desloc-site-$s" link set wan0 mtu "$mtu" up
    ip -n "desloc-site-$s" addr add "10.232.0.$i/24" dev wan0
    ip -n "desloc-site-$s" link set lo up
  done
}

case "${1:-}" in
  up) up "${2:?RATE-MBIT}" "${3:?ONE-WAY-MS}" "${4:-1500}" ;;
  down) down ;;
  *) echo "usage: bash bench/wan.sh up RATE-MBIT ONE-WAY-MS [MTU] | down" >&2; exit 2 ;;
esac
