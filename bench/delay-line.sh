# Sourced by bench/wan.sh and bench/netns.sh: start and stop the user-space delay line (DesLoc.Bench delay-line), which
# creates one TUN device per NAME=ADDRESS and carries each IPv4 packet to the device owning its destination after
# the downlink's rate and the one-way delay (this kernel has no netem). Needs root and a built bench (Release).
DELAY_LINE_BENCH=bench/DesLoc.Bench/bin/Release/net10.0/linux-x64/DesLoc.Bench.dll

# usage: delay_line_start PIDFILE RATE-MBIT ONE-WAY-MS QUEUE-MS NAME=ADDRESS...   (returns once the devices exist)
delay_line_start() {
  local pidfile=$1 log
  shift
  [[ -f $DELAY_LINE_BENCH ]] || dotnet build -c Release bench/DesLoc.Bench -v q -nologo >/dev/null
  log=$(mktemp)
  nohup dotnet "$DELAY_LINE_BENCH" delay-line "$@" >"$log" 2>&1 &
  echo $! >"$pidfile"
  for _ in $(seq 100); do grep -q READY "$log" && return 0; sleep 0.1; done
  cat "$log" >&2
  delay_line_stop "$pidfile"
  return 1
}

# usage: delay_line_stop PIDFILE   (its TUN devices vanish with the process)
delay_line_stop() {
  local pid
  if [[ -f $1 ]]; then
    pid=$(cat "$1")
    kill "$pid" 2>/dev/null || true
    # Wait until it is gone, or its devices' names would still be taken.
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    rm -f "$1"
  fi
}
