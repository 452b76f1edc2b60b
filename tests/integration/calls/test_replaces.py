#!/usr/bin/env python3
"""An INVITE with Replaces (RFC 3891) from a phone. The phones are small SIP UAs of the test's
own (Phone10 of test_attended_transfer: they hold the dialog identifiers a Replaces names); the
provider (an IP-authenticated trunk) is sipp; the audio of the provider and of the phone that
ends up in the call comes from RTP peers of the test's own, each with an SSRC of its own.

  replaces_call_pull        the provider calls the DID, phone A of extension 10 answers; an
                            INVITE with Replaces naming that dialog from extension 11's phone
                            gets 403 and one naming no dialog 481 (the call goes on); then
                            phone B, a second phone of 10, sends one (digest-authenticated):
                            the provider is re-INVITEd (sendrecv, the relay) with B's offer, B
                            gets 200 with the relay's SDP, A gets BYE, the provider and B hear
                            each other, the provider's BYE reaches B; the record notes
                            replaced=10
  replaces_pickup_early     the provider calls the DID, phone A of 10 rings (180); phone 11
                            sends an INVITE with Replaces naming our early dialog with A (as a
                            busy-lamp phone learns it): 11 gets 200, A gets CANCEL with Reason
                            "Call completed elsewhere", the provider its 200, the provider and 11
                            hear each other; the record notes picked_up=11

One flow per ctest entry (run_flows)."""
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
sys.path.insert(0, HERE)
from harness import check, run_flows, running  # noqa: E402
import sip_client  # noqa: E402
from test_attended_transfer import Phone10, replaces, tag_of  # noqa: E402
from test_transfer import (DID, FAR, PASSWORDS, RECORD_COLUMNS, SSRC_FAR, SSRC_TARGET, RtpPeer,  # noqa: E402
                           Setup, check_audio_after_transfer, invites_answered, media_of, provider_calls,
                           sdp_at, take_reinvite, wait_for)


class Phones:
    """test_transfer's Setup with no sipp phone: phone A of extension 10 (registered), and the
    phones the flow adds with add()."""

    def __init__(self, h):
        self.s = Setup(h, register=())
        self.h = h
        self.phones = []
        self.a = self.add("10")

    def add(self, user):
        port, rtp = self.h.port(), self.h.port(2)[0]
        code = sip_client.register(self.s.lan_port, user, PASSWORDS[user], port)
        check(code == 200, f"a phone of {user} registered on port {port} ({code})")
        phone = Phone10(port, self.s.lan_port, rtp, user=user)
        self.phones.append(phone)
        return phone

    def rtp(self, phone, ssrc):
        """An RtpPeer for `phone`: its audio port, sending where the relay's last SDP to it says."""
        def destination():
            for m in reversed(phone.messages()):
                addr, port, _ = media_of(m.raw)
                if addr and port:
                    return addr, port
            return None
        peer = RtpPeer(phone.rtp_port, ssrc, destination)
        self.s.peers.append(peer)
        return peer

    def stop(self):
        for phone in self.phones:
            phone.close()
        self.s.stop()


def replacing(d):
    """The Replaces header naming dialog `d` of a phone (our tag as to-tag, the phone's as from-tag)."""
    return f"Replaces: {d.call_id};to-tag={d.remote_tag};from-tag={d.local_tag}"


