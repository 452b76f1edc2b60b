#!/usr/bin/env python3
"""Reliable provisional responses (RFC 3262, PRACK and 100rel) through b2bua, leg by leg, with
sipp on both sides: phones on the LAN agent, the provider on the WAN agent as an
IP-authenticated trunk ("register": false). Each leg keeps its own reliability: whatever the far
side asks for, b2bua PRACKs the reliable 18x it receives itself, and the 183 it relays goes
reliably only to a caller that supports 100rel.

  prack_outbound_reliable_183          the phone (Supported: 100rel) calls out; the provider
                                       answers 183 with SDP, Require: 100rel, RSeq: 1 and
                                       retransmits it until b2bua PRACKs it (RAck: 1 <INVITE
                                       CSeq> INVITE); only after answering that PRACK it sends
                                       its 200. The phone gets the 183 reliably (Require:
                                       100rel, an RSeq, SDP of the relay) and PRACKs it only
                                       after the provider's 200 reached b2bua: b2bua answers that
                                       PRACK 200 and only then passes the 200 on (the same SDP
                                       repeated, if any); RTP both ways, BYE
  prack_outbound_phone_without_100rel  the same provider, a phone without 100rel: the provider
                                       still gets its PRACK; the phone gets a plain 183 (no
                                       Require, no RSeq, SDP of the relay) and the 200 with the
                                       relay's SDP
  prack_inbound_phone_reliable         the provider (Supported: 100rel) calls a DID; the phone
                                       answers 183 with SDP, Require: 100rel, RSeq: 1: b2bua
                                       PRACKs it; the provider gets a reliable 183 with the
                                       relay's SDP, PRACKs it after the phone's 200 reached
                                       b2bua (200), and only then gets the 200

  prack_delayed_offer_outbound         the phone (Supported: 100rel) calls out without SDP
                                       (delayed offer): the provider's INVITE has no SDP and
                                       no 100rel in Supported (a reliable 18x could carry an
                                       offer whose answer, owed in the PRACK, only the phone can
                                       give); the provider's unreliable 183 and its 200 carry
                                       its offer; the phone gets a reliable 183 without SDP (no
                                       offer to answer in its PRACK), the 200 with the relay's
                                       offer, and its ACK's answer reaches the provider in
                                       b2bua's ACK; no PRACK towards the provider, RTP both ways

In every flow nothing of one leg crosses to the other (Call-IDs, User-Agent, the peers' own
addresses), no side ever sees a 504 PRACK timeout, and the call record says answered with RTP
both ways. One flow per ctest entry (run_flows)."""
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from harness import check, check_sipp, run_flows, running, sipp_trace  # noqa: E402
from records import Records  # noqa: E402
import scenarios as sc  # noqa: E402

DID = "+4930111201"
FAR = "+4989111222"                    # who the provider's inbound calls come from (provider_dialog)
PHONE_CID = ["-cid_str", "phone-leg-%u-%p@%s"]
PROVIDER_CID = ["-cid_str", "provider-leg-%u-%p@%s"]
PASSWORDS = {"10": "pw-ten"}


