#!/usr/bin/env python3
"""Calls out over a route that names several trunks ("trunk": ["first", "second"]) and emergency
calls, with sipp as the phone and as each provider (IP-authenticated trunks on ports of their own):

  failover_on_503                  the first trunk answers 503: the call goes to the second,
                                   unseen by the phone, with nothing of the phone on either trunk
  failover_on_silence              the first trunk's port has nothing listening (ICMP: the
                                   stack's 503 at once), then a port that swallows the INVITE
                                   (timer B: the stack's 408 after 8 s): the second trunk takes
                                   the call either way
  failover_on_no_progress          the first trunk answers 100 Trying and then nothing: after
                                   10 s it gets CANCEL and the second trunk takes the call
  failover_on_refused_credentials  the first trunk refuses our answer to its challenge (407
                                   twice): the second takes the call, and each call ends
  failover_skips_unregistered      a trunk whose registration was refused (403) is passed over
  no_failover_on_busy              486, 404 and 603 from the first trunk end the call: the
                                   second never sees an INVITE
  emergency_without_outbound_permission
                                   112 leaves from an extension that may not call out, with no
                                   matching outbound rule, exactly as dialled; 0301234 gets 403
  emergency_tries_every_trunk      112 passes to a trunk no rule names when the first answers
                                   503; 110 tries the trunk of its matching rule first

Each call is checked in the call record (trunk used last, notes "failover=<trunk>:<status>") and
in the daemon's event=trunk_failover lines. One flow per ctest entry (run_flows)."""
import json
import os
import re
import signal
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from harness import check, check_sipp, fail, run_flows, running, sipp_trace, udp_bound, wait_until  # noqa: E402
from records import rtp_both_ways  # noqa: E402
import scenarios  # noqa: E402

RECORD_COLUMNS = ("direction, extension, trunk, remote_number, final_code, hangup_by, answer_ms, "
                  "media_stats_json, notes")
PHONE_CID = "phone-leg-%u-%p@%s"

PHRASES = {403: "Forbidden", 404: "Not Found", 408: "Request Timeout", 486: "Busy Here",
           503: "Service Unavailable", 603: "Decline"}


def provider_refuses(status):
    """A provider that answers the INVITE with `status` (and takes the ACK)."""
    reply = (f"SIP/2.0 {status} {PHRASES[status]}\n[last_Via:]\n[last_From:]\n[last_To:];tag=[pid]refuse\n"
             "[last_Call-ID:]\n[last_CSeq:]\nContent-Length: 0\n\n")
    return ('<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="provider_refuses">\n'
            '<recv request="INVITE" crlf="true"/>\n'
            f'<send><![CDATA[\n{reply}]]></send>\n'
            '<recv request="ACK"/>\n</scenario>\n')


def provider_refuses_credentials():
    """A provider that challenges the INVITE (407) and challenges again the INVITE that answers
    it: our trunk credentials refused."""
    reply = ("SIP/2.0 407 Proxy Authentication Required\n[last_Via:]\n[last_From:]\n[last_To:];tag=[pid]auth\n"
             "[last_Call-ID:]\n[last_CSeq:]\n"
             'Proxy-Authenticate: Digest realm="provider.test", nonce="[pid]n[call_number]", algorithm=MD5\n'
             "Content-Length: 0\n\n")
    round_trip = ('<recv request="INVITE" crlf="true"/>\n'
                  f'<send><![CDATA[\n{reply}]]></send>\n'
                  '<recv request="ACK"/>\n')
    return ('<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="provider_refuses_credentials">\n'
            f'{round_trip}{round_trip}</scenario>\n')


def registrar_forbids():
    """A registrar that answers every REGISTER with 403 (an account the provider refuses)."""
    reply = ("SIP/2.0 403 Forbidden\n[last_Via:]\n[last_From:]\n[last_To:];tag=[pid]reg\n[last_Call-ID:]\n"
             "[last_CSeq:]\nContent-Length: 0\n\n")
    return ('<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="registrar_forbids">\n'
            '<recv request="REGISTER"/>\n'
            f'<send><![CDATA[\n{reply}]]></send>\n</scenario>\n')


def ip_trunk(name, port):
    """An IP-authenticated trunk ("register": false) at 127.0.0.1:`port`."""
    return {"name": name, "registrar": f"sip:127.0.0.1:{port}", "username": "4930123456", "register": False,
            "keepalive": {"method": "off"}}


