#!/usr/bin/env python3
"""Telephony features with a real softphone on the LAN: baresip (Debian's baresip-core) as
registered extensions 10 and 11, driven over its ctrl_tcp socket (netstring JSON: commands in,
call events out), sending a 440 Hz tone from its ausine source and playing nothing (no player
module: the received audio is decoded and dropped). The provider is sipp on the WAN side, an
IP-authenticated trunk ("register": false) whose server is sipp on the trunk's address and whose
callers call from ports of their own at the same address.

  real_forward_no_answer_external  10 (auto-answer off) rings 5 s unanswered and is cancelled;
                                   the provider's server gets the forwarded INVITE for
                                   0301234567 presenting the original caller (From and
                                   P-Asserted-Identity, trunks[].forward_caller_id "caller"),
                                   answers, RTP flows through the relay both ways, and nothing of
                                   the LAN (phone's port, Call-ID, User-Agent, our LAN port)
                                   reaches the provider
  real_dnd_from_phone              baresip dials *26# (it puts '#' unescaped in the
                                   Request-URI): /status shows dnd on, a call for 10 gets 486 at
                                   the provider and baresip never sees an INVITE; #26#: dnd
                                   off, the next call is auto-answered with audio both ways
  real_pickup_group                the provider's call rings baresip 10 (no auto-answer);
                                   baresip 11, in a ring group with 10, dials *8#: 10 is
                                   cancelled, 11 talks to the provider (audio both ways at the
                                   relay and at baresip), the record notes picked_up=11
  real_blocked_caller              routing.block names a number: its call gets 603 and baresip
                                   never sees an INVITE; another caller is auto-answered with
                                   audio both ways
  real_failover_and_emergency      baresip 10 dials 0301234 over the route ["first", "second"]:
                                   first answers 503, second answers, audio both ways, record
                                   notes failover=first:503; baresip 11 ("outbound": false) dials
                                   112 and reaches a provider as dialled, and 0301234 gets 403
  real_failover_unregistered       the route's first trunk is not registered (403 from its
                                   registrar): baresip 10's call goes to the second at once,
                                   audio both ways, the first never gets an INVITE

Audio is checked at both ends: at the relay (the call record's media counters: packets in and
out on each leg, so both the provider's sipp and baresip sent and were sent RTP), and at baresip
itself ("stream: incoming rtp for 'audio' established, receiving from <relay address>" and a
receive bitrate above 0 on its call status line, "audio=TX/RX (bit/s)", which the menu module
prints while a call is up, reported as a note: it stays 0 through some calls baresip placed).

What the provider received is checked for the LAN in every flow: no header or SDP line names
the phone's port, its Call-ID, "baresip" or our LAN port (baresip writes a=tool and an a=ssrc
cname with its AOR, our LAN address; the rewrite drops both, media/sdp_rewrite.h).

  real_linphone_inbound            linphonec (Debian's linphone-cli, installed by
                                   packaging/install-deps.sh; linphonec.py in common) registers
                                   as 10 and auto-answers (-a) a provider call; RTP both ways at
                                   the relay.

One flow per ctest entry (run_flows)."""
import json
import os
import re
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
sys.path.insert(0, HERE)
from harness import Harness, check, run_flows  # noqa: E402
import baresip  # noqa: E402
import linphonec  # noqa: E402
from records import rtp_both_ways  # noqa: E402
import scenarios  # noqa: E402
from status_http import get_json  # noqa: E402
from test_trunk_hunt import end_provider, forbidden_first, ip_trunk, provider_refuses, start_peer  # noqa: E402

DID10 = "+4930123456"
FAR_END = "+4989111222"  # the provider's caller (scenarios.provider_dialog)
BLOCKED = "+4989555001"
TRUNK_USER = "4930123456"
PASSWORDS = {"10": "pw-ten", "11": "pw-eleven"}
RECORD_COLUMNS = ("direction, extension, trunk, remote_number, final_code, hangup_by, answer_ms, "
                  "media_stats_json, notes")
