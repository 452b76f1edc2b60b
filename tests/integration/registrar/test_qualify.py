#!/usr/bin/env python3
"""Qualify: OPTIONS reach the phone through the REGISTER's flow (not the private Contact); a
phone that stops answering is marked unreachable within the interval plus the answer timeout,
and comes back when it answers again."""
import os
import socket
import time

from registrar_common import SCENARIOS, bindings, config
from harness import Harness, check, run_flows, wait_until
from sip_client import Client

INTERVAL = 2


def qualify(binary):
    with Harness("registrar-qualify", binary) as h:
        port, phone_port = h.port(2)
        d = h.start_daemon(config(port, qualify_interval=INTERVAL))
        d.wait_log(r"component=registrar event=started")
        phone = Client(port, phone_port, "10")
        # A Contact with a private address nobody could reach: only the flow works.
        contact = "<sip:10@192.168.77.7:5060>"
        first = phone.register(contacts=[contact])
        r = phone.register(phone.digest(first.challenge(), "secret10", 1), contacts=[contact])
        check(r is not None and r.status == 200, "registered with a private Contact")
        phone.close()

        uas = os.path.join(SCENARIOS, "options_uas.xml")
        r = h.sipp(uas, f"127.0.0.1:{port}", phone_port, extra=["-m", "2"],
                   timeout=4 * INTERVAL + 5, name="answering")
        check(r.returncode == 0, "two qualify OPTIONS arrived on the flow (source port) with the Contact as Request-URI")
        check(bindings(h, "10")[0][5] == 1, "binding reachable while it answers")

        stopped = time.monotonic()
        d.wait_log(r"event=binding_unreachable ext=10 contact=192.168.77.7:5060", timeout=INTERVAL + 5 + 3)
        took = time.monotonic() - stopped
        check(took <= INTERVAL + 5 + 1, f"marked unreachable {took:.1f} s after the phone stopped answering")
        check(wait_until(lambda: bindings(h, "10")[0][5] == 0, 5), "unreachable stored in the database")

        mark = d.log_size()
        r = h.sipp(uas, f"127.0.0.1:{port}", phone_port, extra=["-m", "1"], timeout=3 * INTERVAL + 5, name="back")
        check(r.returncode == 0, "the phone answers again")
        d.wait_log(r"event=binding_reachable ext=10", timeout=5, after=mark)
        check(wait_until(lambda: bindings(h, "10")[0][5] == 1, 5), "reachable again in the database")
        check(d.output().count("event=binding_unreachable") == 1, "one log line per transition")

        # A phone that vanished without a trace (no ICMP either): the OPTIONS go unanswered.
        mark = d.log_size()
        silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        silent.bind(("127.0.0.1", phone_port))
        stopped = time.monotonic()
        d.wait_log(r"event=binding_unreachable ext=10", timeout=INTERVAL + 5 + 3, after=mark)
        took = time.monotonic() - stopped
        silent.settimeout(0.1)
        got = silent.recv(65535)
        silent.close()
        check(got.startswith(b"OPTIONS "), "the silent phone did receive OPTIONS")
        check(took <= INTERVAL + 2 + 2, f"unanswered OPTIONS: unreachable after {took:.1f} s (interval {INTERVAL} s + 2 s timeout)")
        h.stop_daemon(d)


if __name__ == "__main__":
    run_flows({"qualify": qualify})