class Setup:
    """The daemon with extensions 10 and 12 (no outbound calls), emergency numbers 110 and 112,
    and the trunks and outbound rules `build(h, ports)` returns for `providers` ports of the
    test's block (kept as self.ports; build may start the peers the daemon meets at once)."""

    def __init__(self, h, build, providers=2):
        self.h = h
        self.lan_port, self.wan_port = h.port(2)
        self.ports = [h.port() for _ in range(providers)]
        self.lan, self.wan = f"127.0.0.1:{self.lan_port}", f"127.0.0.1:{self.wan_port}"
        self.records_seen = 0
        trunks, outbound = build(h, self.ports)
        self.daemon = h.start_daemon({
            "lan": {"listen": [f"udp:{self.lan}"], "networks": ["127.0.0.0/8"], "realm": "test.arpa"},
            "wan": {"address": "127.0.0.1", "port": self.wan_port},
            "registrar": {"qualify_interval": 0},
            "extensions": [
                {"number": "10", "password": "pw-ten"},
                {"number": "12", "password": "pw-twelve", "outbound": False},
            ],
            "trunks": trunks,
            "routing": {"outbound": outbound, "emergency": ["110", "112"]},
            "media": {"ports": list(h.ports.span(20)), "timeout": 30},
            "log": {"level": "debug"},
        })

    def provider(self, name, xml, port, calls=1, timeout=40):
        """A sipp provider listening on `port` (returns once it holds the port)."""
        return start_peer(self.h, name, xml, port, calls, timeout)

    def call(self, name, user, password, dialled, expect="200", hold_ms=1500):
        """The phone's call from a port of its own; returns that port. The phone's Call-ID
        carries "phone-leg-" so a trace that holds it is found."""
        port = self.h.port()
        r = self.h.sipp(self.h.write_scenario(name, scenarios.phone_call_out(user, password, dialled, expect=expect,
                                                                              hold_ms=hold_ms)),
                        self.lan, port, name=name, extra=["-cid_str", PHONE_CID])
        check_sipp(r, f"{name}: the phone's call to {dialled} ends with {expect}")
        return port

    def record(self):
        """The record of the next call (waits for it)."""
        self.records_seen += 1
        rows = self.h.call_records(self.records_seen, columns=RECORD_COLUMNS)
        return rows[self.records_seen - 1]

    def failovers(self):
        """The daemon's event=trunk_failover lines as (from, status, to)."""
        return re.findall(r"event=trunk_failover call=\d+ from=(\S+) status=(\d+) to=(\S+)", self.daemon.output())

    def stop(self):
        self.h.stop_daemon(self.daemon)


def start_peer(h, name, xml, port, calls=1, timeout=40):
    """sipp as a provider (or registrar) on `port`; returns once it holds the port."""
    p = h.sipp_bg(xml, None, port, name=name, calls=calls, timeout=timeout)
    if not wait_until(lambda: udp_bound(port) or not p.running(), 10) or not p.running():
        fail(f"sipp {name} did not start on {port}:\n{h.sipp_output(p)[-2000:]}")
    return p


def two_trunks(h, ports):
    """Trunks first and second (IP-authenticated) and the route 0 -> [first, second]."""
    return ([ip_trunk("first", ports[0]), ip_trunk("second", ports[1])], [{"prefix": "0", "trunk": ["first", "second"]}])


def end_provider(h, p):
    """Ends a provider that is still waiting for calls (SIGUSR1: sipp stops once its calls are
    over, writing its traces) and returns the INVITEs it received."""
    p.signal(signal.SIGUSR1)
    if not wait_until(lambda: not p.running(), 10):
        fail(f"sipp {p.name} did not stop on SIGUSR1:\n{h.sipp_output(p)[-1500:]}")
    p.wait(1)
    return h.messages(p.name, method="INVITE")


def call_id(message):
    m = re.search(r"^Call-ID:\s*(\S+)", message, re.M | re.I)
    return m.group(1) if m else None


def invite_time(h, name, received):
    """When sipp run `name` received (or sent) its last INVITE."""
    times = [m.time for m in sipp_trace(h.sipp_messages(name)) if m.received == received and m.method == "INVITE"]
    check(times, f"{name} {'received' if received else 'sent'} an INVITE")
    return times[-1]


def check_no_phone_trace(h, name, phone_port):
    seen = h.sipp_messages(name)
    for leak in ("phone-leg-", "TestPhone", "X-Phone-Secret", f":{phone_port}"):
        check(leak not in seen, f"{name} never sees '{leak}'")


