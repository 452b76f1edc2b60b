#!/usr/bin/env bash
# Voice-session benchmark: N answering-machine sessions (play a 10 s prompt + record up to 60 s,
# PCMU, 50 packets/s each way) on ONE media worker, next to N relayed calls (50 packets/s each
# way per call) on the same host program, in the same run. The host (b2bua_voice_host) runs on
# CPU 0, the callers' generator (voice_loadgen, a separate process: its CPU is not counted) on
# CPU 1 (taskset).
#   voice_run.sh --short [--bin DIR]      ~15 s smoke run (ctest bench.media.voice): N=20 relay
#                                         and voice; fails only when something is grossly wrong
#   voice_run.sh [--bin DIR] [--repeats N] [--steps "10 25 50 100 200"] [--duration S]
#                                         full run: markdown table, medians of N (default 3)
#   --rt                                  also run host and generator at SCHED_FIFO 10 (chrt; root):
#                                         on a machine shared with builds, taskset alone does not
#                                         keep other tasks off the host's core, this does
#   --precise-timer                       run the host with EVENT_PRECISE_TIMER=1: libevent's timers
#                                         then use CLOCK_MONOTONIC, not CLOCK_MONOTONIC_COARSE (whose
#                                         4 ms tick at HZ=250 makes prompt packets up to 4 ms late)
#   --clustered                           start all voice sessions at once (default: their packet
#                                         phases spread over 20 ms, like the relayed calls')
# Every process is started here and ended by its PID. Ports (tests/README.md): the block in
# B2BUA_TEST_PORT_BASE/B2BUA_TEST_PORT_COUNT when given (ctest runs this through
# tests/integration/common/ports.py), else a 2000-port block taken through ports.py; the generator
# takes ephemeral ports.
set -euo pipefail

mode=full
bin=$(cd "$(dirname "$0")/../../../build/tests/bench/media" 2>/dev/null && pwd || true)
repeats=3
steps="10 25 50 100 200"
duration=8
rt=""
phases=spread
hostenv=""
while (($#)); do
  case $1 in
    --short) mode=short ;;
    --bin) bin=$2; shift ;;
    --repeats) repeats=$2; shift ;;
    --steps) steps=$2; shift ;;
    --duration) duration=$2; shift ;;
    --rt) rt="chrt -f 10" ;;
    --clustered) phases=clustered ;;
    --precise-timer) hostenv="EVENT_PRECISE_TIMER=1" ;;
    *) echo "usage: $0 [--short] [--bin DIR] [--repeats N] [--steps LIST] [--duration S]" >&2; exit 2 ;;
  esac
  shift
done
here=$(cd "$(dirname "$0")" && pwd)
if [[ -z ${B2BUA_TEST_PORT_BASE:-} ]]; then
  # Take a block of test ports the same way ctest does (a file lock held for the whole run).
  exec python3 -B "$here/../../integration/common/ports.py" --count 2000 -- "$0" \
    $([[ $mode == short ]] && echo --short) $([[ -n $rt ]] && echo --rt) $([[ $phases == clustered ]] && echo --clustered) $([[ -n $hostenv ]] && echo --precise-timer) --bin "$bin" --repeats "$repeats" --steps "$steps" --duration "$duration"