PROVIDER_CID = "provider-leg-%u-%p@%s"
# How long a call baresip placed stays up: its status line's bitrates stay 0 for the first
# seconds of a call (they are averaged over a window), so audio is judged after that.
TALK_S = 5


class Baresip(baresip.Baresip):
    """baresip registered as `ext` (auto-answer or not), sending a 440 Hz tone from ausine and
    playing nothing; its call status line's bitrates read from its output."""

    def __init__(self, h, ext, registrar, auto_answer):
        # ausine wants 48 kHz stereo; baresip resamples to the codec's 8 kHz mono. No audio
        # player module: baresip then decodes what it receives and plays nothing.
        super().__init__(h, ext, registrar, PASSWORDS[ext],
                         config="module ausine.so\naudio_source ausine,440\nausrc_srate 48000\nausrc_channels 2\n",
                         account=f"regint=600;answermode={'auto' if auto_answer else 'manual'}")

    def rx_rates(self, after=0):
        """The receive bitrates of its call status lines ("audio=TX/RX (bit/s)") past `after`."""
        return [int(rx) for _, rx in re.findall(r"audio=(\d+)/(\d+) \(bit/s\)", self.proc.output()[after:])]

    def tx_rates(self, after=0):
        return [int(tx) for tx, _ in re.findall(r"audio=(\d+)/(\d+) \(bit/s\)", self.proc.output()[after:])]


class Setup:
    """The daemon with extensions 10 and 11 (`extensions`: extra keys per number), the DID
    ringing 10, trunks from `trunks(ports)` (default: one IP-authenticated trunk "provider" with
    the DID, server at provider_port; `trunks` may use self.ports) and the outbound rule 0 ->
    `route`, emergency 112."""

    def __init__(self, h, extensions=None, trunk=None, trunks=None, route="provider", block=None, groups=()):
        self.h = h
        self.lan_port, self.wan_port, self.provider_port, self.status_port = h.port(4)
        self.ports = [h.port() for _ in range(2)]
        self.lan, self.wan = f"127.0.0.1:{self.lan_port}", f"127.0.0.1:{self.wan_port}"
        self.records_seen = 0
        self.phones = {}
        self.media = list(h.ports.span(20))
        self.sdp_leaks = []
        extensions = extensions or {}
        if trunks is not None:
            trunks = trunks(h, self.ports)
        else:
            trunks = [dict({"name": "provider", "registrar": f"sip:127.0.0.1:{self.provider_port}",
                            "username": TRUNK_USER, "register": False, "numbers": [DID10],
                            "keepalive": {"method": "off"}}, **(trunk or {}))]
        # `groups`: more inbound numbers, each ringing a list of extensions (a ring group).
        routing = {"inbound": [{"number": DID10, "ring": ["10"], "timeout": 30}] +
                              [{"number": f"+49301239{i:02d}", "ring": list(g)} for i, g in enumerate(groups)],
                   "outbound": [{"prefix": "0", "trunk": route}], "emergency": ["112"]}
        if block is not None:
            routing["block"] = block
        self.daemon = h.start_daemon({
            "lan": {"listen": [f"udp:{self.lan}"], "networks": ["127.0.0.0/8"], "realm": "test.arpa"},
            "wan": {"address": "127.0.0.1", "port": self.wan_port},
            "status": {"listen": f"127.0.0.1:{self.status_port}"},
            "registrar": {"qualify_interval": 0},
            "extensions": [dict({"number": n, "password": pw}, **extensions.get(n, {})) for n, pw in PASSWORDS.items()],
            "trunks": trunks,
            "routing": routing,
            "media": {"ports": self.media, "timeout": 30},
        })

    def phone(self, ext, auto_answer=True):
        """baresip registered as `ext` (the daemon's binding seen)."""
        p = Baresip(self.h, ext, self.lan, auto_answer)
        self.daemon.wait_log(rf"event=binding_added ext={ext} contact=127.0.0.1:{p.sip_port} .*"
                             r'user_agent="baresip', timeout=10)
        p.proc.wait_log(r"200 OK \(\) \[1 binding\]", timeout=5)
        self.phones[ext] = p
        return p

    def features(self, ext):
        for e in get_json(self.status_port).get("extensions", []):
            if e.get("number") == ext:
                return e.get("features", {})
        return {}

    def provider_call(self, name, expect="200", hold_ms=3000, caller=FAR_END, bg=False, timeout=40):
        """The provider calls the DID from a port of its own (the trunk's address)."""
        xml = scenarios.provider_call(DID10, expect=expect, hold_ms=hold_ms, caller=caller)
        p = self.h.sipp_bg(xml, self.wan, self.h.port(), name=name, timeout=timeout, extra=["-cid_str", PROVIDER_CID])
        if not bg:
            self.h.finish(p, f"{name}: the provider's call from {caller}: {expect}")
        return p

    def record(self, what, direction, ext, trunk, remote, code, notes=None, answered=None):
        """The next call's record: checked, with RTP both ways at the relay for answered calls."""
        self.records_seen += 1
        row = self.h.call_records(self.records_seen, RECORD_COLUMNS)[self.records_seen - 1]
        # None: a field the flow does not pin down.
        fields = [(r, w) for r, w in zip(row[:5], (direction, ext, trunk, remote, code)) if w is not None]
        got, want = tuple(r for r, _ in fields), tuple(w for _, w in fields)
        check(got == want, f"  {what}: record (direction, extension, trunk, number, code) {got} == {want}")
        if notes is not None:
            check(notes(row[8]) if callable(notes) else row[8] == notes, f"  {what}: record notes '{row[8]}'")
        if answered if answered is not None else code == 200:
            rtp_both_ways(what, json.loads(row[7]) if row[7] else None)
        return row

    def stop(self):
        check(not self.sdp_leaks, "no SDP the provider received names the phone or our LAN address",
              "\n".join(self.sdp_leaks))
        for p in self.phones.values():
            p.quit()
        self.h.stop_daemon(self.daemon)


