#!/usr/bin/env python3
"""Call events through b2bua with sipp on both sides (phones on the LAN agent, the provider on
the WAN agent as an IP-authenticated trunk): early media, the provider's challenge, CANCEL from
the caller, BYE from the callee, hold and resume both ways, the call limit and the emergency
exemption, no answer, nobody registered, an internal call, SIP INFO dtmf. Every flow checks
its call record. Ports 19300-19599 on 127.0.0.1."""
import hashlib
import json
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
sys.path.insert(0, HERE)
from harness import Harness, check, wait_until  # noqa: E402
import scenarios as sc  # noqa: E402
from test_calls import records, wait_exit, write  # noqa: E402

LAN, WAN, STATUS, PROVIDER = 19300, 19310, 19311, 19320
PHONE10, PHONE11 = 19330, 19332        # where the registered phones take calls
RELAY = (19400, 19499)                 # media.ports
PROVIDER_RTP = 19500                   # the provider's sipp media port
DID_HOLD, DID_NO_ANSWER, DID_NOBODY = "+4930111001", "+4930111002", "+4930111003"
DID_FALLBACK = "+4930111004"
FAR = "+4989111222"                    # who the provider's inbound calls come from
TRUNK_PASSWORD = "trunk-secret"
PHONE_CID = ["-cid_str", "phone-leg-%u-%p@%s"]
PROVIDER_CID = ["-cid_str", "provider-leg-%u-%p@%s"]


def config():
    return {
        "lan": {"listen": [f"udp:127.0.0.1:{LAN}"], "networks": ["127.0.0.0/8"], "realm": "test.arpa"},
        "wan": {"address": "127.0.0.1", "port": WAN},
        "registrar": {"qualify_interval": 0},
        "extensions": [
            {"number": "10", "password": "pw-ten"},
            {"number": "11", "password": "pw-eleven"},
            {"number": "13", "password": "pw-thirteen"},  # never registers
        ],
        "trunks": [{"name": "provider", "registrar": f"sip:127.0.0.1:{PROVIDER}", "username": sc.TRUNK_USER,
                    "password": TRUNK_PASSWORD, "register": False,
                    "numbers": [DID_HOLD, DID_NO_ANSWER, DID_NOBODY, DID_FALLBACK], "keepalive": {"method": "off"}}],
        "routing": {"inbound": [{"number": DID_HOLD, "ring": ["10"], "timeout": 20},
                                {"number": DID_NO_ANSWER, "ring": ["11"], "timeout": 5},
                                {"number": DID_NOBODY, "ring": ["13"], "timeout": 20},
                                {"number": DID_FALLBACK, "ring": ["11"], "timeout": 5, "fallback": "10"}],
                    "outbound": [{"prefix": "0", "trunk": "provider"}, {"prefix": "112", "trunk": "provider"}],
                    "emergency": ["112"]},
        "calls": {"max_concurrent": 1},
        "media": {"ports": list(RELAY), "timeout": 30},
        "status": {"listen": f"127.0.0.1:{STATUS}"},
    }


class Peers:
    """Starts sipp runs with their own SIP and RTP ports from this test's range."""

    def __init__(self, h):
        self.h = h
        self.next_rtp = PROVIDER_RTP + 4  # sipp binds the audio port and +2 for video

    def rtp(self):
        port, self.next_rtp = self.next_rtp, self.next_rtp + 4
        return port

    def start(self, name, xml, target, port, calls=1, extra=(), rtp=None, timeout=30):
        rtp = rtp or self.rtp()
        path = write(self.h, name, xml)
        argv = ["sipp", target, "-sf", path, "-i", "127.0.0.1", "-p", str(port), "-nostdin", "-m", str(calls),
                "-timeout", f"{timeout}s", "-timeout_error", "-trace_msg", "-message_file",
                self.h.path(f"{name}.messages"), "-trace_err", "-error_file", self.h.path(f"{name}.errors"),
                "-trace_logs", "-log_file", self.h.path(f"{name}.logs"), "-mp", str(rtp), *extra]
        return self.h.spawn(argv, name)

    def provider(self, name, xml, calls=1):
        """The provider's side of an outbound call, waiting on the trunk's address."""
        p = self.start(name, xml, f"127.0.0.1:{WAN}", PROVIDER, calls=calls, rtp=PROVIDER_RTP)
        time.sleep(0.3)
        return p

    def phone(self, name, xml, port, extra=PHONE_CID):
        return self.start(name, xml, f"127.0.0.1:{LAN}", port, extra=extra)

    def provider_calls(self, name, xml):
        return self.start(name, xml, f"127.0.0.1:{WAN}", PROVIDER, extra=PROVIDER_CID, rtp=PROVIDER_RTP)


