#!/usr/bin/env python3
"""Attended transfer (RFC 3515 REFER with a Refer-To carrying Replaces, RFC 3891) through b2bua.
The transferor, phone 10, is a small SIP UA of the test's own over UDP (it holds two dialogs at
once and builds the Replaces from the second one's tags, which sipp cannot share between
scenarios); the provider (an IP-authenticated trunk) and phone 11 (the consulted party) are
sipp; the audio of the provider and of 11 comes from RTP peers of the test's own, each with an
SSRC of its own, so what each one counts after the transfer is the other's, carried by the
relay.

  transfer_attended_inbound          the provider calls the DID, 10 answers and holds
                                     (a=sendonly); 10 calls 11 (digest-authenticated INVITE),
                                     11 answers; 10 REFERs call 1 to <sip:11@lan?Replaces=call 2
                                     as 10 sees it>: 202, one NOTIFY "SIP/2.0 200 OK"
                                     (message/sipfrag, terminated) in call 1's dialog, BYE from
                                     b2bua on both of 10's dialogs; 11 is re-INVITEd in call 2's
                                     dialog to the relay port 10 had in call 1, sendrecv; the
                                     provider is re-INVITEd (sendrecv, the relay) and its audio
                                     and 11's reach each other; the provider's BYE reaches 11;
                                     both calls' records note transferred=10>11
  transfer_attended_outside          the same with an outside consulted party: 10 calls a
                                     number routed to a second trunk (the carrier), which
                                     answers; after 10's REFER the carrier is re-INVITEd in
                                     call 2's dialog onto a WAN port of call 1's relay (none 10
                                     had, nothing of the LAN), the provider onto the new
                                     sessions, and the two hear each other; both records note
                                     transferred=10>number
  transfer_attended_linphonec        real phones: linphonec (Debian's linphone-cli) answers as 10,
                                     holds (pause), calls baresip (11), which answers, and
                                     transfers with its own attended transfer ("transfer 1
                                     --to-call 2", a REFER with Replaces): the provider is
                                     re-INVITEd sendrecv onto the relay and hears baresip,
                                     baresip receives RTP from the relay, the provider's BYE
                                     reaches baresip, both records note transferred=10>11
  transfer_attended_unknown_dialog   the same two calls, then REFERs whose Replaces names no
                                     dialog of b2bua (call 2's Call-ID with a wrong to-tag or
                                     its tags swapped, a Call-ID nobody uses): 403 each, no
                                     NOTIFY, no BYE; both calls go on: 10 resumes call 1 (the
                                     provider gets the re-INVITE, audio both ways through the
                                     relay), hangs up call 2 (11 gets the BYE), the provider
                                     hangs up call 1 (10 gets the BYE); no record notes a
                                     transfer

One flow per ctest entry (run_flows)."""
import json
import os
import random
import re
import socket
import sys
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
sys.path.insert(0, HERE)
from harness import check, run_flows, running  # noqa: E402
import digest  # noqa: E402
import sip_client  # noqa: E402
from test_real_phones import Linphonec  # noqa: E402
from test_transfer import (FAR, OUTSIDE, PASSWORDS, Baresip, RECORD_COLUMNS, SSRC_FAR, SSRC_TARGET, SSRC_TEN,  # noqa: E402
                           RtpPeer, Setup, check_audio_after_transfer, invites_answered, media_of,
                           no_lan_at_provider, provider_calls, received, reply, sdp_at, sdp_body, send, take_bye,
                           take_reinvite, wait_for, wrap)

COMPACT = {"i": "call-id", "f": "from", "t": "to", "v": "via", "m": "contact", "l": "content-length",
           "c": "content-type", "o": "event", "r": "refer-to", "b": "referred-by", "k": "supported"}


def rand_hex(bits=48):
    return f"{random.getrandbits(bits):x}"


def uri_of(value):
    """The URI of a name-addr (<sip:...>) or addr-spec header value."""
    m = re.search(r"<([^>]*)>", value)
    return m.group(1) if m else value.split(";", 1)[0].strip()


def tag_of(value):
    m = re.search(r";\s*tag=([^;>\s]+)", value.split(">", 1)[-1] if ">" in value else value)
    return m.group(1) if m else None


