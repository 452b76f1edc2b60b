#!/usr/bin/env python3
"""Callers refused before anything rings (routing.block, routing.inbound[].block): a sipp
provider calls in, registered sipp phones wait for INVITEs. A blocked call gets the configured
final answer (603 or 486) and no 180, no phone sees an INVITE, the refusal leaves a call record
with blocked=<reason> in its notes, one event=caller_blocked line, and counts in /metrics as
b2bua_calls_blocked_total{reason=...}. A caller the lists do not name still rings. One flow per
ctest entry (run_flows)."""
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from harness import check, check_sipp, run_flows, running  # noqa: E402
import scenarios  # noqa: E402
from status_http import get  # noqa: E402

HOME = "+4930123456"    # DID that rings 10
OFFICE = "+4930123457"  # DID that rings 11
COLUMNS = "direction, extension, trunk, remote_number, final_code, hangup_by, answer_ms, notes"


class Setup:
    """Extensions 10 (rung by HOME) and 11 (rung by OFFICE), a provider trunk without
    registration with both numbers, and the block lists the flow names."""

    def __init__(self, h, block=None, home_block=None, office_block=None):
        self.h = h
        self.lan_port, self.wan_port, self.provider_port, self.status_port = h.port(4)
        self.lan, self.wan = f"127.0.0.1:{self.lan_port}", f"127.0.0.1:{self.wan_port}"
        inbound = [{"number": HOME, "ring": ["10"], "timeout": 20}, {"number": OFFICE, "ring": ["11"], "timeout": 20}]
        for route, b in zip(inbound, (home_block, office_block)):
            if b is not None:
                route["block"] = b
        routing = {"inbound": inbound, "outbound": [{"prefix": "0", "trunk": "provider"}]}
        if block is not None:
            routing["block"] = block
        self.daemon = h.start_daemon({
            "lan": {"listen": [f"udp:{self.lan}"], "networks": ["127.0.0.0/8"], "realm": "test.arpa"},
            "wan": {"address": "127.0.0.1", "port": self.wan_port},
            "registrar": {"qualify_interval": 0},
            "extensions": [{"number": "10", "password": "pw-ten"}, {"number": "11", "password": "pw-eleven"}],
            "trunks": [{"name": "provider", "registrar": f"sip:127.0.0.1:{self.provider_port}",
                        "username": "4930123456", "register": False, "numbers": [HOME, OFFICE],
                        "keepalive": {"method": "off"}}],
            "routing": routing,
            "status": {"listen": f"127.0.0.1:{self.status_port}"},
            "media": {"ports": list(h.ports.span(20)), "timeout": 30},
        })
        self.calls = 0

    def phone(self, ext, password):
        """Registers `ext` from a port of its own and leaves a sipp phone there that answers
        one INVITE (its trace: h.messages(f"phone{ext}"))."""
        port = self.h.port()
        r = self.h.sipp(self.h.write_scenario(f"reg{ext}", scenarios.phone_register(ext, password)), self.lan, port,
                        name=f"reg{ext}")
        check_sipp(r, f"phone {ext} registered")
        p = self.h.sipp_bg(scenarios.phone_answer(), self.lan, port, name=f"phone{ext}", timeout=60)
        time.sleep(0.3)
        return p

    def call(self, name, did, caller, expect, what, privacy=False):
        """One provider call; returns the messages the provider received."""
        r = self.h.sipp(self.h.write_scenario(name, scenarios.provider_call(did, expect=expect, hold_ms=800, caller=caller, privacy=privacy)), self.wan,
                        self.provider_port, name=name)
        check_sipp(r, what)
        self.calls += 1
        return self.h.messages(name)

    def refused(self, name, did, caller, expect, reason, privacy=False, number=None):
        """A call the lists refuse: `expect` without ringing, the log line, the metric."""
        before = self.daemon.log_size()
        got = self.call(name, did, caller, expect, f"{name}: {caller} -> {did} refused with {expect}", privacy)
        check(not any(m.startswith("SIP/2.0 18") for m in got),
              f"{name}: the provider hears no ringing ({[m.splitlines()[0] for m in got]})")
        pattern = (rf"level=info component=calls event=caller_blocked call=\d+ trunk=provider did={re.escape(did)} "
                   rf"number={re.escape(number or caller)} reason={reason}(\s|$)")
        self.daemon.find_log(pattern, timeout=5, after=before)
        lines = re.findall(pattern, self.daemon.output()[before:], re.M)
        check(len(lines) == 1, f"{name}: one event=caller_blocked line with trunk, did, number and reason",
              self.daemon.output()[before:][-2000:])

    def metric(self, reason):
        body = get(self.status_port, "/metrics")[2]
        m = re.search(rf'^b2bua_calls_blocked_total{{reason="{reason}"}} (\d+)$', body, re.M)
        return int(m.group(1)) if m else 0

    def records(self):
        """Every call record so far (oldest first), with the notes column."""
        return self.h.call_records(self.calls, columns=COLUMNS)

    def invites(self, ext):
        return self.h.messages(f"phone{ext}", method="INVITE")

    def stop(self):
        self.h.stop_daemon(self.daemon)