def messages(h, name, received=True):
    """The SIP messages a sipp run received (or sent), from its -trace_msg file."""
    text = h.sipp_messages(name)
    out = []
    for chunk in re.split(r"^-{20,}.*$", text, flags=re.M):
        head, _, body = chunk.strip().partition("\n")
        if ("message received" in head) == received and body.strip():
            out.append(body.strip())
    return out


def first_line(msg):
    return msg.split("\n", 1)[0].strip()


def find(msgs, start):
    return [m for m in msgs if first_line(m).startswith(start)]


def media_of(msg):
    """(address, port, direction) of the first audio stream in a message's SDP."""
    c = re.search(r"^c=IN IP4 (\S+)", msg, re.M)
    m = re.search(r"^m=audio (\d+) ", msg, re.M)
    d = re.search(r"^a=(sendrecv|sendonly|recvonly|inactive)\s*$", msg, re.M)
    return (c.group(1) if c else None, int(m.group(1)) if m else None, d.group(1) if d else "sendrecv")


def points_at_relay(msg):
    addr, port, _ = media_of(msg)
    return addr == "127.0.0.1" and port is not None and RELAY[0] <= port <= RELAY[1]


def no_leaks(h, phone_runs, provider_runs):
    """Topology hiding: nothing of the LAN leg reaches the provider, and the reverse."""
    to_provider = "\n".join(m for n in provider_runs for m in messages(h, n))
    for leak in ("phone-leg-", "TestPhone", "X-Phone-Secret", "test.arpa"):
        check(leak not in to_provider, f"  provider never sees '{leak}' ({', '.join(provider_runs)})")
    to_phones = "\n".join(m for n in phone_runs for m in messages(h, n))
    for leak in ("provider-leg-", "ProviderSwitch", f":{PROVIDER}", f" {PROVIDER_RTP} ", "provider.test"):
        check(leak not in to_phones, f"  phones never see '{leak}' ({', '.join(phone_runs)})")


class Records:
    """Call records as they are written, one flow at a time."""

    def __init__(self, h):
        self.h = h
        self.count = 0

    def next(self, n=1):
        self.count += n
        return records(self.h, self.count)[-n:]

    def expect(self, what, row, direction, ext, trunk, remote, code, by, answered):
        got = tuple(row[:6])
        want = (direction, ext, trunk, remote, code, by)
        check(got == want, f"  {what}: record {got} == {want}")
        check((row[6] > 0) == answered, f"  {what}: answer time {'set' if answered else 'empty'} ({row[6]})")
        return json.loads(row[7]) if row[7] else None


def rtp_both_ways(what, stats):
    check(stats is not None, f"  {what}: relay counters in the record")
    a, b = stats["a"], stats["b"]
    check(a["packets"] > 0 and b["packets"] > 0 and a["packets_sent"] > 0 and b["packets_sent"] > 0,
          f"  {what}: RTP both ways (a {a['packets']} in/{a['packets_sent']} out, b {b['packets']} in/{b['packets_sent']} out)")


def outbound_call(h, peers, name, phone_xml, provider_xml, port):
    """Runs one outbound call to the end: provider first, then the phone."""
    provider = peers.provider(f"{name}_provider", provider_xml)
    phone = peers.phone(f"{name}_phone", phone_xml, port)
    wait_exit(phone, f"{name}: phone side as scripted")
    wait_exit(provider, f"{name}: provider side as scripted")


