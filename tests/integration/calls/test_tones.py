#!/usr/bin/env python3
"""Supervisory tones (calls.tones, calls.tone_country, else routing.country): when b2bua itself refuses a LAN phone's
call, the phone first hears the country's busy or congestion tone as early media (183 with
b2bua's SDP, ~4 s of G.711 in 20 ms packets to the phone's SDP address), then the final answer.
sipp plays the phone (and the provider), an RTP endpoint of the test's own
(voicemail_support.Rtp) keeps what b2bua played; the audio is decoded and measured: energy per
20 ms frame gives the on/off cadence, zero crossings and Goertzel filters the frequencies.

  tone_busy_extension     routing.country DE: 10 calls 11 (dnd, no forward, no voicemail):
                          183 with SDP (PCMU, the offer's codec), 200 +-10 % packets, 425 +-15 Hz
                          in the "on" parts, on/off runs of 24 +-2 frames (480 ms), then 486
                          ~4 s after the 183; the record (486, notes tone=busy) and the log line
  tone_congestion_no_trunk 10 dials out, the only trunk answers 503: 183, congestion tone
                          (425 Hz, runs of 12 +-2 frames = 240 ms), then 503; notes
                          tone=congestion, the log line
  tone_us_busy            calls.tone_country US, the phone offers PCMA: the busy tone is 480+620 Hz
                          (Goertzel: both strong, 425 weak), runs of 25 +-2 frames (500 ms), 486
  tone_off                calls.tones false: the bare 486 within 1 s, no 183, no RTP, no tone
                          in the notes or the log
  announce_blocked_number a deny rule ("0900", trunk null): 10 dials 0900123456 and hears the
                          built-in announcement "Your call cannot be completed." as early media
                          (packets as long as the prompt, its audio: correlation >= 0.95), then
                          403; notes refused=deny_rule voice_result=announcement; the log line
  announce_no_route       10 dials 123 (no extension, no outbound rule matches): the same
                          announcement, then 404; notes refused=no_outbound_route

One flow per ctest entry (run_flows)."""
import math
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "voicemail"))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
from voicemail_support import (PASSWORDS, Rtp, g711_decode, norm_corr, prompt_samples, prompt_seconds,  # noqa: E402
                               reply, sdp, sdp_body, send, wrap, zero_crossing_hz, media_of, first_line)
from harness import check, check_sipp, running, wait_until, sipp_trace  # noqa: E402
import scenarios as sc  # noqa: E402

DID = "+4930123456"
RECORD_COLUMNS = "direction, extension, trunk, remote_number, final_code, hangup_by, answer_ms, notes"
TONE_S = 4.0
FRAME = 160  # 20 ms at 8 kHz


