#!/usr/bin/env python3
"""Blind transfer (REFER, RFC 3515 / RFC 5589) through b2bua: sipp plays the provider (an
IP-authenticated trunk, "register": false) and the registered phones 10 (the transferor) and 11
(the target); the audio of the provider and of the phone that ends up in the call comes from RTP
peers of the test's own, each sending with an SSRC of its own, so what each one counts after
the transfer is the other's, carried by the relay.

  transfer_blind_inbound_to_extension   the provider calls the DID, 10 answers, holds
                                        (a=sendonly) and REFERs to 11: 202, NOTIFYs of
                                        message/sipfrag 100 Trying, 180 Ringing, 200 OK
                                        (Event: refer;id=<REFER CSeq>, the last one terminated),
                                        then BYE from b2bua; 11 is offered sendrecv on the relay
                                        port 10 had, answers; after the hold the provider gets
                                        one more re-INVITE (sendrecv, the relay, its o= session,
                                        a higher version when the SDP changed) and its audio and
                                        11's reach each other; nothing of the LAN reaches the
                                        provider; the record notes transferred=10>11
  transfer_blind_outbound_to_extension  the same without hold, 10 being the caller of an
                                        outbound call (the transferor is the call's A side)
  transfer_transferor_hangs_up_early    10 hangs up right after the 202: the provider's call
                                        stays up, 11 answers, the provider gets the re-INVITE
                                        and the call goes on; 10 hears nothing more
  transfer_caller_hangs_up_while_target_rings
                                        10 REFERs to 11 and hangs up at once; the provider
                                        hangs up while 11 rings: 11 is cancelled (487) and 10
                                        is not rung again for the ended call (no recall)
  transfer_target_busy_returns          11 answers 486: 10 gets NOTIFY "SIP/2.0 486 Busy Here"
                                        (terminated) and no BYE, resumes (re-INVITE bridged to
                                        the provider, audio both ways) and hangs up
  transfer_recall_after_failure         10 hangs up after the 202 and 11 is busy: 10 rings again
                                        with the call (recall), answers, and the provider gets
                                        the re-INVITE for it
  transfer_refused_cases                a REFER from the provider (405: REFER is not allowed on
                                        the WAN); from 10: to an outside number a deny rule
                                        refuses, or to a number with no route (403 each), with a
                                        Replaces naming no call of ours (403), without Refer-To
                                        (400), to a name (488: a 404 would end the dialog, RFC
                                        5057); no NOTIFY, the call goes on to the provider's
                                        BYE, 11 never rings
  transfer_blind_to_outside_number      the provider calls the DID, 10 answers, holds and REFERs
                                        to an outside number routed to a second trunk (the
                                        carrier): the carrier gets a new call of ours (our
                                        identity, the relay on a WAN port 10 never had,
                                        sendrecv, nothing of the LAN), answers; 10 gets 100 /
                                        180 / 200 NOTIFYs and BYE; the provider gets the
                                        re-INVITE onto the new relay port, and the provider and
                                        the carrier hear each other; the record notes
                                        transferred=10>number
  transfer_outside_reinvite_refused     the same, but the provider refuses the re-INVITE onto the
                                        new relay port (488): it would send into released ports,
                                        so b2bua ends the call (BYE to the provider and to the
                                        carrier) and says why
  transfer_baresip_transferor           a real phone: baresip answers the provider's call as 10
                                        and transfers it with its transfer command (menu module,
                                        sent through ctrl_tcp); 11 and the provider as in the
                                        first flow; baresip's own SIP trace shows the REFER, the
                                        NOTIFYs and the BYE

  transfer_baresip_to_outside_number    the same to an outside number: the carrier gets our
                                        identity and nothing of the LAN or of baresip, and hears
                                        the provider

One flow per ctest entry (run_flows)."""
import json
import os
import re
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from harness import check, check_sipp, run_flows, running, sipp_trace, wait_until  # noqa: E402
from records import Records  # noqa: E402
import scenarios as sc  # noqa: E402

DID = "+4930123456"
FAR = "+4989111222"        # who the provider's inbound calls come from (scenarios.provider_dialog)
DIALLED = "0301234567"     # what 10 dials in the outbound flow
OUTSIDE = "0912345678"     # an outside transfer target, routed to the second trunk
CARRIER_USER = "4940555000"
PASSWORDS = {"10": "pw-ten", "11": "pw-eleven", "12": "pw-twelve"}
PHONE_CID = ["-cid_str", "phone-leg-%u-%p@%s"]
PROVIDER_CID = ["-cid_str", "provider-leg-%u-%p@%s"]
RECORD_COLUMNS = ("direction, extension, trunk, remote_number, final_code, hangup_by, answer_ms, media_stats_json, "
                  "notes")
SSRC_FAR, SSRC_TARGET, SSRC_TEN = 0x0FA0FA00, 0x11111111, 0x10101010


# --- RTP peers -----------------------------------------------------------------------------------

class RtpPeer:
    """An RTP endpoint on a port of the test's own: every 20 ms one PCMA packet with its own SSRC
    to where `destination()` says (the relay's address from the latest SDP its side got), and a
    count of what arrives, per SSRC."""

    def __init__(self, port, ssrc, destination):
        self.port, self.ssrc, self.destination = port, ssrc, destination
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", port))
        self.sock.settimeout(0.005)
        self.received = {}  # ssrc -> packets
        self.sent = 0
        self.lock = threading.Lock()
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        seq, ts = 0, 0
        next_send = time.monotonic()
        dest, dest_checked = None, 0.0
        while not self.stopping:
            now = time.monotonic()
            if now - dest_checked > 0.1:
                dest, dest_checked = self.destination(), now
            if now >= next_send:
                next_send += 0.02
                if dest:
                    header = struct.pack("!BBHII", 0x80, 8, seq & 0xFFFF, ts & 0xFFFFFFFF, self.ssrc)
                    try:
                        self.sock.sendto(header + b"\xd5" * 160, dest)
                        self.sent += 1
                    except OSError:
                        pass
                    seq, ts = seq + 1, ts + 160
            try:
                data, _ = self.sock.recvfrom(2048)
            except (socket.timeout, OSError):
                continue
            if len(data) >= 12 and data[0] >> 6 == 2:
                (ssrc,) = struct.unpack("!I", data[8:12])
                with self.lock:
                    self.received[ssrc] = self.received.get(ssrc, 0) + 1

    def count(self, ssrc):
        with self.lock:
            return self.received.get(ssrc, 0)

    def stop(self):
        self.stopping = True
        self.thread.join(2)
        self.sock.close()


def first_line(msg):
    return msg.split("\n", 1)[0].strip()


def header(msg, name):
    m = re.search(rf"^{name}:[ \t]*(.*?)\s*$", msg, re.M | re.I)
    return m.group(1) if m else None


def body(msg):
    return msg.split("\n\n", 1)[1] if "\n\n" in msg else ""


def media_of(msg):
    """(address, port, direction) of the first audio stream in a message's SDP."""
    c = re.search(r"^c=IN IP4 (\S+)", msg, re.M)
    m = re.search(r"^m=audio (\d+) ", msg, re.M)
    d = re.search(r"^a=(sendrecv|sendonly|recvonly|inactive)\s*$", msg, re.M)
    return (c.group(1) if c else None, int(m.group(1)) if m else None, d.group(1) if d else "sendrecv")


def origin_of(msg):
    """(session id, version) of the o= line."""
    m = re.search(r"^o=\S+ (\d+) (\d+) ", msg, re.M)
    return (m.group(1), int(m.group(2))) if m else (None, None)


def cseq_of(msg):
    m = re.search(r"^CSeq:\s*(\d+)\s+(\S+)", msg, re.M | re.I)
    return (int(m.group(1)), m.group(2)) if m else (None, None)


def sdp_at(port, direction="sendrecv", version=2353687637):
    """Our peers' SDP, its audio on `port` (an RtpPeer's) instead of sipp's own media port."""
    return sc.sdp(direction, version).replace("[media_port]", str(port))