class Setup:
    """The daemon and the sipp runs of one flow, each with SIP and RTP ports of the test's own."""

    def __init__(self, h, register=()):
        self.h = h
        self.lan_port, self.wan_port, self.provider_port = h.port(3)
        self.provider_rtp = h.port(4)[0]
        self.relay = h.ports.span(20)
        self.lan, self.wan = f"127.0.0.1:{self.lan_port}", f"127.0.0.1:{self.wan_port}"
        self.daemon = h.start_daemon({
            "lan": {"listen": [f"udp:{self.lan}"], "networks": ["127.0.0.0/8"], "realm": "test.arpa"},
            "wan": {"address": "127.0.0.1", "port": self.wan_port},
            "registrar": {"qualify_interval": 0},
            "extensions": [{"number": "10", "password": "pw-ten"}],
            "trunks": [{"name": "provider", "registrar": f"sip:127.0.0.1:{self.provider_port}",
                        "username": sc.TRUNK_USER, "password": "trunk-secret", "register": False,
                        "numbers": [DID], "keepalive": {"method": "off"}}],
            "routing": {"inbound": [{"number": DID, "ring": ["10"], "timeout": 20}],
                        "outbound": [{"prefix": "0", "trunk": "provider"}]},
            "media": {"ports": list(self.relay), "timeout": 30},
        })
        self.records = Records(h)
        self.phones = {}
        for ext in register:
            self.phones[ext] = h.port()
            r = h.sipp(h.write_scenario(f"reg{ext}", sc.phone_register(ext, PASSWORDS[ext])), self.lan,
                       self.phones[ext], name=f"reg{ext}")
            check_sipp(r, f"phone {ext} registered")

    def start(self, name, xml, target, port, extra=(), media_port=None):
        log = ["-trace_logs", "-log_file", self.h.path(f"{name}.logs")]
        return self.h.sipp_bg(xml, target, port, name=name, media_port=media_port, extra=[*log, *extra])

    def points_at_relay(self, msg):
        addr, port = media_of(msg)
        return addr == "127.0.0.1" and port is not None and self.relay[0] <= port <= self.relay[1]

    def no_leaks(self, phone_run, provider_run):
        """Topology hiding: nothing of the LAN leg reaches the provider, and the reverse."""
        to_provider = "\n".join(self.h.messages(provider_run))
        for leak in ("phone-leg-", "TestPhone", "X-Phone-Secret", "test.arpa"):
            check(leak not in to_provider, f"  provider never sees '{leak}'")
        to_phone = "\n".join(self.h.messages(phone_run))
        for leak in ("provider-leg-", "ProviderSwitch", f":{self.provider_port}", f" {self.provider_rtp} ",
                     "provider.test"):
            check(leak not in to_phone, f"  phone never sees '{leak}'")

    def no_prack_timeout(self, *runs):
        seen = [first_line(m) for r in runs for m in self.h.messages(r) if re.match(r"SIP/2.0 504", m)]
        check(not seen and "PRACK Timeout" not in self.daemon.output(), f"  no 504 PRACK timeout anywhere {seen}")

    def stop(self):
        self.h.stop_daemon(self.daemon)


def first_line(msg):
    return msg.split("\n", 1)[0].strip()


def header(msg, name):
    """The values of header `name` (case-insensitive) in a message's header part."""
    head = msg.split("\n\n", 1)[0]
    return [m.strip() for m in re.findall(rf"^{name}[ \t]*:(.*)$", head, re.M | re.I)]


def body(msg):
    return msg.split("\n\n", 1)[1].strip() if "\n\n" in msg else ""


def cseq(msg):
    value = header(msg, "CSeq")
    return tuple(value[0].split()) if value else (None, None)


def supports_100rel(msg):
    tokens = ",".join(header(msg, "Supported") + header(msg, "k")).replace(" ", "").lower().split(",")
    return "100rel" in tokens


def requires_100rel(msg):
    return "100rel" in ",".join(header(msg, "Require")).replace(" ", "").lower().split(",")


def media_of(msg):
    c = re.search(r"^c=IN IP4 (\S+)", msg, re.M)
    m = re.search(r"^m=audio (\d+) ", msg, re.M)
    return (c.group(1) if c else None, int(m.group(1)) if m else None)


def find(msgs, start):
    return [m for m in msgs if first_line(m).startswith(start)]


def ordered(run, h):
    """(sent/received, first line, CSeq) of every message of sipp run `run`, in order."""
    return [("in" if m.received else "out", first_line(m.text), cseq(m.text)) for m in sipp_trace(h.sipp_messages(run))]


# --- scenarios -------------------------------------------------------------------------------

SDP_BODY = "Content-Type: application/sdp\nContent-Length: [len]\n\n" + sc.SDP


def _log_var(var):
    return f'<nop hide="true"><action><log message="{var}=[${var}]"/></action></nop>\n'