def early_media(h, peers, rec):
    print("== 1. early media: 183 with SDP through the relay", flush=True)
    # The provider plays a short burst (10 RTP packets) only before it answers and the phone
    # stays silent, so whatever the relay sent to the phone was early media.
    provider_xml = sc.provider_uas(early_media_ms=1500).replace(sc.PCAP, "/usr/share/sip-tester/dtmf_2833_1.pcap")
    outbound_call(h, peers, "early", sc.phone_call("10", "pw-ten", "0301001", early="required", play=False),
                  provider_xml, 19340)
    got = find(messages(h, "early_phone"), "SIP/2.0 183")
    check(len(got) == 1, "  phone received one 183")
    addr, port, _ = media_of(got[0])
    check(points_at_relay(got[0]) and port != PROVIDER_RTP,
          f"  183 SDP points at the relay (c={addr} port {port}), not at the provider's {PROVIDER_RTP}")
    sent = find(messages(h, "early_provider"), "INVITE ")
    check(sent and points_at_relay(sent[0]), "  provider's INVITE offers the relay")
    stats = rec.expect("early media", rec.next()[0], "outbound", "10", "provider", "0301001", 200, "caller", True)
    check(stats and stats["b"]["packets"] > 0 and stats["a"]["packets_sent"] > 0,
          f"  early media relayed to the phone before the answer (provider sent {stats and stats['b']['packets']}, "
          f"phone got {stats and stats['a']['packets_sent']})")
    no_leaks(h, ["early_phone"], ["early_provider"])


def provider_challenge(h, peers, rec):
    # "mixed": SHA-256 and MD5 in one 401, which sofia cannot answer: b2bua answers MD5 itself.
    for n, status, header in ((2, "407", "Proxy-Authorization:"), (3, "401", "Authorization:"),
                              (12, "mixed", "Authorization:")):
        print(f"== 2. the provider challenges the INVITE with {status}", flush=True)
        name = f"challenge{status}"
        outbound_call(h, peers, name, sc.phone_call("10", "pw-ten", f"03010{n:02d}"),
                      sc.provider_uas(challenge=status), 19340 + n)
        invites = find(messages(h, f"{name}_provider"), "INVITE ")
        check(len(invites) == 2 and not re.search(r"^(Proxy-)?Authorization:", invites[0], re.M | re.I),
              "  first INVITE without credentials, then one more")
        answer = re.search(rf"^{header} (Digest .*)$", invites[1], re.M)
        check(answer is not None and digest_ok(answer.group(1), "INVITE", sc.TRUNK_USER, TRUNK_PASSWORD),
              f"  second INVITE answers with {header} a valid digest for the trunk user and password")
        to_phone = messages(h, f"{name}_phone")
        check(not any("provider.test" in m for m in to_phone) and
              not find(to_phone, "SIP/2.0 401") and len(find(to_phone, "SIP/2.0 407")) == 1,
              "  the phone saw only b2bua's own 407, never the provider's challenge")
        if status == "mixed":
            check("algorithm=MD5" in answer.group(1) and re.search(r'nonce="\d+0ce401"', answer.group(1)),
                  "  answered the MD5 challenge of the two (its nonce, algorithm=MD5)")
        stats = rec.expect(f"challenge {status}", rec.next()[0], "outbound", "10", "provider", f"03010{n:02d}", 200,
                           "caller", True)
        rtp_both_ways(f"challenge {status}", stats)
        no_leaks(h, [f"{name}_phone"], [f"{name}_provider"])
        log = h.processes[0].output()
        check(TRUNK_PASSWORD not in log, "  trunk password not in the daemon's log")