def sdp_body(sdp):
    return "Content-Type: application/sdp\nContent-Length: [len]\n\n" + sdp


def reply(status, content="Content-Length: 0\n\n", to_tag=""):
    return (f"SIP/2.0 {status}\n[last_Via:]\n[last_From:]\n[last_To:]{to_tag}\n[last_Call-ID:]\n[last_CSeq:]\n"
            f"Contact: <sip:[local_ip]:[local_port]>\n{content}")


def send(msg, retrans=True):
    return f'<send{" retrans=" + chr(34) + "500" + chr(34) if retrans else ""}><![CDATA[\n{msg}]]></send>\n'


def wrap(name, xml):
    return f'<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="{name}">\n{xml}\n</scenario>\n'


# --- sipp scenario pieces --------------------------------------------------------------------------

def answer_call(sdp, ring_ms=300, play=True):
    """A registered phone takes a call: INVITE (its From, To and Contact kept for the requests
    it sends in the dialog later), 180, 200 with `sdp`, ACK; RTP from the pcap when `play`.
    Returns (xml, Dialog of this side)."""
    xml = ('<recv request="INVITE" crlf="true" rrs="true">\n  <action>\n'
           '    <ereg regexp=".*" search_in="hdr" header="From:" assign_to="inv_from"/>\n'
           '    <ereg regexp=".*" search_in="hdr" header="To:" assign_to="inv_to"/>\n'
           '  </action>\n</recv>\n' +
           send(reply("180 Ringing", to_tag=";tag=[pid]uas"), retrans=False) +
           f'<pause milliseconds="{ring_ms}"/>\n' +
           send(reply("200 OK", sdp_body(sdp), ";tag=[pid]uas")) +
           '<recv request="ACK" crlf="true"/>\n')
    if play:
        xml += f'<nop><action><exec play_pcap_audio="{sc.PCAP}"/></action></nop>\n'
    d = sc.Dialog("[next_url]", "[$inv_to];tag=[pid]uas", "[$inv_from]", "<sip:[local_ip]:[local_port]>")
    return xml, d


def refer(d, cseq, refer_to, expect="202", referred_by=True):
    """REFER in the dialog, `refer_to` the whole Refer-To value (None: no Refer-To at all)."""
    headers = f"Refer-To: {refer_to}\n" if refer_to is not None else ""
    if referred_by:
        headers += "Referred-By: <sip:10@[remote_ip]:[remote_port]>\n"
    return send(d.request("REFER", cseq, headers=headers)) + f'<recv response="{expect}"/>\n'


def take_notifies(label):
    """Takes the implied subscription's NOTIFYs, answering each 200, until one says
    Subscription-State: terminated (what each said is checked from the trace). The loop turns
    on the answer itself: a step between the answer and the next recv would make sipp take a
    NOTIFY sent right after the last one as unexpected."""
    return (f'<label id="{label}"/>\n'
            '<recv request="NOTIFY">\n  <action>\n'
            '    <ereg regexp="[a-z]+" search_in="hdr" header="Subscription-State:" '
            f'assign_to="{label}_state"/>\n'
            f'    <strcmp assign_to="{label}_active" variable="{label}_state" value="terminated"/>\n'
            '  </action>\n</recv>\n' +
            f'<send next="{label}" test="{label}_active"><![CDATA[\n{reply("200 OK")}]]></send>\n')


def hang_up_with_notify_in_flight(d, cseq):
    """BYE right after the 202, while b2bua's first NOTIFY (100 Trying, sent with the 202) is on
    its way: the NOTIFY is answered, then the BYE's 200 taken. The BYE goes without sipp's
    retransmission, which would hold back the answer to the NOTIFY until the BYE is answered."""
    return (send(d.request("BYE", cseq), retrans=False) +
            '<recv request="NOTIFY"/>\n' + send(reply("200 OK"), retrans=False) +
            '<recv response="200"/>\n')


def refer_and_hang_up(s):
    """Phone 10's run: it answers, REFERs to 11 and hangs up right after the 202."""
    answer, d = answer_call(sc.SDP)
    # The 100 Trying NOTIFY leaves b2bua right after the 202, before our BYE can arrive.
    xml10 = (answer + '<pause milliseconds="600"/>\n' + refer(d, 1, f"<sip:11@{s.lan}>") +
             hang_up_with_notify_in_flight(d, 2))
    return s.phone("phone10", wrap("transferor", xml10), "10")


def take_bye():
    return '<recv request="BYE"/>\n' + send(reply("200 OK"), retrans=False)


def take_reinvite(n, offered, sdp):
    """Takes a re-INVITE whose SDP says a=`offered` (a regex) and answers `sdp`."""
    var = f"reinvite{n}"
    return (f'<recv request="INVITE">\n  <action><ereg regexp="a=({offered})" search_in="body" check_it="true" '
            f'assign_to="{var}"/></action>\n</recv>\n'
            f'<nop hide="true"><action><log message="{var}=[${var}]"/></action></nop>\n' +
            send(reply("200 OK", sdp_body(sdp))) + '<recv request="ACK"/>\n')


def target_phone(port=None, status="200", first_ms=0, ring_ms=600):
    """A phone rung for a transfer (or a recall): 100, 180 after `first_ms`, then `status`
    after `ring_ms`; answering, its audio is the RtpPeer on `port`, and it waits for the BYE."""
    xml = ('<recv request="INVITE" crlf="true"/>\n' +
           send(reply("100 Trying"), retrans=False) +
           (f'<pause milliseconds="{first_ms}"/>\n' if first_ms else "") +
           send(reply("180 Ringing", to_tag=";tag=[pid]uas"), retrans=False) +
           f'<pause milliseconds="{ring_ms}"/>\n')
    if status != "200":
        xml += (send(reply(f"{status}", to_tag=";tag=[pid]uas"), retrans=False) + '<recv request="ACK"/>\n')
        return wrap("target", xml)
    xml += (send(reply("200 OK", sdp_body(sdp_at(port)), ";tag=[pid]uas")) +
            '<recv request="ACK" crlf="true"/>\n' + take_bye())
    return wrap("target", xml)


def provider_calls(rtp_port, during, hold_ms):
    """The provider calls the DID with its audio on the RtpPeer at `rtp_port`, lets `during`
    happen (re-INVITEs it takes), then its caller hangs up after `hold_ms`."""
    d = sc.provider_dialog(DID)
    invite = d.request("INVITE", 1, sdp_body(sdp_at(rtp_port)), headers="User-Agent: ProviderSwitch/9\n",
                       initial=True)
    xml = (send(invite) +
           '<recv response="100" optional="true"/>\n'
           '<recv response="180" optional="true"/>\n'
           '<recv response="183" optional="true"/>\n'
           '<recv response="200" rtd="true"/>\n' +
           send(d.request("ACK", 1), retrans=False) + during +
           f'<pause milliseconds="{hold_ms}"/>\n' + d.bye(2))
    return wrap("provider_calls", xml)


def provider_calls_until(rtp_port, during):
    """The provider calls the DID with its audio on the RtpPeer at `rtp_port`; `during` ends the
    call (b2bua's BYE taken, for one)."""
    d = sc.provider_dialog(DID)
    invite = d.request("INVITE", 1, sdp_body(sdp_at(rtp_port)), initial=True)
    return wrap("provider_calls", send(invite) +
                '<recv response="100" optional="true"/>\n'
                '<recv response="180" optional="true"/>\n'
                '<recv response="200"/>\n' +
                send(d.request("ACK", 1), retrans=False) + during)