class Setup:
    """The daemon with extensions 10, 11 (dnd), 12, a provider trunk without registration (its
    server at provider_port), the outbound rule "0" -> provider and a deny rule for "0900"; `country` and `tones` go to
    calls.tone_country and calls.tones when given. Phone 11 is registered (by sipp) so its refusal
    is busy (dnd), not unreachable."""

    def __init__(self, h, country=None, tones=None):
        self.h = h
        self.lan_port, self.wan_port, self.provider_port, self.status_port = h.port(4)
        self.lan, self.wan = f"127.0.0.1:{self.lan_port}", f"127.0.0.1:{self.wan_port}"
        # Premium-rate numbers are refused by a deny rule (trunk null).
        routing = {"inbound": [{"number": DID, "ring": ["10"], "timeout": 20}],
                   "outbound": [{"prefix": "0900", "trunk": None}, {"prefix": "0", "trunk": "provider"}]}
        config = {
            "status": {"listen": f"127.0.0.1:{self.status_port}"},
            "lan": {"listen": [f"udp:{self.lan}"], "networks": ["127.0.0.0/8"], "realm": "test.arpa"},
            "wan": {"address": "127.0.0.1", "port": self.wan_port},
            "registrar": {"qualify_interval": 0},
            "extensions": [{"number": "10", "password": PASSWORDS["10"]},
                           {"number": "11", "password": PASSWORDS["11"], "dnd": True},
                           {"number": "12", "password": PASSWORDS["12"]}],
            "trunks": [{"name": "provider", "registrar": f"sip:127.0.0.1:{self.provider_port}",
                        "username": sc.TRUNK_USER, "register": False, "numbers": [DID],
                        "keepalive": {"method": "off"}}],
            "routing": routing,
            "media": {"ports": list(h.ports.span(20)), "timeout": 30},
        }
        if country:
            # The tones' country; routing.country stays DE (its number classes).
            config.setdefault("calls", {})["tone_country"] = country
        if tones is not None:
            config.setdefault("calls", {})["tones"] = tones
        self.daemon = h.start_daemon(config)
        self.peers = []
        self.phones = {}
        self.register("11")

    def register(self, ext):
        self.phones[ext] = self.h.port()
        r = self.h.sipp(self.h.write_scenario(f"reg{ext}", sc.phone_register(ext, PASSWORDS[ext])), self.lan,
                        self.phones[ext], name=f"reg{ext}")
        check_sipp(r, f"phone {ext} registered")

    def rtp(self):
        port = self.h.port(2)[0]
        peer = Rtp(port, ssrc=0x51AB0000 + port)
        self.peers.append(peer)
        return peer

    def call(self, name, dialled, peer, expect, codecs="0 101", timeout=20):
        """Phone 10 calls `dialled` offering `codecs` at `peer`'s port and waits for `expect`
        (183 optional: its presence is checked from the trace); runs sipp to its end."""
        xml = phone_refused("10", dialled, peer.port, expect, codecs, timeout_ms=timeout * 1000)
        return self.h.sipp(self.h.write_scenario(name, xml), self.lan, self.h.port(), name=name, timeout=timeout + 10)

    def record(self):
        rows = self.h.call_records(1, columns=RECORD_COLUMNS)
        check(len(rows) == 1, f"  exactly one call record ({len(rows)})", repr(rows))
        return rows[0]

    def stop(self):
        for p in self.peers:
            p.stop()
        self.h.stop_daemon(self.daemon)


def phone_refused(ext, dialled, rtp_port, expect, codecs, timeout_ms=20000):
    """A phone calls `dialled` (407, authenticated INVITE) offering `codecs` on the test's RTP
    port; 100/180/183 optional, then the final `expect`, which it ACKs (same branch as the
    INVITE, RFC 3261 17.1.1.3)."""
    d = sc.phone_dialog(ext, dialled)
    auth = f"[authentication username={ext} password={PASSWORDS[ext]}]\n"
    offer = sdp_body(sdp(rtp_port, codecs))
    xml = (send(d.request("INVITE", 1, offer, headers="User-Agent: TestPhone/1.0\n", initial=True)) +   # 0
           '<recv response="100" optional="true"/>\n'                                                   # 1
           '<recv response="407" auth="true"/>\n' +                                                     # 2
           send(d.request("ACK", 1, branch="[branch-3]"), retrans=False) +                              # 3
           send(d.request("INVITE", 2, offer, headers="User-Agent: TestPhone/1.0\n" + auth, initial=True)) +  # 4
           '<recv response="100" optional="true"/>\n'                                                   # 5
           '<recv response="180" optional="true"/>\n'                                                   # 6
           '<recv response="183" optional="true"/>\n'                                                   # 7
           f'<recv response="{expect}" timeout="{timeout_ms}"/>\n' +                                    # 8
           send(d.request("ACK", 2, branch="[branch-5]"), retrans=False))                               # 9
    return wrap("phone_refused", xml)


def provider_refuses(status="503 Service Unavailable"):
    """The provider answers every INVITE with `status` and takes the ACK."""
    return wrap("provider_refuses", '<recv request="INVITE" crlf="true"/>\n' +
                send(reply(status, to_tag=";tag=[pid]prov"), retrans=False) + '<recv request="ACK"/>\n')


# --- what the phone got -----------------------------------------------------------------------

def responses(h, run):
    """(status, time, text) of the responses sipp run `run` received to its authenticated
    INVITE (CSeq 2)."""
    out = []
    for m in sipp_trace(h.sipp_messages(run)):
        if m.received and m.first_line.startswith("SIP/2.0 ") and re.search(r"^CSeq:\s*2 INVITE", m.text, re.M | re.I):
            out.append((int(m.first_line.split()[1]), m.time, m.text))
    return out


def invite_sent_at(h, run):
    for m in sipp_trace(h.sipp_messages(run)):
        if not m.received and m.method == "INVITE" and re.search(r"^CSeq:\s*2 INVITE", m.text, re.M | re.I):
            return m.time
    return None