def replaces_call_pull(binary):
    with running("calls-replaces-pull", binary, Phones) as p:
        s, h = p.s, p.h
        during = take_reinvite(1, "sendrecv", sdp_at(s.far_rtp, "sendrecv", 2353687638))
        far = s.rtp_peer(s.far_rtp, SSRC_FAR, "provider")
        provider = s.provider("provider", provider_calls(s.far_rtp, during, hold_ms=4000), calling=True)
        d1 = p.a.answer_call(timeout=10)
        s.daemon.wait_log(r"event=answered call=\d+ extension=10 ", timeout=5)
        eleven = p.add("11")
        _, r = eleven.call(FAR, PASSWORDS["11"], s.lan, headers=[replacing(d1)], expect=403)
        _, r = eleven.call(FAR, PASSWORDS["11"], s.lan, expect=481,
                           headers=[f"Replaces: nobody-here@x;to-tag={d1.remote_tag};from-tag={d1.local_tag}"])
        check(not p.a.messages(method="BYE") and invites_answered(s, "provider") == 0,
              "  the refused Replaces left the call alone (no BYE to A, no re-INVITE to the provider)")
        b = p.add("10")
        near = p.rtp(b, SSRC_TARGET)
        _, ok = b.call(FAR, PASSWORDS["10"], s.lan, headers=[replacing(d1)])
        addr, port, direction = media_of(ok.raw)
        check(s.points_at_relay(ok.raw) and direction in ("sendrecv", None),
              f"  B's 200 offers the relay ({addr}:{port} {direction})")
        check("replaces" in (ok.get("supported") or ""), f"  Supported names replaces ({ok.get('supported')})")
        wait_for(s, "  A got BYE", lambda: len(p.a.messages(method="BYE")) == 1, timeout=5)
        wait_for(s, "  the provider took the re-INVITE with B's offer", lambda: invites_answered(s, "provider") == 1)
        check_audio_after_transfer(s, far, near, "provider and B after the call moved")
        h.finish(provider, "  provider: call, re-INVITE, BYE")
        wait_for(s, "  B got the provider's BYE", lambda: len(b.messages(method="BYE")) == 1, timeout=5)
        reinvite = s.h.messages("provider", method="INVITE")[0]
        check(f" {b.rtp_port} " not in reinvite and s.points_at_relay(reinvite),
              "  the provider's re-INVITE names the relay, not B")
        log = s.daemon.output()
        check(re.search(r"event=replacing call=\d+ ext=10", log) and re.search(r"event=replaced call=\d+ ext=10", log),
              "  logged")
        check("replaces: another extension's call" in log and "replaces: no such dialog" in log,
              "  the refusals say why")
        row = h.call_records(1, columns=RECORD_COLUMNS)[-1]
        check(tuple(row[:6]) == ("inbound", "10", "provider", FAR, 200, "caller") and "replaced=10" in row[8].split(),
              f"  the record {tuple(row[:6])} notes replaced=10 ('{row[8]}')")


def replaces_pickup_early(binary):
    with running("calls-replaces-pickup", binary, Phones) as p:
        s, h = p.s, p.h
        far = s.rtp_peer(s.far_rtp, SSRC_FAR, "provider")
        provider = s.provider("provider", provider_calls(s.far_rtp, "", hold_ms=3000), calling=True)
        inv = p.a.take(lambda m: m.method == "INVITE", "b2bua's INVITE", 10)
        a_tag = "ringing" + str(p.a.port)
        p.a.respond(inv, "180 Ringing", to_tag=a_tag)
        eleven = p.add("11")
        near = p.rtp(eleven, SSRC_TARGET)
        time.sleep(0.3)
        header = f"Replaces: {inv.call_id};to-tag={tag_of(inv.get('from'))};from-tag={a_tag};early-only"
        _, ok = eleven.call(DID, PASSWORDS["11"], s.lan, headers=[header])
        check(s.points_at_relay(ok.raw), f"  11's 200 offers the relay ({media_of(ok.raw)[:2]})")
        cancel = p.a.take(lambda m: m.method == "CANCEL", "CANCEL", 5)
        check("Call completed elsewhere" in (cancel.get("reason") or ""),
              f"  A's CANCEL says completed elsewhere ({cancel.get('reason')})")
        p.a.respond(cancel, "200 OK")
        p.a.respond(inv, "487 Request Terminated", to_tag=a_tag)
        check_audio_after_transfer(s, far, near, "provider and 11 after the pickup")
        h.finish(provider, "  provider: call answered by 11, BYE")
        row = h.call_records(1, columns=RECORD_COLUMNS)[-1]
        check("picked_up=11" in row[8].split(), f"  the record notes picked_up=11 ('{row[8]}')")


FLOWS = {
    "replaces_call_pull": replaces_call_pull,
    "replaces_pickup_early": replaces_pickup_early,
}

if __name__ == "__main__":
    run_flows(FLOWS)