def reliable_uas(hangup_wait=True, play_early=False):
    """A UAS that answers an INVITE with a reliable 183 (SDP, Require: 100rel, RSeq: 1),
    retransmitted until the PRACK comes (RFC 3262 3); the PRACK must acknowledge RSeq 1 of that
    INVITE; it is answered 200, and only then the INVITE gets its 200 (the INVITE's own Via and
    CSeq, kept from it: the PRACK is the last message sipp saw). Then ACK, RTP, and the BYE of
    the other side."""
    keep = ('  <action>\n'
            '    <ereg regexp=".*" search_in="hdr" header="Via:" assign_to="invite_via"/>\n'
            '    <ereg regexp=".*" search_in="hdr" header="CSeq:" assign_to="invite_cseq"/>\n'
            '  </action>\n')
    reply_183 = ("SIP/2.0 183 Session Progress\n[last_Via:]\n[last_From:]\n[last_To:];tag=[pid]uas\n[last_Call-ID:]\n"
                 "[last_CSeq:]\nContact: <sip:[local_ip]:[local_port]>\nRequire: 100rel\nRSeq: 1\n" + SDP_BODY)
    reply_prack = ("SIP/2.0 200 OK\n[last_Via:]\n[last_From:]\n[last_To:]\n[last_Call-ID:]\n[last_CSeq:]\n"
                   "Content-Length: 0\n\n")
    reply_invite = ("SIP/2.0 200 OK\nVia: [$invite_via]\n[last_From:]\n[last_To:]\n[last_Call-ID:]\n"
                    "CSeq: [$invite_cseq]\nContact: <sip:[local_ip]:[local_port]>\n" + SDP_BODY)
    body = (f'<recv request="INVITE" crlf="true">\n{keep}</recv>\n'
            f'<send retrans="500"><![CDATA[\n{reply_183}]]></send>\n'
            '<recv request="PRACK">\n  <action><ereg regexp="^ *1 [0-9]+ INVITE" search_in="hdr" header="RAck:" '
            'check_it="true" assign_to="rack"/></action>\n</recv>\n' + _log_var("rack") +
            f'<send><![CDATA[\n{reply_prack}]]></send>\n')
    if play_early:
        body += f'<nop><action><exec play_pcap_audio="{sc.PCAP}"/></action></nop>\n'
    body += ('<pause milliseconds="600"/>\n'
             f'<send retrans="500"><![CDATA[\n{reply_invite}]]></send>\n'
             '<recv request="ACK" crlf="true"/>\n')
    if not play_early:
        body += f'<nop><action><exec play_pcap_audio="{sc.PCAP}"/></action></nop>\n'
    body += ('<recv request="BYE"/>\n'
             '<send><![CDATA[\nSIP/2.0 200 OK\n[last_Via:]\n[last_From:]\n[last_To:]\n[last_Call-ID:]\n[last_CSeq:]\n'
             'Content-Length: 0\n\n]]></send>\n')
    return body


def _wrap(name, body):
    return f'<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="{name}">\n{body}\n</scenario>\n'


def provider_reliable_uas():
    return _wrap("provider_reliable_uas", reliable_uas(play_early=True))


def phone_reliable_uas():
    return _wrap("phone_reliable_uas", reliable_uas())


PRACK_DELAY_MS = 1500  # the callers' PRACK comes after the callee's 200 has reached b2bua


def recv_183_and_prack(d, invite_cseq, prack_cseq):
    """Takes a reliable 183 (Require: 100rel, an RSeq), PRACKs it PRACK_DELAY_MS later (b2bua
    retransmits the 183 meanwhile, RFC 3262 3) and takes the PRACK's 200."""
    return ('<recv response="183" response_txn="invite">\n  <action>\n'
            '    <ereg regexp="100rel" search_in="hdr" header="Require:" check_it="true" assign_to="require"/>\n'
            '    <ereg regexp="[0-9]+" search_in="hdr" header="RSeq:" check_it="true" assign_to="rseq"/>\n'
            '  </action>\n</recv>\n' + _log_var("require") +
            f'<pause milliseconds="{PRACK_DELAY_MS}"/>\n'
            f'<send retrans="500" start_txn="prack"><![CDATA[\n'
            f'{d.request("PRACK", prack_cseq, headers=f"RAck: [$rseq] {invite_cseq} INVITE" + chr(10))}]]></send>\n'
            '<recv response="200" response_txn="prack"/>\n')