def running(name, binary, **kw):
    class Ctx:
        def __enter__(self):
            self.h = Harness(name, binary, ports=300).__enter__()
            try:
                self.s = Setup(self.h, **kw)
            except BaseException:
                self.h.__exit__(None, None, None)
                raise
            return self.s

        def __exit__(self, exc_type, exc, tb):
            try:
                if exc_type is None:
                    self.s.stop()
            finally:
                self.h.__exit__(exc_type, exc, tb)
            return False
    return Ctx()


def baresip_heard(s, phone, what, after_log):
    """baresip received RTP from the relay (its stream log line names the relay's address) and
    its status line shows audio received and sent."""
    out = phone.proc.output()[after_log:]
    m = re.search(r"stream: incoming rtp for 'audio' established, receiving from 127\.0\.0\.1:(\d+)", out)
    media = s.media
    check(m and media[0] <= int(m.group(1)) <= media[1],
          f"  {what}: baresip {phone.ext} receives RTP from the relay ({m.group(0) if m else 'no stream line'}; "
          f"relay ports {media})")
    # Its status line's bitrates stay 0 through some whole calls baresip placed (a baresip 1.0
    # quirk), so they are reported, not checked; the relay's counters are checked instead.
    rx, tx = max(phone.rx_rates(after_log), default=0), max(phone.tx_rates(after_log), default=0)
    print(f"note: {what}: baresip's call status line: at most tx {tx}, rx {rx} bit/s", flush=True)


