#!/usr/bin/env python3
"""Call forwarding, do-not-disturb and call waiting through b2bua, with sipp as the phones and
as the provider (an IP-authenticated trunk, "register": false):

  feature_code_forward_always  phone 10 dials *21*11# ('#' escaped as %23, RFC 3261 19.1.2):
                               200 with every stream declined (port 0), ACK, BYE from b2bua; the
                               setting shows in /status and `b2bua status`; *67*13# with a bare
                               '#' is taken too; a call for 10 rings 11 only; the forward
                               survives a restart and a reload (over the file's own value), and
                               #21# switches it off again, over the file's value too
  unknown_feature_code         codes outside the table (*99#, codes without their '#') get 404,
                               a forward to the extension itself 403, all on the LAN: the
                               provider receives nothing and no setting changes
  dnd_busy_rule                *26#: a call for 10 gets 486 and 10 never rings; with the file's
                               forward.busy after a reload the call rings 11; #26# rings 10 again
  forward_no_answer_external   10 rings 5 s unanswered, then b2bua cancels it and the provider
                               gets a second INVITE for the forward target, presenting the trunk's
                               number ("trunk") or the original caller's ("caller"), and
                               nothing of the LAN
  forward_unregistered         an extension without a registered phone: its unregistered forward
                               rings 11; without one the provider gets 480
  forward_loop                 10 -> 11 -> 10: an internal call ends 482, the record names the path
  call_waiting_off             #43#: with 10 in a call a second call gets 486, then *67*11# sends
                               it to 11; *43#: a second call rings 10 alongside the first
  forward_on_busy_reject       the phone answers 486 (its user rejects): forward.busy rings 11

Every call is checked in its call record (final code, notes "forwarded=<condition>:<from>><to>",
"unavailable=<condition>:<ext>", "loop=<path>"). One flow per ctest entry (run_flows)."""
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from harness import Harness, check, check_sipp, run_flows, wait_until  # noqa: E402
from records import rtp_both_ways  # noqa: E402
import scenarios  # noqa: E402
from status_http import get_json  # noqa: E402

DID10, DID12, DID14 = "+4930123456", "+4930123457", "+4930123458"
FAR_END = "+4989111222"  # the provider's caller (scenarios.provider_dialog)
TRUNK_USER = "4930123456"
PASSWORDS = {"10": "pw-ten", "11": "pw-eleven", "12": "pw-twelve", "13": "pw-thirteen", "14": "pw-fourteen"}
RECORD_COLUMNS = "direction, extension, trunk, remote_number, final_code, hangup_by, notes"
PROVIDER_CID = "provider-leg-%u-%p@%s"


def escaped(code):
    """A feature code as a phone puts it in a Request-URI: '#' as %23 (RFC 3261 19.1.2)."""
    return code.replace("#", "%23")


class Quiet:
    """A UDP socket on a port that must stay silent (a registered phone that must not ring, a
    provider that must not be called); collects whatever arrives until closed."""

    def __init__(self, port):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", port))
        self.sock.settimeout(0.1)
        self.received = []
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop:
            try:
                data, _ = self.sock.recvfrom(65535)
                self.received.append(data.decode(errors="replace"))
            except socket.timeout:
                continue
            except OSError:
                return

    def close(self):
        """Stops listening; returns the first lines of what arrived."""
        self._stop = True
        self._thread.join(2)
        self.sock.close()
        return [m.split("\r\n", 1)[0] for m in self.received]