class Msg:
    """One SIP message as phone 10 got or sent it."""

    def __init__(self, raw, received):
        self.raw, self.received = raw, received
        head, _, self.body = raw.replace("\r\n", "\n").partition("\n\n")
        lines = head.split("\n")
        self.first_line = lines[0].strip()
        self.headers = []
        for line in lines[1:]:
            if line[:1] in (" ", "\t") and self.headers:
                name, value = self.headers[-1]
                self.headers[-1] = (name, value + " " + line.strip())
                continue
            name, _, value = line.partition(":")
            name = name.strip().lower()
            self.headers.append((COMPACT.get(name, name), value.strip()))
        parts = self.first_line.split(" ", 2)
        self.status = int(parts[1]) if parts[0] == "SIP/2.0" else None
        self.method = None if self.status else parts[0]
        cseq = (self.get("cseq") or "0 X").split()
        self.cseq, self.cseq_method = int(cseq[0]), cseq[1]
        self.call_id = self.get("call-id")

    def all(self, name):
        return [v for n, v in self.headers if n == name.lower()]

    def get(self, name):
        values = self.all(name)
        return values[0] if values else None


class LegDialog:
    """One of 10's dialogs: what its in-dialog requests carry."""

    def __init__(self, call_id, local, remote, target, cseq=1):
        self.call_id, self.local, self.remote, self.target, self.cseq = call_id, local, remote, target, cseq

    @property
    def local_tag(self):
        return tag_of(self.local)

    @property
    def remote_tag(self):
        return tag_of(self.remote)