def provider_answers(rtp_port, during, hangup_ms):
    """The provider takes an outbound call, answers with its audio on the RtpPeer at
    `rtp_port`, lets `during` happen, then hangs up after `hangup_ms`."""
    xml = ('<recv request="INVITE" crlf="true" rrs="true">\n  <action>\n'
           '    <ereg regexp=".*" search_in="hdr" header="From:" assign_to="caller_from"/>\n'
           '    <ereg regexp=".*" search_in="hdr" header="To:" assign_to="caller_to"/>\n'
           '  </action>\n</recv>\n' +
           send(reply("180 Ringing", to_tag=";tag=[pid]uas"), retrans=False) +
           '<pause milliseconds="200"/>\n' +
           send(reply("200 OK", sdp_body(sdp_at(rtp_port)), ";tag=[pid]uas")) +
           '<recv request="ACK" crlf="true"/>\n' + during)
    d = sc.Dialog("[next_url]", "[$caller_to];tag=[pid]uas", "[$caller_from]", "<sip:[local_ip]:[local_port]>")
    return wrap("provider_answers", xml + f'<pause milliseconds="{hangup_ms}"/>\n' + d.bye(1))


# --- the daemon and its peers ---------------------------------------------------------------------

class Setup:
    """The daemon with extensions 10, 11, 12, the DID ringing 10, outbound calls (prefix 0)
    through an IP-authenticated provider trunk; phones 10 and 11 registered by sipp; ports for
    the RTP peers of the provider, of 11 and of 10."""

    def __init__(self, h, register=("10", "11")):
        self.h = h
        self.lan_port, self.wan_port, self.provider_port, self.carrier_port = h.port(4)
        self.far_rtp = h.port(2)[0]
        self.target_rtp = h.port(2)[0]
        self.ten_rtp = h.port(2)[0]
        self.relay = h.ports.span(20)
        self.status_port = h.port()
        self.lan, self.wan = f"127.0.0.1:{self.lan_port}", f"127.0.0.1:{self.wan_port}"
        self.daemon = h.start_daemon({
            "status": {"listen": f"127.0.0.1:{self.status_port}"},
            "lan": {"listen": [f"udp:{self.lan}"], "networks": ["127.0.0.0/8"], "realm": "test.arpa"},
            "wan": {"address": "127.0.0.1", "port": self.wan_port},
            "registrar": {"qualify_interval": 0},
            "extensions": [{"number": n, "password": p} for n, p in PASSWORDS.items()],
            "trunks": [{"name": "provider", "registrar": f"sip:127.0.0.1:{self.provider_port}",
                        "username": sc.TRUNK_USER, "register": False, "numbers": [DID],
                        "keepalive": {"method": "off"}},
                       {"name": "carrier", "registrar": f"sip:127.0.0.1:{self.carrier_port}",
                        "username": CARRIER_USER, "register": False, "keepalive": {"method": "off"}}],
            "routing": {"inbound": [{"number": DID, "ring": ["10"], "timeout": 20}],
                        "outbound": [{"prefix": "0900", "trunk": None},
                                     {"prefix": OUTSIDE[:2], "trunk": "carrier"},
                                     {"prefix": "0", "trunk": "provider"}]},
            "media": {"ports": list(self.relay), "timeout": 30},
        })
        self.records = Records(h)
        self.phones = {}
        for ext in register:
            self.phones[ext] = h.port()
            r = h.sipp(h.write_scenario(f"reg{ext}", sc.phone_register(ext, PASSWORDS[ext])), self.lan,
                       self.phones[ext], name=f"reg{ext}")
            check_sipp(r, f"phone {ext} registered")
        self.peers = []

    def start(self, name, xml, target, port, extra=(), timeout=40):
        log = ["-trace_logs", "-log_file", self.h.path(f"{name}.logs")]
        return self.h.sipp_bg(xml, target, port, name=name, timeout=timeout, extra=[*log, *extra])

    def phone(self, name, xml, ext=None, extra=()):
        """A phone's run: on its registered port (ext) or a fresh one."""
        return self.start(name, xml, self.lan, self.phones[ext] if ext else self.h.port(), extra=extra)

    def provider(self, name, xml, calling):
        """The provider's run: calling the DID, or waiting on the trunk's address."""
        return self.start(name, xml, self.wan, self.provider_port, extra=PROVIDER_CID if calling else ())

    def relay_seen_by(self, run):
        """A destination for an RtpPeer: the address in the latest SDP sipp run `run` received."""
        def destination():
            for m in reversed(self.h.messages(run)):
                addr, port, _ = media_of(m)
                if addr and port:
                    return addr, port
            return None
        return destination

    def rtp_peer(self, port, ssrc, run):
        peer = RtpPeer(port, ssrc, self.relay_seen_by(run))
        self.peers.append(peer)
        return peer

    def points_at_relay(self, msg):
        addr, port, _ = media_of(msg)
        return addr == "127.0.0.1" and port is not None and self.relay[0] <= port <= self.relay[1]

    def record(self, what):
        """The next call's record: (direction, ext, trunk, remote, code, by, answer_ms, media, notes)."""
        self.records.count += 1
        return self.h.call_records(self.records.count, columns=RECORD_COLUMNS)[-1]

    def stop(self):
        for p in self.peers:
            p.stop()
        self.h.stop_daemon(self.daemon)


def wait_for(s, what, predicate, timeout=10):
    check(wait_until(predicate, timeout) is not None and predicate(), what)


def received(s, run, method=None):
    return s.h.messages(run, method=method)


def invites_answered(s, run):
    """How many INVITEs sipp run `run` answered 200."""
    return sum(first_line(m).startswith("SIP/2.0 200") and cseq_of(m)[1] == "INVITE"
               for m in s.h.messages(run, received=False))


def answered_invite(s, run):
    """True once sipp run `run` received the ACK of an INVITE it answered."""
    return any(first_line(m).startswith("ACK ") for m in received(s, run))


def check_notifies(s, run, refer_cseq, frags, what):
    """The NOTIFYs run `run` got: message/sipfrag bodies `frags` in order, Event refer;id=<the
    REFER's CSeq>, active until the last, which is terminated."""
    notifies = received(s, run, "NOTIFY")
    got = [body(m).strip() for m in notifies]
    check(got == frags, f"  {what}: NOTIFY sipfrags {got} == {frags}")
    ctypes = [(header(m, "Content-Type") or "").split(";")[0].strip().lower() for m in notifies]
    check(ctypes and all(c == "message/sipfrag" for c in ctypes), f"  {what}: every NOTIFY is message/sipfrag {ctypes}")
    events = [re.sub(r"\s", "", header(m, "Event") or header(m, "o") or "") for m in notifies]
    check(all(e == f"refer;id={refer_cseq}" for e in events), f"  {what}: Event refer;id={refer_cseq} {events}")
    states = [(header(m, "Subscription-State") or "").split(";")[0].strip() for m in notifies]
    want = ["active"] * (len(frags) - 1) + ["terminated"]
    check(states == want, f"  {what}: Subscription-State {states} == {want}")


def refer_cseq(s, run):
    refers = s.h.messages(run, received=False, method="REFER")
    check(len(refers) == 1, f"  the transferor sent one REFER ({len(refers)})")
    return cseq_of(refers[0])[0]


def offered_ports(messages):
    """The audio ports of the SDPs in `messages`, in order."""
    return [media_of(m)[1] for m in messages if "\nm=audio" in m]


def check_target_invite(s, run, presented, transferor_had):
    """11's INVITE: sendrecv (the transferor's hold is not passed on), the relay's port of the
    transferor's side (the one the transferor's phone was given: the other side's port belongs
    to the other party, and the relay drops what comes there from anyone else), the
    transferred party's number presented."""
    invites = received(s, run, "INVITE")
    check(len(invites) == 1, f"  target rung once ({len(invites)} INVITEs)")
    addr, port, direction = media_of(invites[0])
    check(direction == "sendrecv" and not re.search(r"^a=(sendonly|recvonly|inactive)", invites[0], re.M),
          f"  target offered sendrecv ({direction})")
    check(s.points_at_relay(invites[0]), f"  target's offer points at the relay ({addr}:{port})")
    check(transferor_had and port == transferor_had[-1],
          f"  target's offer names the relay port the transferor had ({port}; the transferor's: {transferor_had[-1:]})")
    check(presented in (header(invites[0], "From") or ""),
          f"  target sees the transferred party {presented} as caller ({header(invites[0], 'From')})")