class Setup:
    """The daemon with extensions 10..14, DIDs ringing 10, 12 and 14 alone, a provider trunk
    without registration (its server at provider_port; its callers call from ports of their
    own, the same address) and the outbound rule "0" -> provider. `extensions` (number -> extra
    keys, e.g. {"10": {"forward": {...}}}) and `trunk` (extra keys) change the file."""

    def __init__(self, h, extensions=None, trunk=None):
        self.h = h
        self.lan_port, self.wan_port, self.provider_port, self.status_port = h.port(4)
        self.lan, self.wan = f"127.0.0.1:{self.lan_port}", f"127.0.0.1:{self.wan_port}"
        self.media_ports = list(h.ports.span(20))  # the same range in every file written
        self.phones = {}
        self.records_seen = 0
        self.config_path = h.write_config(self.config(extensions, trunk))
        self.daemon = h.start_daemon(self.config_path)

    def config(self, extensions=None, trunk=None):
        extensions = extensions or {}
        return {
            "lan": {"listen": [f"udp:{self.lan}"], "networks": ["127.0.0.0/8"], "realm": "test.arpa"},
            "wan": {"address": "127.0.0.1", "port": self.wan_port},
            "status": {"listen": f"127.0.0.1:{self.status_port}"},
            "registrar": {"qualify_interval": 0},
            "extensions": [dict({"number": n, "password": pw}, **extensions.get(n, {})) for n, pw in PASSWORDS.items()],
            "trunks": [dict({"name": "provider", "registrar": f"sip:127.0.0.1:{self.provider_port}",
                             "username": TRUNK_USER, "register": False, "numbers": [DID10, DID12, DID14],
                             "keepalive": {"method": "off"}}, **(trunk or {}))],
            "routing": {"inbound": [{"number": DID10, "ring": ["10"], "timeout": 20},
                                    {"number": DID12, "ring": ["12"], "timeout": 20},
                                    {"number": DID14, "ring": ["14"], "timeout": 20}],
                        "outbound": [{"prefix": "0", "trunk": "provider"}]},
            "media": {"ports": self.media_ports, "timeout": 30},
        }

    # --- the daemon ---

    def reload(self, extensions=None, trunk=None):
        """Rewrites the file and sends SIGHUP; returns once the daemon applied it."""
        mark = self.daemon.log_size()
        self.h.write_config(self.config(extensions, trunk))
        self.daemon.signal(signal.SIGHUP)
        self.daemon.wait_log(r"event=config_applied", after=mark)

    def restart(self):
        """Stops the daemon cleanly and starts it again on the same file and database."""
        self.h.stop_daemon(self.daemon)
        self.daemon = self.h.start_daemon(self.config_path, name="b2bua-restarted")

    def stop(self):
        self.h.stop_daemon(self.daemon)

    def features(self, ext):
        """extensions[ext].features of /status."""
        for e in get_json(self.status_port).get("extensions", []):
            if e.get("number") == ext:
                return e.get("features", {})
        return {}

    def status_text(self):
        r = subprocess.run([self.h.binary, "status", "--config", self.config_path], capture_output=True, text=True,
                           timeout=10)
        check(r.returncode == 0, "`b2bua status` ran", r.stderr)
        return r.stdout

    # --- phones ---

    def register(self, ext):
        """Registers `ext` from a port of its own (kept in self.phones)."""
        port = self.phones.setdefault(ext, self.h.port())
        r = self.h.sipp(self.h.write_scenario(f"reg{ext}", scenarios.phone_register(ext, PASSWORDS[ext])), self.lan,
                        port, name=f"reg{ext}")
        check_sipp(r, f"phone {ext} registered")
        return port

    def phone_bg(self, ext, name, xml, calls=1, timeout=40):
        """A registered phone's scenario in the background, on the port it registered from."""
        return self.h.sipp_bg(xml, self.lan, self.phones[ext], name=name, calls=calls, timeout=timeout)

    def dial_code(self, ext, dialled, name):
        """Phone `ext` dials a feature code that changes a setting: 407, authenticated INVITE,
        200, ACK, then b2bua's BYE, answered. Returns the 200 it got."""
        xml = scenarios.phone_call(ext, PASSWORDS[ext], dialled, hangup="callee", play=False)
        r = self.h.sipp(self.h.write_scenario(name, xml), self.lan, self.h.port(), name=name)
        check_sipp(r, f"{ext} dials {dialled}: 200, ACK, then b2bua's BYE")
        ok = [m for m in self.h.messages(name) if m.startswith("SIP/2.0 200")]
        check(len(ok) == 1, f"  one 200 for the INVITE of {dialled} ({len(ok)})")
        return ok[0]

    def refused_code(self, ext, dialled, status, name):
        r = self.h.sipp(self.h.write_scenario(name, scenarios.phone_call_out(ext, PASSWORDS[ext], dialled,
                                                                           expect=status)),
                        self.lan, self.h.port(), name=name)
        check_sipp(r, f"{ext} dials {dialled}: {status}")

    # --- the provider ---

    def provider_call(self, did, name, expect="200", hold_ms=800, bg=False, timeout=40):
        """The provider calls `did` from a port of its own (the trunk's address)."""
        xml = scenarios.provider_call(did, expect=expect, hold_ms=hold_ms)
        p = self.h.sipp_bg(xml, self.wan, self.h.port(), name=name, timeout=timeout, extra=["-cid_str", PROVIDER_CID])
        if bg:
            return p
        self.h.finish(p, f"provider calls {did}: {expect}")
        return p

    # --- records ---

    def next_record(self, what, direction, code, notes_have=(), notes_lack=()):
        """The next call's record: direction and final code, and what its notes say."""
        self.records_seen += 1
        rows = self.h.call_records(self.records_seen, RECORD_COLUMNS)
        row = rows[self.records_seen - 1]
        check(row[0] == direction and row[4] == code, f"  {what}: {direction} call ended {code} ({row})")
        for n in notes_have:
            check(n in row[6].split(), f"  {what}: notes have {n} ('{row[6]}')")
        for n in notes_lack:
            check(n not in row[6], f"  {what}: notes have no {n} ('{row[6]}')")
        return row