def answered_inbound(s, phone, name, what):
    """A provider call the phone auto-answers: established at baresip, closed by the provider's
    BYE; RTP at baresip and at the relay."""
    mark, log_mark = phone.mark(), phone.proc.log_size()
    caller = s.provider_call(name, hold_ms=3500, bg=True)
    # With answermode=auto baresip reports no CALL_INCOMING, only the established call.
    est = phone.wait_event("CALL_ESTABLISHED", 10, after=mark)
    check(est["direction"] == "incoming", f"  {what}: baresip {phone.ext} answered the call ({est['peeruri']})")
    phone.wait_event("CALL_RTPESTAB", 5, after=mark)
    s.h.finish(caller, f"  {what}: answered by baresip, the provider hung up")
    phone.wait_event("CALL_CLOSED", 5, after=mark)
    baresip_heard(s, phone, what, log_mark)
    check_nothing_of_lan(s, phone, est.get("id"), (name,))


def lan_leaks(s, phone, call_id):
    return [x for x in (f":{phone.sip_port}", f":{s.lan_port}", "baresip", call_id) if x]


def check_nothing_of_lan(s, phone, call_id, names):
    """What the provider's sipp runs `names` received holds nothing of the LAN: the headers are
    checked at once; the SDP bodies are only collected here (s.sdp_leaks) and checked at the
    end of the flow, so the flow's other checks still run when a phone's SDP attribute leaks."""
    leaks = lan_leaks(s, phone, call_id)
    for name in names:
        for m in s.h.messages(name):
            head, _, body = m.partition("\n\n")
            found = [x for x in leaks if x in head]
            check(not found, f"  {name}: no header of '{m.splitlines()[0]}' names {leaks}", head if found else "")
            lines = [line for line in body.splitlines() if any(x in line for x in leaks)]
            if lines:
                s.sdp_leaks.append(f"{name}: SDP of '{m.splitlines()[0]}': {lines}")


def real_forward_no_answer_external(binary):
    """10 rings unanswered for 5 s, then the call leaves through the trunk for 0301234567 with
    the original caller's number; nothing of the LAN reaches the provider."""
    fwd = {"10": {"forward": {"no_answer": "0301234567", "no_answer_after": 5}}}
    with running("calls-real-fwd-noanswer", binary, extensions=fwd, trunk={"forward_caller_id": "caller"}) as s:
        h = s.h
        phone = s.phone("10", auto_answer=False)
        target = start_peer(h, "target", scenarios.provider_uas(), s.provider_port, timeout=40)
        mark = phone.mark()
        caller = s.provider_call("in", hold_ms=3000, bg=True)
        inc = phone.wait_event("CALL_INCOMING", 10, after=mark)
        rang_at = time.monotonic()
        closed = phone.wait_event("CALL_CLOSED", 10, after=mark)
        rang = time.monotonic() - rang_at
        check(4.0 <= rang <= 7.0, f"baresip 10 rang {rang:.1f} s and the call was taken away ({closed.get('param')})")
        check(not phone.events("CALL_ESTABLISHED", after=mark), "baresip never answered")
        h.finish(caller, "the caller got 200 from the forward target and hung up")
        h.finish(target, "the provider's server took the forwarded call, ACK and BYE")
        invites = h.messages("target", method="INVITE")
        check(len(invites) == 1, f"one INVITE reached the provider's server ({len(invites)})")
        inv = invites[0]
        check(re.match(r"INVITE sip:0301234567@127\.0\.0\.1", inv), "  for 0301234567", inv.split("\n", 1)[0])
        from_user = re.search(r"^From:[^\n]*<sip:([^@>]+)@", inv, re.M)
        pai_user = re.search(r"^P-Asserted-Identity:[^\n]*<sip:([^@>]+)@", inv, re.M)
        check(from_user and from_user.group(1) == FAR_END and pai_user and pai_user.group(1) == FAR_END,
              f"  From and P-Asserted-Identity present the original caller {FAR_END}", inv)
        check_nothing_of_lan(s, phone, inc.get("id"), ("target", "in"))
        row = s.record("forwarded call", "inbound", None, "provider", None, 200,
                       notes=lambda n: "forwarded=no_answer:10>0301234567" in n.split())
        print(f"note: the record names extension '{row[1]}' and number '{row[3]}'", flush=True)


