#!/usr/bin/env python3
"""Qualify: OPTIONS reach the phone through the REGISTER's flow (not the private Contact); a
phone that stops answering is marked as not answering OPTIONS within the interval plus the
answer timeout, and comes back when it answers again. A phone that never answers OPTIONS is
still rung, and the status says what qualify saw, not that the phone is gone."""
import os
import re
import socket
import subprocess
import time

from registrar_common import SCENARIOS, bindings, config
from harness import Harness, check, check_sipp, run_flows, wait_until
from records import Records
import scenarios
from sip_client import Client
from status_http import get_json

INTERVAL = 2
DID = "+4930123456"


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
        check(bindings(h, "10")[0][5] == 1, "binding answering OPTIONS while it answers")

        stopped = time.monotonic()
        d.wait_log(r"event=binding_not_answering_options ext=10 contact=192.168.77.7:5060", timeout=INTERVAL + 5 + 3)
        took = time.monotonic() - stopped
        check(took <= INTERVAL + 5 + 1, f"marked {took:.1f} s after the phone stopped answering")
        check(wait_until(lambda: bindings(h, "10")[0][5] == 0, 5), "not answering OPTIONS stored in the database")

        mark = d.log_size()
        r = h.sipp(uas, f"127.0.0.1:{port}", phone_port, extra=["-m", "1"], timeout=3 * INTERVAL + 5, name="back")
        check(r.returncode == 0, "the phone answers again")
        d.wait_log(r"event=binding_answering_options ext=10", timeout=5, after=mark)
        check(wait_until(lambda: bindings(h, "10")[0][5] == 1, 5), "answering again in the database")
        check(d.output().count("event=binding_not_answering_options") == 1, "one log line per transition")

        # A phone that vanished without a trace (no ICMP either): the OPTIONS go unanswered.
        mark = d.log_size()
        silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        silent.bind(("127.0.0.1", phone_port))
        stopped = time.monotonic()
        d.wait_log(r"event=binding_not_answering_options ext=10", timeout=INTERVAL + 5 + 3, after=mark)
        took = time.monotonic() - stopped
        silent.settimeout(0.1)
        got = silent.recv(65535)
        silent.close()
        check(got.startswith(b"OPTIONS "), "the silent phone did receive OPTIONS")
        check(took <= INTERVAL + 2 + 2, f"unanswered OPTIONS: marked after {took:.1f} s (interval {INTERVAL} s + 2 s timeout)")
        h.stop_daemon(d)


def silent_options_phone_still_rings(binary):
    """A phone that takes INVITEs but never answers OPTIONS (many do; a firewall may drop them; a
    softphone may sleep): after three qualify intervals of silence the status says "not answering
    OPTIONS", and a call from the provider to its extension rings it and is answered."""
    with Harness("registrar-silent-options", binary) as h:
        port, phone_port, wan_port, provider_port, status_port = h.port(5)
        cfg = config(port, qualify_interval=INTERVAL)
        cfg.update({
            "wan": {"address": "127.0.0.1", "port": wan_port},
            "status": {"listen": f"127.0.0.1:{status_port}"},
            "trunks": [{"name": "provider", "registrar": f"sip:127.0.0.1:{provider_port}", "username": "4930123456",
                        "register": False, "numbers": [DID], "keepalive": {"method": "off"}}],
            "routing": {"inbound": [{"number": DID, "ring": ["10"], "timeout": 20}]},
        })
        d = h.start_daemon(cfg)
        lan = f"127.0.0.1:{port}"
        check_sipp(h.sipp(h.write_scenario("register", scenarios.phone_register("10", "secret10")), lan, phone_port,
                          name="register"), "phone 10 registered")
        phone = h.sipp_bg(scenarios.phone_uas(silent_to_options=True), lan, phone_port, name="phone", calls=1000,
                          timeout=60)
        d.wait_log(r"event=binding_not_answering_options ext=10", timeout=INTERVAL + 5 + 3)
        time.sleep(3 * INTERVAL)
        options = h.messages("phone", method="OPTIONS")
        answers = [m for m in h.messages("phone", received=False) if re.search(r"^CSeq: *\d+ OPTIONS", m, re.M)]
        check(len(options) >= 3 and not answers,
              f"the phone got {len(options)} qualify OPTIONS and answered {len(answers)}", h.sipp_output(phone)[-1500:])
        check(bindings(h, "10")[0][5] == 0, "the binding is stored as not answering OPTIONS")

        binding = get_json(status_port)["extensions"][0]["bindings"]
        check(len(binding) == 1 and binding[0].get("answering_options") is False and "reachable" not in binding[0],
              f"/status: the binding is there, answering_options false ({binding})")
        table = subprocess.run([binary, "status", "--config", h.path("b2bua.jsonc")], capture_output=True, text=True,
                               timeout=10).stdout
        check("not answering OPTIONS" in table and "unreachable" not in table,
              "b2bua status shows it registered and not answering OPTIONS", table)

        mark = d.log_size()
        far = h.sipp(h.write_scenario("in", scenarios.provider_call(DID)), f"127.0.0.1:{wan_port}", provider_port,
                     name="in")
        check_sipp(far, "the provider's call to the silent phone is answered (200) and hung up")
        h.finish(phone, "the phone rang, answered and took the BYE")
        Records(h).answered("call to a phone silent to OPTIONS", "inbound", "10", "provider", "+4989111222")
        log = d.output()[mark:]
        check("event=ringing_binding" in log and "answering_options=no" in log,
              "the log says the binding was rung although it does not answer OPTIONS")
        check("nobody_registered" not in log and "binding_skipped" not in log, "no binding skipped, nobody_registered not said")
        h.stop_daemon(d)


if __name__ == "__main__":
    run_flows({"qualify": qualify, "silent_options_phone_still_rings": silent_options_phone_still_rings})
