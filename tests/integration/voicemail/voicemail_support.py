"""What the voicemail flows share: the daemon with answering machines, sipp providers and phones
built from the calls tests' pieces, an RTP endpoint of the test's own that keeps every packet
it gets (to check what b2bua played) and sends G.711 audio and RFC 4733 events, G.711 in pure
Python, the built-in prompts' lengths, WAV analysis (length, dominant frequency by zero
crossings, normalized cross-correlation), a small SIP UA for MWI (REGISTER + SUBSCRIBE from one
port, answering NOTIFYs), baresip as a LAN phone playing a WAV of the test's own (aufile) and a
tiny SMTP server that keeps the mail it gets.
"""
import math
import os
import random
import signal
import re
import socket
import socketserver
import struct
import sys
import threading
import time
import wave

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
sys.path.insert(0, os.path.join(HERE, "..", "calls"))
from harness import check, check_sipp, fail, wait_until  # noqa: E402
import baresip  # noqa: E402
from records import Records  # noqa: E402
import digest  # noqa: E402
import scenarios as sc  # noqa: E402
from test_transfer import body, first_line, header, media_of, reply, send, take_bye, wrap  # noqa: E402

DID = "+4930123456"
DID2 = "+4930123457"
FAR = "+4989111222"  # the provider's caller (scenarios.provider_dialog)
PASSWORDS = {"10": "pw-ten", "11": "pw-eleven", "12": "pw-twelve"}
PROMPTS = os.path.normpath(os.path.join(HERE, "..", "..", "..", "media", "prompts"))
RECORD_COLUMNS = "direction, extension, trunk, remote_number, final_code, hangup_by, answer_ms, notes"
MESSAGE_COLUMNS = "id, mailbox, caller_number, caller_name, received_ms, duration_ms, size_bytes, file, heard"
PROVIDER_CID = ["-cid_str", "provider-leg-%u-%p@%s"]
BEEP_S = 0.4


# --- G.711 ---------------------------------------------------------------------------------------

def _ulaw_to_lin(u):
    u = ~u & 0xFF
    sign, exp, mant = u & 0x80, (u >> 4) & 7, u & 0x0F
    s = (((mant << 3) + 0x84) << exp) - 0x84
    return -s if sign else s


def _alaw_to_lin(a):
    a ^= 0x55
    sign, exp, mant = a & 0x80, (a >> 4) & 7, a & 0x0F
    s = (mant << 4) + 8 if exp == 0 else ((mant << 4) + 0x108) << (exp - 1)
    return s if sign else -s


def _lin_to_ulaw(s):
    sign = 0
    if s < 0:
        s, sign = -s, 0x80
    s = min(s, 32635) + 0x84
    exp, mask = 7, 0x4000
    while exp > 0 and not s & mask:
        exp, mask = exp - 1, mask >> 1
    return ~(sign | (exp << 4) | ((s >> (exp + 3)) & 0x0F)) & 0xFF


ULAW = [_ulaw_to_lin(i) for i in range(256)]
ALAW = [_alaw_to_lin(i) for i in range(256)]
_ULAW_ENC = bytes(_lin_to_ulaw(s) for s in range(-32768, 32768))


def ulaw_encode(samples):
    return bytes(_ULAW_ENC[max(-32768, min(32767, int(s))) + 32768] for s in samples)


def g711_decode(pt, payload):
    table = ULAW if pt == 0 else ALAW
    return [table[b] for b in payload]


# --- signals and WAV files -----------------------------------------------------------------------

def sine(freq, seconds, amplitude=8000, rate=8000):
    return [int(amplitude * math.sin(2 * math.pi * freq * i / rate)) for i in range(int(rate * seconds))]


def speechlike(seconds, seed=4711, rate=8000):
    """A voice-like signal that never repeats: a few harmonics of a wandering pitch (90-220 Hz),
    their level moved syllable by syllable (60-260 ms, 25-100 %), never silent for long. Its
    envelope is what aligns a recording with it."""
    rnd = random.Random(seed)
    out, phase, n = [], 0.0, int(rate * seconds)
    pitch, target = 140.0, 140.0
    level, seg_left = 0.5, 0
    while len(out) < n:
        if seg_left <= 0:
            seg_left = int(rate * rnd.uniform(0.06, 0.26))
            level = rnd.uniform(0.25, 1.0)
            target = rnd.uniform(90, 220)
        pitch += (target - pitch) * 0.002
        phase += 2 * math.pi * pitch / rate
        v = (math.sin(phase) + 0.6 * math.sin(2 * phase + 0.3) + 0.4 * math.sin(3 * phase + 1.1) +
             0.25 * math.sin(5 * phase + 0.7))
        out.append(int(6000 * level * v))
        seg_left -= 1
    return out


