#!/usr/bin/env python3
"""One-way audio, detected and explained (media::RelaySession::one_way). sipp plays the provider
(an IP-authenticated trunk) and phone 10; the audio comes from RTP peers of the test's own.

  one_way_phone_never_sends   the provider calls the DID, 10 answers (sendrecv) and never sends
                              RTP while the provider's audio flows: after 5 s one warning
                              event=one_way_audio (silent=b side=lan who=10
                              cause=nothing_arrives, the phone's SDP address, latched=none,
                              packets=0), /status shows it on the call, /metrics counts it
                              (b2bua_calls_one_way_audio_total{side="lan"} 1) and the record
                              notes one_way=lan:nothing_arrives
  one_way_provider_wrong_port the provider sends its RTP to a port other than the relay's in our
                              SDP (nothing listens there), the phone's audio flows: one warning
                              silent=a side=wan who=provider cause=nothing_arrives
  media_from_elsewhere        the provider's media comes from a port other than its SDP's: no
                              one-way alarm (the relay latches to the real source after the
                              1 s hold-off and the provider hears the phone), and one info line
                              event=media_source_differs side=wan who=provider sdp=... from=...
  one_way_no_alarm            both sides talk for 7 s, then 10 holds (sendonly) and sends
                              nothing for 7 s while the provider, which answered recvonly,
                              goes on sending (as some do): no event=one_way_audio, the metric
                              stays 0, no note

One flow per ctest entry (run_flows)."""
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
sys.path.insert(0, HERE)
from harness import check, run_flows, running  # noqa: E402
from status_http import get, get_json  # noqa: E402
from test_transfer import (FAR, SSRC_FAR, SSRC_TEN, RtpPeer, Setup, answer_call, invites_answered, provider_calls,  # noqa: E402
                           sdp_at, take_bye, take_reinvite, wait_for, wrap)
import scenarios as sc  # noqa: E402


def one_way_metric(s, side):
    _, _, body = get(s.status_port, "/metrics")
    m = re.search(rf'^b2bua_calls_one_way_audio_total\{{side="{side}"\}} (\d+)', body, re.M)
    return int(m.group(1)) if m else 0


def call_to_silent_phone(s):
    """The provider calls, phone 10 answers and never sends RTP while the far end does (8 s);
    returns the phone's and the provider's sipp runs."""
    answer, _ = answer_call(sdp_at(s.ten_rtp), play=False)
    # The dialog's From and To, kept for requests this phone never sends: read once (sipp
    # refuses a variable it never reads).
    kept = '<nop hide="true"><action><log message="[$inv_from] [$inv_to]"/></action></nop>\n'
    phone = s.phone("phone10", wrap("silent_phone", answer + kept + take_bye()), "10")
    time.sleep(0.3)
    s.peers.append(RtpPeer(s.far_rtp, SSRC_FAR, relay_port(s, "a")))
    provider = s.provider("provider", provider_calls(s.far_rtp, "", hold_ms=8000), calling=True)
    return phone, provider


def one_way_phone_never_sends(binary):
    with running("calls-one-way", binary, Setup, register=("10",)) as s:
        h = s.h
        phone, provider = call_to_silent_phone(s)
        line = s.daemon.wait_log(r"level=warn component=calls event=one_way_audio call=\d+ silent=b side=lan who=10 "
                                 r"cause=nothing_arrives sdp=127\.0\.0\.1:(\d+) private=no latched=none packets=0 "
                                 r"dropped_source=0", timeout=12)
        check(int(line.group(1)) == s.ten_rtp, f"  logged with the phone's SDP address ({line.group(0)})")
        calls = get_json(s.status_port).get("calls", [])
        check(calls and calls[0].get("one_way_audio") == "lan:nothing_arrives", f"  /status shows it on the call {calls}")
        check(one_way_metric(s, "lan") == 1, "  /metrics: b2bua_calls_one_way_audio_total{side=\"lan\"} 1")
        h.finish(provider, "  provider: call answered, BYE")
        h.finish(phone, "  phone 10: answered without sending, got the BYE")
        check(len(re.findall(r"event=one_way_audio", s.daemon.output())) == 1, "  said once")
        row = s.record("one-way call")
        check(row[3] == FAR and "one_way=lan:nothing_arrives" in row[8].split(), f"  the record notes it ('{row[8]}')")


