#!/usr/bin/env bash
# Two sites joined by an emulated wide-area link, for bench/transport.sh: network namespaces desloc-site-a (10.232.0.1)
# and desloc-site-b (10.232.0.2), each with a TUN device wan0 whose packets bench/DesLoc.Bench's delay-line process
# carries to the other site at RATE-MBIT after ONE-WAY-MS (this kernel has no netem). Needs root and a built bench.
# Touches only what it creates. usage: bash bench/wan.sh up RATE-MBIT ONE-WAY-MS [MTU=1500] | down
set -euo pipefail
cd "$(dirname "$0")/.."
PIDFILE=/run/desloc-wan.pid
BENCH=bench/DesLoc.Bench/bin/Release/net10.0/linux-x64/DesLoc.Bench.dll
SITES=(a b)

down() {
  if [[ -f $PIDFILE ]]; then kill "$(cat "$PIDFILE")" 2>/dev/null || true; rm -f "$PIDFILE"; fi
  for s in "${SITES[@]}"; do ip netns del "desloc-site-$s" 2>/dev/null || true; done
}

up() {
  local rate=$1 delay=$2 mtu=${3:-1500} i=0 log
  down
  log=$(mktemp)
  # The queue holds at most 50 ms of link time, as a router's buffer would.
  nohup dotnet "$BENCH" delay-line "$rate" "$delay" 50 desloc-wan-a=10.232.0.1 desloc-wan-b=10.232.0.2 >"$log" 2>&1 &
  echo $! >"$PIDFILE"
  for _ in $(seq 100); do grep -q READY "$log" && break; sleep 0.1; done
  grep -q READY "$log" || { cat "$log" >&2; down; exit 1; }
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