def check_early(h, run, final, pt, what, seconds=TONE_S):
    """The 183 with b2bua's SDP (the offer's codec first, media at 127.0.0.1), then `final`
    `seconds` later. Returns (183 time, final time, the 183's media address)."""
    got = responses(h, run)
    codes = [c for c, _, _ in got]
    early = [(t, m) for c, t, m in got if c == 183]
    finals = [(c, t) for c, t, _ in got if c >= 200]
    check(early, f"  {what}: a 183 Session Progress before the final answer {codes}")
    check(len(finals) >= 1 and finals[0][0] == final, f"  {what}: final answer {final} {codes}")
    t183, m183 = early[0]
    check(codes.index(183) < codes.index(final), f"  {what}: the 183 came before the {final} {codes}")
    check(header(m183, "Content-Type") and "application/sdp" in header(m183, "Content-Type").lower(),
          f"  {what}: the 183 carries SDP (Content-Type {header(m183, 'Content-Type')})", m183)
    m = re.search(r"^m=audio (\d+) RTP/AVP ([\d ]+?)\s*$", m183, re.M)
    check(m is not None and int(m.group(1)) > 0, f"  {what}: an audio m-line with a port in the 183 "
          f"({m.group(0) if m else None})", m183)
    check(m.group(2).split()[0] == str(pt), f"  {what}: the 183 answers payload type {pt} of the offer ({m.group(0)})")
    check(re.search(r"^c=IN IP4 127\.0\.0\.1\s*$", m183, re.M), f"  {what}: the 183's media at 127.0.0.1", m183)
    addr, port, direction = media_of(m183)
    check(direction in ("sendrecv", "sendonly"), f"  {what}: the 183's stream sends ({direction})")
    t_final = finals[0][1]
    gap = t_final - t183
    check(seconds - 0.4 <= gap <= seconds + 1.0, f"  {what}: the {final} came {gap:.2f} s after the 183 "
          f"({seconds:.1f} s of audio expected)")
    return t183, t_final, (addr, port)


def header(msg, name):
    m = re.search(rf"^{name}:[ \t]*(.*?)\s*$", msg, re.M | re.I)
    return m.group(1) if m else None


def check_packets(peer, pt, t183, t_final, media, what, seconds=TONE_S):
    """The early media's RTP: `seconds` / 20 ms +-10 % packets of payload type `pt`, 160 bytes,
    one SSRC, consecutive sequence numbers and timestamps, paced at 20 ms, from b2bua's SDP
    address, between the 183 and the final answer. Returns the packets in sequence order."""
    packets = peer.packets()
    want = seconds / 0.02
    check(abs(len(packets) - want) <= want * 0.10,
          f"  {what}: {len(packets)} RTP packets, {want:.0f} +-10 % expected")
    pts = sorted(set(p.pt for p in packets))
    check(pts == [pt], f"  {what}: payload type {pt} in every packet {pts}")
    check(all(len(p.payload) == FRAME for p in packets),
          f"  {what}: 160-byte payloads (20 ms) {sorted(set(len(p.payload) for p in packets))}")
    check(len(set(p.ssrc for p in packets)) == 1, f"  {what}: one SSRC")
    seq_ok = all((b.seq - a.seq) & 0xFFFF == 1 for a, b in zip(packets, packets[1:]))
    ts_ok = all((b.ts - a.ts) & 0xFFFFFFFF == FRAME for a, b in zip(packets, packets[1:]))
    check(seq_ok and ts_ok, f"  {what}: sequence numbers +1, timestamps +160 (in order, none lost)")
    span = packets[-1].t - packets[0].t
    want_span = (len(packets) - 1) * 0.02
    check(abs(span - want_span) <= max(0.2, want_span * 0.10),
          f"  {what}: paced at 20 ms ({span:.2f} s for {len(packets)} packets, {want_span:.2f} s expected)")
    with peer.lock:
        sources = set(peer.sources)
    check(sources == {media}, f"  {what}: sent from the 183's media address {media} ({sorted(sources)})")
    # sipp's trace stamps are wall clock; so are the packets' (Packet.wall). 0.25 s of slack.
    first, last = packets[0].wall, packets[-1].wall
    check(first >= t183 - 0.25, f"  {what}: the audio starts after the 183 ({first - t183:+.2f} s)")
    check(last <= t_final + 0.25, f"  {what}: the audio ends before the final answer ({t_final - last:+.2f} s before)")
    return sorted(packets, key=lambda p: p.seq)


