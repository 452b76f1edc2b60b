#!/usr/bin/env python3
"""Calls through b2bua with sipp on both sides: a phone on the LAN agent, a provider on the
WAN agent (an IP-authenticated trunk), media through the relay, a call record for each call.
One flow per ctest entry (run_flows)."""
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from harness import check, check_sipp, run_flows, running, wait_until  # noqa: E402
from records import Records  # noqa: E402
import scenarios  # noqa: E402
from sip_client import status_of  # noqa: E402

DID = "+4930123456"


class Setup:
    """The daemon with extensions 10, 11 (ring group of DID), 12 (no outbound calls) and 13 (two
    calls out an hour), and a provider trunk without registration; sipp plays both sides."""

    def __init__(self, h):
        self.h = h
        self.lan_port, self.wan_port, self.provider_port = h.port(3)
        self.lan, self.wan = f"127.0.0.1:{self.lan_port}", f"127.0.0.1:{self.wan_port}"
        self.daemon = h.start_daemon({
            "lan": {"listen": [f"udp:{self.lan}"], "networks": ["127.0.0.0/8"], "realm": "test.arpa"},
            "wan": {"address": "127.0.0.1", "port": self.wan_port},
            "registrar": {"qualify_interval": 0, "block_after_failures": 3},
            "extensions": [
                {"number": "10", "password": "pw-ten"},
                {"number": "11", "password": "pw-eleven"},
                {"number": "12", "password": "pw-twelve", "outbound": False},
                {"number": "13", "password": "pw-thirteen", "limits": {"calls_per_hour": 2}},
                {"number": "14", "password": "pw-fourteen", "max_calls": 1},
            ],
            "trunks": [{"name": "provider", "registrar": f"sip:127.0.0.1:{self.provider_port}",
                        "username": "4930123456", "register": False, "numbers": [DID],
                        "keepalive": {"method": "off"}}],
            "routing": {"inbound": [{"number": DID, "ring": ["10", "11"], "timeout": 20}],
                        "outbound": [{"prefix": "0", "trunk": "provider"}],
                        "emergency": ["112"]},
            "media": {"ports": list(h.ports.span(20)), "timeout": 30},
        })

    def provider(self, name, xml):
        p = self.h.sipp_bg(xml, self.wan, self.provider_port, name=name, timeout=40)
        time.sleep(0.3)
        return p

    def phone(self, name, xml, port=None, extra=()):
        """Runs a phone's scenario to its end from `port` (a fresh one unless given)."""
        return self.h.sipp(self.h.write_scenario(name, xml), self.lan, port or self.h.port(), name=name, extra=extra)

    def stop(self):
        self.h.stop_daemon(self.daemon)

    def expect_refusal(self, name, user, password, dialled, status, what):
        r = self.phone(name, scenarios.phone_call_out(user, password, dialled, expect=status))
        check_sipp(r, what)


def outbound_basic(binary):
    """Phone 10 dials 0301234567: 407, authenticated INVITE, trunk, answered, RTP both ways."""
    with running("calls-outbound", binary, Setup) as s:
        h = s.h
        provider = s.provider("provider_answer", scenarios.provider_answer())
        phone_port = h.port()
        phone = s.phone("out", scenarios.phone_call_out("10", "pw-ten", "0301234567"), phone_port,
                        extra=["-cid_str", "phone-leg-%u-%p@%s"])
        check_sipp(phone, "outbound call answered and hung up by the phone")
        h.finish(provider, "provider saw INVITE/ACK/BYE")
        Records(h).answered("outbound call", "outbound", "10", "provider", "0301234567")
        seen = h.sipp_messages("provider_answer")
        for leak in ("phone-leg-", "TestPhone", "X-Phone-Secret", f":{phone_port}"):
            check(leak not in seen, f"provider never sees '{leak}'")
        check("P-Asserted-Identity: <sip:4930123456@127.0.0.1>" in seen, "trunk identity asserted")