def digest_ok(header, method, user, password):
    """RFC 2617 section 3.2.2 response check (MD5, with or without qop=auth)."""
    p = dict((k, v.strip('"')) for k, v in re.findall(r'(\w+)=("[^"]*"|[^,\s]+)', header))
    md5 = lambda text: hashlib.md5(text.encode()).hexdigest()  # noqa: E731
    ha1 = md5(f"{user}:{p.get('realm')}:{password}")
    ha2 = md5(f"{method}:{p.get('uri')}")
    if p.get("qop"):
        want = md5(f"{ha1}:{p.get('nonce')}:{p.get('nc')}:{p.get('cnonce')}:{p['qop']}:{ha2}")
    else:
        want = md5(f"{ha1}:{p.get('nonce')}:{ha2}")
    return p.get("username") == user and p.get("realm") == "provider.test" and p.get("response") == want


def cancel_from_caller(h, peers, rec):
    print("== 3. CANCEL from the caller while the provider rings", flush=True)
    outbound_call(h, peers, "cancel", sc.phone_cancel("10", "pw-ten", "0301004"),
                  sc.phone_ring_only(), 19344)
    check(len(find(messages(h, "cancel_provider"), "CANCEL ")) == 1, "  provider got CANCEL")
    check(len(find(messages(h, "cancel_phone"), "SIP/2.0 487")) >= 1, "  phone got 487")
    rec.expect("cancel", rec.next()[0], "outbound", "10", "provider", "0301004", 487, "caller", False)
    no_leaks(h, ["cancel_phone"], ["cancel_provider"])


def bye_from_callee(h, peers, rec):
    print("== 4. BYE from the callee (the provider hangs up)", flush=True)
    outbound_call(h, peers, "callee_bye", sc.phone_call("10", "pw-ten", "0301005", hangup="callee"),
                  sc.provider_uas(hangup="callee"), 19345)
    check(len(find(messages(h, "callee_bye_phone"), "BYE ")) == 1, "  phone got BYE")
    stats = rec.expect("callee BYE", rec.next()[0], "outbound", "10", "provider", "0301005", 200, "callee", True)
    rtp_both_ways("callee BYE", stats)
    no_leaks(h, ["callee_bye_phone"], ["callee_bye_provider"])


def check_hold_resume(h, offers_to, answers_to, what):
    """offers_to: the run that got the bridged re-INVITEs; answers_to: the run whose
    re-INVITEs were answered through b2bua."""
    invites = find(messages(h, offers_to), "INVITE ")[1:]
    dirs = [media_of(m)[2] for m in invites]
    check(dirs == ["sendonly", "sendrecv"], f"  {what}: re-INVITEs bridged with their direction kept {dirs}")
    check(all(points_at_relay(m) for m in invites), f"  {what}: bridged re-INVITEs point at the relay")
    oks = [m for m in find(messages(h, answers_to), "SIP/2.0 200") if re.search(r"^CSeq: \d+ INVITE", m, re.M)][1:]
    dirs = [media_of(m)[2] for m in oks]
    check(dirs == ["recvonly", "sendrecv"], f"  {what}: answers brought back {dirs}")
    check(all(points_at_relay(m) for m in oks), f"  {what}: answers rewritten to the relay")


def hold_resume(h, peers, rec):
    print("== 5a. hold and resume from the phone (outbound call)", flush=True)
    during = lambda d, cseq: (sc.hold_and_resume_from(d, cseq), cseq + 2)  # noqa: E731
    outbound_call(h, peers, "hold_out", sc.phone_call("10", "pw-ten", "0301006", during_factory=during),
                  sc.provider_uas(during=sc.hold_and_resume_taken()), 19346)
    check_hold_resume(h, "hold_out_provider", "hold_out_phone", "phone holds")
    stats = rec.expect("hold from phone", rec.next()[0], "outbound", "10", "provider", "0301006", 200, "caller", True)
    rtp_both_ways("hold from phone", stats)
    no_leaks(h, ["hold_out_phone"], ["hold_out_provider"])

    print("== 5b. hold and resume from the provider (inbound call)", flush=True)
    phone = peers.phone("hold_in_phone", sc.phone_uas(during=sc.hold_and_resume_taken()), PHONE10)
    time.sleep(0.3)
    provider = peers.provider_calls("hold_in_provider", sc.provider_call(DID_HOLD, during_factory=during))
    wait_exit(provider, "hold_in: provider side as scripted")
    wait_exit(phone, "hold_in: phone side as scripted")
    check_hold_resume(h, "hold_in_phone", "hold_in_provider", "provider holds")
    stats = rec.expect("hold from provider", rec.next()[0], "inbound", "10", "provider", FAR, 200, "caller", True)
    rtp_both_ways("hold from provider", stats)
    no_leaks(h, ["hold_in_phone"], ["hold_in_provider"])