def phone_call(reliable, offer=True):
    """Phone 10 calls out (407, then the authenticated INVITE), with Supported: 100rel when
    `reliable`; takes the 183 (reliable: PRACKs it), the 200, ACKs, plays RTP, hangs up. Without
    `offer` the INVITE has no SDP and the ACK answers the 200's offer."""
    user, password, dialled = "10", "pw-ten", "0301201"
    d = sc.phone_dialog(user, dialled)
    headers = sc.PHONE_HEADERS + ("Supported: 100rel\n" if reliable else "")
    auth = f"[authentication username={user} password={password}]\n"
    invite_body = SDP_BODY if offer else "Content-Length: 0\n\n"
    body = (f'<send retrans="500"><![CDATA[\n{d.request("INVITE", 1, invite_body, headers=headers, initial=True)}]]>'
            '</send>\n'
            '<recv response="100" optional="true"/>\n'
            '<recv response="407" auth="true"/>\n'
            f'<send><![CDATA[\n{d.request("ACK", 1, branch="[branch-3]")}]]></send>\n'
            f'<send retrans="500" start_txn="invite"><![CDATA[\n'
            f'{d.request("INVITE", 2, invite_body, headers=headers + auth, initial=True)}]]></send>\n'
            '<recv response="100" optional="true" response_txn="invite"/>\n'
            '<recv response="180" optional="true" response_txn="invite"/>\n')
    next_cseq = 3
    if reliable:
        body += recv_183_and_prack(d, 2, 3)
        next_cseq = 4
    else:
        body += '<recv response="183" response_txn="invite"/>\n'
    ack_body = "Content-Length: 0\n\n" if offer else SDP_BODY
    body += ('<recv response="200" rtd="true" response_txn="invite"/>\n'
             f'<send ack_txn="invite"><![CDATA[\n{d.request("ACK", 2, ack_body)}]]></send>\n'
             f'<nop><action><exec play_pcap_audio="{sc.PCAP}"/></action></nop>\n'
             '<pause milliseconds="1200"/>\n' + d.bye(next_cseq))
    return _wrap("phone_call", body)


def provider_call():
    """The provider calls the DID with Supported: 100rel; takes a reliable 183 and PRACKs it,
    then the 200; ACK, RTP, then it hangs up."""
    d = sc.provider_dialog(DID)
    headers = "User-Agent: ProviderSwitch/9\nSupported: 100rel\n"
    body = (f'<send retrans="500" start_txn="invite"><![CDATA[\n'
            f'{d.request("INVITE", 1, SDP_BODY, headers=headers, initial=True)}]]></send>\n'
            '<recv response="100" optional="true" response_txn="invite"/>\n'
            '<recv response="180" optional="true" response_txn="invite"/>\n' +
            recv_183_and_prack(d, 1, 2) +
            '<recv response="200" rtd="true" response_txn="invite"/>\n'
            f'<send ack_txn="invite"><![CDATA[\n{d.request("ACK", 1)}]]></send>\n'
            f'<nop><action><exec play_pcap_audio="{sc.PCAP}"/></action></nop>\n'
            '<pause milliseconds="1200"/>\n' + d.bye(3))
    return _wrap("provider_call", body)