def inbound_ring_group(binary):
    """The provider calls the DID: 10 answers, 11 rings and is cancelled (completed elsewhere)."""
    with running("calls-inbound", binary, Setup) as s:
        h = s.h
        phones = {}
        for ext, pw in (("10", "pw-ten"), ("11", "pw-eleven")):
            phones[ext] = h.port()
            r = s.phone(f"reg{ext}", scenarios.phone_register(ext, pw), phones[ext])
            check_sipp(r, f"phone {ext} registered")
        p10 = h.sipp_bg(scenarios.phone_answer(), s.lan, phones["10"], name="phone10", timeout=40)
        p11 = h.sipp_bg(scenarios.phone_ring_until_cancel(), s.lan, phones["11"], name="phone11", timeout=40)
        time.sleep(0.3)
        far = h.sipp(h.write_scenario("in", scenarios.provider_call(DID, hold_ms=2500)), s.wan, s.provider_port,
                     name="in", extra=["-cid_str", "provider-leg-%u-%p@%s"])
        check_sipp(far, "inbound call answered and hung up by the far end")
        h.finish(p10, "phone 10 answered")
        h.finish(p11, "phone 11 was cancelled with Reason cause=200")
        Records(h).answered("inbound call", "inbound", "10", "provider", "+4989111222")
        for name in ("phone10", "phone11"):
            seen = h.sipp_messages(name)
            for leak in ("provider-leg-", "ProviderSwitch", f":{s.provider_port}"):
                check(leak not in seen, f"{name} never sees '{leak}'")


def refused(binary):
    """No route (404), no permission (403), a wrong password (407 again, never the trunk), the
    provider busy (486); the calls refused after authentication are recorded too."""
    with running("calls-refused", binary, Setup) as s:
        h = s.h
        s.expect_refusal("noroute", "10", "pw-ten", "999", "404", "no route -> 404")
        s.expect_refusal("noperm", "12", "pw-twelve", "0301", "403", "extension without outbound permission -> 403")
        s.expect_refusal("badpw", "10", "wrong", "0301", "407", "wrong password never reaches the trunk (407 again)")
        busy = s.provider("provider_busy", scenarios.provider_answer(status="486"))
        s.expect_refusal("busy", "10", "pw-ten", "0309", "486", "provider busy -> 486 to the phone")
        h.finish(busy, "provider answered busy")
        wait_until(lambda: h.db_rows("SELECT id FROM call_records WHERE remote_number = '0309'"), 8)
        rows = h.call_records(3)
        busy_rows = [r for r in rows if r[3] == "0309"]
        check(len(busy_rows) == 1 and busy_rows[0][4] == 486 and busy_rows[0][6] == 0,
              "busy call recorded with 486 and no answer time")
        recorded = {(r[0], r[1], r[3], r[4], r[5]) for r in rows}
        check({("outbound", "10", "999", 404, "system"), ("outbound", "12", "0301", 403, "system")} <= recorded,
              f"calls refused after authentication are recorded too {sorted(recorded)}")


def password_guessing_blocked(binary):
    """Guessing passwords through INVITEs blocks the source, like REGISTERs do (one guard)."""
    with running("calls-guessing", binary, Setup) as s:
        for attempt in (1, 2, 3):
            s.expect_refusal(f"guess{attempt}", "10", "wrong", "0301", "407",
                             f"wrong password {attempt}: challenged again")
        s.daemon.wait_log(r"event=source_blocked source=127.0.0.1", timeout=5)
        r = status_of(s.lan_port, "INVITE", user="10", to_user="0301", timeout=3)
        check(r is None, "a blocked source gets no final answer at all, not even a challenge" + (f": {r.raw}" if r else ""))
        check(len(re.findall(r"event=source_blocked", s.daemon.output())) == 1, "the block is logged once")