def real_dnd_from_phone(binary):
    """*26# from baresip: dnd on, a call for 10 gets 486 and baresip sees nothing; #26#: off,
    the next call is answered with audio both ways."""
    with running("calls-real-dnd", binary) as s:
        phone = s.phone("10")
        for code, on in (("*26#", True), ("#26#", False)):
            mark, log_mark = s.daemon.log_size(), phone.mark()
            phone.command("dial", code)
            phone.wait_event("CALL_ESTABLISHED", 10, after=log_mark)
            closed = phone.wait_event("CALL_CLOSED", 10, after=log_mark)
            print(f"note: baresip dialled {code}: answered, then closed ({closed.get('param')})", flush=True)
            line = s.daemon.wait_log(r".*event=feature_set ext=10 .*", timeout=3, after=mark)
            print(f"note: {line.group(0).strip()}", flush=True)
            f = s.features("10")
            check(f.get("dnd") is on and "dnd" in f.get("set_by_phone", []), f"/status: 10 has dnd {on} ({f})")
            if on:
                mark = phone.mark()
                s.provider_call("in_dnd", expect="486")
                time.sleep(0.5)
                check(not phone.calls(mark), f"in dnd baresip never saw the call {phone.calls(mark)}")
                # No phone of 10 took part: the record names no extension, its notes say why.
                s.record("call for 10 in dnd", "inbound", "10", "provider", FAR_END, 486,
                         notes=lambda n: "unavailable=dnd:10" in n.split())
        answered_inbound(s, phone, "in_after", "call for 10 after #26#")
        s.record("call for 10 after #26#", "inbound", "10", "provider", FAR_END, 200,
                 notes=lambda n: "unavailable" not in n)


def real_pickup_group(binary):
    """The provider's call rings baresip 10 (no auto-answer); baresip 11, in a ring group with
    10, dials *8# and gets the call: 10 stops ringing, 11 and the provider talk."""
    with running("calls-real-pickup", binary, groups=[("10", "11")]) as s:
        ten = s.phone("10", auto_answer=False)
        eleven = s.phone("11", auto_answer=False)
        ten_mark, eleven_mark = ten.mark(), eleven.mark()
        caller = s.provider_call("in", hold_ms=4000, bg=True)
        ten.wait_event("CALL_INCOMING", 10, after=ten_mark)
        log_mark = len(eleven.proc.output())
        eleven.command("dial", "*8#")
        eleven.wait_event("CALL_ESTABLISHED", 10, after=eleven_mark)
        closed = ten.wait_event("CALL_CLOSED", 10, after=ten_mark)
        # baresip 1.0 reports an incoming call ended by CANCEL as ECONNRESET.
        check("reset by peer" in (closed.get("param") or ""), f"  10 stopped ringing, cancelled ({closed.get('param')})")
        check(not any(t == "CALL_ESTABLISHED" for t, _ in ten.calls(ten_mark)), "  10 never answered")
        s.h.finish(caller, "the provider's call was picked up by 11 and hung up")
        baresip_heard(s, eleven, "picked-up call", log_mark)
        s.daemon.wait_log(r"event=picked_up call=\d+ ext=11", timeout=1)
        s.record("picked-up call", "inbound", "11", "provider", FAR_END, 200,
                 notes=lambda n: "picked_up=11" in n.split())