class Phone10:
    """Phone 10 as a SIP UA over UDP on its registered port: one socket for both dialogs. A
    reader thread keeps every message; it answers BYE, NOTIFY and OPTIONS with 200 by itself
    (and a retransmitted request with the answer it already got); everything else waits in the
    inbox for the flow to take it."""

    SDP = ("v=0\r\no=ten 7071 {version} IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
           "m=audio {port} RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
           "a={direction}\r\n")

    def __init__(self, port, lan_port, rtp_port, user="10"):
        self.port, self.server, self.rtp_port, self.user = port, ("127.0.0.1", lan_port), rtp_port, user
        self.contact = f"<sip:{user}@127.0.0.1:{port}>"
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.settimeout(0.05)
        self.log, self.inbox = [], []
        self.answered = {}  # (call-id, cseq, method) -> the answer sent
        self.cond = threading.Condition()
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def close(self):
        self.stopping = True
        self.thread.join(2)
        self.sock.close()

    def _send_raw(self, text):
        with self.cond:
            self.log.append(Msg(text, False))
        self.sock.sendto(text.encode(), self.server)

    def _run(self):
        while not self.stopping:
            try:
                data, _ = self.sock.recvfrom(65535)
            except (socket.timeout, OSError):
                continue
            m = Msg(data.decode(errors="replace"), True)
            with self.cond:
                self.log.append(m)
            key = (m.call_id, m.cseq, m.method)
            if m.method and m.method != "ACK" and key in self.answered:
                self._send_raw(self.answered[key])  # a retransmission: the same answer again
                continue
            if m.method in ("BYE", "NOTIFY", "OPTIONS"):
                self.respond(m, "200 OK")
                continue
            with self.cond:
                self.inbox.append(m)
                self.cond.notify_all()

    def take(self, predicate, what, timeout=10):
        """The first message of the inbox `predicate` accepts (taken out of it); fails the test
        when none comes within `timeout`."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for m in self.inbox:
                    if predicate(m):
                        self.inbox.remove(m)
                        return m
                left = deadline - time.monotonic()
                if left <= 0:
                    check(False, f"  phone 10 got {what}", "\n".join(x.first_line for x in self.log))
                self.cond.wait(min(left, 0.1))

    def final(self, call_id, method, cseq, timeout=10):
        """The final response to our request (1xx skipped)."""
        return self.take(lambda m: m.status and m.status >= 200 and m.call_id == call_id and m.cseq == cseq and
                         m.cseq_method == method, f"a final answer to {method} {cseq}", timeout)

    def messages(self, received=True, method=None, call_id=None):
        with self.cond:
            return [m for m in self.log if m.received == received and (method is None or m.method == method) and
                    (call_id is None or m.call_id == call_id)]

    def sdp(self, direction="sendrecv", version=1):
        return self.SDP.format(port=self.rtp_port, direction=direction, version=version)

    def respond(self, req, status, to_tag=None, sdp=None):
        to = req.get("to") + (f";tag={to_tag}" if to_tag and not tag_of(req.get("to")) else "")
        lines = [f"SIP/2.0 {status}", *[f"Via: {v}" for v in req.all("via")], f"From: {req.get('from')}",
                 f"To: {to}", f"Call-ID: {req.call_id}", f"CSeq: {req.cseq} {req.cseq_method}",
                 f"Contact: {self.contact}"]
        text = self._finish(lines, sdp)
        if int(status.split()[0]) >= 200:
            self.answered[(req.call_id, req.cseq, req.method)] = text
        self._send_raw(text)

    @staticmethod
    def _finish(lines, sdp=None, content_type="application/sdp"):
        if sdp:
            lines += [f"Content-Type: {content_type}", f"Content-Length: {len(sdp.encode())}", "", sdp]
        else:
            lines += ["Content-Length: 0", "", ""]
        return "\r\n".join(lines)

    def request(self, method, ruri, call_id, from_hdr, to_hdr, cseq, headers=(), sdp=None, branch=None):
        branch = branch or f"z9hG4bK{rand_hex()}"
        lines = [f"{method} {ruri} SIP/2.0", f"Via: SIP/2.0/UDP 127.0.0.1:{self.port};rport;branch={branch}",
                 "Max-Forwards: 70", f"From: {from_hdr}", f"To: {to_hdr}", f"Call-ID: {call_id}",
                 f"CSeq: {cseq} {method}", f"Contact: {self.contact}", "User-Agent: TestPhone/1.0", *headers]
        self._send_raw(self._finish(lines, sdp))
        return branch

    def in_dialog(self, d, method, headers=(), sdp=None):
        """A request inside dialog `d` with its next CSeq; returns the CSeq."""
        d.cseq += 1
        self.request(method, d.target, d.call_id, d.local, d.remote, d.cseq, headers, sdp)
        return d.cseq

    def ack(self, d, cseq):
        self.request("ACK", d.target, d.call_id, d.local, d.remote, cseq)

    # --- what phone 10 does ---

    def answer_call(self, timeout=10):
        """Takes b2bua's INVITE, rings, answers with its SDP, takes the ACK; the dialog."""
        inv = self.take(lambda m: m.method == "INVITE", "b2bua's INVITE (call 1)", timeout)
        tag = rand_hex(32)
        self.respond(inv, "180 Ringing", to_tag=tag)
        time.sleep(0.2)
        self.respond(inv, "200 OK", to_tag=tag, sdp=self.sdp())
        self.take(lambda m: m.method == "ACK" and m.call_id == inv.call_id, "the ACK of its 200 (call 1)")
        return LegDialog(inv.call_id, f"{inv.get('to')};tag={tag}", inv.get("from"), uri_of(inv.get("contact")),
                         cseq=100)

    def reinvite(self, d, direction, version):
        """A re-INVITE offering `direction`; ACKs the 200; returns the answer."""
        cseq = self.in_dialog(d, "INVITE", sdp=self.sdp(direction, version))
        r = self.final(d.call_id, "INVITE", cseq)
        check(r.status == 200, f"  phone 10's re-INVITE ({direction}) answered {r.first_line}")
        self.ack(d, cseq)
        return r

    def call(self, number, password, lan, headers=(), expect=200):
        """A call: INVITE, 407, ACK, INVITE with credentials and `headers`, 18x, then 200 and ACK
        (the dialog and the 200), or the `expect`ed failure (None and the failure)."""
        ruri = f"sip:{number}@{lan}"
        call_id = f"ten-consult-{rand_hex()}@127.0.0.1"  # as phones write it: the Replaces escapes the '@'
        local = f'"Phone {self.user}" <sip:{self.user}@{lan}>;tag={rand_hex(32)}'
        to = f"<sip:{number}@{lan}>"
        branch = self.request("INVITE", ruri, call_id, local, to, 1, sdp=self.sdp())
        r = self.final(call_id, "INVITE", 1)
        check(r.status in (401, 407), f"  phone {self.user}'s INVITE to {number} challenged ({r.first_line})")
        self.request("ACK", ruri, call_id, local, r.get("to"), 1, branch=branch)
        name = "proxy-authenticate" if r.status == 407 else "www-authenticate"
        answer = "Proxy-Authorization" if r.status == 407 else "Authorization"
        ch = digest.params(r.get(name))
        auth = digest.authorization(ch, self.user, password, "INVITE", ruri)
        branch = self.request("INVITE", ruri, call_id, local, to, 2, headers=[f"{answer}: {auth}", *headers],
                              sdp=self.sdp())
        r = self.final(call_id, "INVITE", 2, timeout=15)
        if expect != 200:
            check(r.status == expect, f"  phone {self.user}'s INVITE answered {expect} ({r.first_line})")
            self.request("ACK", ruri, call_id, local, r.get("to"), 2, branch=branch)
            return None, r
        check(r.status == 200, f"  {number} answered phone {self.user}'s call ({r.first_line})")
        d = LegDialog(call_id, local, r.get("to"), uri_of(r.get("contact")), cseq=2)
        self.ack(d, 2)
        return d, r

    def refer(self, d, refer_to):
        cseq = self.in_dialog(d, "REFER", headers=[f"Refer-To: {refer_to}",
                                                   f"Referred-By: <sip:10@127.0.0.1:{self.port}>"])
        return self.final(d.call_id, "REFER", cseq)


