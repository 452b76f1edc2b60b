#!/usr/bin/env python3
"""Calls through b2bua with sipp on both sides: a phone on the LAN agent, a provider on the
WAN agent (an IP-authenticated trunk), media through the relay, a call record for each call.
Ports 19060-19299 on 127.0.0.1."""
import json
import os
import re
import socket
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
from harness import Harness, check, wait_until  # noqa: E402
import scenarios  # noqa: E402

LAN, WAN, PROVIDER = 19060, 19070, 19080
DID = "+4930123456"


def config():
    return {
        "lan": {"listen": [f"udp:127.0.0.1:{LAN}"], "networks": ["127.0.0.0/8"], "realm": "test.arpa"},
        "wan": {"address": "127.0.0.1", "port": WAN},
        "registrar": {"qualify_interval": 0, "block_after_failures": 3},
        "extensions": [
            {"number": "10", "password": "pw-ten"},
            {"number": "11", "password": "pw-eleven"},
            {"number": "12", "password": "pw-twelve", "outbound": False},
        ],
        "trunks": [{"name": "provider", "registrar": f"sip:127.0.0.1:{PROVIDER}", "username": "4930123456",
                    "register": False, "numbers": [DID], "keepalive": {"method": "off"}}],
        "routing": {"inbound": [{"number": DID, "ring": ["10", "11"], "timeout": 20}],
                    "outbound": [{"prefix": "0", "trunk": "provider"}],
                    "emergency": ["112"]},
        "media": {"ports": [19100, 19299], "timeout": 30},
        "status": {"listen": "127.0.0.1:19071"},
    }