def over_the_limit(h, peers, rec):
    print("== 6. calls.max_concurrent = 1: a second call gets 503, an emergency call still goes out", flush=True)
    provider = peers.provider("limit_provider", sc.provider_uas(), calls=2)
    first = peers.phone("limit_first", sc.phone_call("10", "pw-ten", "0301007", hold_ms=6000), 19347)
    answered = wait_until(lambda: re.search(r"CSeq: 2 ACK", h.sipp_messages("limit_first")), 10)
    check(answered is not None, "  first call is up")
    second = peers.phone("limit_second", sc.phone_call_out("11", "pw-eleven", "0301008", expect="503"), 19348)
    wait_exit(second, "  second call refused with 503")
    emergency = peers.phone("limit_112", sc.phone_call("11", "pw-eleven", "112", hold_ms=800), 19349)
    wait_exit(emergency, "  emergency call 112 over the limit answered by the provider")
    wait_exit(first, "  first call hung up by the phone")
    wait_exit(provider, "  provider took exactly the first call and the emergency call")
    to_provider = [first_line(m) for m in find(messages(h, "limit_provider"), "INVITE ")]
    check(len(to_provider) == 2 and to_provider[1].startswith("INVITE sip:112@"),
          f"  provider got the first call and 112, not the refused one {to_provider}")
    rows = {r[3]: r for r in rec.next(3)}
    check(set(rows) == {"0301007", "0301008", "112"},
          f"  records for the first call, the refused one and 112 {sorted(rows)}")
    rec.expect("refused over the limit", rows["0301008"], "outbound", "11", "provider", "0301008", 503, "system", False)
    rec.expect("first call", rows["0301007"], "outbound", "10", "provider", "0301007", 200, "caller", True)
    rec.expect("emergency", rows["112"], "outbound", "11", "provider", "112", 200, "caller", True)
    no_leaks(h, ["limit_first", "limit_second", "limit_112"], ["limit_provider"])


def no_answer(h, peers, rec):
    print("== 7. nobody answers: inbound, timeout 5 s, the phone only rings", flush=True)
    phone = peers.phone("noanswer_phone", sc.phone_ring_only(), PHONE11)
    time.sleep(0.3)
    started = time.monotonic()
    provider = peers.provider_calls("noanswer_provider", sc.provider_call(DID_NO_ANSWER, expect="480"))
    wait_exit(provider, "  provider got 480")
    took = time.monotonic() - started
    check(4.5 <= took <= 7.0, f"  480 after the configured 5 s ({took:.1f} s)")
    wait_exit(phone, "  ringing phone got CANCEL")
    rec.expect("no answer", rec.next()[0], "inbound", "", "provider", FAR, 480, "system", False)
    no_leaks(h, ["noanswer_phone"], ["noanswer_provider"])