def check_record(row, trunk, remote, code, notes, answered=True):
    """One outbound call record of extension 10 or 12: trunk used last, number, final code,
    notes exactly `notes`; for an answered call RTP through the relay both ways."""
    got = (row[0], row[2], row[3], row[4], row[8])
    want = ("outbound", trunk, remote, code, notes)
    check(got == want, f"  record (direction, trunk, number, code, notes) {got} == {want}")
    check((row[6] > 0) == answered, f"  answer time {'set' if answered else 'empty'} ({row[6]})")
    if answered:
        rtp_both_ways("  call", json.loads(row[7]) if row[7] else None)


def failover_on_503(binary):
    """The first trunk answers 503: the phone's call is answered by the second trunk without
    the phone hearing of the 503; the second trunk sees a call of its own (no Call-ID, port or
    header of the phone); the first saw exactly one INVITE."""
    with running("calls-hunt-503", binary, Setup, build=two_trunks) as s:
        h = s.h
        # Room for a second INVITE: a provider that stopped after one could not tell.
        first = s.provider("first", provider_refuses(503), s.ports[0], calls=2)
        second = s.provider("second", scenarios.provider_answer(), s.ports[1])
        phone_port = s.call("out", "10", "pw-ten", "0301234567")
        h.finish(second, "the second provider answered, got ACK and BYE")
        first_invites = end_provider(h, first)
        check(len(first_invites) == 1, f"the first provider saw exactly one INVITE ({len(first_invites)})")
        check(not [m for m in h.messages("out") if m.startswith("SIP/2.0 503")], "the phone never saw the 503")
        for name in ("first", "second"):
            check_no_phone_trace(h, name, phone_port)
        cids = [call_id(m) for m in (first_invites[0], h.messages("second", method="INVITE")[0])]
        check(cids[0] != cids[1], f"the second trunk's INVITE opens a dialog of its own {cids}")
        check(s.failovers() == [("first", "503", "second")], f"one event=trunk_failover first -> second {s.failovers()}")
        check_record(s.record(), "second", "0301234567", 200, "failover=first:503")


def password_trunks(h, ports):
    """first (IP-authenticated, with a password to answer challenges) and second; 0 -> [first,
    second]."""
    first = dict(ip_trunk("first", ports[0]), password="trunk-secret")
    return [first, ip_trunk("second", ports[1])], [{"prefix": "0", "trunk": ["first", "second"]}]


def failover_on_refused_credentials(binary):
    """The first trunk challenges the INVITE and refuses our answer (407 again): the account,
    not the callee, so the second trunk takes the call. Three calls in a row: each ends and is
    recorded, and the third shows that the first two left no call of extension 10 (max_calls 2)
    behind."""
    with running("calls-hunt-credentials", binary, Setup, build=password_trunks) as s:
        h = s.h
        for n in (1, 2, 3):
            first = s.provider(f"first{n}", provider_refuses_credentials(), s.ports[0])
            second = s.provider(f"second{n}", scenarios.provider_answer(), s.ports[1])
            s.call(f"out{n}", "10", "pw-ten", f"030{n}")
            h.finish(first, f"call {n}: the first provider challenged twice and got both ACKs")
            h.finish(second, f"call {n}: the second provider answered, got ACK and BYE")
            invites = h.messages(f"first{n}", method="INVITE")
            check(len(invites) == 2 and re.search(r'^Proxy-Authorization: *Digest .*username="4930123456"',
                                                  invites[1], re.M | re.I),
                  f"call {n}: the first trunk got our answer to its challenge ({len(invites)} INVITEs)")
            check(s.failovers()[n - 1:] == [("first", "407", "second")],
                  f"call {n}: event=trunk_failover first -> second {s.failovers()}")
            check_record(s.record(), "second", f"030{n}", 200, "failover=first:407")


def silence_trunks(h, ports):
    """01... -> [refused, second] where nothing listens on refused's port; 02... -> [silent,
    second] where a socket takes silent's datagrams and never answers."""
    return ([ip_trunk("refused", ports[0]), ip_trunk("silent", ports[1]), ip_trunk("second", ports[2])],
            [{"prefix": "01", "trunk": ["refused", "second"]}, {"prefix": "02", "trunk": ["silent", "second"]}])