def frames_of(packets):
    """The decoded samples of each packet (one 20 ms frame each)."""
    return [g711_decode(p.pt, p.payload) for p in packets]


def rms(samples):
    return math.sqrt(sum(s * s for s in samples) / len(samples)) if samples else 0.0


def runs_of(frames, what):
    """Energy per frame -> on/off runs [(on, length, first index)]; the threshold is half-way
    (in dB) between the loud and the quiet frames."""
    energy = [rms(f) for f in frames]
    loud = max(energy)
    check(loud > 300, f"  {what}: the tone is audible (loudest frame rms {loud:.0f})")
    threshold = loud * 0.3
    on = [e >= threshold for e in energy]
    runs = []
    for i, v in enumerate(on):
        if runs and runs[-1][0] == v:
            runs[-1][1] += 1
        else:
            runs.append([v, 1, i])
    quiet = [e for e, v in zip(energy, on) if not v]
    check(quiet, f"  {what}: the tone pauses (frames below {threshold:.0f} rms: {len(quiet)} of {len(on)})")
    check( max(quiet) < loud * 0.05, f"  {what}: the off parts are silent (loudest off frame rms "
          f"{max(quiet) if quiet else None}, on {loud:.0f})")
    return [tuple(r) for r in runs]


def check_cadence(frames, on_frames, off_frames, what):
    """The on/off runs between the first and the last (those may be cut): each within 2 frames
    of its length; at least 4 of them. Returns the inner "on" runs."""
    runs = runs_of(frames, what)
    inner = runs[1:-1]
    shape = [("on" if v else "off", n) for v, n, _ in runs]
    check(len(inner) >= 4, f"  {what}: at least 4 whole on/off runs ({len(inner)})", repr(shape))
    bad = [(("on" if v else "off"), n) for v, n, _ in inner if abs(n - (on_frames if v else off_frames)) > 2]
    check(not bad, f"  {what}: on runs {on_frames} +-2 frames, off runs {off_frames} +-2 "
          f"({on_frames * 20}/{off_frames * 20} ms)", f"off the mark: {bad}; all runs: {shape}")
    print(f"  runs (frames): {shape}")
    return [(start, n) for v, n, start in runs if v and n >= 8]


