#!/bin/sh
# Registrar benchmark: sustained digest-authenticated REGISTER/s with 0 failed transactions and
# memory per binding, b2bua vs Kamailio 5.6 (usrloc in memory, auth_db on db_text), one run.
#
#   run.sh [--short] [--bin PATH/TO/b2bua] [--kamailio-children N] [--sipps N] [--repeats N]
#          [--only b2bua|kamailio] [--keep]
#
# The server runs on CPU 0 and the sipp processes on CPU 1 (taskset).
# --short (the ctest check, label bench, < 60 s): 1,000 users, 5 s paced at 1000/s, rate steps
# 1000/2000/4000 per s of 2 s each; fails if b2bua fails a transaction in the paced run or
# cannot hold the first step.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=""
extra=""
while [ $# -gt 0 ]; do
  case "$1" in
    --short) extra="$extra --short"; shift ;;
    --bin) bin="$2"; shift 2 ;;
    --kamailio-children|--sipps|--repeats|--only) extra="$extra $1 $2"; shift 2 ;;
    --keep) extra="$extra --keep"; shift ;;
    *) echo "usage: $0 [--short] [--bin PATH] [--kamailio-children N] [--sipps N] [--repeats N] [--only SERVER] [--keep]" >&2
       exit 2 ;;
  esac
done
if [ -z "$bin" ]; then
  repo=$(cd "$here/../../.." && pwd)
  bin=$(find "$repo" -maxdepth 4 -path '*/b2bua/b2bua' -type f -perm -u+x 2>/dev/null | head -n 1)
fi
[ -n "$bin" ] && [ -x "$bin" ] || { echo "b2bua binary not found: pass --bin" >&2; exit 2; }
command -v kamailio >/dev/null || { echo "kamailio not installed (packaging/install-deps.sh --test)" >&2; exit 2; }
# shellcheck disable=SC2086
exec python3 -B "$here/bench_registrar.py" --b2bua "$bin" $extra
