#!/usr/bin/env python3
"""REGISTER flows against real sipp UACs: challenge, refresh, unregister, wildcard, 423, wrong
password and unknown user (same answer), several contacts, old CSeq. One flow per ctest entry
(run_flows), each against a daemon of its own."""
import re

from registrar_common import bindings, config, sipp, wait_bindings
from harness import check, check_sipp, run_flows, running, wait_until


def response_shape(messages, code):
    """The status line and header names of the first `code` response in a sipp message trace."""
    m = re.search(rf"SIP/2.0 {code} [^\r\n]*\r?\n(.*?)\r?\n\r?\n", messages, re.S)
    if not m:
        return None
    names = sorted(line.split(":")[0].strip().lower() for line in m.group(1).splitlines() if ":" in line)
    return m.group(0).splitlines()[0].strip(), names


class Registrar:
    def __init__(self, h):
        self.h = h
        self.port = h.port()
        self.daemon = h.start_daemon(config(self.port))
        self.daemon.wait_log(r"component=registrar event=started")

    def sipp(self, scenario, user, password, extra=(), name=None, local_port=None):
        return sipp(self.h, scenario, self.port, local_port or self.h.port(), user, password, extra, name)

    def play(self, what, scenario, user, password, extra=(), name=None, local_port=None):
        """Runs a scenario of scenarios/ to its end as the check `what`."""
        check_sipp(self.sipp(scenario, user, password, extra, name, local_port), what)

    def stop(self):
        self.h.stop_daemon(self.daemon)


def register_refresh(binary):
    with running("registrar-refresh", binary, Registrar) as r:
        h = r.h
        phone = h.port()
        r.play("first REGISTER is challenged, the authenticated one and a refresh (nc=2) get 200",
               "register_refresh", "10", "secret10", ["-key", "expires", "120", "-key", "contact_user", "10"],
               local_port=phone)
        rows = wait_bindings(h, "10", lambda rows: len(rows) == 1)
        check(len(rows) == 1 and rows[0][1] == f"sip:10@127.0.0.1:{phone}" and rows[0][4] == f"127.0.0.1:{phone}",
              f"binding stored with its flow: {rows}")
        r.daemon.wait_log(rf"event=binding_added ext=10 contact=127.0.0.1:{phone} flow=udp:127.0.0.1:{phone} "
                          r"user_agent=sipp-registrar-test expires=120")
        out = r.daemon.output()
        check("secret10" not in out and "response=" not in out and "nonce" not in out,
              "no password, nonce or digest response in the log")


def ha1_clamped(binary):
    with running("registrar-ha1", binary, Registrar) as r:
        h = r.h
        r.play("an extension given as HA1 registers",
               "register_refresh", "11", "secret11", ["-key", "expires", "99999", "-key", "contact_user", "11"],
               name="ha1_clamped")
        rows = wait_bindings(h, "11", lambda rows: len(rows) == 1)
        r.daemon.wait_log(r"event=binding_added ext=11 .* expires=3600")
        check(len(rows) == 1, "too long an expiry is clamped to max_expires (3600)")


def unregister(binary):
    with running("registrar-unregister", binary, Registrar) as r:
        h = r.h
        phone = h.port()
        r.play("Expires: 0 removes the binding; the 200 lists no contact",
               "unregister", "12", "secret12", local_port=phone)
        r.daemon.wait_log(rf"event=binding_removed ext=12 contact=127.0.0.1:{phone}")
        check(wait_until(lambda: not bindings(h, "12"), 5), "unregistered binding gone from the database")


def wildcard(binary):
    with running("registrar-wildcard", binary, Registrar) as r:
        h = r.h
        r.play("Contact: * with Expires: 0 removes all bindings of the AoR", "wildcard", "12", "secret12")
        check(wait_until(lambda: not bindings(h, "12"), 5), "wildcard left no binding of 12")


def too_brief(binary):
    with running("registrar-too-brief", binary, Registrar) as r:
        h = r.h
        r.play("Expires below min_expires gets 423 with Min-Expires", "too_brief", "12", "secret12")
        check("Min-Expires: 30" in h.sipp_messages("too_brief"), "Min-Expires carries registrar.min_expires")


def several_contacts(binary):
    with running("registrar-contacts", binary, Registrar) as r:
        h = r.h
        r.play("two contacts in one REGISTER; the 200 lists both with expires and q",
               "several_contacts", "12", "secret12")
        rows = wait_bindings(h, "12", lambda rows: len(rows) == 2)
        check(sorted(row[3] for row in rows) == [0.2, 0.8], f"q-values stored: {rows}")


def old_cseq(binary):
    with running("registrar-old-cseq", binary, Registrar) as r:
        h = r.h
        phone = h.port()
        r.play("REGISTER with CSeq 10 on a fixed Call-ID",
               "register_fixed_call_id", "10", "secret10", ["-cid_str", "fixed-call-id-1"], local_port=phone)
        r.play("a lower CSeq on the same Call-ID is rejected with 400",
               "old_cseq", "10", "secret10", ["-cid_str", "fixed-call-id-1"], local_port=phone)


def forbidden_alike(binary):
    with running("registrar-forbidden", binary, Registrar) as r:
        h = r.h
        wrong = r.sipp("forbidden", "10", "not-the-password", name="wrong_password")
        unknown = r.sipp("forbidden", "99", "secret10", name="unknown_user")
        check(wrong.returncode == 0 and unknown.returncode == 0, "wrong password and unknown user both get 403")
        a = response_shape(h.sipp_messages("wrong_password"), 403)
        b = response_shape(h.sipp_messages("unknown_user"), 403)
        check(a is not None and a == b, f"the two 403s are alike (status line and headers): {a} vs {b}")
        a401 = response_shape(h.sipp_messages("wrong_password"), 401)
        b401 = response_shape(h.sipp_messages("unknown_user"), 401)
        check(a401 is not None and a401 == b401, f"and so are the challenges before them: {a401} vs {b401}")


FLOWS = {f.__name__: f for f in (register_refresh, ha1_clamped, unregister, wildcard, too_brief, several_contacts,
                                 old_cseq, forbidden_alike)}

if __name__ == "__main__":
    run_flows(FLOWS)
