#!/usr/bin/env python3
"""Markdown table of the relay benchmark: medians over repeats, ratios to the minimal forwarder."""
import re
import statistics
import sys

rows = {}
for line in open(sys.argv[1]):
    relay, case, rest = line.split(" ", 2)
    kv = dict(re.findall(r"(\w+)=([^ \n]+)", rest))
    rows.setdefault((relay, case), []).append(kv)


def med(relay, case, key):
    vals = [float(r[key]) for r in rows.get((relay, case), []) if key in r]
    return statistics.median(vals) if vals else float("nan")


relays = ["minimal", "b2bua", "rtpengine"]
metrics = [
    ("CPU per relayed packet, 500 paced calls (us)", "paced500", "cpu_us_per_pkt", "{:.2f}"),
    ("Latency p50, 100 paced calls (us)", "paced100", "p50_us", "{:.0f}"),
    ("Latency p99, 100 paced calls (us)", "paced100", "p99_us", "{:.0f}"),
    ("CPU per relayed packet, 100 paced calls (us)", "paced100", "cpu_us_per_pkt", "{:.2f}"),
    ("Loss at 500 calls (%)", "paced500", "loss_pct", "{:.3f}"),
    ("RSS at 500 calls (MB)", "paced500", "relay_rss_kb", "{:.1f}"),
    ("Max relayed packets/s, no loss (window 8)", "window", "pps", "{:.0f}"),
    ("Concurrent 20 ms calls with <0.1% loss (tested up to 1000)", "capacity", "calls", "{:.0f}"),
    ("Overload 2x: streams recovered / 200", "overload", "recovered", "{:.0f}"),
    ("Overload 2x: loss during burst (%)", "overload", "burst_loss", "{:.1f}"),
]
for key in rows:
    if key[1] == "overload":
        for r in rows[key]:
            r["burst_loss"] = str(100 * (1 - float(r["burst_received"]) / max(1.0, float(r["burst_sent"]))))
print("| metric | minimal forwarder | b2bua relay | rtpengine (userspace) | b2bua / minimal | rtpengine / minimal |")
print("|---|---|---|---|---|---|")
for title, case, key, fmt in metrics:
    vals = [med(r, case, key) for r in relays]
    if key == "relay_rss_kb":
        vals = [v / 1024 for v in vals]
    cells = [fmt.format(v) for v in vals]
    ratios = ["{:.2f}x".format(v / vals[0]) if vals[0] not in (0,) and vals[0] == vals[0] else "-" for v in vals[1:]]
    print("| {} | {} | {} | {} | {} | {} |".format(title, *cells, *ratios))
