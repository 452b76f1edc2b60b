#!/usr/bin/env python3
"""Malformed messages against both sides of the daemon: the corpus of torture/ (RFC 4475 cases
written for this project, missing and repeated headers, scalar overflow, bad SDP; see
torture/README.md) plus generated cases (truncations of a valid INVITE at many offsets, very
large messages, 500 headers, binary garbage).

Every message goes to one side: the LAN port from 127.0.0.1 (inside lan.networks), over UDP or
one TCP connection each; or the WAN port, from the trunk's server address (the gate lets it
through) or from a stranger's address (wan.strangers "drop": silence). On the LAN the messages
that carry $AUTH come with valid digest credentials, so they reach the registrar and the call
logic (routing, the SDP parser, the relay, the trunk) and not only the challenge. A registered
phone and the provider are plain sockets here that answer every INVITE busy, so calls end at
once; what reaches them is checked too (the SDP they get names only the relay).

After each message the daemon must answer an OPTIONS on the LAN port within a second. Each
answer must fit its case: a response, a stray ACK or a stranger's request gets nothing (an
INVITE of a stranger may get the stack's 100 Trying: tests/integration/trunk/test_nat.py);
an invalid request a 4xx or nothing, never a 2xx; no request a 5xx but the few a case allows
(501 for an unknown method, 505 for an unknown version). At the end the daemon still runs, a
phone registers with digest and places a call through the trunk, and the daemon exits cleanly
(no sanitizer report). A table shows per message what came back.
"""
import os
import random
import re
import select
import socket
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
from harness import Harness, check, check_sipp, fail, run_flows, wait_until  # noqa: E402
import digest  # noqa: E402
import scenarios  # noqa: E402
from sip_client import Client, register, status_of  # noqa: E402
import status_http  # noqa: E402

CORPUS = os.path.join(HERE, "torture")
DID = "+4930123456"           # the trunk's number: rings extension 10
DIALLED = "0301234567"        # what a phone dials to reach the trunk
LAN_SOURCE = "127.0.0.1"      # inside lan.networks
TRUNK_HOST = "127.0.0.3"      # the trunk's server: the WAN gate lets it through
STRANGER = "127.0.0.5"        # no trunk's server: wan.strangers "drop"
UDP_MAX = 65507               # the largest UDP payload over IPv4
ANSWER_WINDOW = 0.25          # how long a message's answers are awaited when none is final (later ones still count)
# A stranger is owed no answer at all (a 100 Trying to an INVITE at most), so its messages are
# hardly waited on: an answer that comes later is swept up (sweep_late, once the corpus is sent
# and again after the daemon's exit) and judged the same as one in the window, and an INVITE that
# reaches a far end counts whenever it comes during the stranger's corpus.
STRANGER_WINDOW = 0.05
FINAL_GRACE = 0.05            # after a final answer: room for a second one
ALIVE_TIMEOUT = 1.0           # the OPTIONS after each message
CALL_END_TIMEOUT = 1.5        # a call ends this soon after its final answer

# Wrong answers the daemon gives today, each to be fixed in the daemon (the reason says where):
# (flows, cases, why). A flow fails once a case listed for it passes, so the mark goes with the fix.
LAN_AND_TRUNK = ("torture_lan", "torture_lan_tcp", "torture_wan_trunk")
KNOWN_FAILURES = [
    (LAN_AND_TRUNK, ("sdp-port-count-huge",),
     "a port count that runs past port 65535 is taken (media/sdp_rewrite.cpp, inspect_sdp); the count itself "
     "no longer crosses to the other side"),
    (LAN_AND_TRUNK, ("sdp-c-ipv6-as-ip4",),
     "\"c=IN IP4 ::1\" is taken as an IPv6 address and the call goes out (media/sdp_rewrite.cpp, inspect_sdp "
     "does not match the address to c_addrtype)"),
    (LAN_AND_TRUNK, ("header-no-colon", "empty-header-name", "folded-request-line"),
     "sofia's default NTATAG_BAD_REQ_MASK lets a request with a line it cannot parse through; "
     "NTATAG_BAD_REQ_MASK(~0U) would answer them 400, at the risk of refusing phones that send one malformed "
     "header we do not need"),
    (LAN_AND_TRUNK, ("empty-callid", "ctl-in-values"),
     "sofia's parser takes an empty Call-ID and control octets in a quoted string and a Call-ID, and OPTIONS "
     "is answered 200 without the daemon looking (nua itself on the LAN, TrunkManager::gate on the WAN)"),
]


def known_failures(flow):
    """case -> why, for one flow."""
    return {case: why for flows, cases, why in KNOWN_FAILURES if flow in flows for case in cases}


# --- the corpus ---

PLACEHOLDER = re.compile(r"\$(DSTHOST|DST|SRCHOST|SRCPORT|SRC|PROTO|BRANCH|CALLEE|CALLID|RTP|AUTH)\b")