def goertzel(samples, freq, rate=8000):
    """The amplitude of `freq` in `samples` (a sine of amplitude A gives ~A)."""
    n = len(samples)
    k = 2 * math.cos(2 * math.pi * freq / rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + k * s1 - s2, s1
    power = s1 * s1 + s2 * s2 - k * s1 * s2
    return 2 * math.sqrt(max(power, 0.0)) / n


def on_samples(frames, on_runs):
    """The samples of each "on" run, its first and last frame left out (edges)."""
    out = []
    for start, n in on_runs:
        out.append([s for f in frames[start + 1:start + n - 1] for s in f])
    return out


def check_single_tone(frames, on_runs, freq, what):
    parts = on_samples(frames, on_runs)
    check(parts, f"  {what}: on parts to measure")
    for i, part in enumerate(parts):
        hz = zero_crossing_hz(part)
        check(abs(hz - freq) <= 15, f"  {what}: on part {i + 1}: {hz:.0f} Hz (zero crossings), {freq} +-15 expected")
        level = rms(part) * math.sqrt(2)
        a, b, c = goertzel(part, freq), goertzel(part, 480), goertzel(part, 620)
        check(a >= 0.7 * level and b <= 0.2 * level and c <= 0.2 * level,
              f"  {what}: on part {i + 1}: Goertzel {freq} Hz {a:.0f}, 480 Hz {b:.0f}, 620 Hz {c:.0f} "
              f"(peak level {level:.0f})")


def check_dual_tone(frames, on_runs, what):
    parts = on_samples(frames, on_runs)
    check(parts, f"  {what}: on parts to measure")
    for i, part in enumerate(parts):
        level = rms(part)  # two sines of amplitude A: rms A
        g480, g620, g425 = goertzel(part, 480), goertzel(part, 620), goertzel(part, 425)
        check(g480 >= 0.5 * level and g620 >= 0.5 * level and g425 <= 0.15 * level,
              f"  {what}: on part {i + 1}: Goertzel 480 Hz {g480:.0f} and 620 Hz {g620:.0f} strong, "
              f"425 Hz {g425:.0f} weak (rms {level:.0f})")


def check_log(s, tone, status, what):
    lines = re.findall(r"^.*component=calls event=refused_with_tone\b.*$", s.daemon.output(), re.M)
    check(len(lines) == 1 and re.search(rf"event=refused_with_tone call=\d+ tone={tone} status={status}\b", lines[0]),
          f"  {what}: one log line event=refused_with_tone tone={tone} status={status}", repr(lines))


def check_record(s, code, tone, what, direction=None, remote=None):
    row = s.record()
    print(f"  record: {row}")
    d, ext, trunk, number, final, by, answer_ms, notes = row
    check(final == code, f"  {what}: record final_code {final}, {code} expected")
    check(ext == "10", f"  {what}: record of extension 10 ({ext})")
    check(not answer_ms, f"  {what}: never answered: answer_ms empty ({answer_ms})")
    if direction:
        check(d == direction, f"  {what}: direction {d}, {direction} expected")
    if remote:
        check(number == remote, f"  {what}: remote_number {number}, {remote} expected")
    words = (notes or "").split()
    if tone:
        check(f"tone={tone}" in words, f"  {what}: notes name tone={tone} ({notes!r})")
    else:
        check(not any(w.startswith("tone=") for w in words), f"  {what}: no tone in the notes ({notes!r})")
    return row


# --- flows --------------------------------------------------------------------------------------

def tone_busy_extension(binary):
    """DE: 10 calls 11 (dnd): 183, 4 s of 425 Hz 480/480 ms, then 486."""
    with running("calls-tone-busy", binary, Setup) as s:
        what = "busy extension"
        peer = s.rtp()
        r = s.call("busy", "11", peer, "486")
        check_sipp(r, f"{what}: 10 calling 11 (dnd) ends with 486")
        t183, t486, media = check_early(s.h, "busy", 486, 0, what)
        packets = check_packets(peer, 0, t183, t486, media, what)
        frames = frames_of(packets)
        on_runs = check_cadence(frames, 24, 24, what)
        check_single_tone(frames, on_runs, 425, what)
        check_log(s, "busy", 486, what)
        check_record(s, 486, "busy", what, direction="internal", remote="11")


def tone_congestion_no_trunk(binary):
    """DE: 10 dials out, the trunk answers 503: 183, 4 s of 425 Hz 240/240 ms, then 503."""
    with running("calls-tone-congestion", binary, Setup) as s:
        what = "no trunk"
        provider = s.h.sipp_bg(provider_refuses(), s.wan, s.provider_port, name="provider", timeout=30)
        time.sleep(0.3)
        peer = s.rtp()
        r = s.call("out", "0301234567", peer, "503")
        check_sipp(r, f"{what}: 10 dialling out ends with 503")
        s.h.finish(provider, f"{what}: the provider got the INVITE and answered 503")
        invites = s.h.messages("provider", method="INVITE")
        check(len(invites) == 1, f"  {what}: the trunk was tried once ({len(invites)} INVITEs)")
        t183, t503, media = check_early(s.h, "out", 503, 0, what)
        sent = [m for m in sipp_trace(s.h.sipp_messages("provider")) if not m.received and m.first_line.startswith("SIP/2.0 503")]
        check(sent and sent[0].time <= t183 + 0.25, f"  {what}: the tone follows the provider's 503")
        packets = check_packets(peer, 0, t183, t503, media, what)
        frames = frames_of(packets)
        on_runs = check_cadence(frames, 12, 12, what)
        check_single_tone(frames, on_runs, 425, what)
        check_log(s, "congestion", 503, what)
        check_record(s, 503, "congestion", what, direction="outbound", remote="0301234567")


def tone_us_busy(binary):
    """US, the phone offers PCMA: 183, 4 s of 480+620 Hz 500/500 ms, then 486."""
    with running("calls-tone-us", binary, Setup, country="US") as s:
        what = "US busy"
        peer = s.rtp()
        r = s.call("busy", "11", peer, "486", codecs="8 101")
        check_sipp(r, f"{what}: 10 calling 11 (dnd) ends with 486")
        t183, t486, media = check_early(s.h, "busy", 486, 8, what)
        packets = check_packets(peer, 8, t183, t486, media, what)
        frames = frames_of(packets)
        on_runs = check_cadence(frames, 25, 25, what)
        check_dual_tone(frames, on_runs, what)
        check_log(s, "busy", 486, what)
        check_record(s, 486, "busy", what, direction="internal", remote="11")


def tone_off(binary):
    """calls.tones false: the bare 486 within 1 s, no 183, no RTP."""
    with running("calls-tone-off", binary, Setup, tones=False) as s:
        what = "tones off"
        peer = s.rtp()
        r = s.call("busy", "11", peer, "486")
        check_sipp(r, f"{what}: 10 calling 11 (dnd) ends with 486")
        got = responses(s.h, "busy")
        codes = [c for c, _, _ in got]
        check(183 not in codes and not any(re.search(r"^m=audio", m, re.M) for _, _, m in got),
              f"  {what}: no 183, no SDP to the phone {codes}")
        sent = invite_sent_at(s.h, "busy")
        finals = [t for c, t, _ in got if c == 486]
        check(sent is not None and finals and finals[0] - sent <= 1.0,
              f"  {what}: the 486 came within 1 s of the INVITE "
              f"({(finals[0] - sent) if sent and finals else None})")
        time.sleep(1.0)
        check(peer.count() == 0, f"  {what}: no RTP to the phone ({peer.count()} packets)")
        lines = re.findall(r"^.*event=refused_with_tone\b.*$", s.daemon.output(), re.M)
        check(not lines, f"  {what}: no refused_with_tone in the log", repr(lines))
        check_record(s, 486, None, what, direction="internal", remote="11")


def check_prompt_early(h, run, peer, final, prompt, what):
    """The built-in `prompt` as early media (the 183, its packets as long as the prompt, its
    audio: correlation >= 0.95 with the prompt's), then `final`."""
    seconds = prompt_seconds(prompt)
    t183, t_final, media = check_early(h, run, final, 0, what, seconds)
    packets = check_packets(peer, 0, t183, t_final, media, what, seconds)
    heard = [x for p in packets for x in g711_decode(0, p.payload)]
    corr = norm_corr(heard, prompt_samples(prompt))
    check(corr >= 0.95, f"  {what}: the phone heard \"{prompt}\" (correlation {corr:.3f} >= 0.95)")


def check_announcement(s, run, peer, final, reason, what):
    """The built-in "blocked" announcement as early media, then `final`; the log line and the
    record (never answered, refused=`reason` voice_result=announcement)."""
    check_prompt_early(s.h, run, peer, final, "blocked", what)
    lines = re.findall(r"^.*component=calls event=refused_with_announcement\b.*$", s.daemon.output(), re.M)
    check(len(lines) == 1 and re.search(rf"announcement=blocked status={final}\b", lines[0]),
          f"  {what}: one log line event=refused_with_announcement announcement=blocked status={final}", repr(lines))
    row = check_record(s, final, None, what, direction="outbound")
    words = (row[-1] or "").split()
    check(f"refused={reason}" in words and "voice_result=announcement" in words,
          f"  {what}: notes refused={reason} voice_result=announcement ({row[-1]!r})")


def check_refused_number(binary, run, dialled, final, reason, what):
    """10 dials `dialled`, which our own rules refuse: the announcement, then `final`."""
    with running(f"calls-announce-{run}", binary, Setup) as s:
        peer = s.rtp()
        r = s.call(run, dialled, peer, str(final))
        check_sipp(r, f"{what}: 10 dialling {dialled} ends with {final}")
        check_announcement(s, run, peer, final, reason, what)


def announce_blocked_number(binary):
    """A deny rule refuses 0900123456: the announcement as early media, then 403."""
    check_refused_number(binary, "blocked", "0900123456", 403, "deny_rule", "blocked number")


def announce_no_route(binary):
    """No extension 123 and no outbound rule for it: the announcement, then 404."""
    check_refused_number(binary, "noroute", "123", 404, "no_outbound_route", "no route")


FLOWS = {f.__name__: f for f in (tone_busy_extension, tone_congestion_no_trunk, tone_us_busy, tone_off,
                                 announce_blocked_number, announce_no_route)}

if __name__ == "__main__":
    from harness import run_flows
    run_flows(FLOWS)
