#!/usr/bin/env python3
"""The keep-alive sized to the NAT (keepalive.interval "auto", wan.stun) against coturn on
loopback; the NAT lab (tests/natlab, phases keepalive*) measures real NAT timeouts.
  rfc5780        coturn on two loopback addresses (RFC 5780 on): no NAT here, so every probe's
                 answer reaches the socket it was sent to by RESPONSE-PORT, the mapping
                 "outlives" the longest wait (150 s): lifetime_s=150 at_least=true, keep-alive
                 120 s, shown in /status. About 160 s, all of it waiting.
  no_rfc5780     coturn on one address ignores RESPONSE-PORT and names no OTHER-ADDRESS: the
                 trunk keeps its configured 20 s and says why, once.
  silent_server  wan.stun names a port where nothing answers: the configured 20 s, the reason
                 logged once, and the measurement is tried again later.
  no_server      "auto" without wan.stun: the configured interval, the reason logged once."""
import json
import os
import re
import socket
import struct
import urllib.request

from provider import trunk_config
from harness import Harness, check, run_flows, wait_until


def start_coturn(h, addresses, port):
    argv = ["turnserver", "-n", "--no-cli", "--no-tls", "--no-dtls", "--listening-port", str(port),
            "--alt-listening-port", str(port + 1), "--simple-log", "--log-file", "stdout",
            "--pidfile", h.path("turnserver.pid"), "--userdb", h.path("turndb")]
    for a in addresses:
        argv += ["--listening-ip", a]
    p = h.spawn(argv, "coturn")
    up = wait_until(lambda: all(stun_answers(a, port) for a in addresses), 10, interval=0.2)
    check(up, f"coturn answers STUN on {', '.join(addresses)} port {port}", p.output()[-1500:])
    return p


def stun_answers(address, port):
    """True when a Binding Request to address:port is answered (RFC 8489: type 0x0001, cookie)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(0.2)
        s.sendto(struct.pack("!HHI", 1, 0, 0x2112A442) + os.urandom(12), (address, port))
        try:
            return s.recv(1500)[:2] == b"\x01\x01"
        except OSError:
            return False


def config(h, stun):
    lan, wan, registrar, status = h.port(4)
    # The registrar answers nothing: the measurement does not wait for a registration.
    c = trunk_config((lan, wan), f"sip:127.0.0.1:{registrar}", keepalive={"method": "crlf", "interval": "auto"})
    if stun:
        c["wan"]["stun"] = stun
    c["status"] = {"listen": f"127.0.0.1:{status}"}
    return c


def trunk_status(c):
    url = f"http://{c['status']['listen']}/status"
    with urllib.request.urlopen(url, timeout=5) as r:
        return next(t for t in json.loads(r.read())["trunks"] if t["name"] == "prov")


def unavailable(h, c, reason, wait_s):
    d = h.start_daemon(c)
    m = d.wait_log(r"event=nat_lifetime_unavailable trunk=prov reason=\"([^\"]+)\" keepalive_s=(\d+) method=stun",
                   timeout=wait_s)
    check(reason in m.group(1) and m.group(2) == "20",
          f"no measurement ({m.group(1)}): the configured keep-alive, {m.group(2)} s")
    t = trunk_status(c)
    check(t["nat_lifetime_state"] == "unavailable" and t["nat_lifetime_s"] is None and t["keepalive_interval_s"] == 20
          and reason in t["nat_lifetime_reason"], f"/status says so: {t['nat_lifetime_state']}, "
          f"interval {t['keepalive_interval_s']} s, reason '{t['nat_lifetime_reason']}'")
    return d


def rfc5780(binary):
    with Harness("trunk-nat-lifetime-5780", binary) as h:
        stun_port = h.port(2)[0]
        coturn = start_coturn(h, ["127.0.0.1", "127.0.0.2"], stun_port)
        c = config(h, f"127.0.0.1:{stun_port}")
        d = h.start_daemon(c)
        t = wait_until(lambda: trunk_status(c), 5)
        check(t["nat_lifetime_state"] == "measuring" and t["keepalive_interval_s"] == 20,
              f"while measuring: the configured interval ({t['keepalive_interval_s']} s)")
        m = d.wait_log(r"event=nat_lifetime trunk=prov lifetime_s=([\d.]+) at_least=(\w+) keepalive_s=(\d+) "
                       r"method=stun took_s=(\d+)", timeout=175)
        check(m.group(1) == "150" and m.group(2) == "true" and m.group(3) == "120",
              f"no NAT on loopback: lifetime at least {m.group(1)} s, keep-alive {m.group(3)} s "
              f"(took {m.group(4)} s)")
        check(len(re.findall(r"event=nat_lifetime ", d.output())) == 1, "one nat_lifetime line per measurement")
        t = trunk_status(c)
        check(t["nat_lifetime_state"] == "measured" and t["nat_lifetime_s"] == 150 and t["nat_lifetime_at_least"]
              and t["keepalive_interval_s"] == 120, f"/status: {t['nat_lifetime_s']} s (at least), "
              f"interval {t['keepalive_interval_s']} s")
        check("unavailable" not in d.output(), "no unavailable line")
        h.stop_daemon(d)
        coturn.stop()


def no_rfc5780(binary):
    with Harness("trunk-nat-lifetime-no5780", binary) as h:
        stun_port = h.port(2)[0]
        start_coturn(h, ["127.0.0.1"], stun_port)
        c = config(h, f"127.0.0.1:{stun_port}")
        d = unavailable(h, c, "does not support RFC 5780 (no OTHER-ADDRESS)", 8)
        h.stop_daemon(d)


def silent_server(binary):
    with Harness("trunk-nat-lifetime-silent", binary) as h:
        nobody = h.port()
        c = config(h, f"127.0.0.1:{nobody}")
        d = unavailable(h, c, f"no answer from the STUN server 127.0.0.1:{nobody}", 10)
        h.stop_daemon(d)
        check(len(re.findall(r"event=nat_lifetime_unavailable", d.output())) == 1, "logged once")


def no_server(binary):
    with Harness("trunk-nat-lifetime-none", binary) as h:
        c = config(h, None)
        d = unavailable(h, c, "no STUN server configured (wan.stun)", 5)
        h.stop_daemon(d)
        check(len(re.findall(r"event=nat_lifetime_unavailable", d.output())) == 1, "logged once")


if __name__ == "__main__":
    run_flows({f.__name__: f for f in (rfc5780, no_rfc5780, silent_server, no_server)})
