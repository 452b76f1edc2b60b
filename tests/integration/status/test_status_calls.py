#!/usr/bin/env python3
"""Calls as an admin sees them: while a phone's outbound call is up, /status lists it (state,
extension, trunk, number, relay ports), /metrics counts it and `b2bua status` shows it; once it
has ended, it is in the recent calls with its final code, counted by code in /metrics.
sipp plays the phone and the provider. Ports 18060-18080 and 18107-18119 on 127.0.0.1."""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
sys.path.insert(0, os.path.join(HERE, "..", "calls"))
sys.path.insert(0, HERE)
from harness import Harness, check, wait_until  # noqa: E402
import scenarios  # noqa: E402  (the call tests' sipp scenarios)
from status_http import get, get_json  # noqa: E402

LAN, WAN, PROVIDER, STATUS_PORT, PHONE = 18107, 18108, 18109, 18110, 18111
PHONE_MEDIA, PROVIDER_MEDIA = 18114, 18117


def config():
    return {
        "lan": {"listen": [f"udp:127.0.0.1:{LAN}"], "networks": ["127.0.0.0/8"]},
        "wan": {"address": "127.0.0.1", "port": WAN},
        "registrar": {"qualify_interval": 0},
        "extensions": [{"number": "10", "name": "Kitchen", "password": "pw-ten-Uv31"}],
        "trunks": [{"name": "provider", "registrar": f"sip:127.0.0.1:{PROVIDER}", "username": "4930123456",
                    "register": False, "numbers": ["+4930123456"], "keepalive": {"method": "off"}}],
        "routing": {"outbound": [{"prefix": "0", "trunk": "provider"}]},
        "media": {"ports": [18060, 18080], "timeout": 30},
        "status": {"listen": f"127.0.0.1:{STATUS_PORT}"},
    }


def sipp(h, name, xml, target, port, media_port):
    path = h.path(name + ".xml")
    with open(path, "w") as f:
        f.write(xml)
    return h.spawn(["sipp", target, "-sf", path, "-i", "127.0.0.1", "-p", str(port), "-mp", str(media_port),
                    "-nostdin", "-m", "1", "-timeout", "30s", "-timeout_error"], name)


def finished(p, what):
    try:
        p.proc.wait(40)
    except subprocess.TimeoutExpired:
        p.kill9()
    detail = "" if p.proc.returncode == 0 else "\n" + p.output()[-1000:]
    check(p.proc.returncode == 0, f"{what} (sipp exit {p.proc.returncode}){detail}")


def main():
    binary = sys.argv[1]
    with Harness("status-calls", binary) as h:
        cfg = h.write_config(config())
        h.start_daemon(cfg)
        provider = sipp(h, "provider", scenarios.provider_answer(), f"127.0.0.1:{WAN}", PROVIDER, PROVIDER_MEDIA)
        wait_until(lambda: False, 0.3)
        phone = sipp(h, "phone", scenarios.phone_call_out("10", "pw-ten-Uv31", "0301234567", hold_ms=4000),
                     f"127.0.0.1:{LAN}", PHONE, PHONE_MEDIA)

        def answered():
            calls = get_json(STATUS_PORT).get("calls", [])
            return calls if calls and calls[0].get("state") == "answered" else None
        calls = wait_until(answered, 10)
        check(calls, "/status lists the call once it is answered")
        c = calls[0]
        check((c["direction"], c["extension"], c["trunk"], c["remote_number"]) ==
              ("outbound", "10", "provider", "0301234567"), f"the call's parties ({c})")
        check(c.get("relay_ports") and all(18060 <= p[k] <= 18080 for p in c["relay_ports"] for k in ("a", "b")),
              "the call shows its relay ports")
        metrics = get(STATUS_PORT, "/metrics")[2]
        check("b2bua_active_calls 1" in metrics, "/metrics counts one active call")
        r = subprocess.run([binary, "status", "--config", cfg], capture_output=True, text=True, timeout=10)
        active = r.stdout.split("ACTIVE CALLS", 1)[1].split("RECENT CALLS", 1)[0]
        check("outbound" in active and "0301234567" in active and "answered" in active,
              f"b2bua status shows the active call:\n{active}")

        finished(phone, "the phone hung up after talking")
        finished(provider, "the provider saw INVITE, ACK and BYE")

        def recorded():
            s = get_json(STATUS_PORT)
            return s if not s.get("calls") and s.get("recent_calls") else None
        s = wait_until(recorded, 10)
        check(s, "the call left the active list and entered the recent calls")
        rec = s["recent_calls"][0]
        check((rec["direction"], rec["extension"], rec["remote_number"], rec["final_code"], rec["hangup_by"]) ==
              ("outbound", "10", "0301234567", 200, "caller"), f"the call record ({rec})")
        check(rec["answer_ms"] > 0 and rec["end_ms"] - rec["answer_ms"] >= 3000, "the record has the talk time")
        check(isinstance(rec.get("media"), dict) and rec["media"], f"the record carries the relay's counters "
              f"({json.dumps(rec.get('media'))[:200]})")
        metrics = get(STATUS_PORT, "/metrics")[2]
        check('b2bua_calls_total{code="200"} 1' in metrics, "/metrics counts the call by its final code")
        check("b2bua_active_calls 0" in metrics, "no active call any more")
        r = subprocess.run([binary, "status", "--config", cfg], capture_output=True, text=True, timeout=10)
        recent = r.stdout.split("RECENT CALLS", 1)[1]
        check("0301234567" in recent and " 200 " in recent and "caller" in recent,
              f"b2bua status shows the finished call:\n{recent}")
        check(" lost" in recent and "jitter" in recent, "b2bua status shows how the call sounded")
    print("PASS")


if __name__ == "__main__":
    main()