def failover_on_silence(binary):
    """No answer at all from the first trunk. 0101: its port has nothing listening, the kernel
    answers with ICMP port unreachable (a transport error for the stack); 0202: its port is held
    by a socket that never answers, so only the transaction timeout (timer B: 64*T1, set to 8 s
    on the WAN side; the config has no key for it) ends the attempt. Both calls go to the second
    trunk: after 503 at once for the first, after 408 at 8 s for the second; the record and
    event=trunk_failover name that status."""
    with running("calls-hunt-silence", binary, Setup, build=silence_trunks, providers=3) as s:
        h = s.h
        refused_port, silent_port, second_port = s.ports
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as hole:
            hole.bind(("127.0.0.1", silent_port))
            hole.setblocking(False)
            check(not udp_bound(refused_port), f"nothing listens on the refused trunk's port {refused_port}")
            statuses = {}
            # bound: seconds from the phone's INVITE to the second trunk's, as two sipp traces
            # stamp them (the lower bound of "at once" allows for the stamps' rounding).
            for dialled, trunk, bound in (("0101", "refused", (-0.5, 3)), ("0202", "silent", (7, 12))):
                second = s.provider(f"second_{trunk}", scenarios.provider_answer(), second_port)
                phone_port = s.call(f"out_{trunk}", "10", "pw-ten", dialled)
                h.finish(second, f"after '{trunk}' the second provider answered")
                check_no_phone_trace(h, f"second_{trunk}", phone_port)
                delay = invite_time(h, f"second_{trunk}", True) - invite_time(h, f"out_{trunk}", False)
                check(bound[0] <= delay <= bound[1],
                      f"'{trunk}': the second trunk got the call {delay:.1f} s after the phone's INVITE "
                      f"(bound {bound} s)")
                failovers = s.failovers()
                check(len(failovers) == len(statuses) + 1 and failovers[-1][::2] == (trunk, "second"),
                      f"'{trunk}': one event=trunk_failover {trunk} -> second {failovers}")
                statuses[trunk] = failovers[-1][1]
                check_record(s.record(), "second", dialled, 200, f"failover={trunk}:{statuses[trunk]}")
            print(f"note: status of the failed attempts: {statuses}", flush=True)
            check(statuses["silent"] == "408", f"silence ends the attempt with the stack's 408 ({statuses['silent']})")
            check(statuses["refused"] == "503",
                  f"a port with nothing listening (ICMP port unreachable) ends the attempt at once with the "
                  f"stack's 503 ({statuses['refused']})")
            datagrams = []
            while True:
                try:
                    datagrams.append(hole.recv(65536).decode(errors="replace"))
                except BlockingIOError:
                    break
            invites = [d for d in datagrams if d.startswith("INVITE sip:0202@")]
            check(invites and len(invites) == len(datagrams),
                  f"the silent port got the INVITE and nothing else ({len(invites)} copies with retransmissions, "
                  f"{len(datagrams)} datagrams)")


def provider_stalls():
    """A provider that answers the INVITE with 100 Trying and nothing more, until CANCEL."""
    trying = ("SIP/2.0 100 Trying\n[last_Via:]\n[last_From:]\n[last_To:]\n[last_Call-ID:]\n[last_CSeq:]\n"
              "Content-Length: 0\n\n")
    ok = "SIP/2.0 200 OK\n[last_Via:]\n[last_From:]\n[last_To:]\n[last_Call-ID:]\n[last_CSeq:]\nContent-Length: 0\n\n"
    terminated = ("SIP/2.0 487 Request Terminated\n[last_Via:]\n[last_From:]\n[last_To:];tag=[pid]stall\n"
                  "[last_Call-ID:]\nCSeq: [$invite_cseq] INVITE\nContent-Length: 0\n\n")
    return ('<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="provider_stalls">\n'
            '<recv request="INVITE" crlf="true">\n  <action><ereg regexp="([0-9]+) INVITE" search_in="hdr" '
            'header="CSeq:" assign_to="whole,invite_cseq"/></action>\n</recv>\n'
            '<nop hide="true"><action><log message="[$whole]"/></action></nop>\n'
            f'<send><![CDATA[\n{trying}]]></send>\n'
            '<recv request="CANCEL"/>\n'
            f'<send><![CDATA[\n{ok}]]></send>\n'
            f'<send><![CDATA[\n{terminated}]]></send>\n'
            '<recv request="ACK"/>\n</scenario>\n')


def stalling_trunks(h, ports):
    return [ip_trunk("stalls", ports[0]), ip_trunk("second", ports[1])], [{"prefix": "0", "trunk": ["stalls", "second"]}]