class Case:
    """One message: `build(ctx)` gives its bytes for one send."""

    def __init__(self, name, expect, what, build, source="own", allow=()):
        self.name, self.expect, self.what, self.build, self.source = name, expect, what, build, source
        self.allow = set(allow)


def read_case_file(path):
    """(metadata dict, message template) of a corpus file."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    meta = {}
    lines = text.split("\n")
    while lines and lines[0].startswith("# "):
        key, _, value = lines.pop(0)[2:].partition(":")
        meta[key.strip()] = value.strip()
    return meta, "\n".join(lines)


def expand(template, ctx, eol="\r\n"):
    """The bytes of a message template (torture/README.md) for one send."""
    text = template.replace("\n", eol)
    text = re.sub(r"<allOneLine>(.*?)</allOneLine>", lambda m: m.group(1).replace(eol, ""), text, flags=re.S)
    text = re.sub(r'<repeat count="(\d+)">(.*?)</repeat>', lambda m: m.group(2) * int(m.group(1)), text, flags=re.S)
    text = PLACEHOLDER.sub(lambda m: "$AUTH" if m.group(1) == "AUTH" else str(ctx[m.group(1)]), text)
    # Credentials answer for the method and Request-URI of the request line as it will be sent.
    request_line = text.lstrip("\r\n").split(eol, 1)[0].split()
    auth = ctx["auth"](request_line[0], request_line[1] if len(request_line) > 1 else "")
    text = text.replace("$AUTH" + eol, auth + eol if auth else "")
    parts = re.split(r"<hex>(.*?)</hex>", text, flags=re.S)
    data = b"".join(bytes.fromhex(p) if i % 2 else p.encode("utf-8") for i, p in enumerate(parts))
    head, sep, body = data.partition(b"\r\n\r\n" if eol == "\r\n" else b"\n\n")
    return data.replace(b"$CL", str(len(body)).encode()) if sep else data


def file_cases():
    cases = []
    for name in sorted(os.listdir(CORPUS)):
        if not name.endswith(".sip"):
            continue
        meta, template = read_case_file(os.path.join(CORPUS, name))
        if "body-of" in meta:
            # The headers of another file, this file's text as the body.
            _, base = read_case_file(os.path.join(CORPUS, meta["body-of"]))
            template = base.split("\n\n", 1)[0] + "\n\n" + template
        eol = "\n" if meta.get("eol") == "lf" else "\r\n"
        allow = {int(c) for c in meta.get("allow", "").split()}
        cases.append(Case(name[:-4], meta["expect"], meta.get("what", ""),
                          lambda ctx, t=template, e=eol: expand(t, ctx, e), meta.get("source", "own"), allow))
    return cases


def options_with(name, extra_headers, body=b""):
    """An OPTIONS of our own with `extra_headers` (a list of str) before Content-Length."""
    def build(ctx):
        head = (f"OPTIONS sip:user@{ctx['DSTHOST']} SIP/2.0\r\n"
                f"Via: SIP/2.0/{ctx['PROTO']} {ctx['SRC']};branch={ctx['BRANCH']}\r\n"
                f"Max-Forwards: 70\r\nFrom: <sip:caller@example.net>;tag={name}\r\nTo: <sip:user@example.com>\r\n"
                f"Call-ID: {ctx['CALLID']}\r\nCSeq: 1 OPTIONS\r\n")
        return (head + "".join(h + "\r\n" for h in extra_headers) + f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    return build


def generated_cases(base_template):
    """Truncations of the base INVITE, very large and crowded messages, binary garbage."""
    cases = []
    rng = random.Random(4475)

    def base(ctx):
        return expand(base_template, ctx)

    # Truncations: at the start and in the middle of every line, and between the CR and LF of
    # the line ends that matter (the request line's, the empty line's). Lines are found by what
    # they are, since the credentials line exists only on the LAN.
    def cut(key, middle):
        def build(ctx):
            data = base(ctx)
            spans = dict((k, (s, e)) for k, s, e in _lines(data))
            if key not in spans:
                return None
            s, e = spans[key]
            return data[:s + max(1, (e - s) // 2)] if middle else data[:s]
        return build

    for key, _, _ in _lines(base(_sample_ctx())):
        name = key.lower()
        if key != "request-line":
            cases.append(Case(f"trunc-{name}-start", "invalid", f"the base INVITE cut before its {key} line",
                              cut(key, False)))
        cases.append(Case(f"trunc-{name}-middle", "invalid", f"the base INVITE cut in the middle of its {key} line",
                          cut(key, True)))

    def at(where):
        def build(ctx):
            data = base(ctx)
            return data[:where(data)]
        return build

    cases.append(Case("trunc-request-line-cr", "invalid", "the request line alone, cut between CR and LF",
                      at(lambda d: d.find(b"\r\n") + 1)))
    cases.append(Case("trunc-empty-line-cr", "invalid", "the headers whole, cut between the CR and LF of the empty line",
                      at(lambda d: d.find(b"\r\n\r\n") + 3)))
    cases.append(Case("trunc-last-byte", "invalid", "the base INVITE without its last byte", at(lambda d: len(d) - 1)))

    # Large messages: the daemon should take what fits 64 KiB and refuse more.
    cases.append(Case("big-header-60k", "lenient", "an OPTIONS with one header of 60 KB",
                      options_with("big60", ["X-Filler: " + "a" * 60 * 1024])))
    cases.append(Case("big-display-60k", "lenient", "an authenticated INVITE whose From display name is 60 KB",
                      lambda ctx: expand(base_template.replace('"Torture Base"', '"' + "D" * 60 * 1024 + '"'), ctx)))
    cases.append(Case("udp-max-datagram", "lenient", f"an OPTIONS of exactly {UDP_MAX} bytes, the largest UDP payload",
                      lambda ctx: _pad_to(options_with("udpmax", ["X-Filler: "]), ctx, UDP_MAX)))
    cases.append(Case("big-header-200k", "invalid",
                      "an OPTIONS with one header of 200 KB (past any sane limit; over UDP it cannot be sent)",
                      options_with("big200", ["X-Filler: " + "b" * 200 * 1024])))
    cases.append(Case("big-body-200k", "invalid", "an authenticated INVITE with 200 KB of SDP attributes",
                      lambda ctx: expand(base_template + "a=x-filler:" + "c" * 200 * 1024 + "\n", ctx)))
    cases.append(Case("headers-500", "lenient", "an OPTIONS with 500 unknown headers",
                      options_with("h500", [f"X-Header-{n}: value-{n}" for n in range(500)])))
    cases.append(Case("via-500", "lenient", "an OPTIONS with 500 Via headers below ours",
                      options_with("via500", [f"Via: SIP/2.0/UDP 192.0.2.{n % 250 + 1}:{5060 + n};branch=z9hG4bK{n}"
                                              for n in range(500)])))
    cases.append(Case("record-route-500", "lenient", "an authenticated INVITE with 500 Record-Route headers",
                      lambda ctx: expand(base_template.replace(
                          "Contact:", "".join(f"Record-Route: <sip:rr{n}.example.com;lr>\n" for n in range(500)) +
                          "Contact:"), ctx)))
    cases.append(Case("contacts-500", "lenient",
                      "an authenticated REGISTER with 500 different Contacts (the registrar keeps 16 an AoR)",
                      lambda ctx: _register_contacts(ctx, 500)))

    # Binary garbage (fixed seed: the same bytes every run).
    for size in (16, 512, 1400, 8000, 60000):
        blob = bytes(rng.getrandbits(8) for _ in range(size))
        cases.append(Case(f"garbage-random-{size}", "invalid", f"{size} random bytes", lambda ctx, b=blob: b))
    cases.append(Case("garbage-nul-1000", "invalid", "1000 NUL bytes", lambda ctx: b"\0" * 1000))
    cases.append(Case("garbage-ff-1000", "invalid", "1000 bytes 0xff", lambda ctx: b"\xff" * 1000))
    tail = bytes(rng.getrandbits(8) for _ in range(2000))
    cases.append(Case("garbage-after-start-line", "invalid", "an INVITE request line, then 2000 random bytes",
                      lambda ctx: f"INVITE sip:{ctx['CALLEE']}@{ctx['DSTHOST']} SIP/2.0\r\n".encode() + tail))
    body = bytes(rng.getrandbits(8) for _ in range(700))
    cases.append(Case("garbage-body", "lenient", "a well-formed OPTIONS with 700 random bytes as its body",
                      options_with("gbody", ["Content-Type: application/octet-stream"], body)))
    cases.append(Case("garbage-response", "response", "a status line, then random bytes",
                      lambda ctx: b"SIP/2.0 200 OK\r\n" + tail[:500]))
    cases.append(Case("http-get", "invalid", "an HTTP request", lambda ctx: (
        f"GET / HTTP/1.1\r\nHost: {ctx['DST']}\r\nUser-Agent: torture\r\n\r\n").encode()))
    cases.append(Case("empty-message", "response", "no byte at all (an empty datagram, a connection closed at once)",
                      lambda ctx: b""))
    cases.append(Case("crlf-keepalive", "keepalive", "a CRLF keep-alive ping alone (RFC 5626 4.4.1)",
                      lambda ctx: b"\r\n\r\n"))
    stun = bytes.fromhex("0001 0000 2112a442") + bytes(rng.getrandbits(8) for _ in range(12))
    cases.append(Case("stun-binding", "keepalive", "a STUN binding request (RFC 5389, the keep-alive of RFC 5626 "
                      "over UDP)", lambda ctx: stun))
    return cases


def _lines(data):
    """(what the line is, start, end) for every line of a message: "request-line", a header's
    name, "empty-line", "sdp-v", "sdp-a2", ... (a second line of a kind gets its number)."""
    out, seen, at, body = [], {}, 0, False
    while at < len(data):
        nl = data.find(b"\r\n", at)
        end = len(data) if nl < 0 else nl
        line = data[at:end]
        if at == 0:
            key = "request-line"
        elif body:
            key = "sdp-" + line[:1].decode(errors="replace")
        elif not line:
            key, body = "empty-line", True
        else:
            key = line.split(b":", 1)[0].strip().decode(errors="replace")
        seen[key] = seen.get(key, 0) + 1
        out.append((key if seen[key] == 1 else f"{key}{seen[key]}", at, end))
        at = end + 2
    return out


def _pad_to(build, ctx, size):
    data = build(ctx)
    return data.replace(b"X-Filler: ", b"X-Filler: " + b"p" * (size - len(data)), 1)


def _register_contacts(ctx, n):
    contacts = ", ".join(f"<sip:20@{ctx['SRCHOST']}:{1000 + i}>" for i in range(n))
    auth = ctx["auth"]("REGISTER", f"sip:{ctx['DSTHOST']}")
    return (f"REGISTER sip:{ctx['DSTHOST']} SIP/2.0\r\nVia: SIP/2.0/{ctx['PROTO']} {ctx['SRC']};branch={ctx['BRANCH']}\r\n"
            f"Max-Forwards: 70\r\nTo: <sip:20@{ctx['DSTHOST']}>\r\nFrom: <sip:20@{ctx['DSTHOST']}>;tag=c500\r\n"
            f"Call-ID: {ctx['CALLID']}\r\nCSeq: 1 REGISTER\r\n" + (auth + "\r\n" if auth else "") +
            f"Contact: {contacts}\r\nExpires: 60\r\nContent-Length: 0\r\n\r\n").encode()


def _sample_ctx():
    """A context of the usual lengths, for laying out the generated cuts."""
    return {"SRC": "127.0.0.1:40000", "SRCHOST": "127.0.0.1", "SRCPORT": 40000, "DST": "127.0.0.1:21000",
            "DSTHOST": "127.0.0.1", "PROTO": "UDP", "BRANCH": "z9hG4bK0", "CALLEE": DIALLED, "CALLID": "x@y",
            "RTP": 21001, "auth": lambda method, ruri: "Proxy-Authorization: " + "x" * 250}


def corpus():
    files = file_cases()
    _, base = read_case_file(os.path.join(CORPUS, "base-invite-sdp.sip"))
    cases = files + generated_cases(base)
    names = [c.name for c in cases]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        fail(f"corpus names used twice: {sorted(dup)}")
    return cases


# --- the far ends: a registered phone and the provider, both busy ---

def _headers(text):
    out = []
    for line in text.split("\r\n\r\n", 1)[0].split("\r\n")[1:]:
        name, _, value = line.partition(":")
        out.append((name.strip(), value.strip()))
    return out


class BusyPeer:
    """A UDP socket that answers every INVITE 486 and every other request 200 (ACK nothing),
    and keeps what it got."""

    def __init__(self, host, port):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.requests = []            # (monotonic time, text)
        self.lock = threading.Lock()
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while self.running:
            ready, _, _ = select.select([self.sock], [], [], 0.1)
            if not ready:
                continue
            try:
                data, peer = self.sock.recvfrom(65535)
            except OSError:
                return
            text = data.decode("utf-8", errors="replace")
            if text.startswith("SIP/2.0") or " SIP/2.0\r\n" not in text.split("\r\n", 1)[0] + "\r\n":
                continue
            method = text.split(" ", 1)[0]
            with self.lock:
                self.requests.append((time.monotonic(), text))
            if method == "ACK":
                continue
            status = "486 Busy Here" if method == "INVITE" else "200 OK"
            lines = [f"SIP/2.0 {status}"]
            for name, value in _headers(text):
                low = name.lower()
                if low in ("via", "v", "from", "f", "call-id", "i", "cseq"):
                    lines.append(f"{name}: {value}")
                elif low in ("to", "t"):
                    lines.append(f"{name}: {value}" + ("" if ";tag=" in value else ";tag=busy"))
            lines += ["Content-Length: 0", "", ""]
            try:
                self.sock.sendto("\r\n".join(lines).encode(), peer)
            except OSError:
                pass

    def invites_since(self, t0):
        with self.lock:
            return [text for t, text in self.requests if t >= t0 and text.startswith("INVITE ")]

    def close(self):
        self.running = False
        self.thread.join(2)
        self.sock.close()


# --- digest credentials for $AUTH ---

class Credentials:
    """Digest answers of extension 10 (INVITE, for the calls' proxy challenge) and 20 (REGISTER),
    on nonces the daemon issued, fetched again before they go stale; nc grows per use."""

    USERS = {"INVITE": ("10", "pw-ten"), "REGISTER": ("20", "pw-twenty")}

    def __init__(self, lan_port):
        self.lan_port = lan_port
        self.nonces = {}              # kind -> (challenge, fetched at, nc)

    def header(self, method, ruri):
        kind = "REGISTER" if method == "REGISTER" else "INVITE"
        challenge, fetched, nc = self.nonces.get(kind, (None, 0, 0))
        if challenge is None or time.monotonic() - fetched > 60:
            challenge, fetched, nc = self._fetch(kind), time.monotonic(), 0
        nc += 1
        self.nonces[kind] = (challenge, fetched, nc)
        user, password = self.USERS[kind]
        value = digest.authorization(challenge, user, password, kind, ruri, nc=nc, cnonce=f"t{nc:x}")
        return ("Authorization: " if kind == "REGISTER" else "Proxy-Authorization: ") + value

    def _fetch(self, kind):
        user = self.USERS[kind][0]
        with Client(self.lan_port, 0, user) as c:
            if kind == "REGISTER":
                r = c.register(expires=60)
                ch = r.challenge("MD5") if r is not None and r.status == 401 else None
            else:
                r = c.request("INVITE", ruri=f"sip:{DIALLED}@127.0.0.1:{self.lan_port}", to_user=DIALLED,
                              headers=[f"Contact: <sip:{user}@{c.local[0]}:{c.local[1]}>"])
                ch = None
                if r is not None and r.status == 407:
                    _ack(c.sock, r.raw, c.server, f"sip:{DIALLED}@127.0.0.1:{self.lan_port}")
                    for value in r.all("proxy-authenticate"):
                        p = digest.params(value)
                        if p.get("algorithm", "MD5").upper() == "MD5":
                            ch = p
        if ch is None:
            fail(f"no {kind} challenge from the daemon: {r.raw if r is not None else 'no answer'}")
        return ch


def _ack(sock, response_text, dest, ruri, stream=False):
    """ACK for a non-2xx final answer to one of our INVITEs, built from that answer (RFC 3261
    17.1.1.3: same branch, the answer's To tag)."""
    hs = _headers(response_text)
    via = next((v for n, v in hs if n.lower() in ("via", "v")), None)
    fields = {n.lower(): v for n, v in reversed(hs)}
    cseq = fields.get("cseq", "")
    if not via or not cseq.split():
        return
    msg = (f"ACK {ruri} SIP/2.0\r\nVia: {via}\r\nMax-Forwards: 70\r\nFrom: {fields.get('from', '')}\r\n"
           f"To: {fields.get('to', '')}\r\nCall-ID: {fields.get('call-id', '')}\r\nCSeq: {cseq.split()[0]} ACK\r\n"
           "Content-Length: 0\r\n\r\n").encode()
    try:
        if stream:
            sock.sendall(msg)
        else:
            sock.sendto(msg, dest)
    except OSError:
        pass


def _ruri(request):
    """The Request-URI of a request we sent (an ACK repeats it: RFC 3261 17.1.1.3)."""
    parts = request.split(b"\r\n", 1)[0].split()
    return parts[1].decode("utf-8", errors="replace") if len(parts) > 2 else "sip:x@127.0.0.1"


# --- one flow ---

class Outcome:
    def __init__(self, case, size):
        self.case, self.size = case, size
        self.codes = []               # status codes, in order
        self.other = 0                # datagrams / stream bytes that were no SIP response
        self.late = []                # codes that came after the message's window
        self.note = ""                # "not sent: ...", "closed", "reset"
        self.far = []                 # INVITEs the far end got for this message
        self.problems = []            # what else went wrong (far end, calls left behind)
        self.judged = []              # what is wrong with the answers (judge())
        self.src = None               # the sender's (address, port)
        self.t0 = None                # when it was sent


STATUS_RE = re.compile(rb"(?:^|\r\n)SIP/2\.0 (\d{3})[^\r\n]*")


class Torture:
    """The daemon with a LAN side (UDP, and TCP when asked), a WAN side and a trunk whose server
    is TRUNK_HOST; extension 10 registered from a busy phone; the provider busy too."""

    def __init__(self, h, lan_tcp=False):
        self.h = h
        self.lan_port, self.wan_port, self.provider_port, self.phone_port, self.rtp_port = h.port(5)
        self.rtp_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # held: SDP names it
        self.rtp_sock.bind(("127.0.0.1", self.rtp_port))
        self.media_span = h.ports.span(500)
        self.status_port = h.port()
        listen = [f"udp:127.0.0.1:{self.lan_port}"] + ([f"tcp:127.0.0.1:{self.lan_port}"] if lan_tcp else [])
        self.daemon = h.start_daemon({
            "lan": {"listen": listen, "networks": ["127.0.0.0/8"], "realm": "test.arpa"},
            "wan": {"address": "127.0.0.1", "port": self.wan_port},
            # Guessing is not what this test is about: a case with odd credentials must not
            # block the sender of all that follow.
            "registrar": {"qualify_interval": 0, "block_after_failures": 1000, "lock_after_failures": 1000},
            "extensions": [{"number": "10", "password": "pw-ten", "max_calls": 50},
                           {"number": "20", "password": "pw-twenty", "outbound": False}],
            "limits": {"calls_per_hour": 100000, "concurrent_external": 50},
            "trunks": [{"name": "provider", "registrar": f"sip:{TRUNK_HOST}:{self.provider_port}",
                        "username": "4930123456", "register": False, "numbers": [DID],
                        "keepalive": {"method": "off"}}],
            "routing": {"inbound": [{"number": DID, "ring": ["10"], "timeout": 20}],
                        "outbound": [{"prefix": "0", "trunk": "provider"}]},
            "media": {"ports": list(self.media_span), "timeout": 30},
            "status": {"listen": f"127.0.0.1:{self.status_port}"},
            # A call that outlives its answer is a finding of its own (checked per message); it
            # must not turn every later call into a 503.
            "calls": {"max_concurrent": 1000},
        })
        status = register(self.lan_port, "10", "pw-ten", self.phone_port)
        check(status == 200, f"phone 10 registered (status {status})")
        self.phone = BusyPeer("127.0.0.1", self.phone_port)
        self.provider = BusyPeer(TRUNK_HOST, self.provider_port)
        self.credentials = Credentials(self.lan_port)
        self.sockets = []             # (outcome, UDP socket): swept for late answers
        self.serial = 0

    # -- sending --

    def context(self, case, side, src):
        self.serial += 1
        lan = side in ("lan", "lan_tcp")
        return {"SRC": f"{src[0]}:{src[1]}", "SRCHOST": src[0], "SRCPORT": src[1],
                "DST": f"127.0.0.1:{self.lan_port if lan else self.wan_port}", "DSTHOST": "127.0.0.1",
                "PROTO": "TCP" if side == "lan_tcp" else "UDP",
                "BRANCH": f"z9hG4bK-{self.serial}-{random.getrandbits(32):x}",
                "CALLEE": DIALLED if lan else DID, "CALLID": f"{case.name}-{self.serial}@{src[0]}",
                "RTP": self.rtp_port,
                "auth": self.credentials.header if lan else (lambda method, ruri: "")}

    def send_udp(self, case, side, source_ip, window=ANSWER_WINDOW):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((source_ip, 0))
        ctx = self.context(case, side, sock.getsockname())
        data = case.build(ctx)
        out = Outcome(case, len(data or b""))
        out.src = sock.getsockname()
        dest = ("127.0.0.1", self.lan_port if side == "lan" else self.wan_port)
        self.sockets.append((out, sock))
        if data is None:
            out.note = "not on this side"
            return out
        if len(data) > UDP_MAX:
            out.note = "not sent: larger than a datagram"
            return out
        t0 = out.t0 = time.monotonic()
        sock.sendto(data, dest)
        deadline = t0 + window
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select([sock], [], [], left)
            if not ready:
                break
            reply, _ = sock.recvfrom(65535)
            m = STATUS_RE.match(reply)
            if not m:
                out.other += 1
                continue
            code = int(m.group(1))
            out.codes.append(code)
            if code >= 200:
                if data.startswith(b"INVITE ") and code >= 300:
                    _ack(sock, reply.decode("utf-8", errors="replace"), dest, _ruri(data))
                deadline = min(deadline, time.monotonic() + FINAL_GRACE)
        return out

    def send_tcp(self, case, source_ip):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((source_ip, 0))
        sock.settimeout(2)
        ctx = self.context(case, "lan_tcp", sock.getsockname())
        data = case.build(ctx)
        out = Outcome(case, len(data or b""))
        out.src = sock.getsockname()
        if data is None:
            out.note = "not on this side"
            sock.close()
            return out
        t0 = out.t0 = time.monotonic()
        received = b""
        try:
            sock.connect(("127.0.0.1", self.lan_port))
            if data:
                sock.sendall(data)
            deadline = t0 + ANSWER_WINDOW
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                ready, _, _ = select.select([sock], [], [], left)
                if not ready:
                    break
                chunk = sock.recv(65536)
                if not chunk:
                    out.note = "closed"
                    break
                received += chunk
                codes = [int(c) for c in STATUS_RE.findall(received)]
                if any(c >= 200 for c in codes):
                    deadline = min(deadline, time.monotonic() + FINAL_GRACE)
        except ConnectionResetError:
            out.note = "reset"
        except (BrokenPipeError, socket.timeout, OSError) as e:
            out.note = f"error: {e.__class__.__name__}"
        out.codes = [int(c) for c in STATUS_RE.findall(received)]
        out.other = 1 if received and not out.codes else 0
        if data.startswith(b"INVITE ") and not out.note:
            for text in re.split(rb"(?=SIP/2\.0 \d{3})", received):
                m = STATUS_RE.match(text)
                if m and int(m.group(1)) >= 300:
                    _ack(sock, text.decode("utf-8", errors="replace"), None, _ruri(data), stream=True)
        sock.close()
        return out

    def call_ids(self):
        """The ids of the calls the daemon lists (GET /status); none when it does not answer (the
        OPTIONS after the message says what became of the daemon)."""
        try:
            return {c["id"] for c in status_http.get_json(self.status_port)["calls"]}
        except (OSError, ValueError, AssertionError):
            return set()

    def alive(self):
        r = status_of(self.lan_port, timeout=ALIVE_TIMEOUT)
        return r is not None and r.status == 200

    def sweep_late(self):
        """Answers that came after their message's window (or at the daemon's exit)."""
        for out, sock in self.sockets:
            sock.setblocking(False)
            while True:
                try:
                    reply = sock.recv(65535)
                except (BlockingIOError, OSError):
                    break
                m = STATUS_RE.match(reply)
                if m:
                    out.late.append(int(m.group(1)))
                else:
                    out.other += 1

    def close_sockets(self):
        for _, sock in self.sockets:
            sock.close()
        self.rtp_sock.close()


# --- judging ---

def sane_far_invite(text, src, media_ports):
    """What the far end got must be the daemon's own: nothing of the sender's address, SDP that
    names only the relay on loopback."""
    problems = []
    if f"{src[0]}:{src[1]}" in text:
        problems.append(f"the sender's address {src[0]}:{src[1]} crossed")
    body = text.split("\r\n\r\n", 1)[1] if "\r\n\r\n" in text else ""
    for line in body.split("\r\n"):
        if line.startswith("c=") and line not in ("c=IN IP4 127.0.0.1", "c=IN IP4 0.0.0.0"):
            problems.append(f"SDP names {line!r}")
        if line.startswith("m="):
            fields = line.split()
            port = fields[1] if len(fields) > 1 else ""
            if not port.isdigit() or (int(port) != 0 and int(port) not in media_ports):
                problems.append(f"SDP media line {line[:60]!r} names no relay port")
        if line.startswith("a=candidate") or "192.0.2.77" in line or "198.51.100.9" in line:
            problems.append(f"SDP carries {line[:60]!r}")
    if any(ord(ch) < 0x20 and ch not in "\r\n\t" for ch in text) or "\r\n " in text.split("\r\n\r\n")[0]:
        problems.append("control characters or a folded line crossed")
    return problems


def judge(out, side):
    """What is wrong with the answers to one message (none: an empty list)."""
    case = out.case
    codes = out.codes + out.late
    finals = [c for c in codes if c >= 200]
    problems = []
    if side == "stranger":
        if [c for c in codes if c != 100] or out.other:
            problems.append(f"answered a stranger: {codes} (+{out.other} other)")
        return problems
    if case.expect == "response" and (codes or out.other):
        problems.append(f"answered: {codes} (+{out.other} other)")
    if case.expect == "keepalive" and codes:
        problems.append(f"a keep-alive got SIP answers {codes}")
    if case.expect == "invalid":
        wrong = [c for c in finals if not (400 <= c < 500 or c in case.allow)]
        if wrong:
            problems.append(f"an invalid request got {wrong}")
    if case.expect in ("valid", "lenient"):
        wrong = [c for c in finals if 500 <= c < 600 and c not in case.allow]
        if wrong:
            problems.append(f"got {wrong}")
    return problems


def table(outcomes):
    rows = [f"{'case':34} {'bytes':>7}  {'answers':24} {'far':>3}  verdict"]
    for o in outcomes:
        answers = ",".join(map(str, o.codes)) or "-"
        if o.late:
            answers += " late:" + ",".join(map(str, o.late))
        if o.other:
            answers += f" +{o.other} other"
        if o.note:
            answers += f" ({o.note})"
        rows.append(f"{o.case.name:34} {o.size:>7}  {answers:24} {len(o.far):>3}  "
                    f"{'; '.join(o.judged + o.problems) or 'ok'}")
    return "\n".join(rows)


def run(binary, flow, side):
    cases = corpus()
    started = time.monotonic()
    # Relay ports: every call that gets as far as the relay takes two pairs, and a released pair
    # rests 10 s before it is handed out again.
    with Harness(f"security-{flow.replace('_', '-')}", binary, ports=600) as h:
        t = Torture(h, lan_tcp=side == "lan_tcp")
        media_ports = set(range(t.media_span[0], t.media_span[1] + 1))
        source = {"lan": LAN_SOURCE, "lan_tcp": LAN_SOURCE, "trunk": TRUNK_HOST, "stranger": STRANGER}[side]
        outcomes = []
        for case in cases:
            calls_before = t.call_ids()
            if side == "lan_tcp":
                out = t.send_tcp(case, source)
            else:
                out = t.send_udp(case, "lan" if side == "lan" else "wan", source,
                                 STRANGER_WINDOW if side == "stranger" else ANSWER_WINDOW)
            outcomes.append(out)
            if not t.alive():
                print(table(outcomes), flush=True)
                running = t.daemon.running()
                fail(f"no answer to OPTIONS within {ALIVE_TIMEOUT} s after '{case.name}' "
                     f"(daemon {'still running' if running else 'exited with ' + str(t.daemon.proc.returncode)}):\n"
                     f"{t.daemon.output()[-3000:]}")
            # Every call ends with its final answer (the far ends are busy): one still listed
            # after that holds a slot of calls.max_concurrent (and maybe relay ports).
            lingering = wait_until(lambda: not (t.call_ids() - calls_before), CALL_END_TIMEOUT, 0.05)
            if not lingering:
                left = sorted(t.call_ids() - calls_before)
                out.problems.append(f"call {left} still listed {CALL_END_TIMEOUT} s after the answer")
            # What the far ends got for this message (a stream the daemon read to its end when
            # we closed it counts too).
            if out.t0 is not None:
                out.far = t.provider.invites_since(out.t0) + t.phone.invites_since(out.t0)
        print(f"{len(cases)} messages sent in {time.monotonic() - started:.1f} s", flush=True)
        check(True, f"the daemon answered OPTIONS within {ALIVE_TIMEOUT} s after each of the {len(cases)} messages")
        time.sleep(1.0)
        t.sweep_late()

        far_invites = 0
        for out in outcomes:
            out.judged = judge(out, side)
            if side == "stranger" and out.far:
                out.problems.append(f"a stranger's request reached a far end ({len(out.far)} INVITEs)")
            elif out.case.expect in ("invalid", "response") and out.far:
                out.problems.append(f"a call went out for it ({len(out.far)} INVITEs reached a far end)")
            far_invites += len(out.far)
            for text in out.far:
                out.problems += sane_far_invite(text, out.src, media_ports)
        print(table(outcomes), flush=True)
        print(f"{sum(1 for o in outcomes if o.codes or o.late)} of {len(outcomes)} messages answered, "
              f"{far_invites} INVITEs reached a far end", flush=True)
        if side == "stranger":
            # Also those that came after the check of their own message, between two messages.
            reached = t.provider.invites_since(started) + t.phone.invites_since(started)
            check(not reached, f"no INVITE reached a far end during the stranger's {len(cases)} messages",
                  "\n\n".join(reached[:3]))

        check(t.daemon.running(), "the daemon still runs")
        # The phone still registers and calls out through the trunk (sipp plays the provider).
        t.phone.close()
        t.provider.close()
        status = register(t.lan_port, "10", "pw-ten", t.phone_port)
        check(status == 200, f"a REGISTER with digest still gets 200 (status {status})")
        provider = h.sipp_bg(scenarios.provider_answer(), f"127.0.0.1:{t.wan_port}", t.provider_port,
                             name="provider_answer", timeout=30, ip=TRUNK_HOST)
        time.sleep(0.3)
        call = h.sipp(h.write_scenario("call_out", scenarios.phone_call_out("10", "pw-ten", DIALLED)),
                      f"127.0.0.1:{t.lan_port}", h.port(), name="call_out")
        check_sipp(call, "phone 10 still places a call through the trunk (answered, hung up)")
        h.finish(provider, "the provider got the call")

        late_before = {id(o): len(o.late) + o.other for o in outcomes}
        h.stop_daemon(t.daemon)
        t.sweep_late()             # what the daemon sent while it went down
        t.close_sockets()
        for out in outcomes:
            if len(out.late) + out.other != late_before[id(out)]:
                out.judged = judge(out, side)
                print(f"at the daemon's exit {out.case.name} got {out.late} (+{out.other} other)", flush=True)

        bad = {o.case.name: o.judged + o.problems for o in outcomes if o.judged or o.problems}
        known = known_failures(flow)
        unexpected = {n: p for n, p in bad.items() if n not in known}
        fixed = [n for n in known if n not in bad]
        for why in dict.fromkeys(known.values()):
            names = [n for n, w in known.items() if w == why and n in bad]
            if names:
                print(f"known failures ({len(names)}): {', '.join(names)}\n    {why}", flush=True)
        check(not fixed, f"no case marked as a known failure passes {fixed}",
              "drop these from KNOWN_FAILURES: the daemon answers them right now")
        what = {"stranger": "no answer ever went to the stranger, no stranger's request reached a far end",
                "trunk": "every answer to the trunk fits its message"}.get(
                    side, "every answer fits its message (no 2xx to an invalid request, no 5xx)")
        check(not unexpected, f"{what}; what reached a far end was the daemon's own ({len(outcomes)} messages)",
              "\n".join(f"{n}: {'; '.join(p)}" for n, p in unexpected.items()))


def torture_lan(binary):
    """The corpus over UDP to the LAN port from 127.0.0.1."""
    run(binary, "torture_lan", "lan")


def torture_lan_tcp(binary):
    """The corpus to the LAN port over TCP, one connection per message."""
    run(binary, "torture_lan_tcp", "lan_tcp")


def torture_wan_trunk(binary):
    """The corpus over UDP to the WAN port from the trunk's server address."""
    run(binary, "torture_wan_trunk", "trunk")


def torture_wan_stranger(binary):
    """The corpus over UDP to the WAN port from a stranger: silence, always."""
    run(binary, "torture_wan_stranger", "stranger")


if __name__ == "__main__":
    run_flows({f.__name__: f for f in (torture_lan, torture_wan_trunk, torture_wan_stranger, torture_lan_tcp)})