def invite_status(port, local_port):
    """Sends one INVITE from 127.0.0.1:local_port and returns the first final status (or 0)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", local_port))
    s.settimeout(3)
    msg = (f"INVITE sip:0301@127.0.0.1:{port} SIP/2.0\r\n"
           f"Via: SIP/2.0/UDP 127.0.0.1:{local_port};branch=z9hG4bK{uuid.uuid4().hex[:10]};rport\r\n"
           "Max-Forwards: 70\r\n"
           f"From: <sip:10@127.0.0.1>;tag={uuid.uuid4().hex[:8]}\r\n"
           "To: <sip:0301@127.0.0.1>\r\n"
           f"Call-ID: {uuid.uuid4().hex}\r\n"
           "CSeq: 1 INVITE\r\n"
           f"Contact: <sip:10@127.0.0.1:{local_port}>\r\n"
           "Content-Length: 0\r\n\r\n")
    try:
        s.sendto(msg.encode(), ("127.0.0.1", port))
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            data, _ = s.recvfrom(65535)
            code = int(data.split(b" ", 2)[1])
            if code >= 200:
                return code
    except (socket.timeout, ValueError, IndexError):
        return 0
    finally:
        s.close()
    return 0


def write(h, name, xml):
    path = h.path(name + ".xml")
    with open(path, "w") as f:
        f.write(xml)
    return path


def records(h, n, timeout=8):
    def enough():
        rows = h.db_rows("SELECT direction, extension, trunk, remote_number, final_code, hangup_by, "
                         "answer_ms, media_stats_json FROM call_records ORDER BY id")
        return rows if len(rows) >= n else None
    rows = wait_until(enough, timeout)
    check(rows is not None, f"{n} call records written")
    return rows


def sipp_bg(h, xml_name, xml, target, port, extra=(), name=None, timeout=40):
    path = write(h, xml_name, xml)
    name = name or xml_name
    argv = ["sipp", target, "-sf", path, "-i", "127.0.0.1", "-p", str(port), "-nostdin", "-m", "1",
            "-timeout", f"{timeout}s", "-timeout_error", "-trace_msg", "-message_file", h.path(f"{name}.messages"),
            "-trace_err", "-error_file", h.path(f"{name}.errors"), "-mp", str(port + 1000), *extra]
    return h.spawn(argv, name)


def wait_exit(p, what, timeout=40):
    try:
        p.proc.wait(timeout)
    except Exception:
        p.kill9()
    out = p.output()
    err = p.log_path.replace(".log", ".errors")
    if os.path.exists(err):
        out += open(err, errors="replace").read()
    check(p.proc.returncode == 0, f"{what} (sipp exit {p.proc.returncode})\n{out[-1500:] if p.proc.returncode else ''}")


def main():
    binary = sys.argv[1]
    with Harness("calls", binary) as h:
        d = h.start_daemon(config())
        lan = f"127.0.0.1:{LAN}"
        wan = f"127.0.0.1:{WAN}"

        # 1. Outbound: phone 10 dials 0301234567 -> 407 -> authenticated -> trunk -> answered, RTP.
        provider = sipp_bg(h, "provider_answer", scenarios.provider_answer(), wan, PROVIDER)
        time.sleep(0.3)
        phone = h.sipp(write(h, "out", scenarios.phone_call_out("10", "pw-ten", "0301234567")), lan, 19090,
                       extra=["-m", "1", "-mp", "19190", "-cid_str", "phone-leg-%u-%p@%s"], name="out")
        check(phone.returncode == 0, f"outbound call answered and hung up by the phone\n{phone.output[-1500:]}")
        wait_exit(provider, "provider saw INVITE/ACK/BYE")
        rows = records(h, 1)
        direction, ext, trunk, remote, code, by, answer_ms, stats = rows[0]
        check((direction, ext, trunk, remote, code, by) == ("outbound", "10", "provider", "0301234567", 200, "caller"),
              f"outbound call record {rows[0][:6]}")
        s = json.loads(stats)
        check(s["a"]["packets"] > 0 and s["b"]["packets"] > 0, f"RTP relayed both ways {s['a']['packets']}/{s['b']['packets']}")
        check(s["a"]["packets_sent"] > 0 and s["b"]["packets_sent"] > 0, "relay sent to both ends")
        seen = h.sipp_messages("provider_answer")
        for leak in ("phone-leg-", "TestPhone", "X-Phone-Secret", f":{19090}"):
            check(leak not in seen, f"provider never sees '{leak}'")
        check("P-Asserted-Identity: <sip:4930123456@127.0.0.1>" in seen, "trunk identity asserted")

        # 2. Inbound to the ring group: 10 answers, 11 rings and is cancelled (completed elsewhere).
        for ext, pw, port in (("10", "pw-ten", 19110), ("11", "pw-eleven", 19120)):
            r = h.sipp(write(h, f"reg{ext}", scenarios.phone_register(ext, pw)), lan, port, extra=["-m", "1"],
                       name=f"reg{ext}")
            check(r.returncode == 0, f"phone {ext} registered\n{r.output[-800:]}")
        p10 = sipp_bg(h, "phone10", scenarios.phone_answer(), lan, 19110)
        p11 = sipp_bg(h, "phone11", scenarios.phone_ring_until_cancel(), lan, 19120)
        time.sleep(0.3)
        far = h.sipp(write(h, "in", scenarios.provider_call_in(DID)), wan, PROVIDER,
                     extra=["-m", "1", "-mp", "19180", "-cid_str", "provider-leg-%u-%p@%s"], name="in")
        check(far.returncode == 0, f"inbound call answered and hung up by the far end\n{far.output[-1500:]}")
        wait_exit(p10, "phone 10 answered")
        wait_exit(p11, "phone 11 was cancelled with Reason cause=200")
        rows = records(h, 2)
        direction, ext, trunk, remote, code, by, answer_ms, stats = rows[1]
        check((direction, ext, trunk, remote, code, by) == ("inbound", "10", "provider", "+4989111222", 200, "caller"),
              f"inbound call record {rows[1][:6]}")
        s = json.loads(stats)
        check(s["a"]["packets"] > 0 and s["b"]["packets"] > 0, "inbound RTP relayed both ways")
        for name in ("phone10", "phone11"):
            seen = h.sipp_messages(name)
            for leak in ("provider-leg-", "ProviderSwitch", f":{PROVIDER}"):
                check(leak not in seen, f"{name} never sees '{leak}'")

        # 3. Failures: no route, no permission, busy.
        r = h.sipp(write(h, "noroute", scenarios.phone_call_out("10", "pw-ten", "999", expect="404")), lan, 19091,
                   extra=["-m", "1"], name="noroute")
        check(r.returncode == 0, f"no route -> 404\n{r.output[-800:]}")
        r = h.sipp(write(h, "noperm", scenarios.phone_call_out("12", "pw-twelve", "0301", expect="403")), lan, 19092,
                   extra=["-m", "1"], name="noperm")
        check(r.returncode == 0, f"extension without outbound permission -> 403\n{r.output[-800:]}")
        r = h.sipp(write(h, "badpw", scenarios.phone_call_out("10", "wrong", "0301", expect="407")), lan, 19093,
                   extra=["-m", "1"], name="badpw")
        check(r.returncode == 0, f"wrong password never reaches the trunk (407 again)\n{r.output[-800:]}")
        busy = sipp_bg(h, "provider_busy", scenarios.provider_answer(status="486"), wan, PROVIDER)
        time.sleep(0.3)
        r = h.sipp(write(h, "busy", scenarios.phone_call_out("10", "pw-ten", "0309", expect="486")), lan, 19094,
                   extra=["-m", "1"], name="busy")
        check(r.returncode == 0, f"provider busy -> 486 to the phone\n{r.output[-800:]}")
        wait_exit(busy, "provider answered busy")
        rows = records(h, 3)
        check(rows[-1][4] == 486 and rows[-1][6] == 0, "busy call recorded with 486 and no answer time")
        refused = {(r[0], r[1], r[3], r[4], r[5]) for r in records(h, 5)}
        check(("outbound", "10", "999", 404, "system") in refused and ("outbound", "12", "0301", 403, "system") in refused,
              f"calls refused after authentication are recorded too {sorted(refused)}")

        # 4. Guessing passwords through INVITEs blocks the source, like REGISTERs do (one guard).
        for attempt in (1, 2, 3):  # the successful busy call above reset the count
            r = h.sipp(write(h, f"guess{attempt}", scenarios.phone_call_out("10", "wrong", "0301", expect="407")), lan,
                       19094 + attempt, extra=["-m", "1"], name=f"guess{attempt}")
            check(r.returncode == 0, f"wrong password {attempt}: challenged again")
        d.wait_log(r"event=source_blocked source=127.0.0.1", timeout=5)
        check(invite_status(LAN, 19099) == 403, "a blocked source gets 403 at once, even before any digest")
        check(len(re.findall(r"event=source_blocked", d.output())) == 1, "the block is logged once")

        code = d.stop()
        check(code == 0, f"daemon stopped cleanly ({code})")
    print("calls: all checks passed")


if __name__ == "__main__":
    main()
