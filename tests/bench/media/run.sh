#!/usr/bin/env bash
# Relay benchmark: minimal forwarder (anchor), b2bua's relay and rtpengine (userspace,
# --table=-1) measured in one run, interleaved, relay pinned to CPU 0 and generator to CPU 1.
#   run.sh --short [--bin DIR]   ~40 s smoke run (ctest label bench): every relay relays,
#                                b2bua's relay recovers from overload
#   run.sh [--bin DIR] [--repeats N]   full run: markdown table, medians of N (default 3)
# Every process is started here and ended by its PID. Ports (tests/README.md): the block in
# B2BUA_TEST_PORT_BASE/B2BUA_TEST_PORT_COUNT when given (ctest runs this through
# tests/integration/common/ports.py), else fixed ones; the generator takes ephemeral ports.
set -euo pipefail

mode=full
bin=$(cd "$(dirname "$0")/../../../build-media/tests/bench/media" 2>/dev/null && pwd || true)
repeats=3
while (($#)); do
  case $1 in
    --short) mode=short ;;
    --bin) bin=$2; shift ;;
    --repeats) repeats=$2; shift ;;
    *) echo "usage: $0 [--short] [--bin DIR] [--repeats N]" >&2; exit 2 ;;
  esac
  shift
done
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d /tmp/b2bua-relay-bench.XXXXXX)
relay_pid=""
gen_pid=""
stop_pid() { [[ -n $1 ]] && kill "$1" 2>/dev/null && wait "$1" 2>/dev/null || true; }
cleanup() { stop_pid "$gen_pid"; stop_pid "$relay_pid"; rm -rf "$tmp"; }
trap cleanup EXIT

if ((${#bin} == 0)) || [[ ! -x $bin/rtp_loadgen ]]; then echo "no binaries in '$bin' (use --bin)" >&2; exit 2; fi
ncpu=$(nproc)
relay_cpu=0
gen_cpu=$((ncpu > 1 ? 1 : 0))
if [[ -n ${B2BUA_TEST_PORT_BASE:-} ]]; then
  port_min=$B2BUA_TEST_PORT_BASE
  port_max=$((B2BUA_TEST_PORT_BASE + ${B2BUA_TEST_PORT_COUNT:-1000} - 2))
else
  if [[ $mode == short ]]; then port_min=32000; else port_min=30000; fi
  port_max=33989
fi
ng_port=$((port_max + 1))  # rtpengine's ng control, on 127.0.0.1

# start_relay NAME CALLS: starts the relay on CPU 0; it writes $tmp/pairs once configured.
start_relay() {
  local name=$1 calls=$2
  case $name in
    minimal)
      taskset -c $relay_cpu "$bin/min_forwarder" $port_min $calls "$tmp/pairs" &
      relay_pid=$! ;;
    b2bua)
      taskset -c $relay_cpu "$bin/b2bua_relay_host" $port_min $port_max "$tmp/gen_ports" "$tmp/pairs" &
      relay_pid=$! ;;
    rtpengine)
      mkdir -p "$tmp/rtpe"
      taskset -c $relay_cpu rtpengine --config-file=none --table=-1 --interface=127.0.0.1 \
        --listen-ng=127.0.0.1:$ng_port --port-min=$port_min --port-max=$port_max --num-threads=1 \
        --foreground --log-stderr --log-level=3 --pidfile="$tmp/rtpe/pid" --timeout=3600 \
        2>"$tmp/rtpe/log" &
      relay_pid=$!
      for _ in $(seq 50); do
        python3 -c "import socket;s=socket.socket(2,2);s.settimeout(0.2);s.sendto(b'p d7:command4:pinge',('127.0.0.1',$ng_port));s.recv(99)" 2>/dev/null && break
        sleep 0.1
      done
      python3 "$here/rtpengine_calls.py" $ng_port "$tmp/gen_ports" "$tmp/pairs" ;;
  esac
  echo $relay_pid >"$tmp/relay_pid"
}

# measure RELAY CALLS GENERATOR-ARGS...: prints the generator's key=value line.
measure() {
  local name=$1 calls=$2
  shift 2
  rm -f "$tmp/gen_ports" "$tmp/pairs" "$tmp/relay_pid"
  taskset -c $gen_cpu "$bin/rtp_loadgen" --calls "$calls" --ports-out "$tmp/gen_ports" --pairs "$tmp/pairs" \
    --cpu-pid-file "$tmp/relay_pid" "$@" >"$tmp/out" &
  gen_pid=$!
  for _ in $(seq 100); do [[ -s $tmp/gen_ports ]] && break; sleep 0.05; done
  start_relay "$name" "$calls" >/dev/null
  wait $gen_pid || true
  gen_pid=""
  stop_pid "$relay_pid"
  relay_pid=""
  echo "relay=$name $(cat "$tmp/out")"
}

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }

if [[ $mode == short ]]; then
  fail=0
  for relay in minimal b2bua rtpengine; do
    line=$(measure $relay 100 --mode paced --prime 0.5 --duration 3)
    echo "$line"
    got=$(field received <<<"$line")
    if [[ -z $got || $got -eq 0 ]]; then echo "FAIL: $relay relayed nothing"; fail=1; fi
  done
  line=$(measure b2bua 100 --mode overload --prime 0.5 --rate 150000 --burst 2 --duration 2)
  echo "$line"
  streams=$(field streams <<<"$line")
  recovered=$(field recovered <<<"$line")
  if [[ -z $recovered || $recovered != "$streams" ]]; then echo "FAIL: b2bua recovered $recovered of $streams streams"; fail=1; fi
  ((fail == 0)) && echo "bench short: OK"
  exit $fail
fi

# Full mode: interleave the relays in every repeat, rotate their order.
results=$tmp/results
relays=(minimal b2bua rtpengine)
for ((rep = 0; rep < repeats; rep++)); do
  for ((k = 0; k < 3; k++)); do
    relay=${relays[$(((k + rep) % 3))]}
    echo "repeat $((rep + 1)) $relay" >&2
    line=$(measure $relay 500 --mode paced --prime 1 --duration 8); echo "$line" >&2
    echo "$relay paced500 $line" >>"$results"
    # Latency where the generator is far from its own limit.
    line=$(measure $relay 100 --mode paced --prime 0.5 --duration 4); echo "$line" >&2
    echo "$relay paced100 $line" >>"$results"
    line=$(measure $relay 50 --mode window --window 8 --prime 0.5 --duration 5); echo "$line" >&2
    echo "$relay window $line" >>"$results"
    max_calls=0
    [[ $(awk -v l="$(field loss_pct <<<"$(grep "^$relay paced500" "$results" | tail -1)")" 'BEGIN{print (l<0.1)}') == 1 ]] && max_calls=500
    if ((max_calls == 500)); then
      for calls in 750 1000; do
        line=$(measure $relay $calls --mode paced --prime 1 --duration 4); echo "$line" >&2
        if [[ $(awk -v l="$(field loss_pct <<<"$line")" 'BEGIN{print (l<0.1)}') == 1 ]]; then max_calls=$calls; else break; fi
      done
    fi
    echo "$relay capacity calls=$max_calls" >>"$results"
    pps=$(field pps <<<"$(grep "^$relay window" "$results" | tail -1)")
    rate=$(awk -v p="$pps" 'BEGIN{printf "%d", 2*p}')
    line=$(measure $relay 100 --mode overload --prime 0.5 --rate "$rate" --burst 3 --duration 3); echo "$line" >&2
    echo "$relay overload $line" >>"$results"
  done
done
python3 "$here/bench_table.py" "$results"
