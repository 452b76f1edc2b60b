#!/usr/bin/env python3
"""A provider that forgets us, and one that asks us to wait (one flow each):
  binding_lost_reregisters     a registrar grants the registration and answers our binding
                               queries (REGISTER without Contact), then forgets every binding,
                               as one with an in-memory table does when it restarts: within one
                               check period the trunk registers again; the next query finds it.
  binding_check_unsupported    a registrar that never lists bindings in a query's answer: one
                               re-registration, then the check stops (no REGISTER every period).
  retry_after_refresh          a plain UDP socket as provider answers our refresh with 503 and
                               Retry-After: 10 while keep-alive OPTIONS (every 5 s) go unanswered:
                               the next REGISTER comes 10 s later, not sooner, and the failed
                               refresh is logged."""
import re
import socket
import threading
import time

from provider import trunk_config
from harness import Harness, check, run_flows

PERIOD_S = 10


class Registrar:
    """A registrar on a plain UDP socket (a query has a Call-ID of its own, which a sipp script
    cannot follow): a REGISTER with Contact binds it; one without is a query, answered with the
    bindings held. `forget()` empties the table, as a restart with an in-memory location
    table does; `lists=False` makes a registrar that never lists bindings in a query's answer."""

    def __init__(self, port, lists=True):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", port))
        self.sock.settimeout(0.2)
        self.lists = lists
        self.bindings = []
        self.registers = []  # (time, has_contact)
        self.stopped = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def forget(self):
        self.bindings = []

    def queries(self):
        return [t for t, contact in self.registers if not contact]

    def _serve(self):
        while not self.stopped:
            try:
                data, addr = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            text = data.decode(errors="replace")
            if not text.startswith("REGISTER "):
                continue
            lines = text.split("\r\n")
            contacts = [l.split(":", 1)[1].strip() for l in lines if l.lower().startswith(("contact:", "m:"))]
            self.registers.append((time.monotonic(), bool(contacts)))
            if contacts:
                self.bindings = [c.split(";")[0] for c in contacts[0].split(",") if "expires=0" not in c]
            keep = [l for l in lines if l.split(":")[0].lower() in ("via", "from", "to", "call-id", "cseq")]
            listed = self.bindings if (contacts or self.lists) else []
            reply = (["SIP/2.0 200 OK"] + keep + [f"Contact: {b};expires=300" for b in listed]
                     + ["Content-Length: 0", "", ""])
            self.sock.sendto("\r\n".join(reply).encode(), addr)

    def stop(self):
        self.stopped = True
        self.thread.join(2)
        self.sock.close()


def binding_lost_reregisters(binary):
    with Harness("trunk-binding-lost", binary) as h:
        lan, wan, port = h.port(3)
        reg = Registrar(port)
        try:
            d = h.start_daemon(trunk_config((lan, wan), f"sip:127.0.0.1:{port}", binding_check=PERIOD_S, expires=300))
            d.wait_log(r"event=registered trunk=prov", timeout=10)
            d.wait_log(r"event=binding_check_ok trunk=prov", timeout=PERIOD_S + 3)
            forgot_at = time.monotonic()
            mark = d.log_size()
            reg.forget()
            d.wait_log(r"level=warn component=trunk event=binding_lost trunk=prov .*action=\"registering again now\"",
                       timeout=PERIOD_S + 3, after=mark)
            d.wait_log(r"event=state trunk=prov from=registered to=registering", timeout=2, after=mark)
            d.wait_log(r"event=registered trunk=prov", timeout=3, after=mark)
            noticed = reg.registers[-1][0] - forgot_at
            check(noticed <= PERIOD_S + 1.5, f"registered again {noticed:.1f}s after the registrar forgot us "
                                              f"(check every {PERIOD_S}s)")
            check(reg.registers[-1][1] and reg.bindings, "the re-registration names our Contact again")
            mark = d.log_size()
            d.wait_log(r"event=binding_check_ok trunk=prov", timeout=PERIOD_S + 3, after=mark)
            queries = reg.queries()
            check(len(queries) >= 3 and all(PERIOD_S - 0.5 <= b - a for a, b in zip(queries, queries[1:])),
                  f"queries {PERIOD_S}s apart or more: {[round(b - a, 1) for a, b in zip(queries, queries[1:])]}")
            h.stop_daemon(d)
        finally:
            reg.stop()


def binding_check_unsupported(binary):
    with Harness("trunk-binding-unsupported", binary) as h:
        lan, wan, port = h.port(3)
        reg = Registrar(port, lists=False)
        try:
            d = h.start_daemon(trunk_config((lan, wan), f"sip:127.0.0.1:{port}", binding_check=PERIOD_S, expires=300))
            d.wait_log(r"event=binding_check_stopped trunk=prov reason=\"the registrar does not list our binding",
                       timeout=2 * PERIOD_S + 8)
            count = len(reg.registers)
            time.sleep(PERIOD_S + 1)
            check(len(reg.registers) == count == 4, f"register, query, register, query, then nothing: {reg.registers}")
            check(len(re.findall(r"event=binding_lost", d.output())) == 1, "one re-registration for the missing binding")
            h.stop_daemon(d)
        finally:
            reg.stop()


def _answer(sock, text, addr, code="200 OK", extra=()):
    keep = [line for line in text.split("\r\n")
            if line.split(":")[0].lower() in ("via", "from", "to", "call-id", "cseq", "contact")]
    keep = [line + (";expires=10" if line.lower().startswith("contact") else "") for line in keep]
    lines = [f"SIP/2.0 {code}"] + keep + list(extra) + ["Content-Length: 0", "", ""]
    sock.sendto("\r\n".join(lines).encode(), addr)


def retry_after_refresh(binary):
    with Harness("trunk-retry-after-refresh", binary) as h:
        lan, wan, port = h.port(3)
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", port))
        sock.settimeout(0.2)
        d = h.start_daemon(trunk_config((lan, wan), f"sip:127.0.0.1:{port}",
                                        keepalive={"method": "options", "interval": 5}))
        registers, options_in_wait, refused_at = [], [], None
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and len(registers) < 3:
            try:
                data, addr = sock.recvfrom(65535)
            except socket.timeout:
                continue
            text = data.decode(errors="replace")
            now = time.monotonic()
            if text.startswith("REGISTER "):
                registers.append(now)
                if len(registers) == 2:
                    # The refresh meets an overloaded provider.
                    refused_at = now
                    _answer(sock, text, addr, "503 Service Unavailable", ["Retry-After: 10"])
                else:
                    # The first REGISTER: a binding of 10 s brings nua's refresh within seconds.
                    _answer(sock, text, addr)
            elif text.startswith("OPTIONS "):
                if refused_at is None:
                    _answer(sock, text, addr)
                else:
                    options_in_wait.append(now)  # the overloaded provider answers nothing
        sock.close()
        check(len(registers) == 3, f"register, refresh, and the next try: {len(registers)} REGISTERs")
        waited = registers[2] - refused_at
        check(9.9 <= waited <= 11.5, f"next REGISTER {waited:.1f}s after the 503 with Retry-After: 10")
        d.wait_log(r"level=warn component=trunk event=registration_failed trunk=prov status=503 "
                   r"phrase=\"Service Unavailable\" retry_in_ms=10000", timeout=1)
        check(not re.search(r"event=keepalive_lost", d.output()), "no keep-alive verdict during the provider's wait")
        h.stop_daemon(d)


FLOWS = {f.__name__: f for f in (binding_lost_reregisters, binding_check_unsupported, retry_after_refresh)}

if __name__ == "__main__":
    run_flows(FLOWS)
