#!/bin/sh
# Storage burst benchmark: 10,000 binding writes and 10,000 call-record inserts, queued through
# the storage thread vs direct synchronous writes (the anchor), on tmpfs and on the real disk.
#
#   run.sh [--short] [--bin PATH/TO/storage_bench]
#
# Full mode prints a markdown table (10,000 rows for every run). --short is the ctest check
# (label bench): the queued bursts stay at 10,000 rows, the anchor is cut to 200 rows (one fsync each) so the
# run stays well under 20 s on slow disks; it fails if any row is missing afterwards.
set -eu

short=0
bin=""
while [ $# -gt 0 ]; do
  case "$1" in
    --short) short=1; shift ;;
    --bin) bin="$2"; shift 2 ;;
    *) echo "usage: $0 [--short] [--bin PATH]" >&2; exit 2 ;;
  esac
done

if [ -z "$bin" ]; then
  repo=$(cd "$(dirname "$0")/../../.." && pwd)
  bin=$(find "$repo" -maxdepth 5 -name storage_bench -type f -perm -u+x 2>/dev/null | head -n 1)
fi
if [ -z "$bin" ] || [ ! -x "$bin" ]; then
  echo "storage_bench not found: build it (target storage_bench) or pass --bin" >&2
  exit 2
fi

rows=10000
direct_rows=10000
if [ "$short" -eq 1 ]; then direct_rows=200; fi

# tmpfs: fsync costs nothing, so it isolates the CPU cost of SQLite and of the queue.
tmpfs_dir=""
for candidate in /dev/shm /run/shm; do
  if [ -d "$candidate" ] && [ "$(stat -f -c %T "$candidate")" = "tmpfs" ]; then tmpfs_dir=$candidate; break; fi
done
# The real disk: where fsync has to reach the device.
disk_dir=/var/tmp
[ -d "$disk_dir" ] || disk_dir=${TMPDIR:-/tmp}

echo "| filesystem | workload | mode | rows | caller p50 µs | caller p99 µs | caller max µs | total to durable ms | rows/s |"
echo "|---|---|---|---:|---:|---:|---:|---:|---:|"
status=0
if [ -n "$tmpfs_dir" ]; then
  "$bin" --dir "$tmpfs_dir/b2bua-storage-bench.$$" --label "tmpfs ($tmpfs_dir)" --rows "$rows" --direct-rows "$direct_rows" || status=1
else
  echo "(no tmpfs found: skipped)"
fi
"$bin" --dir "$disk_dir/b2bua-storage-bench.$$" --label "disk ($(stat -f -c %T "$disk_dir") $disk_dir)" \
  --rows "$rows" --direct-rows "$direct_rows" || status=1
exit $status