def replaces(call_id, to_tag, from_tag):
    """The escaped Replaces of a Refer-To URI (RFC 3891 / RFC 3515 2.1)."""
    value = f"{call_id};to-tag={to_tag};from-tag={from_tag}"
    return urllib.parse.quote(value, safe="")


class Attended:
    """Setup of test_transfer (daemon, provider trunk, 11 registered by sipp) with phone 10 a
    UA of the test's own, registered on its port."""

    def __init__(self, h):
        self.s = Setup(h, register=("11",))
        self.ten_port = h.port()
        code = sip_client.register(self.s.lan_port, "10", PASSWORDS["10"], self.ten_port)
        check(code == 200, f"phone 10 registered ({code})")
        self.s.phones["10"] = self.ten_port
        self.ten = Phone10(self.ten_port, self.s.lan_port, self.s.ten_rtp)

    def stop(self):
        self.ten.close()
        self.s.stop()


def consulted_phone(rtp_port, reinvited):
    """Phone 11: answers 10's call with its audio on the RtpPeer at `rtp_port`; when `reinvited`,
    takes the re-INVITE that moves it (sendrecv offered, answered sendrecv); then the BYE."""
    xml = ('<recv request="INVITE" crlf="true"/>\n' +
           send(reply("180 Ringing", to_tag=";tag=[pid]uas"), retrans=False) +
           '<pause milliseconds="300"/>\n' +
           send(reply("200 OK", sdp_body(sdp_at(rtp_port)), ";tag=[pid]uas")) +
           '<recv request="ACK" crlf="true"/>\n')
    if reinvited:
        # Its direction is checked from the trace: sendrecv may be written or left implied
        # (RFC 4566 6: sendrecv is the default).
        moved = sdp_body(sdp_at(rtp_port, "sendrecv", 2353687638))
        xml += '<recv request="INVITE"/>\n' + send(reply("200 OK", moved)) + '<recv request="ACK"/>\n'
    return wrap("consulted", xml + take_bye())


def start_peers(a, reinvited, hold_ms, outside=False):
    """11 (or, `outside`, the carrier) and the provider; after 10's hold the provider takes one
    more re-INVITE (sendrecv): the transfer's, or 10's resume when nothing was transferred."""
    s = a.s
    if outside:
        p11 = s.start("carrier", consulted_phone(s.target_rtp, reinvited), s.wan, s.carrier_port)
    else:
        p11 = s.phone("phone11", consulted_phone(s.target_rtp, reinvited), "11")
    time.sleep(0.3)
    during = (take_reinvite(1, "sendonly", sdp_at(s.far_rtp, "recvonly", 2353687638)) +
              take_reinvite(2, "sendrecv", sdp_at(s.far_rtp, "sendrecv", 2353687639)))
    far = s.rtp_peer(s.far_rtp, SSRC_FAR, "provider")
    target = s.rtp_peer(s.target_rtp, SSRC_TARGET, "carrier" if outside else "phone11")
    provider = s.provider("provider", provider_calls(s.far_rtp, during, hold_ms=hold_ms), calling=True)
    return p11, provider, far, target