def check_provider_reinvite(s, run, before, initial_received):
    """The provider's last re-INVITE (the one after the transfer; `before` came earlier):
    sendrecv, the relay's address, the o= session of the SDP it had with a higher version
    (RFC 3264 8), nothing of 11's. initial_received: the provider took the call's first INVITE
    (an outbound call) rather than sending it."""
    invites = received(s, run, "INVITE")[1 if initial_received else 0:]
    check(len(invites) == before + 1, f"  the provider got {before + 1} re-INVITE(s) ({len(invites)})")
    last = invites[-1]
    addr, port, direction = media_of(last)
    check(direction == "sendrecv", f"  the provider's re-INVITE after the transfer is sendrecv ({direction})")
    check(s.points_at_relay(last), f"  the provider's re-INVITE offers the relay ({addr}:{port})")
    check(f" {s.target_rtp} " not in last and f" {s.ten_rtp} " not in last,
          "  the provider's re-INVITE names no LAN phone's audio port")
    with_sdp = [m for m in received(s, run) if "\nm=audio" in m]
    earlier = with_sdp[:with_sdp.index(last)]
    session, version = origin_of(last)
    prev_session, prev_version = origin_of(earlier[-1]) if earlier else (None, None)
    changed = body(last).strip() != body(earlier[-1]).strip() if earlier else True
    check(session is not None and session == prev_session and
          (version > prev_version if changed else version == prev_version),
          f"  the provider's re-INVITE keeps the o= session {session} ({prev_session}), version {version} after "
          f"{prev_version}: higher when the SDP changed ({changed}), the same otherwise (RFC 3264 8)")
    return last


def check_audio_after_transfer(s, far, near, what, window=1.5):
    """The provider's RtpPeer and the LAN phone's (`near`) hear each other through the relay:
    within `window`, each gets at least 60 % of the other's packets, told by their SSRC."""
    f0, n0 = far.count(near.ssrc), near.count(far.ssrc)
    time.sleep(window)
    f1, n1 = far.count(near.ssrc), near.count(far.ssrc)
    want = int(window / 0.02 * 0.6)
    check(f1 - f0 >= want and n1 - n0 >= want,
          f"  {what}: audio both ways in {window} s (the provider got {f1 - f0} of the phone's packets, the "
          f"phone {n1 - n0} of the provider's; {want} at least)")


def no_lan_at_provider(s, phone_runs, provider_run):
    """Topology hiding: the provider sees no Call-ID, port, header or method of the LAN."""
    to_provider = "\n".join(s.h.messages(provider_run))
    leaks = ["phone-leg-", "TestPhone", "X-Phone-Secret", "test.arpa", "REFER", "Refer-To", "Referred-By",
             "sipfrag", f":{s.lan_port}", f" {s.target_rtp} ", f" {s.ten_rtp} "]
    for run in phone_runs:
        for m in s.h.messages(run) + s.h.messages(run, received=False):
            cid = header(m, "Call-ID") or header(m, "i")
            if cid and cid not in leaks:
                leaks.append(cid)
    for ext, port in s.phones.items():
        leaks.append(f":{port}")
    found = [leak for leak in leaks if leak in to_provider]
    check(not found, f"  the provider sees nothing of the LAN (checked {len(leaks)} strings; found {found})")


def check_record(s, what, direction, remote, by, notes_have, notes_lack=()):
    row = s.record(what)
    got = (row[0], row[1], row[2], row[3], row[4], row[5])
    want = (direction, "10", "provider", remote, 200, by)
    check(got == want, f"  {what}: record {got} == {want}")
    check(row[6] > 0, f"  {what}: answer time set ({row[6]})")
    notes = row[8].split()
    for n in notes_have:
        check(n in notes, f"  {what}: notes have {n} ('{row[8]}')")
    for n in notes_lack:
        check(not any(x.startswith(n) for x in notes), f"  {what}: notes have no {n} ('{row[8]}')")
    stats = json.loads(row[7]) if row[7] else None
    check(stats and all(stats[k]["packets"] > 0 and stats[k]["packets_sent"] > 0 for k in ("a", "b")),
          f"  {what}: relay counters both ways in the record ({stats})")
    return row


def transfer_held_call(s, refer_to, target_run, start_target):
    """What a blind transfer of the provider's call looks like up to the end: the provider calls
    the DID, 10 answers, holds and REFERs to `refer_to`; `start_target()` starts the target's
    sipp run `target_run`, which answers; the provider takes the re-INVITE after the transfer and
    hears the target both ways; every run ends well; 10 got NOTIFYs 100, 180, 200."""
    h = s.h
    answer, d = answer_call(sc.SDP)
    xml10 = (answer + '<pause milliseconds="600"/>\n' + d.reinvite(1, "sendonly", 2353687638) +
             '<pause milliseconds="300"/>\n' + refer(d, 2, refer_to) + take_notifies("n") + take_bye())
    p10 = s.phone("phone10", wrap("transferor", xml10), "10")
    target_p = start_target()
    time.sleep(0.3)
    during = (take_reinvite(1, "sendonly", sdp_at(s.far_rtp, "recvonly", 2353687638)) +
              take_reinvite(2, "sendrecv", sdp_at(s.far_rtp, "sendrecv", 2353687639)))
    far = s.rtp_peer(s.far_rtp, SSRC_FAR, "provider")
    target = s.rtp_peer(s.target_rtp, SSRC_TARGET, target_run)
    provider = s.provider("provider", provider_calls(s.far_rtp, during, hold_ms=3500), calling=True)
    wait_for(s, f"  {target_run} answered the transfer", lambda: answered_invite(s, target_run), timeout=15)
    wait_for(s, "  the provider took the re-INVITE after the transfer",
             lambda: invites_answered(s, "provider") == 2, timeout=10)
    check_audio_after_transfer(s, far, target, f"provider and {target_run} after the transfer")
    h.finish(provider, "  provider: call, hold, re-INVITE after the transfer, BYE")
    h.finish(p10, "  phone 10: answer, hold, REFER, 202, NOTIFYs, BYE from b2bua")
    h.finish(target_p, f"  {target_run}: rung, answered, BYE when the provider hung up")
    check_notifies(s, "phone10", refer_cseq(s, "phone10"),
                   ["SIP/2.0 100 Trying", "SIP/2.0 180 Ringing", "SIP/2.0 200 OK"], "transferor")


# --- flows -----------------------------------------------------------------------------------------

def transfer_inbound(binary):
    """The provider calls the DID, 10 answers, holds and REFERs to 11; 11 answers and takes
    10's place; the provider hangs up and 11 gets the BYE."""
    with running("calls-transfer-in", binary, Setup) as s:
        h = s.h
        transfer_held_call(s, f"<sip:11@{s.lan}>", "phone11",
                           lambda: s.phone("phone11", target_phone(s.target_rtp), "11"))
        check(len(received(s, "phone10", "BYE")) == 1, "  the transferor got BYE after the final NOTIFY")
        check_target_invite(s, "phone11", FAR, offered_ports(received(s, "phone10")))
        check_provider_reinvite(s, "provider", 1, False)
        check(len(received(s, "phone11", "BYE")) == 1, "  11 got the BYE when the provider hung up")
        no_lan_at_provider(s, ["phone10", "phone11"], "provider")
        check_record(s, "transferred inbound call", "inbound", FAR, "caller", ["transferred=10>11"])
        s.daemon.wait_log(r"event=transfer_answered call=\d+ to=11", timeout=1)