@contextlib.contextmanager
def running(name, binary, **kw):
    """A Harness with room for every sipp run of a flow (each takes a SIP port and four media
    ports of its own) and the Setup on it; at the end the daemon stops and must exit cleanly."""
    with Harness(name, binary, ports=300) as h:
        s = Setup(h, **kw)
        yield s
        s.stop()


def sdp_ports(message):
    """The ports of every m= line of a message's SDP."""
    return [int(p) for p in re.findall(r"^m=\w+ (\d+)", message, flags=re.M)]


def answered_by(s, ext, name, during_call, ring_ms=300):
    """Phone `ext` takes the call `during_call()` places (on the port it registered from),
    answers it and takes the BYE."""
    p = s.phone_bg(ext, name, scenarios.phone_uas(ring_ms=ring_ms))
    time.sleep(0.3)
    during_call()
    s.h.finish(p, f"phone {ext} rang, answered and took the BYE")


def feature_code_forward_always(binary):
    """*21*11# by phone 10, the call for 10 ringing 11, kept over restart and reload, #21#."""
    with running("calls-fwd-always", binary) as s:
        h = s.h
        s.register("10")
        s.register("11")
        f = s.features("10")
        check(f.get("forward", {}).get("always") is None and f.get("set_by_phone") == [],
              f"before: no forward for 10, nothing set by its phone ({f})")

        ok = s.dial_code("10", escaped("*21*11#"), "code_on")
        ports = sdp_ports(ok)
        check(ports and all(p == 0 for p in ports), f"  the 200 declines every offered stream (m= ports {ports})")
        s.daemon.wait_log(r"event=feature_set ext=10 code=.?forward_set always 11", timeout=3)
        f = s.features("10")
        check(f.get("forward", {}).get("always") == "11" and "forward.always" in f.get("set_by_phone", []),
              f"/status: 10 forwards always to 11, set by its phone ({f})")
        # '#' is not allowed unescaped in a user part (RFC 3261 19.1.2), yet phones send it so.
        s.dial_code("10", "*67*13#", "code_unescaped")
        f = s.features("10")
        check(f.get("forward", {}).get("busy") == "13" and f.get("set_by_phone") == ["forward.always", "forward.busy"],
              f"*67*13# with a bare '#' is taken too: 10 forwards on busy to 13 ({f})")
        text = s.status_text()
        section = text.split("FORWARDING", 1)[1].split("\n\n", 1)[0] if "FORWARDING" in text else ""
        row = [line for line in section.splitlines() if re.match(r"\s*10\s", line)]
        check(row and "always > 11" in row[0] and "busy > 13" in row[0] and "forward.always,forward.busy" in row[0],
              "`b2bua status` lists 10 under FORWARDING: always > 11, busy > 13, both set by the phone", section)

        def rings_11(what, name):
            quiet10 = Quiet(s.phones["10"])
            answered_by(s, "11", f"{name}_phone11", lambda: s.provider_call(DID10, name))
            got10 = quiet10.close()
            check(got10 == [], f"  {what}: phone 10 received nothing ({got10})")
            s.next_record(what, "inbound", 200, notes_have=["forwarded=always:10>11"])

        rings_11("call for 10 while forwarded", "in1")

        s.restart()
        f = s.features("10")
        check(f.get("forward", {}).get("always") == "11", f"after a restart the forward is still there ({f})")
        rings_11("call for 10 after the restart", "in2")

        # The file now names another target for the same forward: the phone's own setting wins.
        s.reload(extensions={"10": {"forward": {"always": "12", "busy": "12", "no_answer": "13"}}})
        f = s.features("10")
        check(f.get("forward", {}).get("always") == "11" and f["forward"].get("busy") == "13"
              and f["forward"].get("no_answer") == "13" and "forward.no_answer" not in f.get("set_by_phone", []),
              f"after a reload the phone's forwards stay over the file's, the file's no_answer forward applies ({f})")
        rings_11("call for 10 after the reload", "in3")

        s.dial_code("10", escaped("#21#"), "code_off")
        s.daemon.wait_log(r"event=feature_set ext=10 code=.?forward_clear always", timeout=3)
        f = s.features("10")
        check(f.get("forward", {}).get("always") is None and "forward.always" in f.get("set_by_phone", []),
              f"#21#: no forward always, though the file names one (switched off by the phone) ({f})")
        s.dial_code("10", escaped("#67#"), "busy_off")
        answered_by(s, "10", "in4_phone10", lambda: s.provider_call(DID10, "in4"))
        s.next_record("call for 10 after #21#", "inbound", 200, notes_lack=["forwarded"])
        lan_side = [f":{s.lan_port}", f":{s.phones['10']}", f":{s.phones['11']}", "TestPhone"]
        for name in ("in1", "in2", "in3", "in4"):
            seen = h.sipp_messages(name)
            leaks = [x for x in lan_side if x in seen]
            check(not leaks, f"  {name}: nothing of the LAN reaches the provider {leaks}")