def provider_offers_in_200():
    """A provider that gets an INVITE without SDP: an unreliable 183 with its SDP (early media),
    then the 200 with its offer; the ACK brings the answer; RTP, then the BYE of the other side."""
    reply_183 = ("SIP/2.0 183 Session Progress\n[last_Via:]\n[last_From:]\n[last_To:];tag=[pid]uas\n[last_Call-ID:]\n"
                 "[last_CSeq:]\nContact: <sip:[local_ip]:[local_port]>\n" + SDP_BODY)
    reply_200 = ("SIP/2.0 200 OK\n[last_Via:]\n[last_From:]\n[last_To:];tag=[pid]uas\n[last_Call-ID:]\n[last_CSeq:]\n"
                 "Contact: <sip:[local_ip]:[local_port]>\n" + SDP_BODY)
    body = ('<recv request="INVITE" crlf="true"/>\n'
            f'<send><![CDATA[\n{reply_183}]]></send>\n'
            '<pause milliseconds="300"/>\n'
            f'<send retrans="500"><![CDATA[\n{reply_200}]]></send>\n'
            '<recv request="ACK" crlf="true"/>\n'
            f'<nop><action><exec play_pcap_audio="{sc.PCAP}"/></action></nop>\n'
            '<recv request="BYE"/>\n'
            '<send><![CDATA[\nSIP/2.0 200 OK\n[last_Via:]\n[last_From:]\n[last_To:]\n[last_Call-ID:]\n[last_CSeq:]\n'
            'Content-Length: 0\n\n]]></send>\n')
    return _wrap("provider_offers_in_200", body)


# --- checks ----------------------------------------------------------------------------------

def check_prack_received(s, run, what):
    """The UAS run `run` got exactly one PRACK from b2bua for RSeq 1 of the INVITE it answered
    reliably (its scenario sends the 200 only after answering the PRACK)."""
    h = s.h
    got = h.messages(run)
    invite = find(got, "INVITE ")[-1]
    inv_no = cseq(invite)[0]
    check(supports_100rel(invite), f"  {what}: b2bua's INVITE says Supported: 100rel "
                                   f"({header(invite, 'Supported')})")
    pracks = find(got, "PRACK ")
    check(len(pracks) >= 1, f"  {what}: b2bua PRACKed the reliable 183 ({len(pracks)} PRACK)")
    rack = header(pracks[0], "RAck")
    check(rack and rack[0].split() == ["1", inv_no, "INVITE"],
          f"  {what}: PRACK says RAck: 1 {inv_no} INVITE ({rack})")
    check(header(pracks[0], "Call-ID") == header(invite, "Call-ID"), f"  {what}: PRACK is in the INVITE's dialog")
    check("m=audio" not in pracks[0], f"  {what}: the PRACK carries no SDP (the 183 answered b2bua's offer)")


def sent_at(h, run, start, method):
    """When sipp run `run` sent its first message starting with `start` of CSeq method `method`."""
    return next(m.time for m in sipp_trace(h.sipp_messages(run))
                if not m.received and first_line(m.text).startswith(start) and cseq(m.text)[1] == method)


def check_reliable_183_to_caller(s, run, callee_run, what):
    """The caller's run `run` got a reliable 183 with the relay's SDP, PRACKed it, got 200 for
    the PRACK, and the INVITE's 200 only after that. The callee (`callee_run`) answered before
    that PRACK was sent (the caller waits PRACK_DELAY_MS), so b2bua held the 2xx until the
    PRACK came (RFC 3262 3: no 2xx before the PRACK of a reliable 18x that carried SDP)."""
    h = s.h
    got = h.messages(run)
    early = find(got, "SIP/2.0 183")
    check(len(early) >= 1, f"  {what}: caller got the 183")
    e = early[0]
    rseq = header(e, "RSeq")
    check(requires_100rel(e) and rseq and rseq[0].isdigit(),
          f"  {what}: the 183 is reliable (Require {header(e, 'Require')}, RSeq {rseq})")
    check(s.points_at_relay(e) and media_of(e)[1] != s.provider_rtp,
          f"  {what}: the 183's SDP points at the relay {media_of(e)}")
    sent = h.messages(run, received=False)
    prack = find(sent, "PRACK ")
    check(prack and header(prack[0], "RAck")[0].split()[0] == rseq[0],
          f"  {what}: caller's PRACK acknowledges RSeq {rseq[0]}")
    oks = find(got, "SIP/2.0 200")
    prack_ok = [m for m in oks if cseq(m)[1] == "PRACK"]
    check(len(prack_ok) >= 1, f"  {what}: b2bua answered the caller's PRACK with 200")
    trace = ordered(run, h)
    prack_at = next(i for i, m in enumerate(trace) if m[0] == "out" and m[1].startswith("PRACK "))
    ok_at = next(i for i, m in enumerate(trace)
                 if m[0] == "in" and m[1].startswith("SIP/2.0 200") and m[2][1] == "INVITE")
    check(prack_at < ok_at, f"  {what}: the INVITE's 200 reached the caller after its PRACK ({prack_at} < {ok_at})")
    answered, pracked = sent_at(h, callee_run, "SIP/2.0 200", "INVITE"), sent_at(h, run, "PRACK ", "PRACK")
    check(answered < pracked, f"  {what}: the callee's 200 was sent {pracked - answered:.2f} s before the caller's "
                              "PRACK: b2bua held it until then")
    ok = [m for m in oks if cseq(m)[1] == "INVITE"][0]
    # The 183 was the answer (RFC 3262 5); SDP in the 200 may only repeat it unchanged (RFC 6337
    # 3.1.1: same o= version), never be a second, different answer.
    check("m=audio" not in ok or body(ok) == body(e),
          f"  {what}: the 200 {'repeats the 183s SDP unchanged' if 'm=audio' in ok else 'has no SDP'}",
          f"183:\n{body(e)}\n200:\n{body(ok)}")