def failover_on_no_progress(binary):
    """The first trunk takes the INVITE (100 Trying) and says nothing more: 10 s later it gets
    CANCEL and the second trunk the call; the record and event=trunk_failover say 408, and
    event=trunk_no_progress names the trunk."""
    with running("calls-hunt-no-progress", binary, Setup, build=stalling_trunks) as s:
        h = s.h
        stalls = s.provider("stalls", provider_stalls(), s.ports[0])
        second = s.provider("second", scenarios.provider_answer(), s.ports[1])
        phone_port = s.call("out", "10", "pw-ten", "0301234")
        h.finish(stalls, "the stalling provider got CANCEL and answered it 200 and the INVITE 487")
        h.finish(second, "the second provider answered")
        check_no_phone_trace(h, "second", phone_port)
        delay = invite_time(h, "second", True) - invite_time(h, "out", False)
        check(9.5 <= delay <= 13, f"the second trunk got the call {delay:.1f} s after the phone's INVITE (10 s)")
        check(s.failovers() == [("stalls", "408", "second")], f"one event=trunk_failover stalls 408 second "
                                                              f"{s.failovers()}")
        check(s.daemon.find_log(r"level=warn component=calls event=trunk_no_progress call=\d+ trunk=stalls "
                                r"after_ms=10000", timeout=1), "event=trunk_no_progress logged")
        check_record(s.record(), "second", "0301234", 200, "failover=stalls:408")


def forbidden_first(h, ports):
    """first registers at a registrar that answers 403 (started here: the daemon registers at
    once); second is IP-authenticated; 0 -> [first, second]."""
    start_peer(h, "first", registrar_forbids(), ports[0], calls=20, timeout=60)
    first = {"name": "first", "registrar": f"sip:127.0.0.1:{ports[0]}", "username": "4930111",
             "password": "trunk-secret", "expires": 60, "register": True, "keepalive": {"method": "off"},
             "binding_check": 0}
    return [first, ip_trunk("second", ports[1])], [{"prefix": "0", "trunk": ["first", "second"]}]


def failover_skips_unregistered(binary):
    """The first trunk's registration is refused (403): not registered, it is passed over and
    the call goes to the second trunk at once; the first (its registrar's port is the address
    its calls would go to) never gets an INVITE, and no failover is noted: nothing failed."""
    with running("calls-hunt-unregistered", binary, Setup, build=forbidden_first) as s:
        h = s.h
        registrar = next(p for p in h.processes if getattr(p, "name", None) == "first")
        s.daemon.wait_log(r"event=registration_rejected trunk=first status=403", timeout=10)
        second = s.provider("second", scenarios.provider_answer(), s.ports[1])
        phone_port = s.call("out", "10", "pw-ten", "0301234567")
        h.finish(second, "the second provider answered, got ACK and BYE")
        invites = end_provider(h, registrar)
        registers = [m for m in sipp_trace(h.sipp_messages("first")) if m.received and m.method == "REGISTER"]
        check(registers, f"the first trunk's registrar got the REGISTER ({len(registers)})")
        check(not invites, f"the first trunk never got an INVITE ({len(invites)})")
        check_no_phone_trace(h, "second", phone_port)
        check(s.failovers() == [], f"no event=trunk_failover {s.failovers()}")
        check_record(s.record(), "second", "0301234567", 200, "")


def no_failover_on_busy(binary):
    """Answers about the callee end the call: the first trunk answers 486, then 404, then 603;
    the phone gets each as it is, and the second provider (a sipp that ends by its timeout)
    never gets an INVITE."""
    with running("calls-hunt-busy", binary, Setup, build=two_trunks) as s:
        h = s.h
        second = s.provider("second", scenarios.provider_answer(), s.ports[1], timeout=8)
        for status, dialled in ((486, "0301"), (404, "0302"), (603, "0303")):
            first = s.provider(f"first_{status}", provider_refuses(status), s.ports[0])
            s.call(f"out_{status}", "10", "pw-ten", dialled, expect=str(status))
            h.finish(first, f"the first provider answered {status} and got the ACK")
            check_record(s.record(), "first", dialled, status, "", answered=False)
        code = second.wait(15)
        invites = h.messages("second", method="INVITE")
        check(code != 0 and not invites,
              f"the second provider ended by its timeout without a call (sipp exit {code}, {len(invites)} INVITEs)")
        check(s.failovers() == [], f"no event=trunk_failover {s.failovers()}")