def transfer_outbound(binary):
    """10 calls out through the provider and REFERs to 11 without holding first; 11 answers
    and takes 10's place as the caller's side; the provider hangs up."""
    with running("calls-transfer-out", binary, Setup) as s:
        h = s.h

        def during(d, cseq):
            return ('<pause milliseconds="800"/>\n' + refer(d, cseq, f"<sip:11@{s.lan}>") + take_notifies("n"),
                    cseq + 1)

        far = s.rtp_peer(s.far_rtp, SSRC_FAR, "provider")
        target = s.rtp_peer(s.target_rtp, SSRC_TARGET, "phone11")
        provider = s.provider("provider", provider_answers(
            s.far_rtp, take_reinvite(1, "sendrecv", sdp_at(s.far_rtp, "sendrecv", 2353687638)), hangup_ms=3500),
            calling=False)
        p11 = s.phone("phone11", target_phone(s.target_rtp), "11")
        time.sleep(0.3)
        p10 = s.phone("phone10", sc.phone_call("10", "pw-ten", DIALLED, during_factory=during, hangup="callee"),
                      extra=PHONE_CID)
        wait_for(s, "  11 answered the transfer", lambda: answered_invite(s, "phone11"), timeout=15)
        check_target_invite(s, "phone11", DIALLED, offered_ports(received(s, "phone10")))
        wait_for(s, "  the provider took the re-INVITE after the transfer",
                 lambda: invites_answered(s, "provider") == 2, timeout=10)
        check_audio_after_transfer(s, far, target, "after the transfer")
        h.finish(provider, "  provider: answered, re-INVITE after the transfer, hung up")
        h.finish(p10, "  phone 10: call out, REFER, 202, NOTIFYs, BYE from b2bua")
        h.finish(p11, "  phone 11: rung, answered, BYE when the provider hung up")
        check_notifies(s, "phone10", refer_cseq(s, "phone10"),
                       ["SIP/2.0 100 Trying", "SIP/2.0 180 Ringing", "SIP/2.0 200 OK"], "transferor")
        check(len(received(s, "phone10", "BYE")) == 1, "  the transferor got BYE after the final NOTIFY")
        check_provider_reinvite(s, "provider", 0, True)
        check(len(received(s, "phone11", "BYE")) == 1, "  11 got the BYE when the provider hung up")
        no_lan_at_provider(s, ["phone10", "phone11"], "provider")
        check_record(s, "transferred outbound call", "outbound", DIALLED, "callee", ["transferred=10>11"])


def transfer_early_hangup(binary):
    """10 REFERs and hangs up right after the 202: 11 rings only after that, answers, and the
    provider's call goes on with 11."""
    with running("calls-transfer-early", binary, Setup) as s:
        h = s.h
        p10 = refer_and_hang_up(s)
        # 11 rings a second after the INVITE, answers 0.6 s later: 10 is long gone.
        p11 = s.phone("phone11", target_phone(s.target_rtp, first_ms=1000), "11")
        time.sleep(0.3)
        far = s.rtp_peer(s.far_rtp, SSRC_FAR, "provider")
        target = s.rtp_peer(s.target_rtp, SSRC_TARGET, "phone11")
        provider = s.provider("provider", provider_calls(
            s.far_rtp, take_reinvite(1, "sendrecv", sdp_at(s.far_rtp, "sendrecv", 2353687638)), hold_ms=3000),
            calling=True)
        h.finish(p10, "  phone 10: answer, REFER, 202, BYE at once", timeout=15)
        wait_for(s, "  11 answered the transfer", lambda: answered_invite(s, "phone11"), timeout=15)
        bye_ok = [m.time for m in sipp_trace(h.sipp_messages("phone10")) if m.received and
                  first_line(m.text).startswith("SIP/2.0 200") and cseq_of(m.text)[1] == "BYE"]
        answered = [m.time for m in sipp_trace(h.sipp_messages("phone11")) if not m.received and
                    first_line(m.text).startswith("SIP/2.0 200")]
        check(bye_ok and answered and answered[0] > bye_ok[0],
              f"  11 answered after 10 had hung up (BYE answered at {bye_ok}, 11's 200 at {answered})")
        wait_for(s, "  the provider took the re-INVITE after the transfer",
                 lambda: invites_answered(s, "provider") == 1, timeout=10)
        check(not received(s, "provider", "BYE") and provider.running(),
              "  the provider's call stayed up when the transferor hung up")
        check_audio_after_transfer(s, far, target, "after the transfer")
        h.finish(provider, "  provider: call, re-INVITE after the transfer, BYE")
        h.finish(p11, "  phone 11: rung, answered, BYE when the provider hung up")
        notifies = [body(m).strip() for m in received(s, "phone10", "NOTIFY")]
        check(notifies == ["SIP/2.0 100 Trying"], f"  the transferor heard 100 Trying and nothing after its BYE {notifies}")
        check(not received(s, "phone10", "BYE"), "  no BYE to the transferor that already hung up")
        check_target_invite(s, "phone11", FAR, offered_ports(received(s, "phone10")))
        check_provider_reinvite(s, "provider", 0, False)
        no_lan_at_provider(s, ["phone10", "phone11"], "provider")
        check_record(s, "transferred, transferor gone", "inbound", FAR, "caller", ["transferred=10>11"], ["recall"])


def ringing_target_cancelled():
    """A transfer target that rings until it is cancelled: 487 to the INVITE, then the ACK."""
    return wrap("target_cancelled", '<recv request="INVITE" crlf="true"/>\n' +
                send(reply("180 Ringing", to_tag=";tag=[pid]uas"), retrans=False) +
                '<recv request="CANCEL"/>\n' + send(reply("200 OK"), retrans=False) +
                send("SIP/2.0 487 Request Terminated\n[last_Via:]\n[last_From:]\n[last_To:];tag=[pid]uas\n"
                     "[last_Call-ID:]\nCSeq: [$invite_cseq] INVITE\nContent-Length: 0\n\n", retrans=False) +
                '<recv request="ACK"/>\n').replace(
        '<recv request="INVITE" crlf="true"/>',
        '<recv request="INVITE" crlf="true">\n  <action><ereg regexp="([0-9]+) INVITE" search_in="hdr" '
        'header="CSeq:" assign_to="cseq_line,invite_cseq"/></action>\n</recv>\n'
        '<nop hide="true"><action><log message="[$cseq_line]"/></action></nop>', 1)


def transfer_caller_hangs_up_while_target_rings(binary):
    """10 REFERs to 11 and hangs up at once; while 11 rings, the provider hangs up: 11 is
    cancelled, and 10 is not rung again for a call that is over (no recall)."""
    with running("calls-transfer-caller-gone", binary, Setup) as s:
        h = s.h
        p10 = refer_and_hang_up(s)
        p11 = s.phone("phone11", ringing_target_cancelled(), "11")
        time.sleep(0.3)
        provider = s.provider("provider", provider_calls(s.far_rtp, "", hold_ms=2500), calling=True)
        h.finish(p10, "  phone 10: answer, REFER, 202, BYE at once", timeout=15)
        h.finish(provider, "  provider: call, hung up while 11 rang")
        h.finish(p11, "  phone 11: rang, cancelled, 487")
        s.daemon.wait_log(r"event=call_ended call=\d+ ", timeout=5)
        time.sleep(1.0)
        invites10 = received(s, "phone10", "INVITE")
        check(len(invites10) == 1, f"  10 was not rung again for the ended call ({len(invites10)} INVITEs)")
        check("event=transfer_recall" not in s.daemon.output(), "  no recall logged")
        row = s.record("caller gone during the transfer")
        check("recall" not in row[8] and "transferred=10>11" in row[8].split(), f"  the record ('{row[8]}')")


