#!/usr/bin/env python3
"""Calls per second end to end and memory per active call, b2bua next to kamailio.

b2bua: sipp UAC as the phone (407 challenge answered, INVITE/180/200/ACK/BYE) -> LAN agent ->
call with a relay session -> WAN agent -> sipp UAS as the provider. Anchor, in the same run:
kamailio 5.6 as a stateful proxy on the same flow (no auth, no media).

The highest rate with 0 failed calls is searched by stepping the rate (each step a bounded run
of `step_s` seconds). Memory per active call: RSS growth of b2bua while `hold_calls` calls are
up at once, divided by the number of calls. Everything binds to 127.0.0.1; every process is
ended by PID. --short runs a small version (a ctest check that every call succeeds).
"""
import argparse
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "integration", "common"))
from harness import Harness, check, sipp_auth_uri  # noqa: E402

UAC_XML = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="bench uac">
INVITE_1
<recv response="100" optional="true"/>
AUTH_STEP
<recv response="100" optional="true"/>
<recv response="180" optional="true"/>
<recv response="200" rrs="true"/>
<send><![CDATA[
ACK [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:10@[remote_ip]>;tag=[pid]-[call_number]
To: <sip:0301234567@[remote_ip]>[peer_tag_param]
Call-ID: [call_id]
[routes]
CSeq: CSEQ ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
<pause milliseconds="HOLD_MS"/>
<send retrans="500"><![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:10@[remote_ip]>;tag=[pid]-[call_number]
To: <sip:0301234567@[remote_ip]>[peer_tag_param]
Call-ID: [call_id]
[routes]
CSeq: 3 BYE
Max-Forwards: 70
Content-Length: 0

]]></send>
<recv response="200"/>
</scenario>
"""

AUTH_STEP = """<recv response="407" auth="true"/>
<send><![CDATA[
ACK sip:0301234567@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch-3]
From: <sip:10@[remote_ip]>;tag=[pid]-[call_number]
To: <sip:0301234567@[remote_ip]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

]]></send>
INVITE_2"""


def sdp(version, port):
    """A PCMU offer or answer; nobody sends RTP to the port, the relay only allocates for it."""
    return f"""Content-Type: application/sdp
Content-Length: [len]

v=0
o=- {version} {version} IN IP4 [local_ip]
s=-
c=IN IP4 [local_ip]
t=0 0
m=audio {port} RTP/AVP 0
a=rtpmap:0 PCMU/8000
"""


def invite(cseq, auth=""):
    """The phone's INVITE (the second one carries the digest answer to the 407)."""
    return f"""<send retrans="500"><![CDATA[
INVITE sip:0301234567@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:10@[remote_ip]>;tag=[pid]-[call_number]
To: <sip:0301234567@[remote_ip]>
Call-ID: [call_id]
CSeq: {cseq} INVITE
Contact: <sip:10@[local_ip]:[local_port]>
{auth}Max-Forwards: 70
{sdp(1, 39000)}]]></send>"""


UAC_XML = UAC_XML.replace("INVITE_1", invite(1))
AUTH_STEP = AUTH_STEP.replace("INVITE_2", invite(2, "[authentication username=10 password=pw-ten]\n"))

UAS_XML = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="bench uas">
<recv request="INVITE"/>
<send><![CDATA[
SIP/2.0 180 Ringing
UAS_HEADERSContent-Length: 0

]]></send>
<send retrans="500"><![CDATA[
SIP/2.0 200 OK
UAS_HEADERSSDP_2]]></send>
<recv request="ACK"/>
<recv request="BYE"/>
<send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
</scenario>
"""


UAS_HEADERS = """[last_Via:]
[last_From:]
[last_To:];tag=[pid]-[call_number]
[last_Call-ID:]
[last_CSeq:]
[last_Record-Route:]
Contact: <sip:[local_ip]:[local_port]>
"""
UAS_XML = UAS_XML.replace("UAS_HEADERS", UAS_HEADERS).replace("SDP_2", sdp(2, 39002))


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        m = re.search(r"VmRSS:\s+(\d+)", f.read())
    return int(m.group(1)) if m else 0


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


class Stack:
    """The system under test: b2bua (with auth) or kamailio (plain proxy)."""

    def __init__(self, h, kind, ports):
        self.h, self.kind, self.ports = h, kind, ports
        lan, wan, proxy = ports.lan, ports.wan, ports.proxy
        if kind == "b2bua":
            cfg = {
                # One sipp on one address is the whole load: no flood limit (sip/flood_guard.h).
                "lan": {"listen": [f"udp:127.0.0.1:{lan}"], "networks": ["127.0.0.0/8"],
                        "flood_per_source": 0, "flood_total": 0},
                "wan": {"address": "127.0.0.1", "port": wan},
                "registrar": {"qualify_interval": 0},
                # A load generator is one extension placing thousands of calls: no limits on calls out.
                "extensions": [{"number": "10", "password": "pw-ten", "max_calls": 10000,
                                "limits": {"calls_per_hour": 0, "concurrent_external": 0}}],
                "trunks": [{"name": "p", "registrar": f"sip:127.0.0.1:{ports.uas}", "username": "4930123456",
                            "register": False, "keepalive": {"method": "off"}}],
                "routing": {"outbound": [{"prefix": "", "trunk": "p"}]},
                "calls": {"max_concurrent": 100000},
                "media": {"ports": list(ports.relay), "timeout": 300},
                "log": {"level": "info"},
            }
            self.proc = h.start_daemon(cfg, name="b2bua")
            self.target = f"127.0.0.1:{lan}"
        else:
            text = open(os.path.join(HERE, "kamailio-proxy.cfg")).read()
            text = text.replace("PROXY_PORT", str(proxy)).replace("UAS_PORT", str(ports.uas))
            path = h.path("kamailio.cfg")
            with open(path, "w") as f:
                f.write(text)
            self.proc = h.start_kamailio(path, proxy, ["-m", "64", "-M", "8", "-P", h.path("kamailio.pid")])
            time.sleep(1.5)  # its workers fork after the socket is bound
            check(self.proc.running(), "kamailio started")
            self.target = f"127.0.0.1:{proxy}"

    def pids(self):
        if self.kind == "b2bua":
            return [self.proc.pid]
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True).stdout.split()
        return [self.proc.pid] + [int(p) for p in out]


class Ports:
    """The SIP ports of the run and the relay's range. A call takes four relay ports (RTP and
    RTCP on each leg), and a released port rests 10 s before it is used again, so the range
    bounds the rate the relay can sustain: a short run fits in the test's own ports, a full run
    takes the range its figures (README.md) were measured with."""

    def __init__(self, h, short):
        self.lan, self.wan, self.uas, self.uac, self.proxy = h.port(5)
        self.uas_media, self.uac_media = h.port(4)[0], h.port(4)[0]  # sipp's audio and video pairs
        self.relay = h.ports.span(SHORT_RELAY_PORTS) if short else FULL_RELAY


SHORT_RELAY_PORTS = 2800
FULL_RELAY = (40000, 49999)


def start_load(h, stack, hold_ms, limit, tag):
    """Writes the phone's scenario (with the digest step against b2bua) and starts the
    provider; returns the phone's scenario file, the provider and the phone's sipp options."""
    auth = AUTH_STEP if stack.kind == "b2bua" else ""
    uac = UAC_XML.replace("AUTH_STEP", auth).replace("HOLD_MS", str(hold_ms)).replace("CSEQ", "2" if auth else "1")
    uac_path, uas_path = h.path(f"uac-{tag}.xml"), h.path(f"uas-{tag}.xml")
    with open(uac_path, "w") as f:
        f.write(uac)
    with open(uas_path, "w") as f:
        f.write(UAS_XML)
    uas = h.spawn(["sipp", "-sf", uas_path, "-i", "127.0.0.1", "-p", str(stack.ports.uas), "-mp",
                   str(stack.ports.uas_media), "-nostdin", "-nd", "-l", str(limit), "-timeout", "120s"], f"uas-{tag}")
    time.sleep(0.3)
    # The digest uri of the authenticated INVITE is its Request-URI (b2bua checks it).
    phone = ["sipp", stack.target, "-sf", uac_path, "-i", "127.0.0.1", "-p", str(stack.ports.uac), "-mp",
             str(stack.ports.uac_media), "-nostdin", "-l", str(limit), *sipp_auth_uri(uac_path, stack.target)]
    return uas, phone


def successful(output):
    m = re.search(r"Successful call\s+\|\s+\d+\s+\|\s+(\d+)", output)
    return int(m.group(1)) if m else 0


def run_load(h, stack, rate, calls, hold_ms, tag):
    uas, phone = start_load(h, stack, hold_ms, max(2000, int(rate * (hold_ms / 1000 + 2) * 2)), tag)
    timeout = int(calls / rate + hold_ms / 1000 + 20)
    t0 = time.monotonic()
    ticks0 = {p: cpu_ticks(p) for p in stack.pids()}
    r = subprocess.run([*phone, "-r", str(rate), "-m", str(calls), "-timeout", f"{timeout}s",
                        "-recv_timeout", "10000", "-trace_stat", "-stf", h.path(f"stat-{tag}.csv"),
                        "-trace_err", "-error_file", h.path(f"errors-{tag}.log")],
                       capture_output=True, text=True, timeout=timeout + 30)
    elapsed = time.monotonic() - t0
    cpu = sum(cpu_ticks(p) - ticks0.get(p, 0) for p in stack.pids() if os.path.exists(f"/proc/{p}"))
    uas.stop(timeout=3)
    ok = successful(r.stdout)
    failed = int(re.search(r"Failed call\s+\|\s+\d+\s+\|\s+(\d+)", r.stdout).group(1)) if "Failed call" in r.stdout else calls
    return {"ok": ok, "failed": failed, "elapsed": elapsed, "cpu_s": cpu / os.sysconf("SC_CLK_TCK")}


def max_rate(h, stack, rates, step_s, tag):
    best = 0
    results = []
    for rate in rates:
        calls = int(rate * step_s)
        # A step passes when one of two tries has no failed call: on two shared cores a
        # sipp process starting up can lose a handful of calls that say nothing about the server.
        for attempt in (1, 2):
            res = run_load(h, stack, rate, calls, 0, f"{tag}-{rate}-{attempt}")
            results.append((rate, res))
            print(f"  {stack.kind:8s} {rate:5d} cps (try {attempt}): {res['ok']}/{calls} ok, {res['failed']} failed, "
                  f"cpu {res['cpu_s']:.2f}s ({1000 * res['cpu_s'] / max(1, res['ok']):.2f} ms per call)", flush=True)
            if res["failed"] == 0 and res["ok"] == calls:
                break
        if res["failed"] == 0 and res["ok"] == calls:
            best = rate
        else:
            break
    return best, results


def memory_per_call(h, stack, calls, rate, hold_ms):
    pid = stack.proc.pid
    before = rss_kb(pid)
    tag = f"mem-{calls}"
    uas, phone = start_load(h, stack, hold_ms, calls * 2, tag)
    uac = h.spawn([*phone, "-r", str(rate), "-m", str(calls), "-timeout", "120s"], f"uac-{tag}")
    # Sample while every call is up: after the ramp, before the first BYE.
    time.sleep(calls / rate + 1.0)
    peak = rss_kb(pid)
    uac.proc.wait(hold_ms / 1000 + 60)
    uas.stop(timeout=3)
    return before, peak, successful(uac.output())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--short", action="store_true")
    args = ap.parse_args()
    short = args.short
    rates = [50, 100] if short else [100, 200, 300, 400, 500, 600, 800, 1000, 1200, 1500, 2000]
    step_s = 3 if short else 6
    rows = {}
    with Harness("bench-calls", args.binary, ports=SHORT_RELAY_PORTS + 100) as h:
        ports = Ports(h, short)
        for kind in ("b2bua", "kamailio"):
            stack = Stack(h, kind, ports)
            best, results = max_rate(h, stack, rates, step_s, kind)
            rows[kind] = (best, results)
            if kind == "b2bua":
                n = 100 if short else 1000
                before, peak, ok = memory_per_call(h, stack, n, 100 if short else 200, (n / (100 if short else 200) + 4) * 1000)
                rows["mem"] = (n, before, peak, ok)
            stack.proc.stop(timeout=10)
            time.sleep(1)
        b_best, k_best = rows["b2bua"][0], rows["kamailio"][0]
        n, before, peak, ok = rows["mem"]
        per_call = (peak - before) * 1024 / max(1, n)
        print("\n| what | b2bua | kamailio (stateful proxy) | ratio |")
        print("| --- | --- | --- | --- |")
        print(f"| calls/s with 0 failures (INVITE/407/INVITE/180/200/ACK/BYE, relay session per call) | {b_best} | {k_best} "
              f"| {b_best / k_best if k_best else 0:.2f} |")
        print(f"| memory per active call at {n} calls (RSS growth / calls) | {per_call / 1024:.1f} KiB "
              f"({ok}/{n} calls ok; RSS {before} -> {peak} KiB) | | |")
        check(b_best > 0 and k_best > 0, "both stacks carried the load with 0 failed calls at the lowest rate")
        check(ok == n, f"all {n} simultaneous calls succeeded")
    print("bench calls: done")


if __name__ == "__main__":
    main()