def expect_record(row, remote, code, reason):
    want = ("inbound", "", "provider", remote, code, "system")
    check(tuple(row[:6]) == want and row[6] == 0, f"refused call recorded {tuple(row[:7])} == {want} unanswered")
    check(f"blocked={reason}" in (row[7] or "").split(), f"its notes say blocked={reason} ({row[7]!r})")


def blocked_number(binary):
    """routing.block lists +4989555001; the provider presents it as 004989555001: 603 Decline,
    phone 10 never sees the INVITE. Then +4989111222 calls and phone 10 rings and answers."""
    with running("calls-blocked-number", binary, Setup, block={"numbers": ["+4989555001"]}) as s:
        h = s.h
        phone = s.phone("10", "pw-ten")
        s.refused("nuisance", HOME, "004989555001", "603", "global_number")
        check(not s.invites("10"), "phone 10 got no INVITE for the blocked caller")
        check(s.metric("global_number") == 1, 'b2bua_calls_blocked_total{reason="global_number"} 1')
        s.call("friend", HOME, "+4989111222", "200", "a caller not on the list is answered by phone 10")
        h.finish(phone, "phone 10 took the one call that was not blocked")
        invites = s.invites("10")
        check(len(invites) == 1 and "+4989111222" in invites[0] and "4989555001" not in invites[0],
              f"phone 10 got one INVITE, from the caller not on the list ({len(invites)})")
        rows = s.records()
        expect_record(rows[0], "004989555001", 603, "global_number")
        check(rows[1][3] == "+4989111222" and rows[1][4] == 200 and "blocked=" not in (rows[1][7] or ""),
              f"the answered call is recorded without a block note {tuple(rows[1])}")
        check(s.metric("global_number") == 1, "the answered call is not counted as blocked")


def blocked_prefix(binary):
    """routing.block refuses the prefix 0900 with 486 Busy Here: +499001234567 (international
    form of 09001234567) gets 486 without ringing; 0309001234 is no 0900 number and rings."""
    with running("calls-blocked-prefix", binary, Setup, block={"prefixes": ["0900"], "answer": 486}) as s:
        h = s.h
        phone = s.phone("10", "pw-ten")
        s.refused("premium", HOME, "+499001234567", "486", "global_prefix")
        check(not s.invites("10"), "phone 10 got no INVITE for the blocked prefix")
        check(s.metric("global_prefix") == 1, 'b2bua_calls_blocked_total{reason="global_prefix"} 1')
        s.call("berlin", HOME, "0309001234", "200", "a number with 0900 further in is answered")
        h.finish(phone, "phone 10 took the one call that was not blocked")
        invites = s.invites("10")
        check(len(invites) == 1 and "0309001234" in invites[0], f"phone 10 got one INVITE ({len(invites)})")
        rows = s.records()
        expect_record(rows[0], "+499001234567", 486, "global_prefix")
        check(rows[1][4] == 200, f"the other call is answered {tuple(rows[1])}")


def blocked_anonymous(binary):
    """HOME refuses withheld numbers, OFFICE does not: From anonymous and a number with
    Privacy: id both get 603 on HOME without ringing 10; the same withheld caller on OFFICE rings
    11; a caller with a number on HOME rings 10."""
    with running("calls-blocked-anonymous", binary, Setup, home_block={"anonymous": True}) as s:
        h = s.h
        p10, p11 = s.phone("10", "pw-ten"), s.phone("11", "pw-eleven")
        s.refused("withheld", HOME, "anonymous", "603", "did_anonymous")
        s.refused("privacy", HOME, "+4989111222", "603", "did_anonymous", privacy=True, number="anonymous")
        check(s.metric("did_anonymous") == 2, 'b2bua_calls_blocked_total{reason="did_anonymous"} 2')
        check(not s.invites("10") and not s.invites("11"), "no phone got an INVITE for the withheld callers")
        s.call("office", OFFICE, "anonymous", "200", "a withheld number on the other DID is answered by 11")
        h.finish(p11, "phone 11 took the withheld caller on its DID")
        s.call("home", HOME, "+4989111222", "200", "a presented number on HOME is answered by 10")
        h.finish(p10, "phone 10 took the caller with a number")
        check(len(s.invites("10")) == 1 and len(s.invites("11")) == 1, "each phone got exactly one INVITE")
        rows = s.records()
        expect_record(rows[0], "anonymous", 603, "did_anonymous")
        expect_record(rows[1], "anonymous", 603, "did_anonymous")
        check([r[4] for r in rows[2:]] == [200, 200], f"the two other calls are answered {[tuple(r) for r in rows[2:]]}")


FLOWS = {f.__name__: f for f in (blocked_number, blocked_prefix, blocked_anonymous)}

if __name__ == "__main__":
    run_flows(FLOWS)