def unknown_feature_code(binary):
    """Codes outside the table get their answer on the LAN; the provider receives nothing."""
    with running("calls-fwd-unknown", binary) as s:
        provider = Quiet(s.provider_port)
        s.refused_code("10", escaped("*99#"), "404", "unknown")
        s.refused_code("10", "*21*11", "404", "no_hash")
        s.refused_code("10", escaped("*21*10#"), "403", "to_itself")
        s.refused_code("10", escaped("*21*0301234567"), "404", "no_hash_external")
        got = provider.close()
        check(got == [], f"the provider received nothing ({got})")
        log = s.daemon.output()
        check("event=feature_set" not in log, "no setting changed")
        check(not re.search(r"event=call_started", log), "no call was started")
        f = s.features("10")
        check(f.get("forward", {}).get("always") is None and f.get("set_by_phone") == [],
              f"10's settings are untouched ({f})")


def dnd_busy_rule(binary):
    """*26#: 486 for a call to 10 (never rung); the file's forward.busy after a reload: 11 rings;
    #26#: 10 rings again."""
    with running("calls-fwd-dnd", binary) as s:
        s.register("10")
        s.register("11")
        s.dial_code("10", escaped("*26#"), "dnd_on")
        f = s.features("10")
        check(f.get("dnd") is True and "dnd" in f.get("set_by_phone", []), f"/status: 10 has dnd on ({f})")

        quiet10 = Quiet(s.phones["10"])
        s.provider_call(DID10, "in_dnd", expect="486")
        s.next_record("call for 10 in dnd", "inbound", 486, notes_have=["unavailable=dnd:10"])
        s.daemon.wait_log(r"event=extension_unavailable call=\d+ ext=10 reason=dnd status=486", timeout=3)

        s.reload(extensions={"10": {"forward": {"busy": "11"}}})
        answered_by(s, "11", "in_busy_fwd_phone11", lambda: s.provider_call(DID10, "in_busy_fwd"))
        s.next_record("call for 10 in dnd with forward.busy", "inbound", 200, notes_have=["forwarded=dnd:10>11"])
        got10 = quiet10.close()
        check(got10 == [], f"phone 10 received nothing while in dnd ({got10})")

        s.dial_code("10", escaped("#26#"), "dnd_off")
        check(s.features("10").get("dnd") is False, "/status: 10 has dnd off")
        answered_by(s, "10", "in_after_phone10", lambda: s.provider_call(DID10, "in_after"))
        s.next_record("call for 10 after #26#", "inbound", 200, notes_lack=["forwarded", "unavailable"])