def set_up_calls(a, consult="11"):
    """10 answers call 1 and holds it, then calls `consult` (call 2); returns the two dialogs and
    the relay port 10 was given in call 1."""
    s, ten = a.s, a.ten
    d1 = ten.answer_call(timeout=10)
    s.daemon.wait_log(r"event=answered call=\d+ extension=10 ", timeout=5)
    time.sleep(0.3)
    held = ten.reinvite(d1, "sendonly", 2)
    check(media_of(held.raw)[2] in ("recvonly", "inactive"),
          f"  call 1 on hold: b2bua answered 10's sendonly with {media_of(held.raw)[2]}")
    wait_for(s, "  the provider took 10's hold", lambda: invites_answered(s, "provider") == 1, timeout=5)
    d2, _ = ten.call(consult, PASSWORDS["10"], s.lan)
    return d1, d2, media_of(held.raw)[1]


def transfer_to_consulted(a, consult, consulted_run, consulted, provider, far, target):
    """10 answers and holds the provider's call, calls `consult` (sipp run `consulted_run`,
    started as `consulted`) and REFERs call 1 with a Replaces naming call 2 (202); the consulted
    party is re-INVITEd, so is the provider, the two hear each other, and both runs end with the
    provider's BYE. Returns call 1's and call 2's dialogs and the relay port 10 had in call 1."""
    s, ten, h = a.s, a.ten, a.s.h
    d1, d2, relay_port_10 = set_up_calls(a, consult)
    time.sleep(0.5)
    r = ten.refer(d1, f"<sip:{consult}@{s.lan}?Replaces={replaces(d2.call_id, d2.remote_tag, d2.local_tag)}>")
    check(r.status == 202, f"  REFER with Replaces of call 2 in call 1's dialog: {r.first_line}")
    wait_for(s, f"  {consulted_run} took the re-INVITE moving it",
             lambda: invites_answered(s, consulted_run) == 2, timeout=10)
    wait_for(s, "  the provider took the re-INVITE after the transfer",
             lambda: invites_answered(s, "provider") == 2, timeout=10)
    check_audio_after_transfer(s, far, target, f"provider and {consulted_run} after the attended transfer")
    h.finish(provider, "  provider: call, hold, re-INVITE after the transfer, BYE")
    h.finish(consulted, f"  {consulted_run}: answered 10, re-INVITEd onto call 1, BYE when the provider hung up")
    return d1, d2, relay_port_10