# --- flows -----------------------------------------------------------------------------------

def outbound(binary, name, reliable_phone):
    with running(f"calls-{name}", binary, Setup) as s:
        h = s.h
        provider = s.start(f"{name}_provider", provider_reliable_uas(), s.wan, s.provider_port,
                           media_port=s.provider_rtp)
        time.sleep(0.3)
        phone = s.start(f"{name}_phone", phone_call(reliable_phone), s.lan, h.port(), extra=PHONE_CID)
        h.finish(phone, f"{name}: phone side as scripted")
        h.finish(provider, f"{name}: provider side as scripted (183 reliable, PRACK from b2bua, 200)")
        check_prack_received(s, f"{name}_provider", "provider leg")
        invite = find(h.messages(f"{name}_provider"), "INVITE ")[-1]
        check(s.points_at_relay(invite), "  provider's INVITE offers the relay")
        if reliable_phone:
            check_reliable_183_to_caller(s, f"{name}_phone", f"{name}_provider", "phone leg")
        else:
            got = h.messages(f"{name}_phone")
            early = find(got, "SIP/2.0 183")
            check(len(early) == 1, f"  phone leg: one 183 ({len(early)})")
            check(not requires_100rel(early[0]) and not header(early[0], "RSeq"),
                  f"  phone leg: the 183 is unreliable (Require {header(early[0], 'Require')}, "
                  f"RSeq {header(early[0], 'RSeq')})")
            check(s.points_at_relay(early[0]), f"  phone leg: the 183's SDP points at the relay {media_of(early[0])}")
            check(not find(h.messages(f"{name}_phone", received=False), "PRACK "), "  phone leg: no PRACK from the phone")
            ok = [m for m in find(got, "SIP/2.0 200") if cseq(m)[1] == "INVITE"]
            check(ok and s.points_at_relay(ok[0]), "  phone leg: the 200 carries the relay's SDP again")
        phone_cid = header(h.messages(f"{name}_phone", received=False)[0], "Call-ID")
        provider_cid = header(invite, "Call-ID")
        check(phone_cid != provider_cid, f"  the legs' Call-IDs differ ({phone_cid} / {provider_cid})")
        s.no_prack_timeout(f"{name}_phone", f"{name}_provider")
        s.records.answered(name, "outbound", "10", "provider", "0301201")
        s.no_leaks(f"{name}_phone", f"{name}_provider")


def prack_outbound_reliable_183(binary):
    """Reliable 183 from the provider, relayed reliably to a phone that supports 100rel."""
    outbound(binary, "prack_outbound_reliable_183", True)


def prack_outbound_phone_without_100rel(binary):
    """Reliable 183 from the provider, relayed unreliably to a phone without 100rel."""
    outbound(binary, "prack_outbound_phone_without_100rel", False)


