#!/usr/bin/env python3
"""Call events through b2bua with sipp on both sides (phones on the LAN agent, the provider on
the WAN agent as an IP-authenticated trunk): early media, the provider's challenge, CANCEL from
the caller, BYE from the callee, hold and resume both ways, the call limit and the emergency
exemption, no answer, the fallback extension, nobody registered, an internal call, SIP INFO
dtmf. Every flow checks its call record; one flow per ctest entry (run_flows)."""
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from harness import check, check_sipp, run_flows, running, wait_until  # noqa: E402
import digest  # noqa: E402
from records import Records  # noqa: E402
import scenarios as sc  # noqa: E402

DID_HOLD, DID_NO_ANSWER, DID_NOBODY = "+4930111001", "+4930111002", "+4930111003"
DID_FALLBACK = "+4930111004"
FAR = "+4989111222"                    # who the provider's inbound calls come from
TRUNK_PASSWORD = "trunk-secret"
PHONE_CID = ["-cid_str", "phone-leg-%u-%p@%s"]
PROVIDER_CID = ["-cid_str", "provider-leg-%u-%p@%s"]
PASSWORDS = {"10": "pw-ten", "11": "pw-eleven"}


class Setup:
    """The daemon (at most one call at a time, 112 exempt) and the sipp runs of one flow, each
    with SIP and RTP ports of the test's own."""

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
            "extensions": [
                {"number": "10", "password": "pw-ten"},
                {"number": "11", "password": "pw-eleven"},
                {"number": "13", "password": "pw-thirteen"},  # never registers
            ],
            "trunks": [{"name": "provider", "registrar": f"sip:127.0.0.1:{self.provider_port}",
                        "username": sc.TRUNK_USER, "password": TRUNK_PASSWORD, "register": False,
                        "numbers": [DID_HOLD, DID_NO_ANSWER, DID_NOBODY, DID_FALLBACK],
                        "keepalive": {"method": "off"}}],
            "routing": {"inbound": [{"number": DID_HOLD, "ring": ["10"], "timeout": 20},
                                    {"number": DID_NO_ANSWER, "ring": ["11"], "timeout": 5},
                                    {"number": DID_NOBODY, "ring": ["13"], "timeout": 20},
                                    {"number": DID_FALLBACK, "ring": ["11"], "timeout": 5, "fallback": "10"}],
                        "outbound": [{"prefix": "0", "trunk": "provider"}, {"prefix": "112", "trunk": "provider"}],
                        "emergency": ["112"]},
            "calls": {"max_concurrent": 1},
            "media": {"ports": list(self.relay), "timeout": 30},
        })
        self.records = Records(h)
        self.phones = {}  # extension -> the port where its registered phone takes calls
        for ext in register:
            self.phones[ext] = h.port()
            r = h.sipp(h.write_scenario(f"reg{ext}", sc.phone_register(ext, PASSWORDS[ext])), self.lan,
                       self.phones[ext], name=f"reg{ext}")
            check_sipp(r, f"phone {ext} registered")

    def start(self, name, xml, target, port, calls=1, extra=(), media_port=None):
        log = ["-trace_logs", "-log_file", self.h.path(f"{name}.logs")]
        return self.h.sipp_bg(xml, target, port, name=name, media_port=media_port, calls=calls,
                              extra=[*log, *extra])

    def provider(self, name, xml, calls=1):
        """The provider's side of an outbound call, waiting on the trunk's address."""
        p = self.start(name, xml, self.wan, self.provider_port, calls=calls, media_port=self.provider_rtp)
        time.sleep(0.3)
        return p

    def phone(self, name, xml, port=None, extra=PHONE_CID):
        return self.start(name, xml, self.lan, port or self.h.port(), extra=extra)

    def provider_calls(self, name, xml):
        return self.start(name, xml, self.wan, self.provider_port, extra=PROVIDER_CID, media_port=self.provider_rtp)

    def outbound_call(self, name, phone_xml, provider_xml):
        """Runs one outbound call to the end: provider first, then the phone."""
        provider = self.provider(f"{name}_provider", provider_xml)
        phone = self.phone(f"{name}_phone", phone_xml)
        self.h.finish(phone, f"{name}: phone side as scripted")
        self.h.finish(provider, f"{name}: provider side as scripted")

    def points_at_relay(self, msg):
        addr, port, _ = media_of(msg)
        return addr == "127.0.0.1" and port is not None and self.relay[0] <= port <= self.relay[1]

    def no_leaks(self, phone_runs, provider_runs):
        """Topology hiding: nothing of the LAN leg reaches the provider, and the reverse."""
        to_provider = "\n".join(m for n in provider_runs for m in self.h.messages(n))
        for leak in ("phone-leg-", "TestPhone", "X-Phone-Secret", "test.arpa"):
            check(leak not in to_provider, f"  provider never sees '{leak}' ({', '.join(provider_runs)})")
        to_phones = "\n".join(m for n in phone_runs for m in self.h.messages(n))
        for leak in ("provider-leg-", "ProviderSwitch", f":{self.provider_port}", f" {self.provider_rtp} ",
                     "provider.test"):
            check(leak not in to_phones, f"  phones never see '{leak}' ({', '.join(phone_runs)})")

    def stop(self):
        self.h.stop_daemon(self.daemon)


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