def transfer_attended_inbound(binary):
    """10 holds the provider's call, consults 11 and REFERs call 1 with a Replaces naming call 2:
    the provider and 11 end up talking through call 1's relay, 10's two dialogs end."""
    with running("calls-transfer-attended", binary, Attended) as a:
        s, ten, h = a.s, a.ten, a.s.h
        p11, provider, far, target = start_peers(a, reinvited=True, hold_ms=4000)
        d1, d2, relay_port_10 = transfer_to_consulted(a, "11", "phone11", p11, provider, far, target)

        notifies = ten.messages(method="NOTIFY")
        check(len(notifies) == 1 and notifies[0].call_id == d1.call_id,
              f"  one NOTIFY, in call 1's dialog ({[(n.call_id, n.first_line) for n in notifies]})")
        n = notifies[0]
        check(n.body.strip() == "SIP/2.0 200 OK", f"  NOTIFY says SIP/2.0 200 OK ('{n.body.strip()}')")
        check((n.get("content-type") or "").split(";")[0].strip().lower() == "message/sipfrag",
              f"  NOTIFY is message/sipfrag ({n.get('content-type')})")
        check((n.get("subscription-state") or "").split(";")[0].strip() == "terminated",
              f"  NOTIFY ends the implied subscription ({n.get('subscription-state')})")
        refer_cseq = ten.messages(received=False, method="REFER")[0].cseq
        check(re.sub(r"\s", "", n.get("event") or "") == f"refer;id={refer_cseq}",
              f"  NOTIFY Event refer;id=<the REFER's CSeq> ({n.get('event')})")
        byes = {m.call_id for m in ten.messages(method="BYE")}
        check(byes == {d1.call_id, d2.call_id}, f"  b2bua sent BYE on both of 10's dialogs ({sorted(byes)})")
        got = [m for m in ten.messages() if m.call_id == d1.call_id and m.method in ("NOTIFY", "BYE")]
        check([m.method for m in got] == ["NOTIFY", "BYE"], f"  call 1's dialog: the NOTIFY, then the BYE "
              f"{[m.method for m in got]}")

        invites11 = received(s, "phone11", "INVITE")
        check(len(invites11) == 2, f"  11 got its call and one re-INVITE ({len(invites11)} INVITEs)")
        re11 = invites11[1]
        call_ids = [re.search(r"^Call-ID:\s*(\S+)", m, re.M | re.I).group(1) for m in invites11]
        check(call_ids[0] == call_ids[1] and re.search(r"^To:.*;\s*tag=", re11, re.M | re.I),
              f"  11's re-INVITE is in call 2's dialog (Call-IDs {call_ids}, a To tag)")
        addr, port, direction = media_of(re11)
        check(direction == "sendrecv" and not re.search(r"^a=(sendonly|recvonly|inactive)", re11, re.M) and
              s.points_at_relay(re11),
              f"  11 offered sendrecv on the relay ({addr}:{port} {direction})")
        check(port == relay_port_10, f"  11 offered the relay port 10 had in call 1 ({port}; 10's: {relay_port_10})")
        invites_p = received(s, "provider", "INVITE")
        check(len(invites_p) == 2, f"  the provider got 10's hold and the transfer's re-INVITE ({len(invites_p)})")
        addr, port, direction = media_of(invites_p[1])
        check(direction == "sendrecv" and s.points_at_relay(invites_p[1]),
              f"  the provider's re-INVITE: sendrecv on the relay ({addr}:{port} {direction})")
        check(len(received(s, "phone11", "BYE")) == 1, "  11 got the BYE when the provider hung up")
        no_lan_at_provider(s, ["phone11"], "provider")
        log = s.daemon.output()
        m = re.search(r"event=transfer_attended call=(\d+) from=10 to=11 consultation=(\d+)", log)
        check(m and m.group(1) != m.group(2), f"  transfer logged ({m.group(0) if m else None})")
        rows = h.call_records(2, columns=RECORD_COLUMNS)
        notes = [row[8].split() for row in rows]
        check(all("transferred=10>11" in n for n in notes), f"  both calls' records note transferred=10>11 {notes}")
        inbound = [row for row in rows if row[0] == "inbound"]
        check(len(inbound) == 1 and tuple(inbound[0][:6]) == ("inbound", "10", "provider", FAR, 200, "caller"),
              f"  call 1's record {[tuple(r[:6]) for r in inbound]}")