def write_wav(path, samples, rate=8000):
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(struct.pack(f"<{len(samples)}h", *[max(-32768, min(32767, s)) for s in samples]))


def read_wav(path):
    """(rate, channels, sample width, samples) of a PCM WAV."""
    with wave.open(path, "rb") as w:
        rate, channels, width, frames = w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes()
        raw = w.readframes(frames)
    samples = list(struct.unpack(f"<{len(raw) // 2}h", raw)) if width == 2 else []
    return rate, channels, width, samples


def _prompt(name):
    """A built-in prompt's fmt fields and data bytes (8 kHz mono mu-law WAV; the wave module
    knows no format 7, so the chunks are read here)."""
    with open(os.path.join(PROMPTS, f"{name}.wav"), "rb") as f:
        data = f.read()
    pos, fmt, body = 12, None, None
    while pos + 8 <= len(data):
        cid, n = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        if cid == b"fmt ":
            fmt = struct.unpack("<HHIIHH", data[pos + 8:pos + 24])
        elif cid == b"data":
            body = data[pos + 8:pos + 8 + n]
        pos += 8 + n + (n & 1)
    if not fmt or body is None:
        fail(f"cannot read the prompt {name}.wav")
    return fmt, body


def prompt_seconds(name):
    """A built-in prompt's length in seconds."""
    (_, _, rate, _, block_align, _), body = _prompt(name)
    return len(body) / block_align / rate


def prompt_samples(name):
    """A built-in prompt's audio as 16-bit samples (the prompts are mu-law)."""
    (fmt_tag, _, _, _, _, _), body = _prompt(name)
    if fmt_tag != 7:
        fail(f"the prompt {name}.wav is not mu-law (format {fmt_tag})")
    return g711_decode(0, body)


def zero_crossing_hz(samples, rate=8000):
    crossings = sum(1 for a, b in zip(samples, samples[1:]) if (a < 0) != (b < 0))
    return crossings / 2 / (len(samples) / rate) if samples else 0


def norm_corr(a, b):
    n = min(len(a), len(b))
    if n == 0:
        return 0.0
    a, b = a[:n], b[:n]
    ma, mb = sum(a) / n, sum(b) / n
    num = sum((x - ma) * (y - mb) for x, y in zip(a, b))
    da = math.sqrt(sum((x - ma) ** 2 for x in a))
    db = math.sqrt(sum((y - mb) ** 2 for y in b))
    return num / (da * db) if da and db else 0.0


def envelope(samples, frame=80):
    return [sum(abs(x) for x in samples[i:i + frame]) / frame for i in range(0, len(samples) - frame + 1, frame)]


