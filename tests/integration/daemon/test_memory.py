#!/usr/bin/env python3
"""Memory that comes back: a burst of requests that create no call and no binding costs
nothing once their transactions are over. 20,000 OPTIONS in 10 s from an allowed LAN address;
a minute later the daemon's resident memory is within 2 MB of what it was idle. Under a
sanitizer the allocator is ASan's (it keeps freed memory in quarantine on purpose): there the
flow checks only that the daemon survives the burst and answers."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from harness import Harness, check, run_flows, wait_until  # noqa: E402
from sip_client import status_of  # noqa: E402

FLOOD = 20000
RATE = 2000
SLACK_KB = 2048

OPTIONS = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="options flood">
  <send>
    <![CDATA[
OPTIONS sip:10@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:probe@[local_ip]>;tag=[call_number]
To: <sip:10@[remote_ip]>
Call-ID: [call_id]
CSeq: 1 OPTIONS
Max-Forwards: 70
Content-Length: 0

    ]]>
  </send>
  <recv response="200"/>
</scenario>
"""


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def under_sanitizer(pid):
    with open(f"/proc/{pid}/maps") as f:
        return "libasan" in f.read()


def options_flood_returns_memory(binary):
    with Harness("daemon-options-flood", binary) as h:
        lan, wan, probe = h.port(3)
        d = h.start_daemon({
            # The burst must reach the SIP stack to prove its memory comes back: the flood guard
            # would drop this sender after its first 50 (tests/integration/security/test_flood_guard.py).
            "lan": {"listen": [f"udp:127.0.0.1:{lan}"], "networks": ["127.0.0.0/8"],
                    "flood_per_source": 0, "flood_total": 0},
            "wan": {"address": "127.0.0.1", "port": wan},
            "extensions": [{"number": "10", "password": "pw-ten-Uv31"}],
        })
        for _ in range(20):
            status_of(lan)
        time.sleep(1)
        idle = rss_kb(d.pid)
        sanitizer = under_sanitizer(d.pid)

        scenario = h.write_scenario("options", OPTIONS)
        flood = h.spawn(["sipp", "-sf", scenario, "-m", str(FLOOD), "-r", str(RATE), "-i", "127.0.0.1",
                         "-p", str(probe), "-timeout", "40s", "-timeout_error", "-nostdin", "-trace_err",
                         f"127.0.0.1:{lan}"], "flood")
        flood.wait(50)
        peak = rss_kb(d.pid)
        check(d.running(), f"daemon survived {FLOOD} OPTIONS at {RATE}/s (RSS idle {idle} kB, after the burst {peak} kB)")
        check(status_of(lan) is not None, "daemon answers OPTIONS after the burst")
        if sanitizer:
            print("note: the memory figure is checked in the normal build, not under the sanitizer's allocator")
        else:
            back = wait_until(lambda: rss_kb(d.pid) <= idle + SLACK_KB, timeout=60, interval=1)
            check(back, f"RSS back within {SLACK_KB} kB of idle within a minute (idle {idle} kB, "
                        f"after the burst {peak} kB, now {rss_kb(d.pid)} kB)")
        h.stop_daemon(d)


if __name__ == "__main__":
    run_flows({"options_flood_returns_memory": options_flood_returns_memory})