def early_media(binary):
    """183 with SDP through the relay."""
    with running("calls-early-media", binary, Setup) as s:
        h = s.h
        # The provider plays a short burst (10 RTP packets) only before it answers and the phone
        # stays silent, so whatever the relay sent to the phone was early media.
        provider_xml = sc.provider_uas(early_media_ms=1500).replace(sc.PCAP, "/usr/share/sip-tester/dtmf_2833_1.pcap")
        s.outbound_call("early", sc.phone_call("10", "pw-ten", "0301001", early="required", play=False), provider_xml)
        got = find(h.messages("early_phone"), "SIP/2.0 183")
        check(len(got) == 1, "  phone received one 183")
        addr, port, _ = media_of(got[0])
        check(s.points_at_relay(got[0]) and port != s.provider_rtp,
              f"  183 SDP points at the relay (c={addr} port {port}), not at the provider's {s.provider_rtp}")
        sent = find(h.messages("early_provider"), "INVITE ")
        check(sent and s.points_at_relay(sent[0]), "  provider's INVITE offers the relay")
        stats = s.records.expect("early media", s.records.next()[0], "outbound", "10", "provider", "0301001", 200,
                                 "caller", True)
        check(stats and stats["b"]["packets"] > 0 and stats["a"]["packets_sent"] > 0,
              f"  early media relayed to the phone before the answer (provider sent {stats and stats['b']['packets']}, "
              f"phone got {stats and stats['a']['packets_sent']})")
        s.no_leaks(["early_phone"], ["early_provider"])


def provider_challenge(binary, status, header, dialled):
    """The provider challenges the INVITE; b2bua answers for the trunk, the phone never sees it."""
    with running(f"calls-challenge-{status}", binary, Setup) as s:
        h = s.h
        name = f"challenge{status}"
        s.outbound_call(name, sc.phone_call("10", "pw-ten", dialled), sc.provider_uas(challenge=status))
        invites = find(h.messages(f"{name}_provider"), "INVITE ")
        check(len(invites) == 2 and not re.search(r"^(Proxy-)?Authorization:", invites[0], re.M | re.I),
              "  first INVITE without credentials, then one more")
        answer = re.search(rf"^{header} (Digest .*)$", invites[1], re.M)
        check(answer is not None and digest.verify(answer.group(1).strip(), "INVITE", TRUNK_PASSWORD,
                                                   user=sc.TRUNK_USER, realm="provider.test"),
              f"  second INVITE answers with {header} a valid digest for the trunk user and password")
        to_phone = h.messages(f"{name}_phone")
        check(not any("provider.test" in m for m in to_phone) and
              not find(to_phone, "SIP/2.0 401") and len(find(to_phone, "SIP/2.0 407")) == 1,
              "  the phone saw only b2bua's own 407, never the provider's challenge")
        if status == "mixed":
            check("algorithm=MD5" in answer.group(1) and re.search(r'nonce="\d+0ce401"', answer.group(1)),
                  "  answered the MD5 challenge of the two (its nonce, algorithm=MD5)")
        s.records.answered(f"challenge {status}", "outbound", "10", "provider", dialled)
        s.no_leaks([f"{name}_phone"], [f"{name}_provider"])
        check(TRUNK_PASSWORD not in s.daemon.output(), "  trunk password not in the daemon's log")


def provider_challenge_407(binary):
    provider_challenge(binary, "407", "Proxy-Authorization:", "0301002")


def provider_challenge_401(binary):
    provider_challenge(binary, "401", "Authorization:", "0301003")