def forward_no_answer_external(binary):
    """10 rings 5 s unanswered; the call leaves through the trunk for 0301234567, presenting the
    trunk's number; after a reload with forward_caller_id "caller", the original caller's."""
    fwd = {"10": {"forward": {"no_answer": "0301234567", "no_answer_after": 5}}}
    with running("calls-fwd-noanswer", binary, extensions=fwd) as s:
        h = s.h
        s.register("10")

        def forwarded_call(n, presented):
            phone = s.phone_bg("10", f"ring{n}", scenarios.phone_ring_only())
            target = h.sipp_bg(scenarios.provider_uas(), s.wan, s.provider_port, name=f"target{n}", timeout=40)
            time.sleep(0.3)
            started = time.monotonic()
            caller = s.provider_call(DID10, f"in{n}", hold_ms=1500, bg=True)
            h.finish(phone, f"call {n}: phone 10 rang and was cancelled")
            rang = time.monotonic() - started
            check(4.0 <= rang <= 8.0, f"  call {n}: 10 rang about 5 s before the forward ({rang:.1f} s)")
            h.finish(caller, f"call {n}: the caller got 200 from the forward target and hung up")
            h.finish(target, f"call {n}: the provider took the forwarded call and the BYE")
            invites = h.messages(f"target{n}", method="INVITE")
            check(len(invites) == 1, f"  call {n}: one INVITE reached the provider's server ({len(invites)})")
            inv = invites[0]
            check(re.match(r"INVITE sip:0301234567@", inv), f"  call {n}: for 0301234567", inv.split("\n", 1)[0])
            from_user = re.search(r"^From:[^\n]*<sip:([^@>]+)@", inv, re.M)
            pai_user = re.search(r"^P-Asserted-Identity:[^\n]*<sip:([^@>]+)@", inv, re.M)
            check(from_user and from_user.group(1) == presented and pai_user and pai_user.group(1) == presented,
                  f"  call {n}: From and P-Asserted-Identity present {presented}", inv)
            phone_invite = h.messages(f"ring{n}", method="INVITE")[0]
            phone_cid = re.search(r"^Call-ID:\s*(\S+)", phone_invite, re.M).group(1)
            seen = h.sipp_messages(f"target{n}") + h.sipp_messages(f"in{n}")
            for leak in (phone_cid, f":{s.phones['10']}", f":{s.lan_port}"):
                check(leak not in seen, f"  call {n}: the provider never sees '{leak}'")
            check("provider-leg-" not in "".join(h.messages(f"target{n}")),
                  f"  call {n}: the forwarded INVITE has a Call-ID of its own")
            row = s.next_record(f"call {n}", "inbound", 200, notes_have=["forwarded=no_answer:10>0301234567"])
            check(row[2] == "provider", f"  call {n}: recorded on the trunk provider ({row})")
            stats = h.db_rows("SELECT media_stats_json FROM call_records ORDER BY id")[s.records_seen - 1][0]
            rtp_both_ways(f"call {n}: caller to forward target", json.loads(stats) if stats else None)

        forwarded_call(1, TRUNK_USER)
        s.reload(extensions=fwd, trunk={"forward_caller_id": "caller"})
        forwarded_call(2, FAR_END)


def forward_unregistered(binary):
    """12 has no phone: its unregistered forward rings 11; 14 has no phone and no rule: 480."""
    fwd = {"12": {"forward": {"unregistered": "11"}}}
    with running("calls-fwd-unreg", binary, extensions=fwd) as s:
        s.register("11")
        answered_by(s, "11", "in12_phone11", lambda: s.provider_call(DID12, "in12"))
        s.next_record("call for 12 (nobody registered)", "inbound", 200, notes_have=["forwarded=unregistered:12>11"])
        s.provider_call(DID14, "in14", expect="480")
        s.next_record("call for 14 (nobody registered, no rule)", "inbound", 480,
                      notes_have=["unavailable=unregistered:14"])


def forward_loop(binary):
    """10 -> 11 -> 10: 13 calls 10 and gets 482; no phone rings; the record names the path."""
    fwd = {"10": {"forward": {"always": "11"}}, "11": {"forward": {"always": "10"}}}
    with running("calls-fwd-loop", binary, extensions=fwd) as s:
        s.register("10")
        s.register("11")
        quiet = [Quiet(s.phones["10"]), Quiet(s.phones["11"])]
        s.refused_code("13", "10", "482", "loop_internal")
        s.next_record("13 calls 10", "internal", 482, notes_have=["loop=10>11>10"])
        s.provider_call(DID10, "loop_inbound", expect="482")
        s.next_record("the provider calls 10", "inbound", 482, notes_have=["loop=10>11>10"])
        got = [q.close() for q in quiet]
        check(got == [[], []], f"neither phone received anything ({got})")
        s.daemon.wait_log(r"event=forward_loop call=\d+ path=10>11>10", timeout=3)