def one_trunk(h, ports):
    """Trunk first and the only outbound rule 0 -> first."""
    return [ip_trunk("first", ports[0])], [{"prefix": "0", "trunk": "first"}]


def emergency_without_outbound_permission(binary):
    """Extension 12 ("outbound": false) dials 112, which no outbound rule matches (the only one
    is 0 -> first): the provider gets INVITE sip:112@...; the same extension dialling 0301234
    gets 403 and the provider nothing."""
    with running("calls-hunt-emergency-perm", binary, Setup, build=one_trunk, providers=1) as s:
        h = s.h
        provider = s.provider("first", scenarios.provider_answer(), s.ports[0], calls=2)
        s.call("emergency", "12", "pw-twelve", "112")
        invites = wait_until(lambda: h.messages("first", method="INVITE"), 5)
        check(invites and invites[0].startswith("INVITE sip:112@127.0.0.1"),
              f"the provider got INVITE sip:112@... ({invites[0].splitlines()[0] if invites else None})")
        check_record(s.record(), "first", "112", 200, "")
        s.call("denied", "12", "pw-twelve", "0301234", expect="403")
        row = s.record()
        check((row[0], row[1], row[3], row[4]) == ("outbound", "12", "0301234", 403),
              f"the refused call is recorded with 403 {row[:6]}")
        invites = end_provider(h, provider)
        check(len(invites) == 1, f"the provider got only the emergency call ({len(invites)} INVITEs)")
        check(re.search(r"event=call_started \S+ direction=outbound extension=12 .*emergency=yes", s.daemon.output()),
              "the daemon logs the call as an emergency call")


def three_trunks(h, ports):
    """first, second, third in that config order; 0 -> first and 110 -> third (with an "add"
    that emergency numbers must not get); no rule names second."""
    return ([ip_trunk("first", ports[0]), ip_trunk("second", ports[1]), ip_trunk("third", ports[2])],
            [{"prefix": "0", "trunk": "first"}, {"prefix": "110", "trunk": "third", "add": "0049"}])


def emergency_tries_every_trunk(binary):
    """112 (no outbound rule matches): the first trunk answers 503 and the second, which no
    outbound rule names, takes it. 110 matches the rule 110 -> third: the rule's trunk is tried
    first although it is the last in the config, then the others in config order; third
    answers 503 and first takes it, both getting 110 as dialled."""
    with running("calls-hunt-emergency-all", binary, Setup, build=three_trunks, providers=3) as s:
        h = s.h
        first_port, second_port, third_port = s.ports
        first = s.provider("first_112", provider_refuses(503), first_port)
        second = s.provider("second_112", scenarios.provider_answer(), second_port)
        s.call("emergency_112", "10", "pw-ten", "112")
        h.finish(first, "the first provider answered 503 to 112")
        h.finish(second, "the second provider took 112")
        got = h.messages("second_112", method="INVITE")
        check(got and got[0].startswith("INVITE sip:112@127.0.0.1"), "the second provider got INVITE sip:112@...")
        check_record(s.record(), "second", "112", 200, "failover=first:503")

        third = s.provider("third_110", provider_refuses(503), third_port)
        first = s.provider("first_110", scenarios.provider_answer(), first_port)
        second = s.provider("second_110", provider_refuses(503), second_port, timeout=5)
        s.call("emergency_110", "10", "pw-ten", "110")
        h.finish(third, "the third provider (the matching rule's trunk) answered 503 to 110")
        h.finish(first, "the first provider took 110")
        for name in ("third_110", "first_110"):
            got = h.messages(name, method="INVITE")
            check(got and got[0].startswith("INVITE sip:110@127.0.0.1"),
                  f"{name} got INVITE sip:110@... as dialled ({got[0].splitlines()[0] if got else None})")
        second.wait(10)
        check(not h.messages("second_110", method="INVITE"), "the second provider got no INVITE for 110")
        check_record(s.record(), "first", "110", 200, "failover=third:503")
        check(s.failovers() == [("first", "503", "second"), ("third", "503", "first")],
              f"event=trunk_failover for each {s.failovers()}")


FLOWS = {f.__name__: f for f in (failover_on_503, failover_on_silence, failover_on_no_progress,
                                 failover_on_refused_credentials,
                                 failover_skips_unregistered,
                                 no_failover_on_busy, emergency_without_outbound_permission,
                                 emergency_tries_every_trunk)}

if __name__ == "__main__":
    run_flows(FLOWS)