def provider_challenge_mixed(binary):
    # SHA-256 and MD5 in one 401, which sofia cannot answer: b2bua answers MD5 itself.
    provider_challenge(binary, "mixed", "Authorization:", "0301012")


def cancel_from_caller(binary):
    """CANCEL from the caller while the provider rings."""
    with running("calls-cancel", binary, Setup) as s:
        h = s.h
        s.outbound_call("cancel", sc.phone_cancel("10", "pw-ten", "0301004"), sc.phone_ring_only())
        check(len(find(h.messages("cancel_provider"), "CANCEL ")) == 1, "  provider got CANCEL")
        check(len(find(h.messages("cancel_phone"), "SIP/2.0 487")) >= 1, "  phone got 487")
        s.records.expect("cancel", s.records.next()[0], "outbound", "10", "provider", "0301004", 487, "caller", False)
        s.no_leaks(["cancel_phone"], ["cancel_provider"])


def bye_from_callee(binary):
    """BYE from the callee (the provider hangs up)."""
    with running("calls-callee-bye", binary, Setup) as s:
        h = s.h
        s.outbound_call("callee_bye", sc.phone_call("10", "pw-ten", "0301005", hangup="callee"),
                        sc.provider_uas(hangup="callee"))
        check(len(find(h.messages("callee_bye_phone"), "BYE ")) == 1, "  phone got BYE")
        s.records.answered("callee BYE", "outbound", "10", "provider", "0301005", by="callee")
        s.no_leaks(["callee_bye_phone"], ["callee_bye_provider"])


def check_hold_resume(s, offers_to, answers_to, what):
    """offers_to: the run that got the bridged re-INVITEs; answers_to: the run whose
    re-INVITEs were answered through b2bua."""
    invites = find(s.h.messages(offers_to), "INVITE ")[1:]
    dirs = [media_of(m)[2] for m in invites]
    check(dirs == ["sendonly", "sendrecv"], f"  {what}: re-INVITEs bridged with their direction kept {dirs}")
    check(all(s.points_at_relay(m) for m in invites), f"  {what}: bridged re-INVITEs point at the relay")
    oks = [m for m in find(s.h.messages(answers_to), "SIP/2.0 200") if re.search(r"^CSeq: \d+ INVITE", m, re.M)][1:]
    dirs = [media_of(m)[2] for m in oks]
    check(dirs == ["recvonly", "sendrecv"], f"  {what}: answers brought back {dirs}")
    check(all(s.points_at_relay(m) for m in oks), f"  {what}: answers rewritten to the relay")


def hold_and_resume(d, cseq):
    return sc.hold_and_resume_from(d, cseq), cseq + 2


def hold_resume_from_phone(binary):
    """Hold and resume from the phone (outbound call)."""
    with running("calls-hold-phone", binary, Setup) as s:
        s.outbound_call("hold_out", sc.phone_call("10", "pw-ten", "0301006", during_factory=hold_and_resume),
                        sc.provider_uas(during=sc.hold_and_resume_taken()))
        check_hold_resume(s, "hold_out_provider", "hold_out_phone", "phone holds")
        s.records.answered("hold from phone", "outbound", "10", "provider", "0301006")
        s.no_leaks(["hold_out_phone"], ["hold_out_provider"])


def hold_resume_from_provider(binary):
    """Hold and resume from the provider (inbound call)."""
    with running("calls-hold-provider", binary, Setup, register=["10"]) as s:
        h = s.h
        phone = s.phone("hold_in_phone", sc.phone_uas(during=sc.hold_and_resume_taken()), s.phones["10"])
        time.sleep(0.3)
        provider = s.provider_calls("hold_in_provider", sc.provider_call(DID_HOLD, during_factory=hold_and_resume))
        h.finish(provider, "hold_in: provider side as scripted")
        h.finish(phone, "hold_in: phone side as scripted")
        check_hold_resume(s, "hold_in_phone", "hold_in_provider", "provider holds")
        s.records.answered("hold from provider", "inbound", "10", "provider", FAR)
        s.no_leaks(["hold_in_phone"], ["hold_in_provider"])


def hold_by_update(d, cseq):
    return sc.hold_by_update_from(d, cseq), cseq + 3