def transfer_target_busy(binary):
    """11 answers 486: 10 hears it in the final NOTIFY, keeps the call, resumes it (bridged to
    the provider, audio both ways) and hangs up."""
    with running("calls-transfer-busy", binary, Setup) as s:
        h = s.h
        # Phone 10's audio comes from an RtpPeer here: after the failed transfer the provider and
        # 10 must hear each other again.
        answer, d = answer_call(sdp_at(s.ten_rtp), play=False)
        xml10 = (answer + '<pause milliseconds="600"/>\n' +
                 d.reinvite(1, "sendonly", 2353687638).replace("[media_port]", str(s.ten_rtp)) +
                 '<pause milliseconds="300"/>\n' + refer(d, 2, f"<sip:11@{s.lan}>") + take_notifies("n") +
                 '<pause milliseconds="300"/>\n' +
                 d.reinvite(3, "sendrecv", 2353687639).replace("[media_port]", str(s.ten_rtp)) +
                 '<pause milliseconds="1800"/>\n' + d.bye(4))
        p10 = s.phone("phone10", wrap("transferor", xml10), "10")
        p11 = s.phone("phone11", target_phone(status="486 Busy Here"), "11")
        time.sleep(0.3)
        during = (take_reinvite(1, "sendonly", sdp_at(s.far_rtp, "recvonly", 2353687638)) +
                  take_reinvite(2, "sendrecv", sdp_at(s.far_rtp, "sendrecv", 2353687639)) + take_bye())
        far = s.rtp_peer(s.far_rtp, SSRC_FAR, "provider")
        ten = s.rtp_peer(s.ten_rtp, SSRC_TEN, "phone10")
        provider = s.provider("provider", provider_calls_until(s.far_rtp, during), calling=True)
        wait_for(s, "  10 resumed the call after the failed transfer",
                 lambda: invites_answered(s, "provider") == 2, timeout=15)
        time.sleep(0.3)
        check_audio_after_transfer(s, far, ten, "provider and 10 after the failed transfer", window=1.0)
        h.finish(p11, "  phone 11: rung, answered 486")
        h.finish(p10, "  phone 10: answer, hold, REFER, NOTIFYs to the 486, resume, BYE")
        h.finish(provider, "  provider: call, hold, resume, BYE")
        check_notifies(s, "phone10", refer_cseq(s, "phone10"),
                       ["SIP/2.0 100 Trying", "SIP/2.0 180 Ringing", "SIP/2.0 486 Busy Here"], "transferor")
        check(not received(s, "phone10", "BYE"), "  no BYE from b2bua to the transferor")
        dirs = [media_of(m)[2] for m in received(s, "provider", "INVITE")]
        check(dirs == ["sendonly", "sendrecv"], f"  the provider got 10's hold and resume, nothing else {dirs}")
        no_lan_at_provider(s, ["phone10", "phone11"], "provider")
        row = s.record("failed transfer")
        check(tuple(row[:6]) == ("inbound", "10", "provider", FAR, 200, "callee"),
              f"  failed transfer: record {tuple(row[:6])}")
        check("transferred=10>11" in row[8].split() and "recall" not in row[8],
              f"  failed transfer: the attempt is noted ('{row[8]}')")


def transfer_recall(binary):
    """10 REFERs and hangs up, 11 is busy: 10 rings again with the call (once), answers, and
    the provider gets a re-INVITE for it."""
    with running("calls-transfer-recall", binary, Setup) as s:
        h = s.h
        p10 = refer_and_hang_up(s)
        p11 = s.phone("phone11", target_phone(status="486 Busy Here", first_ms=1000, ring_ms=300), "11")
        time.sleep(0.3)
        far = s.rtp_peer(s.far_rtp, SSRC_FAR, "provider")
        provider = s.provider("provider", provider_calls(
            s.far_rtp, take_reinvite(1, "sendrecv", sdp_at(s.far_rtp, "sendrecv", 2353687638)), hold_ms=2500),
            calling=True)
        h.finish(p10, "  phone 10: answer, REFER, 202, BYE at once", timeout=15)
        # The same phone takes the recall on the same port once its first run has ended.
        ten = s.rtp_peer(s.ten_rtp, SSRC_TEN, "recall10")
        recall = s.phone("recall10", target_phone(s.ten_rtp, ring_ms=300), "10")
        h.finish(p11, "  phone 11: rung, busy")
        wait_for(s, "  10 answered the recall", lambda: answered_invite(s, "recall10"), timeout=10)
        wait_for(s, "  the provider took the re-INVITE after the recall",
                 lambda: invites_answered(s, "provider") == 1, timeout=10)
        check_audio_after_transfer(s, far, ten, "provider and 10 after the recall", window=1.0)
        h.finish(provider, "  provider: call, re-INVITE after the recall, BYE")
        h.finish(recall, "  phone 10: recalled, answered, BYE when the provider hung up")
        check_target_invite(s, "recall10", FAR, offered_ports(received(s, "phone10")))
        check_provider_reinvite(s, "provider", 0, False)
        s.daemon.wait_log(r"event=transfer_recall call=\d+ ext=10", timeout=1)
        no_lan_at_provider(s, ["phone10", "phone11", "recall10"], "provider")
        check_record(s, "recalled", "inbound", FAR, "caller", ["transferred=10>11", "recall=10"])


def transfer_refused(binary):
    """REFERs b2bua refuses with a final answer (no 202, no NOTIFY): from the provider (405:
    REFER is not allowed on the WAN), to an outside number a deny rule refuses or a number with
    no route (403 each), with a Replaces naming no call of ours (403), without Refer-To (400),
    to a name (488, not 404, which would end the dialog). The call
    goes on untouched to the provider's BYE, and 11 never rings."""
    with running("calls-transfer-refused", binary, Setup) as s:
        h = s.h
        lan = s.lan
        answer, d = answer_call(sc.SDP)
        replaces = "abc%40host%3Bto-tag%3D1%3Bfrom-tag%3D2"
        cases = [("09001234 (outside, a deny rule)", f"<sip:09001234@{lan}>", "403"),
                 ("11 with Replaces naming no call of ours", f"<sip:11@{lan}?Replaces={replaces}>", "403"),
                 ("99 (dialable, no extension, no route)", f"<sip:99@{lan}>", "403"),
                 ("nothing (no Refer-To)", None, "400"),
                 ("alice (no number)", f"<sip:alice@{lan}>", "488")]
        xml10 = answer + '<pause milliseconds="800"/>\n'
        for n, (_, to, status) in enumerate(cases, start=1):
            xml10 += refer(d, n, to, expect=status)
        xml10 += take_bye()
        p10 = s.phone("phone10", wrap("transferor", xml10), "10")
        p11 = s.phone("phone11", target_phone(s.target_rtp), "11")
        time.sleep(0.3)
        dp = sc.provider_dialog(DID)
        invite = dp.request("INVITE", 1, sdp_body(sc.SDP), initial=True)
        provider_refer = dp.request("REFER", 2, headers=f"Refer-To: <sip:11@127.0.0.1:{s.wan_port}>\n"
                                    f"Referred-By: <sip:{FAR}@[local_ip]>\n")
        provider = s.provider("provider", wrap("provider_calls", send(invite) +
                                               '<recv response="100" optional="true"/>\n'
                                               '<recv response="180" optional="true"/>\n'
                                               '<recv response="200"/>\n' +
                                               send(dp.request("ACK", 1), retrans=False) +
                                               f'<nop><action><exec play_pcap_audio="{sc.PCAP}"/></action></nop>\n'
                                               '<pause milliseconds="300"/>\n' +
                                               send(provider_refer) + '<recv response="405"/>\n'
                                               '<pause milliseconds="2500"/>\n' + dp.bye(3)),
                              calling=True)

        def refer_answers():
            return [first_line(m) for m in received(s, "phone10")
                    if first_line(m).startswith("SIP/2.0") and cseq_of(m)[1] == "REFER"]

        wait_for(s, "  phone 10's REFERs all answered", lambda: len(refer_answers()) == len(cases))
        for (what, _, status), got in zip(cases, refer_answers()):
            check(got.startswith(f"SIP/2.0 {status} "), f"  REFER to {what}: {got}")
        refused = [m for m in received(s, "provider") if cseq_of(m)[1] == "REFER"]
        allow = (header(refused[0], "Allow") or "") if refused else ""
        check(refused and first_line(refused[0]).startswith("SIP/2.0 405 ") and "REFER" not in allow.upper(),
              f"  the provider's REFER: {first_line(refused[0]) if refused else None}, Allow without REFER ({allow})")
        time.sleep(0.5)
        ended = re.search(r"event=call_ended .*", s.daemon.output())
        check(not received(s, "provider", "BYE") and not ended,
              "  the call goes on after the refused REFERs (the provider got no BYE from b2bua)",
              ended.group(0) if ended else "")
        h.finish(provider, "  provider: call, REFER refused with 405, BYE")
        h.finish(p10, "  phone 10: every REFER answered with its refusal, the call went on to the BYE")
        check(not received(s, "phone10", "NOTIFY"), "  no NOTIFY for a refused REFER")
        check(p11.running() and not received(s, "phone11"), "  11 never rang")
        p11.stop()
        log = s.daemon.output()
        check("event=transfer_started" not in log, "  no transfer started")
        refusals = re.findall(r"event=transfer_refused call=\d+ ext=10 status=(\d+)", log)
        check(refusals == ["403", "403", "403", "400", "488"], f"  each refusal logged {refusals}")
        check(re.search(r"event=transfer_refused call=\d+ ext=10 status=403 reason=\"deny rule\"", log) and
              re.search(r"event=transfer_refused call=\d+ ext=10 status=403 reason=\"no outbound route\"", log),
              "  the outside refusals say why (deny rule, no outbound route)")
        row = s.record("refused transfers")
        check(tuple(row[:6]) == ("inbound", "10", "provider", FAR, 200, "caller") and "transferred" not in row[8],
              f"  the call's record shows no transfer {tuple(row[:6])} '{row[8]}'")