def real_blocked_caller(binary):
    """routing.block names a number: 603, baresip never rings; another caller rings and is
    answered with audio both ways."""
    with running("calls-real-blocked", binary, block={"numbers": [BLOCKED]}) as s:
        phone = s.phone("10")
        mark = phone.mark()
        s.provider_call("blocked", expect="603", caller=BLOCKED)
        got = [m.split("\n", 1)[0] for m in s.h.messages("blocked")]
        check(not any(m.startswith("SIP/2.0 18") for m in got), f"the blocked caller hears no ringing ({got})")
        time.sleep(0.5)
        check(not phone.calls(mark), f"baresip never saw the blocked caller's call {phone.calls(mark)}")
        s.record("blocked call", "inbound", "", "provider", BLOCKED, 603, answered=False,
                 notes=lambda n: any(x.startswith("blocked=") for x in n.split()))
        answered_inbound(s, phone, "allowed", "call from another number")
        s.record("allowed call", "inbound", "10", "provider", FAR_END, 200)


def real_failover_and_emergency(binary):
    """baresip 10 dials 0301234: first answers 503, second 200, audio both ways; baresip 11
    (no outbound calls) dials 112 and reaches the first trunk as dialled; 0301234 gets 403."""
    def trunks(h, ports):
        return [ip_trunk("first", ports[0]), ip_trunk("second", ports[1])]
    with running("calls-real-failover", binary, trunks=trunks, route=["first", "second"],
                 extensions={"11": {"outbound": False}}) as s:
        h = s.h
        first_port, second_port = s.ports
        p10, p11 = s.phone("10"), s.phone("11")

        first = start_peer(h, "first", provider_refuses(503), first_port, calls=2)
        second = start_peer(h, "second", scenarios.provider_answer(), second_port)
        mark, log_mark = p10.mark(), p10.proc.log_size()
        p10.command("dial", "0301234")
        est = p10.wait_event("CALL_ESTABLISHED", 10, after=mark)
        check("0301234@" in est["peeruri"], f"baresip 10's call to 0301234 is answered ({est['peeruri']})")
        time.sleep(TALK_S)
        p10.command("hangup")
        p10.wait_event("CALL_CLOSED", 5, after=mark)
        h.finish(second, "the second trunk answered, got ACK and baresip's BYE")
        invites = end_provider(h, first)
        check(len(invites) == 1, f"the first trunk saw one INVITE and answered 503 ({len(invites)})")
        check(not [e for e in p10.events(after=mark) if "503" in str(e.get("param"))], "baresip never heard of the 503")
        baresip_heard(s, p10, "failover call", log_mark)
        check_nothing_of_lan(s, p10, est.get("id"), ("first", "second"))
        s.record("failover call", "outbound", "10", "second", "0301234", 200, notes="failover=first:503")

        provider = start_peer(h, "emergency", scenarios.provider_answer(), first_port, calls=2)
        mark, log_mark = p11.mark(), p11.proc.log_size()
        p11.command("dial", "112")
        p11.wait_event("CALL_ESTABLISHED", 10, after=mark)
        time.sleep(TALK_S)
        p11.command("hangup")
        p11.wait_event("CALL_CLOSED", 5, after=mark)
        baresip_heard(s, p11, "emergency call", log_mark)
        check_nothing_of_lan(s, p11, None, ("emergency",))
        s.record("emergency call", "outbound", "11", "first", "112", 200, notes="")
        mark = p11.mark()
        p11.command("dial", "0301234")
        closed = p11.wait_event("CALL_CLOSED", 10, after=mark)
        check("403" in str(closed.get("param")), f"11 dialling 0301234 is refused with 403 ({closed.get('param')})")
        s.record("refused call", "outbound", "11", "", "0301234", 403, answered=False)
        invites = end_provider(h, provider)
        check(len(invites) == 1 and invites[0].startswith("INVITE sip:112@127.0.0.1"),
              f"the first trunk got only INVITE sip:112@... ({[i.split(chr(10), 1)[0] for i in invites]})")
        check(re.search(r"event=call_started \S+ direction=outbound extension=11 .*emergency=yes", s.daemon.output()),
              "the daemon logs 11's call as an emergency call")