def prack_inbound_phone_reliable(binary):
    """Reliable 183 from the phone, PRACKed by b2bua, relayed reliably to the provider."""
    name = "prack_inbound_phone_reliable"
    with running(f"calls-{name}", binary, Setup, register=["10"]) as s:
        h = s.h
        phone = s.start(f"{name}_phone", phone_reliable_uas(), s.lan, s.phones["10"])
        time.sleep(0.3)
        provider = s.start(f"{name}_provider", provider_call(), s.wan, s.provider_port, extra=PROVIDER_CID,
                           media_port=s.provider_rtp)
        h.finish(provider, f"{name}: provider side as scripted (reliable 183, PRACK, 200)")
        h.finish(phone, f"{name}: phone side as scripted (183 reliable, PRACK from b2bua, 200)")
        check_prack_received(s, f"{name}_phone", "phone leg")
        invite = find(h.messages(f"{name}_phone"), "INVITE ")[-1]
        check(s.points_at_relay(invite), "  phone's INVITE offers the relay")
        check_reliable_183_to_caller(s, f"{name}_provider", f"{name}_phone", "provider leg")
        provider_cid = header(h.messages(f"{name}_provider", received=False)[0], "Call-ID")
        phone_cid = header(invite, "Call-ID")
        check(phone_cid != provider_cid, f"  the legs' Call-IDs differ ({provider_cid} / {phone_cid})")
        s.no_prack_timeout(f"{name}_phone", f"{name}_provider")
        s.records.answered(name, "inbound", "10", "provider", FAR)
        s.no_leaks(f"{name}_phone", f"{name}_provider")


def prack_delayed_offer_outbound(binary):
    """A delayed offer from the phone: 100rel is not offered to the provider, whose offer comes
    in the 200 and is answered in the ACK."""
    name = "prack_delayed_offer_outbound"
    with running(f"calls-{name}", binary, Setup) as s:
        h = s.h
        provider = s.start(f"{name}_provider", provider_offers_in_200(), s.wan, s.provider_port,
                           media_port=s.provider_rtp)
        time.sleep(0.3)
        phone = s.start(f"{name}_phone", phone_call(True, offer=False), s.lan, h.port(), extra=PHONE_CID)
        h.finish(phone, f"{name}: phone side as scripted (no SDP, 183, 200 with an offer, ACK with the answer)")
        h.finish(provider, f"{name}: provider side as scripted (183, 200 with its offer, ACK)")
        invite = find(h.messages(f"{name}_provider"), "INVITE ")[-1]
        check("m=audio" not in invite, "  provider leg: the INVITE has no SDP (the phone made no offer)")
        check(not supports_100rel(invite), f"  provider leg: Supported without 100rel ({header(invite, 'Supported')})")
        ack = find(h.messages(f"{name}_provider"), "ACK ")[-1]
        check(s.points_at_relay(ack), f"  provider leg: b2bua's ACK answers with the relay ({media_of(ack)})")
        ok = [m for m in find(h.messages(f"{name}_phone"), "SIP/2.0 200") if cseq(m)[1] == "INVITE"]
        check(ok and s.points_at_relay(ok[0]), "  phone leg: the 200 offers the relay")
        early = find(h.messages(f"{name}_phone"), "SIP/2.0 183")
        check(early and all("m=audio" not in m for m in early), "  phone leg: the 183 carries no SDP (no offer)")
        check(not find(h.messages(f"{name}_provider"), "PRACK "), "  provider leg: no PRACK")
        s.no_prack_timeout(f"{name}_phone", f"{name}_provider")
        s.records.answered(name, "outbound", "10", "provider", "0301201")
        s.no_leaks(f"{name}_phone", f"{name}_provider")


FLOWS = {f.__name__: f for f in (prack_outbound_reliable_183, prack_outbound_phone_without_100rel,
                                 prack_inbound_phone_reliable, prack_delayed_offer_outbound)}

if __name__ == "__main__":
    run_flows(FLOWS)