def transfer_attended_outside(binary):
    """10 holds the provider's call, consults an outside number through the carrier and REFERs
    call 1 with a Replaces naming call 2: the provider and the carrier end up talking through
    call 1, whose relay side moved to the WAN."""
    with running("calls-transfer-attended-outside", binary, Attended) as a:
        s, ten, h = a.s, a.ten, a.s.h
        carrier, provider, far, target = start_peers(a, reinvited=True, hold_ms=4000, outside=True)
        d1, d2, relay_port_10 = transfer_to_consulted(a, OUTSIDE, "carrier", carrier, provider, far, target)
        notifies = ten.messages(method="NOTIFY")
        check(len(notifies) == 1 and notifies[0].body.strip() == "SIP/2.0 200 OK",
              f"  one NOTIFY 200 OK ({[(n.call_id, n.body.strip()) for n in notifies]})")
        byes = {m.call_id for m in ten.messages(method="BYE")}
        check(byes == {d1.call_id, d2.call_id}, f"  b2bua sent BYE on both of 10's dialogs ({sorted(byes)})")
        invites = received(s, "carrier", "INVITE")
        check(len(invites) == 2, f"  the carrier got its call and one re-INVITE ({len(invites)} INVITEs)")
        addr, port, direction = media_of(invites[1])
        first_port = media_of(invites[0])[1]
        check(direction == "sendrecv" and s.points_at_relay(invites[1]) and port not in (relay_port_10, first_port),
              f"  the carrier offered sendrecv on a new relay port ({addr}:{port} {direction}; 10 had "
              f"{relay_port_10}, call 2 {first_port})")
        addr, port, direction = media_of(received(s, "provider", "INVITE")[1])
        check(direction == "sendrecv", f"  the provider's re-INVITE: sendrecv on the relay ({addr}:{port})")
        no_lan_at_provider(s, [], "provider")
        no_lan_at_provider(s, [], "carrier")
        check(re.search(rf"event=transfer_attended call=\d+ from=10 to={OUTSIDE} consultation=\d+", s.daemon.output()),
              "  transfer logged")
        rows = h.call_records(2, columns=RECORD_COLUMNS)
        notes = [row[8].split() for row in rows]
        check(all(f"transferred=10>{OUTSIDE}" in n for n in notes), f"  both records note the transfer {notes}")


def transfer_attended_linphonec(binary):
    """Real phones: linphonec (10) answers the provider's call, holds it, calls baresip (11),
    which answers, and transfers the held call to it with its attended transfer command
    (`transfer 1 --to-call 2`: REFER with Replaces)."""
    with running("calls-transfer-attended-linphonec", binary, Setup, register=()) as s:
        h = s.h
        ten = Linphonec(h, "10", s.lan)
        s.daemon.wait_log(rf"event=binding_added ext=10 contact=127\.0\.0\.1:{ten.sip_port} ", timeout=15)
        eleven = Baresip(s, "11", PASSWORDS["11"])
        ten.tone(h.path("tone.wav"), seconds=20)
        far = s.rtp_peer(s.far_rtp, SSRC_FAR, "provider")
        during = (take_reinvite(1, "sendonly|inactive", sdp_at(s.far_rtp, "recvonly", 2353687638)) +
                  take_reinvite(2, "sendrecv", sdp_at(s.far_rtp, "sendrecv", 2353687639)))
        provider = s.provider("provider", provider_calls(s.far_rtp, during, hold_ms=4000), calling=True)
        s.daemon.wait_log(r"event=answered call=\d+ extension=10 trunk=provider ", timeout=10)
        time.sleep(1.0)
        ten.command("pause")
        wait_for(s, "  linphonec held the provider's call", lambda: invites_answered(s, "provider") == 1, timeout=5)
        ten.command(f"call sip:11@{s.lan}")
        s.daemon.wait_log(r"event=answered call=\d+ extension=10 trunk=\"\" ", timeout=10)
        time.sleep(1.0)
        baresip_log = len(eleven.proc.output())
        ten.command("transfer 1 --to-call 2")
        s.daemon.wait_log(r"event=transfer_attended call=\d+ from=10 to=11 consultation=\d+", timeout=10)
        wait_for(s, "  the provider took the re-INVITE after the transfer",
                 lambda: invites_answered(s, "provider") == 2, timeout=10)
        heard, sent_before = sum(far.received.values()), far.sent
        time.sleep(1.5)
        got = sum(far.received.values()) - heard
        check(got >= 45, f"  the provider hears baresip after the transfer ({got} packets in 1.5 s)")
        sent_after = far.sent - sent_before
        h.finish(provider, "  provider: call, hold, re-INVITE after the transfer, BYE")
        out = open(ten.log_path, errors="replace").read()
        check("Performing attended transfer of call 1 to call 2" in out and "has been transfered" in out,
              "  linphonec did the attended transfer and was told it worked")
        reinvite = h.messages("provider", method="INVITE")[-1]
        check(media_of(reinvite)[2] == "sendrecv" and s.points_at_relay(reinvite),
              f"  the provider's last re-INVITE: sendrecv on the relay ({media_of(reinvite)})")
        no_lan_at_provider(s, [], "provider")
        rows = h.call_records(2, columns=RECORD_COLUMNS)
        check(all("transferred=10>11" in row[8].split() for row in rows),
              f"  both calls' records note transferred=10>11 {[row[8] for row in rows]}")
        # Whatever the relay sent the phones' side before the transfer came from the provider's
        # peer, so at most sent_before of it: the rest went to baresip after the transfer.
        stats = json.loads([row for row in rows if row[0] == "inbound"][0][7])
        to_phones = stats["b"]["packets_sent"]
        check(to_phones - sent_before >= 0.8 * sent_after,
              f"  baresip is sent the provider's audio after the transfer (the relay sent the phones' side "
              f"{to_phones} packets, the provider's peer {sent_before} before the transfer and {sent_after} in "
              f"the 1.5 s after)")
        eleven.proc.wait_log(r"BYE", timeout=5, after=baresip_log)


