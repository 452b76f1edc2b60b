#!/bin/bash
# The NAT lab (see README.md): builds network namespaces, runs b2bua, kamailio and sipp in them,
# prints one PASS/FAIL/SKIP/XFAIL line per check and removes everything on exit, failure or
# interrupt. Exit 0 only when every check passed, was skipped with a reason, or is the expected
# baseline failure; exit 77 (skipped) when this machine cannot build the lab at all.
#
#   tests/natlab/natlab.sh path/to/b2bua [PHASE[,PHASE...]]   (default: every phase)
#   NATLAB_KEEP=1 ... keeps the logs and the capture (the folder is printed)
set -u
here=$(cd "$(dirname "$0")" && pwd)
binary=${1:-${B2BUA_BIN:-}}
[ -n "${2:-}" ] && export NATLAB_PHASES=$2

skip() { echo "SKIP natlab: $*"; exit 77; }  # ctest reports it as skipped, never as passed
[ "$(id -u)" = 0 ] || skip "needs root to create network namespaces (CI runs it as root)"
[ -n "$binary" ] && [ -x "$binary" ] || { echo "FAIL natlab: no b2bua binary given ('$binary')"; exit 1; }
for tool in ip nft tshark kamailio sipp conntrack python3 ss turnserver; do
  command -v "$tool" >/dev/null || { echo "FAIL natlab: $tool is missing (packaging/install-deps.sh --test)"; exit 1; }
done
ip netns add "b2bnat-probe-$$" 2>/dev/null || skip "cannot create network namespaces here"
ip netns del "b2bnat-probe-$$"

prefix="b2bnat-$$"
workdir=$(mktemp -d /tmp/natlab-XXXXXX)
child=""

cleanup() {
  trap - EXIT INT TERM
  if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
    kill -TERM "$child" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$child" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$child" 2>/dev/null
  fi
  # Whatever the lab left behind (it removes its own on a normal exit): processes still inside
  # our namespaces are ended by PID, then the namespaces go.
  for ns in $(ip netns list | awk '{print $1}' | grep "^$prefix-"); do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
  if [ "${NATLAB_KEEP:-0}" = 1 ]; then echo "# natlab files kept in $workdir"; else rm -rf "$workdir"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

python3 -B "$here/natlab.py" "$prefix" "$binary" "$workdir" &
child=$!
wait "$child"
rc=$?
child=""
exit $rc