def one_way_no_alarm(binary):
    with running("calls-one-way-no-alarm", binary, Setup, register=("10",)) as s:
        h = s.h
        answer, d = answer_call(sdp_at(s.ten_rtp), play=False)
        xml = (answer + '<pause milliseconds="7000"/>\n' + d.reinvite(1, "sendonly", 2353687638) +
               take_bye())
        phone = s.phone("phone10", wrap("talk_then_hold", xml), "10")
        time.sleep(0.3)
        s.peers.append(RtpPeer(s.far_rtp, SSRC_FAR, relay_port(s, "a")))
        ten = RtpPeer(s.ten_rtp, SSRC_TEN, relay_port(s, "b"))
        s.peers.append(ten)
        during = take_reinvite(1, "sendonly", sdp_at(s.far_rtp, "recvonly", 2353687638))
        provider = s.provider("provider", provider_calls(s.far_rtp, during, hold_ms=7000), calling=True)
        wait_for(s, "  10 held the call", lambda: invites_answered(s, "provider") == 1, timeout=15)
        # On hold the phone sends nothing; the provider's audio goes on.
        ten.stop()
        h.finish(provider, "  provider: call, hold, BYE")
        h.finish(phone, "  phone 10: talk, hold, BYE")
        check("event=one_way_audio" not in s.daemon.output(), "  no one-way alarm for a call that talked, nor on hold")
        check(one_way_metric(s, "lan") == 0 and one_way_metric(s, "wan") == 0, "  /metrics counts none")
        row = s.record("talk then hold")
        check("one_way" not in row[8], f"  no note ('{row[8]}')")


def relay_port(s, side):
    """A destination for an RtpPeer: the relay's port on `side` ("a": the provider's, "b": the
    phone's) of the call in /status, as soon as the call has one. Sooner than sipp's trace
    files, which it may write late: a peer that starts late would be one-way audio itself."""
    def destination():
        try:
            calls = get_json(s.status_port).get("calls", [])
        except OSError:
            return None
        ports = calls[0].get("relay_ports") if calls else None
        return ("127.0.0.1", ports[0][side]) if ports else None
    return destination


class RtpTo(RtpPeer):
    """An RtpPeer that sends to a fixed address (not where the SDP said)."""

    def __init__(self, port, ssrc, to):
        super().__init__(port, ssrc, lambda: to)


def provider_calls_talking_phone(s, far):
    """The provider calls (8 s, its audio from the RtpPeer `far`); phone 10 answers with its
    audio on an RtpPeer at ten_rtp and waits for the BYE. Returns the phone's and the
    provider's sipp runs."""
    answer, _ = answer_call(sdp_at(s.ten_rtp), play=False)
    kept = '<nop hide="true"><action><log message="[$inv_from] [$inv_to]"/></action></nop>\n'
    phone = s.phone("phone10", wrap("talking_phone", answer + kept + take_bye()), "10")
    time.sleep(0.3)
    s.peers.append(far)
    s.peers.append(RtpPeer(s.ten_rtp, SSRC_TEN, relay_port(s, "b")))
    return phone, s.provider("provider", provider_calls(s.far_rtp, "", hold_ms=8000), calling=True)


def one_way_provider_wrong_port(binary):
    with running("calls-one-way-wrong-port", binary, Setup, register=("10",)) as s:
        h = s.h
        nowhere = h.port()  # nothing listens there
        phone, provider = provider_calls_talking_phone(s, RtpTo(s.far_rtp, SSRC_FAR, ("127.0.0.1", nowhere)))
        line = s.daemon.wait_log(r"level=warn component=calls event=one_way_audio call=\d+ silent=a side=wan "
                                 rf"who=provider cause=nothing_arrives sdp=127\.0\.0\.1:{s.far_rtp} private=no "
                                 r"latched=none packets=0", timeout=12)
        check(line, f"  the provider's silence explained ({line.group(0)})")
        check(one_way_metric(s, "wan") == 1, "  /metrics: b2bua_calls_one_way_audio_total{side=\"wan\"} 1")
        h.finish(provider, "  provider: call answered, BYE")
        h.finish(phone, "  phone 10: talked, got the BYE")
        row = s.record("one-way call")
        check("one_way=wan:nothing_arrives" in row[8].split(), f"  the record notes it ('{row[8]}')")


def media_from_elsewhere(binary):
    with running("calls-media-elsewhere", binary, Setup, register=("10",)) as s:
        h = s.h
        elsewhere = h.port(2)[0]
        far = RtpPeer(elsewhere, SSRC_FAR, relay_port(s, "a"))
        phone, provider = provider_calls_talking_phone(s, far)
        line = s.daemon.wait_log(r"level=info component=calls event=media_source_differs call=\d+ side=wan "
                                 rf"who=provider sdp=127\.0\.0\.1:{s.far_rtp} from=127\.0\.0\.1:{elsewhere} "
                                 r"private_sdp=no", timeout=8)
        check(line, f"  the relay followed the provider's real source, and said so ({line.group(0)})")
        wait_for(s, "  the provider hears the phone at its real source", lambda: far.count(SSRC_TEN) > 100, timeout=8)
        h.finish(provider, "  provider: call answered, BYE")
        h.finish(phone, "  phone 10: talked, got the BYE")
        check("event=one_way_audio" not in s.daemon.output(), "  no one-way alarm")
        check(len(re.findall(r"event=media_source_differs", s.daemon.output())) == 1, "  said once")


FLOWS = {"one_way_phone_never_sends": one_way_phone_never_sends,
         "one_way_provider_wrong_port": one_way_provider_wrong_port,
         "media_from_elsewhere": media_from_elsewhere,
         "one_way_no_alarm": one_way_no_alarm}

if __name__ == "__main__":
    run_flows(FLOWS)
