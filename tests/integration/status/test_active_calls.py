#!/usr/bin/env python3
"""Calls as an admin sees them: while a phone's outbound call is up, /status lists it (state,
extension, trunk, number, relay ports), /metrics counts it and `b2bua status` shows it; once it
has ended, it is in the recent calls with its final code, counted by code in /metrics.
sipp plays the phone and the provider."""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from harness import Harness, check, run_flows, wait_until  # noqa: E402
import scenarios  # noqa: E402
from status_http import get, get_json  # noqa: E402


def active_calls(binary):
    with Harness("status-calls", binary) as h:
        lan, wan, provider_port, phone_port, status_port = h.port(5)
        relay = h.ports.span(20)
        cfg = h.write_config({
            "lan": {"listen": [f"udp:127.0.0.1:{lan}"], "networks": ["127.0.0.0/8"]},
            "wan": {"address": "127.0.0.1", "port": wan},
            "registrar": {"qualify_interval": 0},
            "extensions": [{"number": "10", "name": "Kitchen", "password": "pw-ten-Uv31"}],
            "trunks": [{"name": "provider", "registrar": f"sip:127.0.0.1:{provider_port}", "username": "4930123456",
                        "register": False, "numbers": ["+4930123456"], "keepalive": {"method": "off"}}],
            "routing": {"outbound": [{"prefix": "0", "trunk": "provider"}]},
            "media": {"ports": list(relay), "timeout": 30},
            "status": {"listen": f"127.0.0.1:{status_port}"},
        })
        d = h.start_daemon(cfg)
        provider = h.sipp_bg(scenarios.provider_answer(), f"127.0.0.1:{wan}", provider_port, name="provider")
        time.sleep(0.3)
        phone = h.sipp_bg(scenarios.phone_call_out("10", "pw-ten-Uv31", "0301234567", hold_ms=4000),
                          f"127.0.0.1:{lan}", phone_port, name="phone")

        def answered():
            calls = get_json(status_port).get("calls", [])
            return calls if calls and calls[0].get("state") == "answered" else None
        calls = wait_until(answered, 10)
        check(calls, "/status lists the call once it is answered")
        c = calls[0]
        check((c["direction"], c["extension"], c["trunk"], c["remote_number"]) ==
              ("outbound", "10", "provider", "0301234567"), f"the call's parties ({c})")
        check(c.get("relay_ports") and all(relay[0] <= p[k] <= relay[1] for p in c["relay_ports"] for k in ("a", "b")),
              "the call shows its relay ports")
        metrics = get(status_port, "/metrics")[2]
        check("b2bua_active_calls 1" in metrics, "/metrics counts one active call")
        r = subprocess.run([binary, "status", "--config", cfg], capture_output=True, text=True, timeout=10)
        active = r.stdout.split("ACTIVE CALLS", 1)[1].split("RECENT CALLS", 1)[0]
        check("outbound" in active and "0301234567" in active and "answered" in active,
              f"b2bua status shows the active call:\n{active}")

        h.finish(phone, "the phone hung up after talking")
        h.finish(provider, "the provider saw INVITE, ACK and BYE")

        def recorded():
            s = get_json(status_port)
            return s if not s.get("calls") and s.get("recent_calls") else None
        s = wait_until(recorded, 10)
        check(s, "the call left the active list and entered the recent calls")
        rec = s["recent_calls"][0]
        check((rec["direction"], rec["extension"], rec["remote_number"], rec["final_code"], rec["hangup_by"]) ==
              ("outbound", "10", "0301234567", 200, "caller"), f"the call record ({rec})")
        check(rec["answer_ms"] > 0 and rec["end_ms"] - rec["answer_ms"] >= 3000, "the record has the talk time")
        check(isinstance(rec.get("media"), dict) and rec["media"], f"the record carries the relay's counters "
              f"({json.dumps(rec.get('media'))[:200]})")
        metrics = get(status_port, "/metrics")[2]
        check('b2bua_calls_total{code="200"} 1' in metrics, "/metrics counts the call by its final code")
        check("b2bua_active_calls 0" in metrics, "no active call any more")
        r = subprocess.run([binary, "status", "--config", cfg], capture_output=True, text=True, timeout=10)
        recent = r.stdout.split("RECENT CALLS", 1)[1]
        check("0301234567" in recent and " 200 " in recent and "caller" in recent,
              f"b2bua status shows the finished call:\n{recent}")
        check(" lost" in recent and "jitter" in recent, "b2bua status shows how the call sounded")
        h.stop_daemon(d)


if __name__ == "__main__":
    run_flows({"active_calls": active_calls})