def real_failover_unregistered(binary):
    """The route's first trunk is not registered (its registrar answers 403): baresip 10's call
    goes to the second trunk at once, audio both ways; the first never gets an INVITE."""
    with running("calls-real-unregistered", binary, trunks=lambda h, ports: forbidden_first(h, ports)[0],
                 route=["first", "second"]) as s:
        h = s.h
        s.daemon.wait_log(r"event=registration_rejected trunk=first status=403", timeout=10)
        p10 = s.phone("10")
        second = start_peer(h, "second", scenarios.provider_answer(), s.ports[1])
        mark, log_mark = p10.mark(), p10.proc.log_size()
        p10.command("dial", "0301234")
        est = p10.wait_event("CALL_ESTABLISHED", 10, after=mark)
        time.sleep(TALK_S)
        p10.command("hangup")
        p10.wait_event("CALL_CLOSED", 5, after=mark)
        h.finish(second, "the second trunk answered, got ACK and baresip's BYE")
        registrar = next(p for p in h.processes if getattr(p, "name", None) == "first")
        check(not end_provider(h, registrar), "the unregistered first trunk never got an INVITE")
        baresip_heard(s, p10, "call passing over the unregistered trunk", log_mark)
        check_nothing_of_lan(s, p10, est.get("id"), ("second",))
        s.record("call passing over the unregistered trunk", "outbound", "10", "second", "0301234", 200, notes="")


class Linphonec(linphonec.Linphonec):
    """linphonec registered as `ext` with the flows' password, in the daemon's realm."""

    def __init__(self, h, ext, registrar):
        super().__init__(h, ext, registrar, PASSWORDS[ext], "test.arpa")


def real_linphone_inbound(binary):
    """linphonec registers as 10 and auto-answers a provider call: RTP both ways at the relay;
    nothing of the LAN in any header the provider got."""
    check(shutil.which("linphonec"), "linphonec is installed (Debian package linphone-cli, packaging/install-deps.sh)")
    with running("calls-real-linphone", binary) as s:
        phone = Linphonec(s.h, "10", s.lan)
        s.daemon.wait_log(rf"event=binding_added ext=10 contact=127\.0\.0\.1:{phone.sip_port} .*"
                          r"user_agent=\"?Linphonec/", timeout=15)
        phone.tone(s.h.path("tone.wav"))
        caller = s.provider_call("in", hold_ms=3000, bg=True)
        s.h.finish(caller, "the provider's call was answered by linphonec and hung up")
        got = s.h.messages("in")
        ok = [m for m in got if m.startswith("SIP/2.0 200")]
        check(ok and re.search(r"^m=audio [1-9]\d* ", ok[0], re.M), "  the 200 offers audio on a relay port",
              ok[0] if ok else str([m.splitlines()[0] for m in got]))
        leaks = [x for x in (f":{phone.sip_port}", f":{phone.rtp_port}", f":{s.lan_port}", "Linphone") if x]
        for m in got:
            head, _, body = m.partition("\n\n")
            found = [x for x in leaks if x in head]
            check(not found, f"  in: no header of '{m.splitlines()[0]}' names {leaks}", head if found else "")
            for line in body.splitlines():
                if any(x in line for x in leaks):
                    print(f"note: LAN detail in SDP the provider received: {line}", flush=True)
        row = s.record("call answered by linphonec", "inbound", "10", "provider", FAR_END, 200)
        phone_leg = json.loads(row[7])["b"]
        check(phone_leg["packets"] >= 50, f"  linphonec sent audio for the call, not a stray packet ({phone_leg})")
        phone.quit()
        s.daemon.wait_log(r"event=binding_removed ext=10", timeout=5)


FLOWS = {"real_forward_no_answer_external": real_forward_no_answer_external,
         "real_dnd_from_phone": real_dnd_from_phone,
         "real_blocked_caller": real_blocked_caller,
         "real_pickup_group": real_pickup_group,
         "real_failover_unregistered": real_failover_unregistered,
         "real_failover_and_emergency": real_failover_and_emergency,
         "real_linphone_inbound": real_linphone_inbound}

if __name__ == "__main__":
    run_flows(FLOWS)