def carrier_answers(rtp_port):
    """The second trunk's switch takes the call to the outside target, rings, answers with its
    audio on the RtpPeer at `rtp_port` and waits for the BYE."""
    xml = ('<recv request="INVITE" crlf="true"/>\n' +
           send(reply("100 Trying"), retrans=False) +
           send(reply("180 Ringing", to_tag=";tag=[pid]uas"), retrans=False) +
           '<pause milliseconds="500"/>\n' +
           send(reply("200 OK", sdp_body(sdp_at(rtp_port)), ";tag=[pid]uas")) +
           '<recv request="ACK" crlf="true"/>\n' + take_bye())
    return wrap("carrier", xml)


def transfer_outside(binary):
    """The provider calls the DID, 10 answers, holds and REFERs to an outside number that the
    second trunk (the carrier) takes; the carrier answers and takes 10's place."""
    with running("calls-transfer-outside", binary, Setup) as s:
        transfer_held_call(s, f"<sip:{OUTSIDE}@{s.lan}>", "carrier",
                           lambda: s.start("carrier", carrier_answers(s.target_rtp), s.wan, s.carrier_port))
        invites = received(s, "carrier", "INVITE")
        check(len(invites) == 1, f"  the carrier got one INVITE ({len(invites)})")
        inv = invites[0]
        check(first_line(inv).startswith(f"INVITE sip:{OUTSIDE}@127.0.0.1"), f"  to the number: {first_line(inv)}")
        check(f"sip:{CARRIER_USER}@" in (header(inv, "From") or "") and FAR not in (header(inv, "From") or ""),
              f"  from our identity on that trunk (forward_caller_id: trunk) ({header(inv, 'From')})")
        addr, port, direction = media_of(inv)
        ten_had = offered_ports(received(s, "phone10"))
        check(direction == "sendrecv" and s.points_at_relay(inv) and port not in ten_had,
              f"  offered sendrecv on a relay port of its own ({addr}:{port} {direction}; 10 had {ten_had})")
        last = check_provider_reinvite(s, "provider", 1, False)
        to_provider = received(s, "provider")
        provider_had = offered_ports(to_provider[:to_provider.index(last)])
        check(media_of(last)[1] not in provider_had,
              f"  the provider was moved to the new sessions ({media_of(last)[1]}; before {provider_had})")
        no_lan_at_provider(s, ["phone10"], "provider")
        no_lan_at_provider(s, ["phone10"], "carrier")
        row = s.record("transferred to an outside number")
        check(tuple(row[:6]) == ("inbound", "10", "provider", FAR, 200, "caller"),
              f"  the record keeps the provider's call {tuple(row[:6])}")
        check(f"transferred=10>{OUTSIDE}" in row[8].split(), f"  notes transferred=10>{OUTSIDE} ('{row[8]}')")
        check(s.daemon.find_log(rf"event=transfer_outside call=\d+ from=10 to={OUTSIDE} trunk=carrier", timeout=1),
              "  the outside transfer logged with its trunk")


def transfer_outside_refused_reinvite(binary):
    """After a transfer to an outside number the provider refuses the re-INVITE that moves it to
    the new relay ports: the call ends on both sides instead of going on without audio."""
    with running("calls-transfer-outside-refused", binary, Setup) as s:
        h = s.h
        answer, d = answer_call(sc.SDP)
        xml10 = (answer + '<pause milliseconds="600"/>\n' + d.reinvite(1, "sendonly", 2353687638) +
                 '<pause milliseconds="300"/>\n' + refer(d, 2, f"<sip:{OUTSIDE}@{s.lan}>") + take_notifies("n") +
                 take_bye())
        p10 = s.phone("phone10", wrap("transferor", xml10), "10")
        carrier = s.start("carrier", carrier_answers(s.target_rtp), s.wan, s.carrier_port)
        time.sleep(0.3)
        refuse = ('<recv request="INVITE"/>\n' + send(reply("488 Not Acceptable Here"), retrans=False) +
                  '<recv request="ACK"/>\n' + take_bye())
        during = take_reinvite(1, "sendonly", sdp_at(s.far_rtp, "recvonly", 2353687638)) + refuse
        provider = s.provider("provider", provider_calls_until(s.far_rtp, during), calling=True)
        h.finish(provider, "  provider: call, hold, refused the re-INVITE after the transfer, got BYE")
        h.finish(carrier, "  carrier: answered the transfer, got BYE")
        h.finish(p10, "  phone 10: REFER, NOTIFYs, BYE")
        check(s.daemon.find_log(r"level=warn component=calls event=moved_reinvite_refused call=\d+ status=488",
                                timeout=1), "  the refusal logged")
        row = s.record("refused move")
        check(row[5] == "system" and f"transferred=10>{OUTSIDE}" in row[8].split(),
              f"  the record: ended by the system, transferred noted ({row[5]}, '{row[8]}')")