def fallback(h, peers, rec):
    print("== 7b. nobody answers the ring group in 5 s: the fallback extension rings and answers", flush=True)
    ringing = peers.phone("fallback_ringing", sc.phone_ring_only(), PHONE11)
    answering = peers.phone("fallback_answering", sc.phone_uas(), PHONE10)
    time.sleep(0.3)
    started = time.monotonic()
    provider = peers.provider_calls("fallback_provider", sc.provider_call(DID_FALLBACK))
    wait_exit(provider, "  provider's call answered")
    wait_exit(ringing, "  the ring group's phone got CANCEL")
    wait_exit(answering, "  the fallback extension answered")
    took = time.monotonic() - started
    check(took >= 5.0, f"  fallback only after the group's 5 s ({took:.1f} s)")
    stats = rec.expect("fallback", rec.next()[0], "inbound", "10", "provider", FAR, 200, "caller", True)
    rtp_both_ways("fallback", stats)


def nobody_registered(h, peers, rec):
    print("== 8. nobody registered: inbound to an extension without binding", flush=True)
    provider = peers.provider_calls("nobody_provider", sc.provider_call(DID_NOBODY, expect="480"))
    wait_exit(provider, "  provider got 480")
    rec.expect("nobody registered", rec.next()[0], "inbound", "", "provider", FAR, 480, "system", False)


def internal_call(h, peers, rec):
    print("== 9. internal call 10 -> 11 through the relay", flush=True)
    callee = peers.phone("internal_callee", sc.phone_uas(), PHONE11)
    time.sleep(0.3)
    caller = peers.phone("internal_caller", sc.phone_call("10", "pw-ten", "11"), 19350)
    wait_exit(caller, "  caller 10 answered and hung up")
    wait_exit(callee, "  callee 11 answered")
    invite = find(messages(h, "internal_callee"), "INVITE ")
    check(invite and points_at_relay(invite[0]), "  callee's INVITE offers the relay")
    ok = find(messages(h, "internal_caller"), "SIP/2.0 200")
    check(ok and points_at_relay(ok[0]), "  caller's 200 answers with the relay")
    stats = rec.expect("internal", rec.next()[0], "internal", "10", "", "11", 200, "caller", True)
    rtp_both_ways("internal", stats)


def info_dtmf(h, peers, rec):
    print("== 10. SIP INFO dtmf from the phone reaches the provider", flush=True)
    during = lambda d, cseq: (d.info_dtmf(cseq), cseq + 1)  # noqa: E731
    outbound_call(h, peers, "info", sc.phone_call("10", "pw-ten", "0301009", during_factory=during),
                  sc.provider_uas(during=sc.recv_info_dtmf()), 19351)
    info = find(messages(h, "info_provider"), "INFO ")
    check(len(info) == 1 and "Signal=5" in info[0], "  provider got one INFO with Signal=5")
    stats = rec.expect("INFO dtmf", rec.next()[0], "outbound", "10", "provider", "0301009", 200, "caller", True)
    rtp_both_ways("INFO dtmf", stats)
    no_leaks(h, ["info_phone"], ["info_provider"])


def main():
    binary = sys.argv[1]
    started = time.monotonic()
    with Harness("call-events", binary) as h:
        d = h.start_daemon(config())
        peers = Peers(h)
        rec = Records(h)
        for ext, pw, port in (("10", "pw-ten", PHONE10), ("11", "pw-eleven", PHONE11)):
            r = h.sipp(write(h, f"reg{ext}", sc.phone_register(ext, pw)), f"127.0.0.1:{LAN}", port,
                       extra=["-m", "1", "-mp", str(peers.rtp())], name=f"reg{ext}")
            check(r.returncode == 0, f"phone {ext} registered" + ("" if r.returncode == 0 else "\n" + r.output[-800:]))
        flows = [early_media, provider_challenge, cancel_from_caller, bye_from_callee, hold_resume, over_the_limit,
                 no_answer, fallback, nobody_registered, internal_call, info_dtmf]
        only = os.environ.get("CALL_EVENTS_ONLY")  # e.g. "no_answer,info_dtmf" while debugging
        for flow in flows:
            if only and flow.__name__ not in only.split(","):
                continue
            flow(h, peers, rec)
            print(f"PASS: {flow.__name__}", flush=True)
        code = d.stop()
        check(code == 0, f"daemon stopped cleanly ({code})")
    print(f"call events: all checks passed in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
