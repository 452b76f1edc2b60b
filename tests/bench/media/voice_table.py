#!/usr/bin/env python3
"""Markdown table of the voice-session benchmark (voice_run.sh): medians over repeats per N,
voice CPU per session-second next to the relay's CPU per call-second of the same repeat."""
import re
import statistics
import sys

runs = {}  # (what, n) -> [kv per repeat, in order]
for line in open(sys.argv[1]):
    what, n, rest = line.split(" ", 2)
    runs.setdefault((what, int(n)), []).append(dict(re.findall(r"(\w+)=([^ \n]+)", rest)))

steps = sorted({n for (_, n) in runs})
med = statistics.median


def col(what, n, key):
    return [float(r[key]) for r in runs.get((what, n), []) if key in r]


print("| N | voice CPU us/session-s | relay CPU us/call-s | voice / relay | voice jitter p50 / p99 / max (ms) "
      "| late voice packets (>5 ms), per repeat | late episodes (100 ms slots) | host run-queue wait ms (voice) "
      "| relay jitter p99 / max (ms) | voice packets lost | host RSS MB (voice) |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
clean = {}  # repeat index -> highest N so far with no late packet at any step up to it
for n in steps:
    v, r = col("voice", n, "cpu_us_per_session_s"), col("relay", n, "cpu_us_per_session_s")
    ratios = [a / b for a, b in zip(v, r) if b > 0]
    late = col("voice", n, "late")
    for i, l in enumerate(late):
        if l == 0 and clean.get(i, 0) == (steps[steps.index(n) - 1] if steps.index(n) else 0):
            clean[i] = n
    print("| {} | {:.0f} | {:.0f} | {:.2f}x | {:.2f} / {:.2f} / {:.2f} | {} | {} | {} | {:.2f} / {:.2f} | {:.0f} | {:.1f} |".format(
        n, med(v), med(r), med(ratios) if ratios else float("nan"),
        med(col("voice", n, "jit_p50_ms")), med(col("voice", n, "jit_p99_ms")), med(col("voice", n, "jit_max_ms")),
        " / ".join(str(int(x)) for x in late),
        " / ".join(str(int(x)) for x in col("voice", n, "late_episodes")) or "-",
        " / ".join("{:.0f}".format(x) for x in col("voice", n, "host_runq_wait_ms")) or "-",
        med(col("relay", n, "jit_p99_ms")), med(col("relay", n, "jit_max_ms")),
        med(col("voice", n, "seq_lost")), med(col("voice", n, "host_rss_kb")) / 1024))
reps = max(len(runs.get(("voice", n), [])) for n in steps)
per_rep = [clean.get(i, 0) for i in range(reps)]
print()
print("Highest N with no late voice packet (every step up to it clean), per repeat: {}; median {}".format(
    per_rep, med(per_rep)))
for n in steps:
    v = col("voice", n, "cpu_us_per_session_s")
    if v:
        print("N={}: one core (1e6 us/s) / voice CPU per session-second = {:.0f} sessions by CPU".format(n, 1e6 / med(v)))