class Baresip:
    """baresip (Debian's baresip-core) as a registered phone: auto-answer, audio from a WAV file
    (aufile) and to nowhere, commands through ctrl_tcp (netstring JSON, as its UIs send them)."""

    def __init__(self, s, ext, password):
        h = s.h
        self.h = h
        self.sip_port = h.port(2)[0]  # its TLS transport takes the port above its SIP port
        self.ctrl_port = h.port()
        rtp = h.ports.span(10)
        directory = h.path("baresip")
        os.makedirs(directory, exist_ok=True)
        wav = os.path.join(directory, "tone.wav")
        write_tone(wav, seconds=30)
        with open(os.path.join(directory, "config"), "w") as f:
            # net_interface: its SDP names 127.0.0.1, where it sends from (else the address of
            # the default interface).
            f.write(f"poll_method epoll\nnet_interface 127.0.0.1\nsip_listen 127.0.0.1:{self.sip_port}\n"
                    f"rtp_ports {rtp[0]}-{rtp[1]}\n"
                    "module_path /usr/lib/baresip/modules\nmodule g711.so\nmodule aufile.so\nmodule aubridge.so\n"
                    f"audio_source aufile,{wav}\naudio_player aubridge,nowhere\naudio_alert aubridge,nowhere\n"
                    "module_app account.so\nmodule_app menu.so\nmodule_app ctrl_tcp.so\n"
                    f"ctrl_tcp_listen 127.0.0.1:{self.ctrl_port}\n")
        with open(os.path.join(directory, "accounts"), "w") as f:
            f.write(f"<sip:{ext}@{s.lan};transport=udp>;auth_pass={password};answermode=auto;regint=300;"
                    "audio_codecs=PCMA\n")
        # -s: its SIP trace in the log; -v: its stream lines (RTP established, from where)
        self.proc = h.spawn(["baresip", "-f", directory, "-s", "-v"], "baresip")
        s.daemon.wait_log(rf"event=binding_added ext={ext} contact=127.0.0.1:{self.sip_port} ", timeout=10)

    def messages(self, received=True):
        """The SIP messages of its trace (-s) it received (or sent), in order."""
        out = []
        parts = re.split(r"^UDP (\S+) -> (\S+)\s*$", self.proc.output(), flags=re.M)
        for source, dest, text in zip(parts[1::3], parts[2::3], parts[3::3]):
            # A message ends where the trace resets its colour.
            text = text.split("\x1b[;m", 1)[0].replace("\r\n", "\n").strip("\n")
            if dest.endswith(f":{self.sip_port}") == received:
                out.append(text)
        return out

    def command(self, command, params=""):
        """Sends one command; returns baresip's answer (a dict) or None."""
        data = json.dumps({"command": command, "params": params, "token": "t"}).encode()
        with socket.create_connection(("127.0.0.1", self.ctrl_port), timeout=5) as c:
            c.sendall(str(len(data)).encode() + b":" + data + b",")
            buf = b""
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline:
                try:
                    chunk = c.recv(4096)
                except socket.timeout:
                    break
                if not chunk:
                    break
                buf += chunk
                m = re.match(rb"(\d+):", buf)
                if m and len(buf) >= m.end() + int(m.group(1)) + 1:
                    body = buf[m.end():m.end() + int(m.group(1))]
                    answer = json.loads(body)
                    if answer.get("response"):
                        return answer
                    buf = buf[m.end() + int(m.group(1)) + 1:]
        return None


def write_tone(path, seconds):
    """A 8 kHz mono 16-bit WAV of a 440 Hz tone."""
    import math
    import wave
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / 8000)))
                               for i in range(8000 * seconds)))


def baresip_transfers(binary, name, target, target_run, start_target, check_target=None):
    """A real phone as the transferor: baresip answers the provider's call as 10 and transfers
    it to `target` with its transfer command; the target (sipp run `target_run`, started by
    `start_target(s)`) answers and takes over; `check_target(s, phone)` checks what it got."""
    with running(name, binary, Setup, register=("11",)) as s:
        h = s.h
        phone = Baresip(s, "10", PASSWORDS["10"])
        p_target = start_target(s)
        far = s.rtp_peer(s.far_rtp, SSRC_FAR, "provider")
        heard = s.rtp_peer(s.target_rtp, SSRC_TARGET, target_run)
        provider = s.provider("provider", provider_calls(
            s.far_rtp, take_reinvite(1, "sendrecv", sdp_at(s.far_rtp, "sendrecv", 2353687638)), hold_ms=3500),
            calling=True)
        s.daemon.wait_log(r"event=answered call=\d+ extension=10 ", timeout=10)
        phone.proc.wait_log(r"Call established", timeout=5)
        time.sleep(0.5)
        answer = phone.command("transfer", f"sip:{target}@{s.lan}")
        check(answer is not None and answer.get("ok") is not False, f"  baresip took the transfer command ({answer})")
        wait_for(s, f"  {target} answered the transfer", lambda: answered_invite(s, target_run), timeout=15)
        wait_for(s, "  the provider took the re-INVITE after the transfer",
                 lambda: invites_answered(s, "provider") >= 1, timeout=10)
        check_audio_after_transfer(s, far, heard, "after the transfer")
        h.finish(provider, "  provider: call, re-INVITE after the transfer, BYE")
        h.finish(p_target, f"  {target}: rung, answered, BYE when the provider hung up")
        s.daemon.wait_log(rf"event=transfer_answered call=\d+ to=", timeout=1)
        refers = [m for m in phone.messages(received=False) if first_line(m).startswith("REFER ")]
        check(len(refers) == 1 and re.search(rf"^Refer-To:\s*<?sip:{target}@{re.escape(s.lan)}>?\s*$", refers[0],
                                             re.M | re.I),
              f"  baresip sent one REFER to {target} ({[header(m, 'Refer-To') for m in refers]})")
        got = [m for m in phone.messages() if first_line(m).startswith("NOTIFY ")]
        frags = [body(m).strip() for m in got]
        check(frags == ["SIP/2.0 100 Trying", "SIP/2.0 180 Ringing", "SIP/2.0 200 OK"],
              f"  baresip got the NOTIFYs 100 Trying, 180 Ringing, 200 OK {frags}")
        cseq = cseq_of(refers[0])[0]
        events = [re.sub(r"\s", "", header(m, "Event") or "") for m in got]
        states = [(header(m, "Subscription-State") or "").split(";")[0] for m in got]
        check(all(e == f"refer;id={cseq}" for e in events) and states == ["active", "active", "terminated"],
              f"  NOTIFYs of Event refer;id={cseq} {events}, active until the last {states}")
        check(all(first_line(m).startswith("SIP/2.0 200") for m in phone.messages(received=False)
                  if cseq_of(m)[1] == "NOTIFY"), "  baresip answered each NOTIFY 200")
        check(any(first_line(m).startswith("BYE ") for m in phone.messages() + phone.messages(received=False)),
              "  baresip's dialog ended with a BYE after the transfer")
        no_lan_at_provider(s, [target_run] if target_run.startswith("phone") else [], "provider")
        check_record(s, "transferred by baresip", "inbound", FAR, "caller", [f"transferred=10>{target}"])
        if check_target:
            check_target(s, phone)


def transfer_baresip(binary):
    """baresip transfers the provider's call to 11 (sipp), which is offered the relay port
    baresip had."""
    baresip_transfers(binary, "calls-transfer-baresip", "11", "phone11",
                      lambda s: s.phone("phone11", target_phone(s.target_rtp), "11"),
                      lambda s, phone: check_target_invite(s, "phone11", FAR, offered_ports(phone.messages())))


def transfer_baresip_outside(binary):
    """baresip transfers the provider's call to an outside number: the carrier takes it, sees
    nothing of the LAN, and hears the provider."""
    def carrier_saw_nothing_of_lan(s, phone):
        no_lan_at_provider(s, [], "carrier")
        invite = received(s, "carrier", "INVITE")[0]
        check("baresip" not in invite.lower() and f"sip:{CARRIER_USER}@" in (header(invite, "From") or ""),
              f"  the carrier's INVITE: our identity, nothing of baresip ({header(invite, 'From')})")

    baresip_transfers(binary, "calls-transfer-baresip-outside", OUTSIDE, "carrier",
                      lambda s: s.start("carrier", carrier_answers(s.target_rtp), s.wan, s.carrier_port),
                      carrier_saw_nothing_of_lan)


FLOWS = {
    "transfer_blind_inbound_to_extension": transfer_inbound,
    "transfer_blind_outbound_to_extension": transfer_outbound,
    "transfer_transferor_hangs_up_early": transfer_early_hangup,
    "transfer_caller_hangs_up_while_target_rings": transfer_caller_hangs_up_while_target_rings,
    "transfer_target_busy_returns": transfer_target_busy,
    "transfer_recall_after_failure": transfer_recall,
    "transfer_refused_cases": transfer_refused,
    "transfer_blind_to_outside_number": transfer_outside,
    "transfer_outside_reinvite_refused": transfer_outside_refused_reinvite,
    "transfer_baresip_transferor": transfer_baresip,
    "transfer_baresip_to_outside_number": transfer_baresip_outside,
}

if __name__ == "__main__":
    run_flows(FLOWS)