def transfer_attended_unknown_dialog(binary):
    """REFERs whose Replaces names no dialog of b2bua are refused with 403 (not 481, which
    would end call 1's dialog, RFC 5057); both calls go on untouched: 10 resumes call 1 and
    talks to the provider again."""
    with running("calls-transfer-attended-unknown", binary, Attended) as a:
        s, ten, h = a.s, a.ten, a.s.h
        p11, provider, far, target = start_peers(a, reinvited=False, hold_ms=5000)
        d1, d2, _ = set_up_calls(a)
        time.sleep(0.3)
        cases = [("call 2's Call-ID, a wrong to-tag", replaces(d2.call_id, "nosuchtag", d2.local_tag)),
                 ("call 2's Call-ID, tags swapped", replaces(d2.call_id, d2.local_tag, d2.remote_tag)),
                 ("a Call-ID nobody uses", replaces("nobody-" + rand_hex(), d2.remote_tag, d2.local_tag))]
        for what, rep in cases:
            r = ten.refer(d1, f"<sip:11@{s.lan}?Replaces={rep}>")
            check(r.status == 403, f"  REFER with Replaces of {what}: {r.first_line}")
        time.sleep(0.5)
        check(not ten.messages(method="NOTIFY"), "  no NOTIFY for a refused REFER")
        check(not ten.messages(method="BYE"), "  no BYE: both of 10's calls go on")
        check(len(received(s, "provider", "INVITE")) == 1, "  the provider saw only 10's hold so far")
        log = s.daemon.output()
        check("event=transfer_attended" not in log and "event=call_ended" not in log,
              "  no transfer, no call ended")
        refusals = re.findall(r"event=transfer_refused call=\d+ ext=10 status=(\d+)", log)
        check(refusals == ["403"] * len(cases), f"  each refusal logged {refusals}")
        resumed = ten.reinvite(d1, "sendrecv", 3)
        addr, port, _ = media_of(resumed.raw)
        check(s.points_at_relay(resumed.raw), f"  10 resumes call 1 ({addr}:{port})")
        wait_for(s, "  the provider took 10's resume", lambda: invites_answered(s, "provider") == 2, timeout=5)
        ten_rtp = RtpPeer(s.ten_rtp, SSRC_TEN, lambda: (addr, port))
        s.peers.append(ten_rtp)
        check_audio_after_transfer(s, far, ten_rtp, "provider and 10 after the refused REFERs")
        cseq = ten.in_dialog(d2, "BYE")
        r = ten.final(d2.call_id, "BYE", cseq)
        check(r.status == 200, f"  10 hangs up call 2: {r.first_line}")
        h.finish(p11, "  phone 11: answered 10, BYE when 10 hung up")
        h.finish(provider, "  provider: call, hold, BYE")
        wait_for(s, "  10 got the BYE of call 1", lambda: ten.messages(method="BYE", call_id=d1.call_id), timeout=5)
        rows = h.call_records(2, columns=RECORD_COLUMNS)
        check(not any("transferred" in row[8] for row in rows), f"  no record notes a transfer {[r[8] for r in rows]}")


FLOWS = {
    "transfer_attended_inbound": transfer_attended_inbound,
    "transfer_attended_outside": transfer_attended_outside,
    "transfer_attended_unknown_dialog": transfer_attended_unknown_dialog,
    "transfer_attended_linphonec": transfer_attended_linphonec,
}

if __name__ == "__main__":
    run_flows(FLOWS)