def check_update(s, offers_to, answers_to, what):
    """offers_to: the run that got the bridged UPDATEs; answers_to: the run whose UPDATEs were
    answered through b2bua. The UPDATE without SDP never crosses."""
    updates = find(s.h.messages(offers_to), "UPDATE ")
    dirs = [media_of(m)[2] for m in updates]
    check(dirs == ["sendonly", "sendrecv"], f"  {what}: only the UPDATEs with an offer crossed, direction kept {dirs}")
    check(all(s.points_at_relay(m) for m in updates), f"  {what}: bridged UPDATEs point at the relay")
    oks = [m for m in find(s.h.messages(answers_to), "SIP/2.0 200") if re.search(r"^CSeq: \d+ UPDATE", m, re.M)]
    check(len(oks) == 3 and "m=audio" not in oks[0], f"  {what}: the refresh answered without SDP ({len(oks)} 200s)")
    dirs = [media_of(m)[2] for m in oks[1:]]
    check(dirs == ["recvonly", "sendrecv"], f"  {what}: the far side's answers brought back in our 200s {dirs}")
    check(all(s.points_at_relay(m) for m in oks[1:]), f"  {what}: answers rewritten to the relay")


def update_from_phone(binary):
    """UPDATE from the phone in an outbound call: a refresh answered at once, offers bridged to
    the provider as UPDATEs with their answers brought back (RFC 3311)."""
    with running("calls-update-phone", binary, Setup) as s:
        s.outbound_call("update_out", sc.phone_call("10", "pw-ten", "0301016", during_factory=hold_by_update),
                        sc.provider_uas(during=sc.hold_by_update_taken()))
        check_update(s, "update_out_provider", "update_out_phone", "phone updates")
        s.records.answered("update from phone", "outbound", "10", "provider", "0301016")
        s.no_leaks(["update_out_phone"], ["update_out_provider"])


def update_from_provider(binary):
    """UPDATE from the provider in an inbound call, bridged to the phone the same way."""
    with running("calls-update-provider", binary, Setup, register=["10"]) as s:
        h = s.h
        phone = s.phone("update_in_phone", sc.phone_uas(during=sc.hold_by_update_taken()), s.phones["10"])
        time.sleep(0.3)
        provider = s.provider_calls("update_in_provider", sc.provider_call(DID_HOLD, during_factory=hold_by_update))
        h.finish(provider, "update_in: provider side as scripted")
        h.finish(phone, "update_in: phone side as scripted")
        check_update(s, "update_in_phone", "update_in_provider", "provider updates")
        s.records.answered("update from provider", "inbound", "10", "provider", FAR)
        s.no_leaks(["update_in_phone"], ["update_in_provider"])


def call_limit(binary):
    """calls.max_concurrent = 1: a second call gets 503, an emergency call still goes out."""
    with running("calls-limit", binary, Setup) as s:
        h = s.h
        provider = s.provider("limit_provider", sc.provider_uas(), calls=2)
        first = s.phone("limit_first", sc.phone_call("10", "pw-ten", "0301007", hold_ms=6000))
        answered = wait_until(lambda: re.search(r"CSeq: 2 ACK", h.sipp_messages("limit_first")), 10)
        check(answered is not None, "  first call is up")
        second = s.phone("limit_second", sc.phone_call_out("11", "pw-eleven", "0301008", expect="503"))
        h.finish(second, "  second call refused with 503")
        emergency = s.phone("limit_112", sc.phone_call("11", "pw-eleven", "112", hold_ms=800))
        h.finish(emergency, "  emergency call 112 over the limit answered by the provider")
        h.finish(first, "  first call hung up by the phone")
        h.finish(provider, "  provider took exactly the first call and the emergency call")
        to_provider = [first_line(m) for m in find(h.messages("limit_provider"), "INVITE ")]
        check(len(to_provider) == 2 and to_provider[1].startswith("INVITE sip:112@"),
              f"  provider got the first call and 112, not the refused one {to_provider}")
        rows = {r[3]: r for r in s.records.next(3)}
        check(set(rows) == {"0301007", "0301008", "112"},
              f"  records for the first call, the refused one and 112 {sorted(rows)}")
        s.records.expect("refused over the limit", rows["0301008"], "outbound", "11", "provider", "0301008", 503,
                         "system", False)
        s.records.expect("first call", rows["0301007"], "outbound", "10", "provider", "0301007", 200, "caller", True)
        s.records.expect("emergency", rows["112"], "outbound", "11", "provider", "112", 200, "caller", True)
        s.no_leaks(["limit_first", "limit_second", "limit_112"], ["limit_provider"])