def fraud_run(binary):
    """What guessed credentials are used for: extension 13 dials abroad, a premium number and a
    string too long to be a number (each refused, one warning each), then more calls than its
    hourly limit (the third is refused and blocks the extension with one warning, the fourth is
    refused without one). The provider gets the two allowed calls and none of the others."""
    with running("calls-fraud", binary, Setup) as s:
        h = s.h
        provider = h.sipp_bg(scenarios.provider_answer(), s.wan, s.provider_port, name="provider", calls=2, timeout=60)
        time.sleep(0.3)
        too_long = "0" + "9" * 40
        s.expect_refusal("international", "13", "pw-thirteen", "00441234567", "403", "international -> 403")
        s.expect_refusal("premium", "13", "pw-thirteen", "09001234567", "403", "premium rate -> 403")
        s.expect_refusal("too_long", "13", "pw-thirteen", too_long, "404", "no phone number -> 404")
        for n in (1, 2):
            r = s.phone(f"allowed{n}", scenarios.phone_call_out("13", "pw-thirteen", f"030100{n}", hold_ms=300))
            check_sipp(r, f"call {n} of the hour goes out")
        h.finish(provider, "the provider took the two allowed calls")
        s.expect_refusal("third", "13", "pw-thirteen", "0301003", "403", "the third call of the hour -> 403")
        s.expect_refusal("fourth", "13", "pw-thirteen", "0301004", "403", "blocked: the fourth call -> 403")

        log = s.daemon.output()
        refusals = re.findall(r"level=warn component=calls event=destination_refused call=\d+ ext=13 class=(\w+) "
                              r"number=(\S+)", log)
        check(sorted(refusals) == sorted([("international", "00441234567"), ("premium", "09001234567"),
                                          ("none", too_long[:32])]),
              f"one warning per refused destination {refusals}")
        limits = re.findall(r"level=warn component=calls event=extension_limit_reached .*ext=13 "
                            r"limit=calls_per_hour", log)
        check(len(limits) == 1, f"crossing the hourly limit is warned about once ({len(limits)})")
        invites = h.messages("provider", method="INVITE")
        check(len(invites) == 2 and all(n in "".join(invites) for n in ("0301001", "0301002")),
              f"the provider got the two allowed INVITEs and no other ({len(invites)})")
        # The provider's sipp ends after those two: the daemon's own word covers the last two refusals.
        started = re.findall(r"event=call_started \S+ direction=outbound extension=13 ", log)
        check(len(started) == 2, f"only the two allowed calls of 13 went to a trunk ({len(started)})")
        rows = wait_until(lambda: [r for r in h.call_records(7) if r[1] == "13"], 8)
        refused_rows = sorted((r[3], r[4], r[5]) for r in rows if r[4] != 200)
        check(refused_rows == sorted([("00441234567", 403, "system"), ("09001234567", 403, "system"),
                                      (too_long[:32], 404, "system"), ("0301003", 403, "system"),
                                      ("0301004", 403, "system")]),
              f"every refused attempt is recorded {refused_rows}")


def extension_call_limit(binary):
    """Extension 14 may be in one call at a time (max_calls 1): while its call out is up a
    second one gets 486 and never reaches the trunk; once it ended, 14 calls out again."""
    with running("calls-ext-limit", binary, Setup) as s:
        h = s.h
        provider = h.sipp_bg(scenarios.provider_uas(hold_ms=4000), s.wan, s.provider_port, name="provider", calls=2,
                             timeout=40)
        time.sleep(0.3)
        first = h.sipp_bg(scenarios.phone_call("14", "pw-fourteen", "0301101", hold_ms=4000), s.lan, h.port(),
                          name="first", timeout=30)
        up = wait_until(lambda: "CSeq: 2 ACK" in h.sipp_messages("first"), 10)
        check(up, "the first call of 14 is up")
        s.expect_refusal("second", "14", "pw-fourteen", "0301102", "486", "a second call of 14 at once: 486")
        h.finish(first, "the first call of 14 ended by the phone")
        r = s.phone("third", scenarios.phone_call("14", "pw-fourteen", "0301103", hold_ms=300))
        check_sipp(r, "once the first ended, 14 calls out again")
        h.finish(provider, "the provider saw the first and the third call, not the second")
        invites = re.findall(r"^INVITE sip:(\d+)@", h.sipp_messages("provider"), re.M)
        check(invites == ["0301101", "0301103"], f"the refused call never reached the trunk {invites}")
        rows = wait_until(lambda: [r for r in h.call_records(3) if r[1] == "14" and r[3] == "0301102"], 8)
        check(rows and rows[0][4] == 486, f"the refused call is recorded with 486 {rows}")


FLOWS = {f.__name__: f for f in (outbound_basic, inbound_ring_group, refused, password_guessing_blocked, fraud_run,
                                 extension_call_limit)}

if __name__ == "__main__":
    run_flows(FLOWS)