fi
if ((${#bin} == 0)) || [[ ! -x $bin/voice_loadgen || ! -x $bin/b2bua_voice_host ]]; then
  echo "no binaries in '$bin' (use --bin)" >&2; exit 2
fi
tmp=$(mktemp -d /tmp/b2bua-voice-bench.XXXXXX)
host_pid=""
gen_pid=""
stop_pid() { [[ -n $1 ]] && kill "$1" 2>/dev/null && wait "$1" 2>/dev/null || true; }
cleanup() { stop_pid "$gen_pid"; stop_pid "$host_pid"; rm -rf "$tmp"; }
trap cleanup EXIT

ncpu=$(nproc)
host_cpu=0
gen_cpu=$((ncpu > 1 ? 1 : 0))
port_min=$B2BUA_TEST_PORT_BASE
port_max=$((B2BUA_TEST_PORT_BASE + ${B2BUA_TEST_PORT_COUNT:-200} - 2))
echo "pinning: media host (1 worker) on CPU $host_cpu, generator on CPU $gen_cpu (taskset; $ncpu CPUs)${rt:+; both at SCHED_FIFO 10 ($rt)}; voice phases $phases${hostenv:+; host $hostenv}" >&2

# measure relay|voice N PRIME DURATION: prints "<generator line> <host line>".
measure() {
  local what=$1 n=$2 prime=$3 dur=$4
  rm -f "$tmp/gen_ports" "$tmp/pairs" "$tmp/host_pid" "$tmp/host_out"
  $rt taskset -c $gen_cpu "$bin/voice_loadgen" --mode "$what" --sessions "$n" --ports-out "$tmp/gen_ports" \
    --pairs "$tmp/pairs" --cpu-pid-file "$tmp/host_pid" --prime "$prime" --duration "$dur" >"$tmp/out" &
  gen_pid=$!
  for _ in $(seq 100); do [[ -s $tmp/gen_ports ]] && break; sleep 0.05; done
  # The prompt is queued so it plays through priming and the whole window.
  local repeats_prompt
  repeats_prompt=$(awk -v p="$prime" -v d="$dur" 'BEGIN{print int((p + d + 3) / 10) + 1}')
  $rt env $hostenv taskset -c $host_cpu "$bin/b2bua_voice_host" "$what" $port_min $port_max "$tmp/gen_ports" "$tmp/pairs" \
    "$repeats_prompt" "$phases" >"$tmp/host_out" &
  host_pid=$!
  echo $host_pid >"$tmp/host_pid.tmp" && mv "$tmp/host_pid.tmp" "$tmp/host_pid"
  wait $gen_pid || true
  gen_pid=""
  stop_pid "$host_pid"
  host_pid=""
  echo "$(cat "$tmp/out") $(cat "$tmp/host_out")"
}

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }

if [[ $mode == short ]]; then
  fail=0
  n=20
  relay=$(measure relay $n 0.5 3); echo "$relay"
  voice=$(measure voice $n 0.5 3); echo "$voice"
  rc=$(field cpu_us_per_session_s <<<" $relay")
  vc=$(field cpu_us_per_session_s <<<" $voice")
  [[ $(field received <<<" $relay") -gt 0 ]] || { echo "FAIL: the relay relayed nothing"; fail=1; }
  [[ $(field min_rx <<<" $voice") -gt 0 ]] || { echo "FAIL: a voice session sent the caller nothing"; fail=1; }
  [[ $(field recordings <<<" $voice") == "$n" ]] || { echo "FAIL: $(field recordings <<<" $voice") of $n recordings reported"; fail=1; }
  [[ $(awk -v s="$(field recorded_s <<<" $voice")" -v n=$n 'BEGIN{print (s >= n * 1.0)}') == 1 ]] ||
    { echo "FAIL: recordings too short (total $(field recorded_s <<<" $voice") s for $n sessions)"; fail=1; }
  ratio=$(awk -v v="$vc" -v r="$rc" 'BEGIN{ if (r > 0) printf "%.2f", v / r; else print "inf" }')
  echo "voice CPU per session-second ${vc} us, relay per call-second ${rc} us: ratio $ratio"
  [[ $(awk -v x="$ratio" 'BEGIN{print (x != "inf" && x <= 10)}') == 1 ]] || { echo "FAIL: a voice session costs ${ratio}x a relayed call (> 10x)"; fail=1; }
  ((fail == 0)) && echo "bench voice short: OK"
  exit $fail
fi

results=$tmp/results
for ((rep = 0; rep < repeats; rep++)); do
  for n in $steps; do
    if ((rep % 2 == 0)); then order="relay voice"; else order="voice relay"; fi
    for what in $order; do
      echo "repeat $((rep + 1)) $what N=$n" >&2
      line=$(measure $what "$n" 1 "$duration"); echo "$line" >&2
      echo "$what $n $line" >>"$results"
    done
  done
done
cp "$results" "${VOICE_BENCH_RESULTS:-/dev/null}" 2>/dev/null || true
echo "Host on CPU $host_cpu, generator on CPU $gen_cpu (taskset)${rt:+, both SCHED_FIFO 10}; voice session phases $phases${hostenv:+; host $hostenv}; $repeats repeats, ${duration} s windows."
python3 "$here/voice_table.py" "$results"