def align(recording, source, rate=8000):
    """Where `recording` starts in `source` and how alike they are there: the lag of the best
    envelope correlation (10 ms frames), refined sample by sample within +-15 ms, and the
    normalized cross-correlation of the samples at that lag. Returns (lag in samples, corr)."""
    frame = rate // 100
    er, es = envelope(recording, frame), envelope(source, frame)
    if len(er) < 20 or len(es) < len(er) // 2:
        return 0, 0.0
    probe = er[:min(len(er), 300)]  # the first 3 s: enough to place it, quick in Python
    best = max(range(0, max(1, len(es) - len(probe) // 2)), key=lambda k: norm_corr(probe, es[k:k + len(probe)]))
    coarse = best * frame
    head = recording[:min(len(recording), rate)]  # the first second decides the fine lag
    fine = max(range(max(0, coarse - 120), coarse + 121),
               key=lambda lag: norm_corr(head, source[lag:lag + len(head)]))
    return fine, norm_corr(recording, source[fine:fine + len(recording)])


# --- RTP -----------------------------------------------------------------------------------------

class Packet:
    __slots__ = ("t", "wall", "pt", "marker", "seq", "ts", "ssrc", "payload")

    def __init__(self, t, data):
        self.t, self.wall = t, time.time()
        self.marker, self.pt = bool(data[1] & 0x80), data[1] & 0x7F
        self.seq, self.ts, self.ssrc = struct.unpack("!HII", data[2:12])
        cc = data[0] & 0x0F
        self.payload = data[12 + 4 * cc:]


class Rtp:
    """An RTP endpoint on a port of the test's own: keeps every packet that arrives (RTCP, on
    the odd port, is not listened to) and sends G.711 audio (20 ms packets, paced in a thread)
    and RFC 4733 events to `destination` (set once b2bua's SDP is known)."""

    def __init__(self, port, ssrc=0x51AB0001):
        self.port, self.ssrc = port, ssrc
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", port))
        self.sock.settimeout(0.05)
        self.received = []
        self.keepalives = []
        self.sources = set()
        self.lock = threading.Lock()
        self.destination = None
        self.seq, self.ts = 1000, 160000
        self.sent = 0
        self.stopping = False
        self.sender = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping:
            try:
                data, source = self.sock.recvfrom(2048)
            except (socket.timeout, OSError):
                continue
            if len(data) >= 12 and data[0] >> 6 == 2:
                packet = Packet(time.monotonic(), data)
                with self.lock:
                    if packet.pt == 20 and not packet.payload:
                        # RFC 6263 keep-alive (b2bua opens NAT mappings with one): no audio.
                        self.keepalives.append((packet, source))
                        continue
                    self.received.append(packet)
                    self.sources.add(source)

    def packets(self, after=0):
        with self.lock:
            return list(self.received[after:])

    def count(self):
        with self.lock:
            return len(self.received)

    def wait_quiet(self, at_least, quiet=0.3, timeout=15, after=0):
        """Waits until at least `at_least` packets arrived (past index `after`) and then none for
        `quiet` s. Returns the packets past `after`."""
        def done():
            p = self.packets(after)
            return len(p) >= at_least and time.monotonic() - p[-1].t >= quiet
        wait_until(done, timeout, 0.02)
        return self.packets(after)

    def _packet(self, pt, payload, marker=False, ts=None):
        data = struct.pack("!BBHII", 0x80, (0x80 if marker else 0) | pt, self.seq & 0xFFFF,
                           (self.ts if ts is None else ts) & 0xFFFFFFFF, self.ssrc) + payload
        self.seq += 1
        return data

    def send_audio(self, samples, pt=0, wait=False):
        """Sends `samples` (8 kHz, 16-bit values) as PCMU packets of 20 ms, paced, from a thread;
        `wait`: returns when the last one is out."""
        if pt != 0:
            fail("the test's RTP endpoint only encodes PCMU")
        payload = ulaw_encode(samples)
        chunks = [payload[i:i + 160] for i in range(0, len(payload) - 159, 160)]

        def run():
            start = time.monotonic()
            for i, chunk in enumerate(chunks):
                if self.stopping:
                    return
                delay = start + i * 0.02 - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                try:
                    self.sock.sendto(self._packet(pt, chunk, marker=i == 0), self.destination)
                    self.sent += 1
                except OSError:
                    pass
                self.ts += 160
        self.sender = threading.Thread(target=run, daemon=True)
        self.sender.start()
        if wait:
            self.sender.join(len(chunks) * 0.02 + 5)
        return len(chunks) * 0.02

    def wait_sent(self, timeout=20):
        if self.sender:
            self.sender.join(timeout)

    def send_event(self, digit, pt, press_ms=100):
        """One key press as RFC 4733 telephone-events (section 2.5): packets every 20 ms with the
        duration growing, the marker on the first, then the end packet three times; one
        timestamp for the whole event."""
        event = "0123456789*#ABCD".index(digit)
        ts = self.ts
        steps = max(1, press_ms // 20)
        for i in range(1, steps + 1):
            payload = struct.pack("!BBH", event, 10, i * 160)
            self.sock.sendto(self._packet(pt, payload, marker=i == 1, ts=ts), self.destination)
            time.sleep(0.02)
        for _ in range(3):
            payload = struct.pack("!BBH", event, 0x80 | 10, steps * 160)
            self.sock.sendto(self._packet(pt, payload, ts=ts), self.destination)
        self.ts += steps * 160 + 160

    def stop(self):
        self.stopping = True
        self.thread.join(2)
        if self.sender:
            self.sender.join(2)
        self.sock.close()


def check_played(packets, seconds, pt, what, tolerance=0.10):
    """What b2bua played in one spurt: `seconds` of audio in 20 ms packets of payload type `pt`
    (count within `tolerance`), one SSRC, consecutive sequence numbers, timestamps 160 apart,
    and paced at about 20 ms (the spurt's span within `tolerance` of the count times 20 ms)."""
    want = seconds / 0.02
    check(packets and abs(len(packets) - want) <= want * tolerance,
          f"  {what}: {len(packets)} packets, {want:.0f} +-{tolerance:.0%} expected ({seconds:.2f} s)")
    odd = [(i, p.pt, p.marker, p.seq, p.ts, p.ssrc, len(p.payload), p.payload[:8].hex()) for i, p in
           enumerate(packets) if p.pt != pt]
    check(not odd, f"  {what}: payload type {pt} in every packet {sorted(set(p.pt for p in packets))}",
          f"the others (index, pt, marker, seq, ts, ssrc, payload bytes, first bytes): {odd[:10]}; "
          f"the first packet: {(packets[0].seq, packets[0].ts, packets[0].ssrc) if packets else None}")
    check(all(len(p.payload) == 160 for p in packets), f"  {what}: 160-byte payloads (20 ms) "
          f"{sorted(set(len(p.payload) for p in packets))}")
    check(len(set(p.ssrc for p in packets)) == 1, f"  {what}: one SSRC")
    seq_ok = all((b.seq - a.seq) & 0xFFFF == 1 for a, b in zip(packets, packets[1:]))
    ts_ok = all((b.ts - a.ts) & 0xFFFFFFFF == 160 for a, b in zip(packets, packets[1:]))
    check(seq_ok and ts_ok, f"  {what}: sequence numbers +1, timestamps +160")
    span = packets[-1].t - packets[0].t
    want_span = (len(packets) - 1) * 0.02
    check(abs(span - want_span) <= max(0.2, want_span * tolerance),
          f"  {what}: paced at 20 ms ({span:.2f} s for {len(packets)} packets, {want_span:.2f} s expected)")
    return packets


def spurt_ends(packets, gap=0.2):
    """Indexes where a pause of more than `gap` s follows a packet (the ends of talk spurts)."""
    return [i for i, (a, b) in enumerate(zip(packets, packets[1:])) if b.t - a.t > gap]


# --- sipp scenario pieces ------------------------------------------------------------------------

def sdp(port, codecs="0 101"):
    """An SDP offering PCMU (and telephone-event 101) on the test's RTP port."""
    rtpmaps = {"0": "a=rtpmap:0 PCMU/8000\n", "8": "a=rtpmap:8 PCMA/8000\n",
               "101": "a=rtpmap:101 telephone-event/8000\na=fmtp:101 0-15\n"}
    return ("v=0\no=peer 53655765 2353687637 IN IP4 127.0.0.1\ns=-\nc=IN IP4 127.0.0.1\nt=0 0\n"
            f"m=audio {port} RTP/AVP {codecs}\n" + "".join(rtpmaps[c] for c in codecs.split()) + "a=sendrecv\n")


def sdp_body(text):
    return "Content-Type: application/sdp\nContent-Length: [len]\n\n" + text


def provider_call(rtp_port, end, caller=FAR, did=DID, codecs="0 101"):
    """The provider calls `did` from `caller` with its audio at the test's RTP port; after the
    200 and the ACK: `end` is ("bye", ms) (its caller hangs up after ms) or ("take_bye", ms)
    (b2bua hangs up within ms)."""
    d = sc.provider_dialog(did, caller)
    invite = d.request("INVITE", 1, sdp_body(sdp(rtp_port, codecs)), headers="User-Agent: ProviderSwitch/9\n",
                       initial=True)
    xml = (send(invite) +
           '<recv response="100" optional="true"/>\n'
           '<recv response="180" optional="true"/>\n'
           '<recv response="183" optional="true"/>\n'
           '<recv response="200" rtd="true"/>\n' + send(d.request("ACK", 1), retrans=False))
    kind, ms = end
    if kind == "bye":
        xml += f'<pause milliseconds="{ms}"/>\n' + d.bye(2)
    else:
        xml += f'<recv request="BYE" timeout="{ms}"/>\n' + send(reply("200 OK"), retrans=False)
    return wrap("provider_call", xml)


def phone_calls(ext, dialled, rtp_port, take_bye_ms=60000):
    """A phone calls `dialled` (407, authenticated INVITE) offering PCMU + telephone-event on the
    test's RTP port, and waits for b2bua's BYE."""
    d = sc.phone_dialog(ext, dialled)
    auth = f"[authentication username={ext} password={PASSWORDS[ext]}]\n"
    offer = sdp_body(sdp(rtp_port))
    xml = (send(d.request("INVITE", 1, offer, headers="User-Agent: TestPhone/1.0\n", initial=True)) +
           '<recv response="100" optional="true"/>\n'
           '<recv response="407" auth="true"/>\n' +
           send(d.request("ACK", 1, branch="[branch-3]"), retrans=False) +
           send(d.request("INVITE", 2, offer, headers="User-Agent: TestPhone/1.0\n" + auth, initial=True)) +
           '<recv response="100" optional="true"/>\n'
           '<recv response="180" optional="true"/>\n'
           '<recv response="183" optional="true"/>\n'
           '<recv response="200" rtd="true"/>\n' + send(d.request("ACK", 2), retrans=False) +
           f'<recv request="BYE" timeout="{take_bye_ms}"/>\n' + send(reply("200 OK"), retrans=False))
    return wrap("phone_calls", xml)


# --- the daemon and its peers --------------------------------------------------------------------

class Setup:
    """The daemon with extensions 10, 11, 12 (voicemail settings per extension from
    `voicemail`), the DID ringing 10 (its mailbox "10" when nobody answers; `routes` replaces
    the inbound rules), an IP-authenticated provider trunk; phones registered by sipp for the
    numbers in `register`."""

    def __init__(self, h, voicemail=None, register=(), routes=None, top=None, files=None, daemon_prefix=()):
        self.h = h
        self.lan_port, self.wan_port, self.provider_port = h.port(3)
        self.relay = h.ports.span(20)
        self.status_port = h.port()
        self.lan, self.wan = f"127.0.0.1:{self.lan_port}", f"127.0.0.1:{self.wan_port}"
        for name, content in (files or {}).items():
            with open(h.path(name), "wb") as f:
                f.write(content)
        extensions = []
        for n, p in PASSWORDS.items():
            e = {"number": n, "password": p}
            if voicemail and n in voicemail:
                e["voicemail"] = voicemail[n]
            extensions.append(e)
        config = {
            "status": {"listen": f"127.0.0.1:{self.status_port}"},
            "lan": {"listen": [f"udp:{self.lan}"], "networks": ["127.0.0.0/8"], "realm": "test.arpa"},
            "wan": {"address": "127.0.0.1", "port": self.wan_port},
            "registrar": {"qualify_interval": 0},
            "extensions": extensions,
            "trunks": [{"name": "provider", "registrar": f"sip:127.0.0.1:{self.provider_port}",
                        "username": sc.TRUNK_USER, "register": False, "numbers": [DID, DID2],
                        "keepalive": {"method": "off"}}],
            "routing": {"inbound": routes or [{"number": DID, "ring": ["10"], "timeout": 20, "voicemail": "10"}],
                        "outbound": [{"prefix": "0", "trunk": "provider"}]},
            "media": {"ports": list(self.relay), "timeout": 30},
        }
        if top is not None:
            config["voicemail"] = top
        self.config = config  # what reload() edits
        self.daemon = h.start_daemon(config, prefix=daemon_prefix)
        self.records = Records(h)
        self.phones = {}
        self.peers = []
        for ext in register:
            self.register(ext)

    def reload(self):
        """Writes `self.config` (as the test changed it) and SIGHUPs the daemon; returns once it
        logged event=config_applied."""
        mark = self.daemon.log_size()
        self.h.write_config(self.config)
        self.daemon.signal(signal.SIGHUP)
        self.daemon.wait_log(r"component=daemon event=config_applied", after=mark)

    def register(self, ext, port=None):
        self.phones[ext] = port or self.h.port()
        r = self.h.sipp(self.h.write_scenario(f"reg{ext}", sc.phone_register(ext, PASSWORDS[ext])), self.lan,
                        self.phones[ext], name=f"reg{ext}")
        check_sipp(r, f"phone {ext} registered")

    def start(self, name, xml, target, port, extra=(), timeout=40):
        log = ["-trace_logs", "-log_file", self.h.path(f"{name}.logs")]
        return self.h.sipp_bg(xml, target, port, name=name, timeout=timeout, extra=[*log, *extra])

    def provider(self, name, xml):
        """A provider's caller: from a port of its own at the trunk's address."""
        return self.start(name, xml, self.wan, self.h.port(), extra=PROVIDER_CID)

    def phone(self, name, xml, ext=None):
        return self.start(name, xml, self.lan, self.phones[ext] if ext else self.h.port())

    def rtp(self):
        port = self.h.port(2)[0]
        peer = Rtp(port, ssrc=0x51AB0000 + port)
        self.peers.append(peer)
        return peer

    def answer_of(self, run, timeout=10):
        """b2bua's 200 to the INVITE of sipp run `run` (its text), once sipp has traced it."""
        def found():
            for m in self.h.messages(run):
                if first_line(m).startswith("SIP/2.0 200") and re.search(r"^CSeq:\s*\d+ INVITE", m, re.M | re.I):
                    return m
            return None
        m = wait_until(found, timeout)
        check(m is not None, f"  {run}: b2bua answered 200")
        return m

    def aim(self, peer, run):
        """Points `peer` at the address in b2bua's answer to `run`; returns the answer."""
        answer = self.answer_of(run)
        addr, port, _ = media_of(answer)
        peer.destination = (addr, port)
        return answer

    def messages(self):
        return self.h.db_rows(f"SELECT {MESSAGE_COLUMNS} FROM voice_messages ORDER BY id")

    def record(self):
        self.records.count += 1
        return self.h.call_records(self.records.count, columns=RECORD_COLUMNS)[-1]

    def folder(self, name="voicemail"):
        """The messages' folder: by default "voicemail" next to the database."""
        return self.h.path(name)

    def stop(self):
        for p in self.peers:
            p.stop()
        self.h.stop_daemon(self.daemon)


def check_voice_answer(answer, pt, what, dtmf=101):
    """b2bua's own answer: the codec of the offer, telephone-event when offered, ptime 20."""
    m = re.search(r"^m=audio (\d+) RTP/AVP ([\d ]+?)\s*$", answer, re.M)
    check(m is not None, f"  {what}: an audio m-line in the 200 ({m.group(0) if m else body(answer)})")
    fmts = m.group(2).split()
    check(fmts[0] == str(pt), f"  {what}: answered with payload type {pt} ({m.group(0)})")
    check(dtmf is None or str(dtmf) in fmts and re.search(rf"^a=rtpmap:{dtmf} telephone-event/8000", answer, re.M),
          f"  {what}: telephone-event {dtmf} answered ({fmts})")
    check(re.search(r"^a=ptime:20\s*$", answer, re.M), f"  {what}: a=ptime:20")
    check(re.search(r"^c=IN IP4 127\.0\.0\.1\s*$", answer, re.M), f"  {what}: media at 127.0.0.1")


def message_findings(row, mailbox, caller, seconds, tolerance_ms, what, folder):
    """The rules one stored message meets, in order, as (condition, text) pairs: its row
    (mailbox, caller, duration within tolerance, size) and its WAV file in `folder` (8 kHz mono
    16-bit, as long as the row says). A generator, so that a caller stopping at the first
    failure never reads a file that is not there."""
    _id, box, number, _name, received_ms, duration_ms, size_bytes, file, heard = row
    yield box == mailbox and number == caller, f"  {what}: mailbox {box}, caller {number}"
    yield (abs(duration_ms - seconds * 1000) <= tolerance_ms,
           f"  {what}: duration {duration_ms} ms, {seconds * 1000:.0f} +-{tolerance_ms} ms expected")
    yield heard == 0, f"  {what}: not heard yet"
    yield abs(received_ms / 1000 - time.time()) < 120, f"  {what}: received_ms is now ({received_ms})"
    yield (re.fullmatch(rf"{mailbox}/\d{{13}}-[0-9a-f]{{8}}\.wav", file or ""),
           f"  {what}: file <mailbox>/<ms>-<hex>.wav ({file})")
    path = os.path.join(folder, file)
    yield os.path.isfile(path), f"  {what}: the WAV exists ({path})"
    yield (os.path.getsize(path) == size_bytes,
           f"  {what}: size_bytes {size_bytes} is the file's size ({os.path.getsize(path)})")
    rate, channels, width, samples = read_wav(path)
    yield (rate, channels, width) == (8000, 1, 2), f"  {what}: 8 kHz mono 16-bit ({rate}, {channels}, {width})"
    yield abs(len(samples) / 8 - duration_ms) <= 1, f"  {what}: the file holds {len(samples) / 8:.0f} ms"


def check_message(s, row, mailbox, caller, seconds, tolerance_ms, what, folder="voicemail"):
    """One stored message (message_findings), each rule a check. Returns the file's samples."""
    for condition, text in message_findings(row, mailbox, caller, seconds, tolerance_ms, what, s.folder(folder)):
        check(condition, text)
    return read_wav(os.path.join(s.folder(folder), row[7]))[3]


def notes_of(row):
    return (row[-1] or "").split()


def log_lines(s, event):
    return re.findall(rf"^.*component=voicemail event={event}\b.*$", s.daemon.output(), re.M)


def greeting_seconds():
    return prompt_seconds("greeting") + BEEP_S


# --- MWI: a phone of the test's own --------------------------------------------------------------

class MwiPhone:
    """A phone as a UDP socket speaking SIP: registers ext from its port (401, digest), then
    SUBSCRIBEs message-summary from the same port (or from `port` of another socket) and
    answers every NOTIFY 200, keeping their bodies. With `silent` set it keeps them and answers
    nothing (a phone switched off with its subscription still running)."""

    def __init__(self, s, ext, port=None, register=True):
        self.s, self.ext = s, ext
        self.port = port or s.h.port()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.settimeout(0.05)
        self.server = ("127.0.0.1", s.lan_port)
        self.call_id = f"{random.getrandbits(64):x}@mwi-test"
        self.tag = f"{random.getrandbits(32):x}"
        self.cseq = 0
        self.responses = []
        self.notifies = []
        self.lock = threading.Lock()
        self.stopping = False
        self.silent = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        s.peers.append(self)
        if register:
            self.register()

    def _run(self):
        while not self.stopping:
            try:
                data, source = self.sock.recvfrom(65535)
            except (socket.timeout, OSError):
                continue
            text = data.decode(errors="replace")
            if text.startswith("SIP/2.0 "):
                with self.lock:
                    self.responses.append(text)
                continue
            if text.startswith("NOTIFY "):
                with self.lock:
                    self.notifies.append(text)
                if not self.silent:
                    self._answer(text, source)
            elif text.split(" ", 1)[0] in ("OPTIONS", "INVITE", "MESSAGE", "INFO"):
                self._answer(text, source, "405 Method Not Allowed" if not text.startswith("OPTIONS") else "200 OK")

    def _answer(self, request, source, status="200 OK"):
        head = request.split("\r\n\r\n", 1)[0].split("\r\n")
        keep = [line for line in head[1:] if re.match(r"(?i)(via|v|from|f|to|t|call-id|i|cseq):", line)]
        to_tagged = []
        for line in keep:
            if re.match(r"(?i)(to|t):", line) and ";tag=" not in line:
                line += f";tag={self.tag}sub"
            to_tagged.append(line)
        msg = "\r\n".join([f"SIP/2.0 {status}", *to_tagged, "Content-Length: 0", "", ""])
        self.sock.sendto(msg.encode(), source)

    def _request(self, method, ruri, to, headers, timeout=3):
        self.cseq += 1
        branch = f"z9hG4bK{random.getrandbits(48):x}"
        lines = [f"{method} {ruri} SIP/2.0",
                 f"Via: SIP/2.0/UDP 127.0.0.1:{self.port};rport;branch={branch}",
                 "Max-Forwards: 70",
                 f"From: <sip:{self.ext}@127.0.0.1>;tag={self.tag}",
                 f"To: {to}",
                 f"Call-ID: {self.call_id}",
                 f"CSeq: {self.cseq} {method}",
                 f"Contact: <sip:{self.ext}@127.0.0.1:{self.port}>",
                 *headers, "User-Agent: MwiTestPhone/1.0", "Content-Length: 0", "", ""]
        with self.lock:
            seen = len(self.responses)
        self.sock.sendto("\r\n".join(lines).encode(), self.server)

        def final():
            with self.lock:
                for r in self.responses[seen:]:
                    if int(r.split()[1]) >= 200 and re.search(rf"^CSeq:\s*{self.cseq} {method}", r, re.M | re.I):
                        return r
            return None
        return wait_until(final, timeout, 0.02)

    def register(self):
        uri = f"sip:127.0.0.1:{self.s.lan_port}"
        to = f"<sip:{self.ext}@127.0.0.1>"
        r = self._request("REGISTER", uri, to, ["Expires: 300"])
        check(r is not None and int(r.split()[1]) == 401, f"  MWI phone {self.ext}: REGISTER challenged (401)")
        m = re.search(r"^WWW-Authenticate:\s*(.*?)\s*$", r, re.M | re.I)
        auth = digest.authorization(digest.params(m.group(1)), self.ext, PASSWORDS[self.ext], "REGISTER", uri, nc=1,
                                    cnonce="0a4f113b")
        r = self._request("REGISTER", uri, to, ["Expires: 300", f"Authorization: {auth}"])
        check(r is not None and int(r.split()[1]) == 200, f"  MWI phone {self.ext} registered from port {self.port}")

    def reboot(self):
        """Registers again as the same phone after a restart: same port and Contact, a new
        Call-ID and From tag (RFC 3261 10.2.4: one Call-ID per boot cycle)."""
        self.call_id = f"{random.getrandbits(64):x}@mwi-test"
        self.tag = f"{random.getrandbits(32):x}"
        self.register()

    def subscribe(self, mailbox=None, expires=600):
        """SUBSCRIBE message-summary for `mailbox`; returns the final status."""
        mailbox = mailbox or self.ext
        uri = f"sip:{mailbox}@127.0.0.1:{self.s.lan_port}"
        self.call_id = f"{random.getrandbits(64):x}@mwi-sub"  # a dialog of its own
        r = self._request("SUBSCRIBE", uri, f"<sip:{mailbox}@127.0.0.1>",
                          ["Event: message-summary", "Accept: application/simple-message-summary",
                           f"Expires: {expires}"])
        return int(r.split()[1]) if r else 0

    def summaries(self):
        """The Voice-Message counts of the NOTIFYs so far, in order: [(new, old), ...]."""
        out = []
        with self.lock:
            notifies = list(self.notifies)
        for n in notifies:
            m = re.search(r"^Voice-Message:\s*(\d+)/(\d+)", n, re.M | re.I)
            out.append((int(m.group(1)), int(m.group(2))) if m else None)
        return out

    def bodies(self):
        with self.lock:
            return [n.split("\r\n\r\n", 1)[1] if "\r\n\r\n" in n else "" for n in self.notifies]

    def count(self):
        with self.lock:
            return len(self.notifies)

    def since(self, n):
        """The NOTIFYs past the first `n`."""
        with self.lock:
            return list(self.notifies[n:])

    def stop(self):
        self.stopping = True
        self.thread.join(2)
        self.sock.close()


# --- SMTP: a mail server of the test's own --------------------------------------------------------

class SmtpSink:
    """A plain SMTP server (no TLS, no login) on 127.0.0.1:`port` that accepts every mail and
    keeps it: (envelope sender, recipients, data with the dot-stuffing undone and the final
    "." line dropped). stop() closes it (connections are then refused), start() opens it again
    on the same port."""

    def __init__(self, port):
        self.port = port
        self.mails = []
        self.sessions = []  # the commands of each connection, as received
        self.lock = threading.Lock()
        self.server = None
        self.start()

    def start(self):
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def say(self, *lines):
                self.wfile.write(b"".join(line.encode() + b"\r\n" for line in lines))
                self.wfile.flush()

            def handle(self):
                commands = []
                with sink.lock:
                    sink.sessions.append(commands)
                sender, rcpts = None, []
                self.say("220 sink.test ESMTP test sink")
                while True:
                    raw = self.rfile.readline()
                    if not raw:
                        return
                    line = raw.decode(errors="replace").rstrip("\r\n")
                    commands.append(line)
                    verb = line.split(" ", 1)[0].upper()
                    if verb == "EHLO":
                        self.say("250-sink.test", "250 8BITMIME")
                    elif verb == "HELO":
                        self.say("250 sink.test")
                    elif verb == "MAIL":
                        m = re.match(r"(?i)MAIL FROM:\s*<([^>]*)>", line)
                        sender, rcpts = (m.group(1), []) if m else (None, [])
                        self.say("250 OK" if m else "501 syntax")
                    elif verb == "RCPT":
                        m = re.match(r"(?i)RCPT TO:\s*<([^>]*)>", line)
                        if m and sender is not None:
                            rcpts.append(m.group(1))
                        self.say("250 OK" if m and sender is not None else "503 sequence")
                    elif verb == "DATA":
                        if not rcpts:
                            self.say("503 no recipients")
                            continue
                        self.say("354 end with <CRLF>.<CRLF>")
                        data = []
                        while True:
                            raw = self.rfile.readline()
                            if not raw or raw in (b".\r\n", b".\n"):
                                break
                            data.append(raw[1:] if raw.startswith(b".") else raw)
                        if not raw:
                            return
                        with sink.lock:
                            sink.mails.append((sender, list(rcpts), b"".join(data)))
                        sender, rcpts = None, []
                        self.say("250 OK queued")
                    elif verb in ("RSET", "NOOP"):
                        if verb == "RSET":
                            sender, rcpts = None, []
                        self.say("250 OK")
                    elif verb == "QUIT":
                        self.say("221 bye")
                        return
                    else:
                        self.say("502 not implemented")

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self.server = Server(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def received(self):
        with self.lock:
            return list(self.mails)

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


# --- baresip playing a WAV -----------------------------------------------------------------------

class Baresip(baresip.Baresip):
    """baresip registered as `ext` (no auto-answer, `codec` only), its audio from `wav`
    (aufile), played to nowhere (aubridge); -s -v: its SIP trace and stream lines in its log.
    Returns once the daemon has its binding."""

    def __init__(self, s, ext, wav, codec="PCMA"):
        rtp = s.h.ports.span(10)
        super().__init__(s.h, ext, s.lan, PASSWORDS[ext],
                         config=(f"rtp_ports {rtp[0]}-{rtp[1]}\nmodule aufile.so\nmodule aubridge.so\n"
                                 f"audio_source aufile,{wav}\naudio_player aubridge,nowhere\n"
                                 "audio_alert aubridge,nowhere\nausrc_srate 8000\nausrc_channels 1\n"),
                         account=f"answermode=manual;regint=300;audio_codecs={codec}", args=("-s", "-v"))
        s.daemon.wait_log(rf"event=binding_added ext={ext} contact=127.0.0.1:{self.sip_port} ", timeout=10)
