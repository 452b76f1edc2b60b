"""REGISTER flows against real sipp UACs: challenge, refresh, unregister, wildcard, 423, wrong
password and unknown user (same answer), several contacts, old CSeq. Ports 15060-15069."""
import re

from registrar_common import Harness, bindings, check, config, sipp, wait_bindings, wait_until

PORT = 15060


def response_shape(messages, code):
    """The status line and header names of the first `code` response in a sipp message trace."""
    m = re.search(rf"SIP/2.0 {code} [^\r\n]*\r?\n(.*?)\r?\n\r?\n", messages, re.S)
    if not m:
        return None
    names = sorted(line.split(":")[0].strip().lower() for line in m.group(1).splitlines() if ":" in line)
    return m.group(0).splitlines()[0].strip(), names


with Harness("registrar-sipp") as h:
    d = h.start_daemon(config(PORT))
    d.wait_log(r"component=registrar event=started")

    r = sipp(h, "register_refresh", PORT, 15061, "10", "secret10", ["-key", "expires", "120", "-key", "contact_user", "10"])
    check(r.returncode == 0, "first REGISTER is challenged, the authenticated one and a refresh (nc=2) get 200")
    rows = wait_bindings(h, "10", lambda rows: len(rows) == 1)
    check(len(rows) == 1 and rows[0][1] == "sip:10@127.0.0.1:15061" and rows[0][4] == "127.0.0.1:15061",
          f"binding stored with its flow: {rows}")
    d.wait_log(r"event=binding_added ext=10 contact=127.0.0.1:15061 flow=udp:127.0.0.1:15061 "
               r"user_agent=sipp-registrar-test expires=120")
    check("secret10" not in d.output() and "response=" not in d.output() and "nonce" not in d.output(),
          "no password, nonce or digest response in the log")

    r = sipp(h, "register_refresh", PORT, 15062, "11", "secret11", ["-key", "expires", "99999", "-key", "contact_user", "11"],
             name="ha1_clamped")
    check(r.returncode == 0, "an extension given as HA1 registers")
    rows = wait_bindings(h, "11", lambda rows: len(rows) == 1)
    d.wait_log(r"event=binding_added ext=11 .* expires=3600")
    check(len(rows) == 1, "too long an expiry is clamped to max_expires (3600)")

    r = sipp(h, "unregister", PORT, 15063, "12", "secret12")
    check(r.returncode == 0, "Expires: 0 removes the binding; the 200 lists no contact")
    d.wait_log(r"event=binding_removed ext=12 contact=127.0.0.1:15063")
    check(wait_until(lambda: not bindings(h, "12"), 5), "unregistered binding gone from the database")

    r = sipp(h, "wildcard", PORT, 15064, "12", "secret12")
    check(r.returncode == 0, "Contact: * with Expires: 0 removes all bindings of the AoR")
    check(wait_until(lambda: not bindings(h, "12"), 5), "wildcard left no binding of 12")

    r = sipp(h, "too_brief", PORT, 15065, "12", "secret12")
    check(r.returncode == 0, "Expires below min_expires gets 423 with Min-Expires")
    check("Min-Expires: 30" in h.sipp_messages("too_brief"), "Min-Expires carries registrar.min_expires")

    r = sipp(h, "several_contacts", PORT, 15066, "12", "secret12")
    check(r.returncode == 0, "two contacts in one REGISTER; the 200 lists both with expires and q")
    rows = wait_bindings(h, "12", lambda rows: len(rows) == 2)
    check(sorted(row[3] for row in rows) == [0.2, 0.8], f"q-values stored: {rows}")

    r = sipp(h, "register_fixed_call_id", PORT, 15067, "10", "secret10", ["-cid_str", "fixed-call-id-1"])
    check(r.returncode == 0, "REGISTER with CSeq 10 on a fixed Call-ID")
    r = sipp(h, "old_cseq", PORT, 15067, "10", "secret10", ["-cid_str", "fixed-call-id-1"])
    check(r.returncode == 0, "a lower CSeq on the same Call-ID is rejected with 400")

    wrong = sipp(h, "forbidden", PORT, 15068, "10", "not-the-password", name="wrong_password")
    unknown = sipp(h, "forbidden", PORT, 15069, "99", "secret10", name="unknown_user")
    check(wrong.returncode == 0 and unknown.returncode == 0, "wrong password and unknown user both get 403")
    a = response_shape(h.sipp_messages("wrong_password"), 403)
    b = response_shape(h.sipp_messages("unknown_user"), 403)
    check(a is not None and a == b, f"the two 403s are alike (status line and headers): {a} vs {b}")
    a401 = response_shape(h.sipp_messages("wrong_password"), 401)
    b401 = response_shape(h.sipp_messages("unknown_user"), 401)
    check(a401 == b401, "and so are the challenges before them")

    check(d.stop() == 0, "daemon stops cleanly")
    check("ERROR: AddressSanitizer" not in d.output() and "LeakSanitizer" not in d.output(), "no sanitizer report")
print("PASS")