def call_waiting_off(binary):
    """#43#: 10 in a call, a second call for 10 gets 486; *67*11#: the next one rings 11; *43#:
    the next one rings 10 while its first call goes on."""
    with running("calls-fwd-waiting", binary) as s:
        h = s.h
        s.register("10")
        s.register("11")
        s.dial_code("10", escaped("#43#"), "waiting_off")
        f = s.features("10")
        check(f.get("call_waiting") is False and "call_waiting" in f.get("set_by_phone", []),
              f"/status: 10 has call waiting off ({f})")

        phone10 = s.phone_bg("10", "phone10", scenarios.phone_uas(), calls=2, timeout=60)
        first = s.provider_call(DID10, "first", hold_ms=16000, bg=True, timeout=60)
        check(wait_until(lambda: h.messages("first") and any(m.startswith("SIP/2.0 200") for m in h.messages("first")),
                         8), "first call for 10 answered")
        s.provider_call(DID10, "second", expect="486")
        s.next_record("second call for 10, in a call, call waiting off", "inbound", 486,
                      notes_have=["unavailable=busy:10"])
        check(len(h.messages("phone10", method="INVITE")) == 1, "phone 10 got only the first call's INVITE")

        s.dial_code("10", escaped("*67*11#"), "busy_to_11")
        answered_by(s, "11", "third_phone11", lambda: s.provider_call(DID10, "third"))
        s.next_record("third call for 10, busy forward to 11", "inbound", 200, notes_have=["forwarded=busy:10>11"])

        s.dial_code("10", escaped("*43#"), "waiting_on")
        check(s.features("10").get("call_waiting") is True, "/status: 10 has call waiting on")
        mark = s.daemon.log_size()
        fourth = s.provider_call(DID10, "fourth", bg=True)
        wait_until(lambda: not fourth.running(), 40)
        busy = re.search(r".*event=(forwarded|extension_unavailable) call=\d+ ext=10 (condition|reason)=busy.*",
                         s.daemon.output()[mark:])
        check(not busy, "with call waiting on, 10 in one call of its max_calls 2 is not busy for a second one",
              busy.group(0) if busy else "")
        h.finish(fourth, f"provider calls {DID10}: 200")
        s.next_record("fourth call for 10, call waiting on", "inbound", 200, notes_lack=["forwarded", "unavailable"])
        check(len(h.messages("phone10", method="INVITE")) == 2, "phone 10 took the fourth call during the first")
        check(first.running(), "the first call was still up meanwhile")
        h.finish(first, "first call hung up by the far end")
        h.finish(phone10, "phone 10 answered both calls")
        s.next_record("first call", "inbound", 200)


def forward_on_busy_reject(binary):
    """10 answers 486 (its user rejects the call): forward.busy rings 11, which answers."""
    fwd = {"10": {"forward": {"busy": "11"}}}
    with running("calls-fwd-reject", binary, extensions=fwd) as s:
        h = s.h
        s.register("10")
        s.register("11")
        phone10 = s.phone_bg("10", "phone10", scenarios.provider_answer(ring_ms=500, status="486"))
        answered_by(s, "11", "phone11", lambda: s.provider_call(DID10, "in"))
        h.finish(phone10, "phone 10 rang and rejected the call with 486 (ACKed)")
        s.next_record("call for 10 rejected by its user", "inbound", 200, notes_have=["forwarded=busy:10>11"])
        s.daemon.wait_log(r"event=forwarded call=\d+ ext=10 condition=busy to=11", timeout=3)
        provider_got = [m.split("\n", 1)[0] for m in h.messages("in")]
        check(not any(m.startswith("SIP/2.0 486") for m in provider_got),
              f"the provider never saw the phone's 486 ({provider_got})")


FLOWS = {f.__name__: f for f in (feature_code_forward_always, unknown_feature_code, dnd_busy_rule,
                                 forward_no_answer_external, forward_unregistered, forward_loop, call_waiting_off,
                                 forward_on_busy_reject)}

if __name__ == "__main__":
    run_flows(FLOWS)