def no_answer(binary):
    """Nobody answers: inbound, timeout 5 s, the phone only rings."""
    with running("calls-no-answer", binary, Setup, register=["11"]) as s:
        h = s.h
        phone = s.phone("noanswer_phone", sc.phone_ring_only(), s.phones["11"])
        time.sleep(0.3)
        started = time.monotonic()
        provider = s.provider_calls("noanswer_provider", sc.provider_call(DID_NO_ANSWER, expect="480"))
        h.finish(provider, "  provider got 480")
        took = time.monotonic() - started
        check(4.5 <= took <= 7.0, f"  480 after the configured 5 s ({took:.1f} s)")
        h.finish(phone, "  ringing phone got CANCEL")
        s.records.expect("no answer", s.records.next()[0], "inbound", "", "provider", FAR, 480, "system", False)
        s.no_leaks(["noanswer_phone"], ["noanswer_provider"])


def fallback(binary):
    """Nobody answers the ring group in 5 s: the fallback extension rings and answers."""
    with running("calls-fallback", binary, Setup, register=["10", "11"]) as s:
        h = s.h
        ringing = s.phone("fallback_ringing", sc.phone_ring_only(), s.phones["11"])
        answering = s.phone("fallback_answering", sc.phone_uas(), s.phones["10"])
        time.sleep(0.3)
        started = time.monotonic()
        provider = s.provider_calls("fallback_provider", sc.provider_call(DID_FALLBACK))
        h.finish(provider, "  provider's call answered")
        h.finish(ringing, "  the ring group's phone got CANCEL")
        h.finish(answering, "  the fallback extension answered")
        took = time.monotonic() - started
        check(took >= 5.0, f"  fallback only after the group's 5 s ({took:.1f} s)")
        s.records.answered("fallback", "inbound", "10", "provider", FAR)


def nobody_registered(binary):
    """Inbound to an extension without binding."""
    with running("calls-nobody", binary, Setup) as s:
        h = s.h
        provider = s.provider_calls("nobody_provider", sc.provider_call(DID_NOBODY, expect="480"))
        h.finish(provider, "  provider got 480")
        s.daemon.wait_log(r"event=nobody_registered call=\d+ extensions=13\n", timeout=5)
        s.records.expect("nobody registered", s.records.next()[0], "inbound", "13", "provider", FAR, 480, "system", False)


def internal_call(binary):
    """Internal call 10 -> 11 through the relay."""
    with running("calls-internal", binary, Setup, register=["11"]) as s:
        h = s.h
        callee = s.phone("internal_callee", sc.phone_uas(), s.phones["11"])
        time.sleep(0.3)
        caller = s.phone("internal_caller", sc.phone_call("10", "pw-ten", "11"))
        h.finish(caller, "  caller 10 answered and hung up")
        h.finish(callee, "  callee 11 answered")
        invite = find(h.messages("internal_callee"), "INVITE ")
        check(invite and s.points_at_relay(invite[0]), "  callee's INVITE offers the relay")
        ok = find(h.messages("internal_caller"), "SIP/2.0 200")
        check(ok and s.points_at_relay(ok[0]), "  caller's 200 answers with the relay")
        s.records.answered("internal", "internal", "10", "", "11")


def info_dtmf(binary):
    """SIP INFO dtmf from the phone reaches the provider."""
    with running("calls-info", binary, Setup) as s:
        h = s.h
        s.outbound_call("info", sc.phone_call("10", "pw-ten", "0301009",
                                              during_factory=lambda d, cseq: (d.info_dtmf(cseq), cseq + 1)),
                        sc.provider_uas(during=sc.recv_info_dtmf()))
        info = find(h.messages("info_provider"), "INFO ")
        check(len(info) == 1 and "Signal=5" in info[0], "  provider got one INFO with Signal=5")
        s.records.answered("INFO dtmf", "outbound", "10", "provider", "0301009")
        s.no_leaks(["info_phone"], ["info_provider"])


FLOWS = {f.__name__: f for f in (early_media, provider_challenge_407, provider_challenge_401, provider_challenge_mixed,
                                 cancel_from_caller, bye_from_callee, hold_resume_from_phone,
                                 hold_resume_from_provider, update_from_phone, update_from_provider, call_limit, no_answer, fallback, nobody_registered,
                                 internal_call, info_dtmf)}

if __name__ == "__main__":
    run_flows(FLOWS)
