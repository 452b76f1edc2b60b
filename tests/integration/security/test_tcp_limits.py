#!/usr/bin/env python3
"""Slow and crowded TCP connections against the daemon's SIP ports. A connection costs the
daemon a socket and a buffer for as long as the peer likes, so each is bounded in size, in
time and in number, on the LAN agent and on the WAN agent alike:

  tcp_silent_connection_closed  a connection that sends nothing is closed 10-12 s after it was
                                accepted (LAN and WAN); one that sent a request stays;
  tcp_slow_message_closed       a message that stops half way gets 400 10 s after its last
                                byte and its connection is closed; one that keeps trickling in
                                without ever ending is closed within 10-15 s of its first byte;
                                a message that takes 3 s is answered as usual;
  tcp_oversized_message         more than 64 KiB in the body gets 413 and the connection is
                                closed; more than 64 KiB in one header closes it (sofia never
                                hands up headers it could not hold, so nothing can answer
                                them); 50 KiB is answered as usual;
  tcp_per_source_cap            20 connections from one address: the 8 most recently active
                                stay, the rest are closed, logged once and counted; a phone on
                                another address registers over TCP, UDP is answered;
  tcp_total_cap                 320 connections from 40 addresses, 8 each: 256 stay, the least
                                recently active are closed; a phone still registers;
  wan_tcp_per_source_cap        the WAN agent (listening on TCP for a TCP trunk) keeps 4
                                connections of a stranger;
  tcp_trunk_ignores_udp_from_provider_address
                                a TCP trunk takes its provider's requests only over its own
                                connection: an INVITE over UDP from the provider's address
                                (for the trunk's number, or for its registration token) gets
                                no answer at all (the kernel drops it) and rings nobody; the same
                                call through the provider (kamailio) over the connection rings
                                the phone.

Every connection is a plain socket of the test, bound to its own source address in
127.0.0.0/8, so "one address" and "many addresses" need no network setup."""
import os
import random
import re
import resource
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
sys.path.insert(0, os.path.join(HERE, "..", "trunk"))  # provider.py: kamailio as a TCP provider
from harness import Harness, check, check_sipp, fail, run_flows, wait_until  # noqa: E402
import provider  # noqa: E402
import scenarios  # noqa: E402
from sip_client import status_of  # noqa: E402
from status_http import get  # noqa: E402

PHONE_PASSWORD = "pw-ten-Vb72-kq"
MAX_MESSAGE = 64 * 1024
MESSAGE_TIMEOUT_S = 10
SILENT_S = 10
LAN_PER_SOURCE, WAN_PER_SOURCE, LAN_TOTAL = 8, 4, 256
# The daemon checks about once a second; a sanitizer build on two busy cores is slower still.
LATE_S = 3.5
CLOSED_LOG = re.compile(r"^.*\bevent=sip_connection_closed\b.*$", re.M)
LOG_FIELD = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S*)')


# --- the test's own TCP peers ----------------------------------------------------------------

class Conn:
    """One TCP connection from `source` (an address in 127.0.0.0/8) to 127.0.0.1:port. What
    comes back is kept (`received`); alive() reads without blocking and notes when the daemon
    closed it (FIN or RST)."""

    def __init__(self, port, source="127.0.0.1"):
        self.source = source
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind((source, 0))
        self.sock.settimeout(10)  # a full accept queue delays the handshake, it does not fail it
        self.sock.connect(("127.0.0.1", port))
        self.sock.setblocking(False)
        self.local = self.sock.getsockname()
        self.opened = time.monotonic()
        self.closed_at = None
        self.received = b""
        self.answered_at = None  # when the first SIP response had arrived in full

    def _peer_closed(self):
        if self.closed_at is None:
            self.closed_at = time.monotonic()

    def alive(self):
        if self.closed_at is not None:
            return False
        try:
            while True:
                data = self.sock.recv(65536)
                if not data:
                    self._peer_closed()
                    return False
                self.received += data
                if self.answered_at is None and self.response():
                    self.answered_at = time.monotonic()
        except BlockingIOError:
            return True
        except OSError:
            self._peer_closed()
            return False

    def send(self, data):
        """Sends what the socket takes; False once the daemon closed the connection."""
        if not self.alive():
            return False
        view = memoryview(data)
        deadline = time.monotonic() + 5
        while view and time.monotonic() < deadline:
            try:
                n = self.sock.send(view)
                view = view[n:]
            except BlockingIOError:
                if not self.alive():
                    return False
                time.sleep(0.01)
            except OSError:
                self._peer_closed()
                return False
        return not view

    def ping(self):
        """A CRLF keep-alive (RFC 5626 4.4.1): activity without a message."""
        return self.send(b"\r\n\r\n")

    def response(self):
        """The status line of the first complete SIP response received, or None."""
        text = self.received.decode(errors="replace").lstrip("\r\n")
        if not text.startswith("SIP/2.0 ") or "\r\n\r\n" not in text:
            return None
        return text.split("\r\n", 1)[0]

    def status(self):
        line = self.response()
        return int(line.split()[1]) if line else None

    def close(self):
        self.sock.close()


def open_conns(port, sources, per_source, ping=True):
    """per_source connections from each of `sources`, each sending one CRLF ping at once (so
    none is silent); opened in small groups so the daemon's accept queue never overflows."""
    conns = []
    for source in sources:
        for _ in range(per_source):
            c = Conn(port, source)
            if ping:
                c.ping()
            conns.append(c)
            if len(conns) % 16 == 0:
                time.sleep(0.02)
    return conns


def alive(conns):
    return [c for c in conns if c.alive()]


def keep_pinging(conns, seconds, every=2.0):
    """Pings every connection now and then for `seconds`; returns the ones the daemon closed."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for c in conns:
            c.ping()
        time.sleep(min(every, max(0.0, end - time.monotonic())))
    return [c for c in conns if not c.alive()]


def close_all(conns):
    for c in conns:
        c.close()


def request(method, port, local, call_id=None, extra_headers=(), body=b"", content_length=None,
            end_headers=True):
    """A request over TCP to 127.0.0.1:port from `local` (ip, port), as bytes."""
    lh, lp = local
    call_id = call_id or f"{random.getrandbits(64):x}@tcp-limits"
    length = len(body) if content_length is None else content_length
    lines = [f"{method} sip:127.0.0.1:{port};transport=tcp SIP/2.0",
             f"Via: SIP/2.0/TCP {lh}:{lp};rport;branch=z9hG4bK{random.getrandbits(48):x}",
             "Max-Forwards: 70",
             f"From: <sip:probe@{lh}>;tag={random.getrandbits(32):x}",
             f"To: <sip:127.0.0.1:{port}>",
             f"Call-ID: {call_id}",
             f"CSeq: 1 {method}",
             f"Contact: <sip:probe@{lh}:{lp};transport=tcp>",
             *extra_headers]
    if body or content_length is not None:
        lines.append("Content-Type: text/plain")
    lines.append(f"Content-Length: {length}")
    head = "\r\n".join(lines) + "\r\n"
    return head.encode() + (b"\r\n" + body if end_headers else b"")


# --- the daemon ------------------------------------------------------------------------------

class Daemon:
    """The daemon with UDP and TCP on its LAN port and extension 10; with `tcp_trunk`, a TCP
    trunk whose registrar (127.0.0.1) answers nothing, so the WAN agent listens on TCP too.
    With wan.strangers "drop" (the default) the kernel lets only the trunk's servers reach the
    WAN ports; "reject" lets everyone reach them."""

    def __init__(self, h, tcp_trunk=False, strangers="drop", name="b2bua"):
        self.h = h
        self.lan, self.wan, self.status, self.dead = h.port(4)
        cfg = {
            "lan": {"listen": [f"udp:127.0.0.1:{self.lan}", f"tcp:127.0.0.1:{self.lan}"],
                    "networks": ["127.0.0.0/8"]},
            "wan": {"address": "127.0.0.1", "port": self.wan, "dscp_sip": -1, "strangers": strangers},
            "registrar": {"qualify_interval": 0},
            "extensions": [{"number": "10", "password": PHONE_PASSWORD}],
            "status": {"listen": f"127.0.0.1:{self.status}"},
        }
        if tcp_trunk:
            cfg["trunks"] = [{"name": "prov", "registrar": f"sip:127.0.0.1:{self.dead}", "transport": "tcp",
                              "username": provider.USER, "password": provider.PASSWORD,
                              "keepalive": {"method": "off"}, "binding_check": 0}]
        self.d = h.start_daemon(cfg, name=name)

    def metrics(self):
        """/metrics as {(name, frozenset of label pairs): value}."""
        code, _, body = get(self.status, "/metrics")
        if code != 200:
            fail(f"/metrics answered {code}: {body[:500]}")
        out = {}
        for line in body.splitlines():
            m = re.match(r"^([A-Za-z_:][\w:]*)(?:\{([^}]*)\})?\s+(\S+)", line)
            if m and not line.startswith("#"):
                out[(m.group(1), frozenset(re.findall(r'(\w+)="([^"]*)"', m.group(2) or "")))] = float(m.group(3))
        return out

    def metric(self, name, **labels):
        """One sample's value, None when /metrics does not have it."""
        return self.metrics().get((name, frozenset(labels.items())))

    def closed_logs(self, side=None, source=None, reason=None):
        """The event=sip_connection_closed lines, as field dicts, matching what is given."""
        out = []
        for line in CLOSED_LOG.findall(self.d.output()):
            fields = {k: v.strip('"') for k, v in LOG_FIELD.findall(line)}
            if all(want is None or fields.get(k) == want
                   for k, want in (("side", side), ("source", source), ("reason", reason))):
                out.append(fields)
        return out

    def register_over_tcp(self, source, name):
        """Phone 10 registers over TCP from `source` (sipp: REGISTER, 401, digest, 200)."""
        phone = self.h.sipp_bg(scenarios.phone_register("10", PHONE_PASSWORD), f"127.0.0.1:{self.lan}",
                               self.h.port(), name=name, ip=source, timeout=15, extra=["-t", "t1"])
        self.h.finish(phone, f"a phone on {source} registers over TCP with its digest and gets 200", timeout=25)
        registers = self.h.messages(name, received=False, method="REGISTER")
        check(len(registers) == 2 and "Via: SIP/2.0/TCP" in registers[-1] and "Authorization: Digest" in registers[-1],
              "the phone's REGISTERs went over TCP, the second with its digest", "\n".join(registers)[-1500:])
        self.d.wait_log(r"event=binding_added ext=10 .*flow=tcp:%s:" % re.escape(source), timeout=3)
        check(True, f"the daemon bound 10 to a TCP flow from {source}")

    def stop(self):
        self.h.stop_daemon(self.d)


def check_closed_in(conn, low, high, what):
    took = None if conn.closed_at is None else conn.closed_at - conn.opened
    check(took is not None and low <= took <= high, f"{what}: closed after {took and round(took, 1)} s "
          f"(expected {low}-{high} s)")


def raise_fd_limit(needed):
    """Enough descriptors for the test's connections and the daemon's end of them (the daemon
    inherits the limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed if hard == resource.RLIM_INFINITY else min(needed, hard),
                                                    hard))
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    check(soft == resource.RLIM_INFINITY or soft >= needed, f"{needed} descriptors available (limit {soft})")


# --- flows -----------------------------------------------------------------------------------

def tcp_silent_connection_closed(binary):
    """Nothing at all within 10 s of the accept: closed (LAN and WAN, checked about once a
    second; on the WAN from the trunk's server address, the only one the kernel lets in). A
    connection that sent one request and then nothing is no silent one: it stays."""
    with Harness("security-tcp-silent", binary) as h:
        s = Daemon(h, tcp_trunk=True)
        lan_silent = Conn(s.lan, "127.0.0.2")
        wan_silent = Conn(s.wan, "127.0.0.1")
        talker = Conn(s.lan, "127.0.0.1")
        talker.send(request("OPTIONS", s.lan, talker.local))
        wait_until(lambda: not talker.alive() or talker.status(), 5)
        check(talker.status() == 200, f"OPTIONS over a LAN TCP connection answered 200 ({talker.response()})")
        check(wait_until(lambda: s.metric("b2bua_sip_connections", side="lan") == 2, 3),
              f"/metrics counts the 2 open LAN connections ({s.metric('b2bua_sip_connections', side='lan')})")

        wait_until(lambda: not lan_silent.alive() and not wan_silent.alive(), SILENT_S + LATE_S + 2, interval=0.1)
        check_closed_in(lan_silent, SILENT_S - 0.5, SILENT_S + LATE_S, "the silent LAN connection")
        check_closed_in(wan_silent, SILENT_S - 0.5, SILENT_S + LATE_S, "the silent WAN connection")
        check(lan_silent.received == b"" and wan_silent.received == b"", "closed without a word sent on them")
        # Past the latest time a silent connection may be closed: a request is no silence.
        time.sleep(max(0.0, talker.opened + SILENT_S + LATE_S - time.monotonic()))
        check(talker.alive(), "the LAN connection that sent a request is still open "
              f"{time.monotonic() - talker.opened:.1f} s after it was opened")

        lan_logs = s.closed_logs("lan", "127.0.0.2", "silent")
        wan_logs = s.closed_logs("wan", "127.0.0.1", "silent")
        check(len(lan_logs) == 1 and len(wan_logs) == 1 and len(s.closed_logs()) == 2,
              "event=sip_connection_closed logged for each and nothing else: side=lan source=127.0.0.2 and "
              "side=wan source=127.0.0.1, reason=silent", str(s.closed_logs()))
        check(s.metric("b2bua_sip_connections_closed_total", side="lan", reason="silent") == 1 and
              s.metric("b2bua_sip_connections_closed_total", side="wan", reason="silent") == 1,
              "/metrics counts one silent connection closed on each side")
        check(wait_until(lambda: s.metric("b2bua_sip_connections", side="lan") == 1, 3),
              f"/metrics: one LAN connection open now ({s.metric('b2bua_sip_connections', side='lan')})")
        close_all([lan_silent, wan_silent, talker])
        s.stop()


def tcp_slow_message_closed(binary):
    """A message whose headers or body stall: 400 and the connection closed 10 s later. One
    that trickles in (a line or a few bytes every 2 s keep a connection from being silent, not
    a message from being late) is ended within 10-15 s of its first byte: the daemon closes a
    connection that keeps sending without ever getting an answer. A message that takes 3 s is
    answered as usual."""
    with Harness("security-tcp-slow", binary) as h:
        s = Daemon(h)
        slow = {what: Conn(s.lan) for what in ("stalled headers", "stalled body", "trickled headers", "trickled body")}
        late_but_fine = Conn(s.lan)
        for what, conn in slow.items():
            if what.endswith("headers"):
                # Every header a response needs, then never the blank line that ends them.
                conn.send(request("OPTIONS", s.lan, conn.local, end_headers=False))
            else:
                # The headers in full, 200 bytes of body announced, 4 of them sent.
                conn.send(request("OPTIONS", s.lan, conn.local, content_length=200) + b"body")
        whole = request("OPTIONS", s.lan, late_but_fine.local)
        late_but_fine.send(whole[:len(whole) // 2])
        started = time.monotonic()
        tick, rest_sent = 1, False
        while time.monotonic() - started < MESSAGE_TIMEOUT_S + LATE_S + 1.5:
            elapsed = time.monotonic() - started
            if elapsed >= 2 * tick:  # one more header line, 10 more bytes of body, every 2 s
                if slow["trickled headers"].alive():
                    slow["trickled headers"].send(f"X-Slow-{tick}: {tick}\r\n".encode())
                if slow["trickled body"].alive():
                    slow["trickled body"].send(b"0123456789")
                tick += 1
            if not rest_sent and elapsed >= 3:
                late_but_fine.send(whole[len(whole) // 2:])
                rest_sent = True
            if not alive(slow.values()):
                break
            late_but_fine.alive()
            time.sleep(0.05)

        for what, conn in slow.items():
            answered = None if conn.answered_at is None else conn.answered_at - started
            closed = None if conn.closed_at is None else conn.closed_at - started
            if what.startswith("trickled"):
                check(conn.status() in (None, 400) and closed is not None and
                      MESSAGE_TIMEOUT_S - 0.5 <= closed <= MESSAGE_TIMEOUT_S + 5,
                      f"{what}: closed {MESSAGE_TIMEOUT_S}-{MESSAGE_TIMEOUT_S + 5} s after the first byte "
                      f"(closed after {closed and round(closed, 1)} s; answer {conn.response()!r})")
                continue
            check(conn.status() == 400 and answered is not None and
                  MESSAGE_TIMEOUT_S - 0.5 <= answered <= MESSAGE_TIMEOUT_S + LATE_S,
                  f"{what}: 400 Bad Request {MESSAGE_TIMEOUT_S}-{MESSAGE_TIMEOUT_S + LATE_S:.0f} s after the first "
                  f"byte (got {conn.response()!r} after {answered and round(answered, 1)} s; "
                  f"closed after {closed and round(closed, 1)} s)")
            check(closed is not None and closed - answered <= 2,
                  f"{what}: the connection closed after the 400 ({round(closed - answered, 2)} s later)"
                  if closed is not None else f"{what}: the connection closed after the 400 (still open)")
        check(late_but_fine.status() == 200, f"a message that took 3 s is answered 200 ({late_but_fine.response()})")
        check(late_but_fine.alive(), "and its connection stays open")
        check(status_of(s.lan) is not None, "the daemon still answers OPTIONS over UDP")
        close_all([*slow.values(), late_but_fine])
        s.stop()


def tcp_oversized_message(binary):
    """Over 64 KiB, in the body or in one header: 413 and the connection closed, before the
    daemon holds it all. 50 KiB is a message like any other."""
    with Harness("security-tcp-oversized", binary) as h:
        s = Daemon(h)
        fine = Conn(s.lan)
        fine.send(request("OPTIONS", s.lan, fine.local, body=b"b" * (50 * 1024)))
        wait_until(lambda: not fine.alive() or fine.status(), 5)
        check(fine.status() == 200, f"a 50 KiB message is answered 200 ({fine.response()})")
        check(fine.alive(), "and its connection stays open")

        big_body = b"x" * (MAX_MESSAGE + 4096)
        big_header = ["X-Pad: " + "y" * (MAX_MESSAGE + 4096)]
        for what in ("the body", "one header"):
            conn = Conn(s.lan)
            data = (request("OPTIONS", s.lan, conn.local, body=big_body) if what == "the body"
                    else request("OPTIONS", s.lan, conn.local, extra_headers=big_header))
            check(len(data) > MAX_MESSAGE, f"over 64 KiB in {what}: a message of {len(data)} bytes")
            # In pieces, reading in between: the answer may come before the last byte left.
            for i in range(0, len(data), 8192):
                if conn.status() or not conn.send(data[i:i + 8192]):
                    break
            wait_until(lambda: not conn.alive(), 5)
            if what == "the body":
                check(conn.status() == 413, f"over 64 KiB in {what}: 413 ({conn.response()!r})")
            else:
                # sofia stops reading a connection whose headers outgrow the limit without handing
                # the message up, so nothing can answer it: closing it is the part that matters.
                check(conn.received.strip() == b"" or conn.status() == 413,
                      f"over 64 KiB in {what}: no answer but a 413 ({conn.received[:200]!r})")
            check(conn.closed_at is not None, f"over 64 KiB in {what}: the connection is closed")
            conn.close()
        check(fine.alive(), "the connection of the 50 KiB message is still open")
        check(status_of(s.lan) is not None, "the daemon still answers OPTIONS over UDP")
        fine.close()
        s.stop()


def tcp_per_source_cap(binary):
    """20 connections from 127.0.0.1, each pinging now and then: 8 stay, the least recently
    active are closed within a second or two, logged once, each one counted. A phone on
    127.0.0.2 registers over TCP meanwhile; UDP is answered."""
    with Harness("security-tcp-per-source", binary) as h:
        s = Daemon(h)
        older = open_conns(s.lan, ["127.0.0.1"], 12)
        time.sleep(1.5)  # the newer ones are active later than any of these, on any clock
        newer = open_conns(s.lan, ["127.0.0.1"], LAN_PER_SOURCE)
        opened = time.monotonic()
        gone = wait_until(lambda: not alive(older), LATE_S + 2)
        check(gone, f"the 12 least recently active connections of 127.0.0.1 are closed "
              f"({len(alive(older))} still open)")
        check(time.monotonic() - opened <= LATE_S, f"within {time.monotonic() - opened:.1f} s")
        check(len(alive(newer)) == LAN_PER_SOURCE, f"the {LAN_PER_SOURCE} most recently active stay "
              f"({len(alive(newer))} open)")

        s.register_over_tcp("127.0.0.2", "phone-tcp")
        r = status_of(s.lan)
        check(r is not None and r.status == 200, "an OPTIONS over UDP is answered 200")
        closed = keep_pinging(newer, 6)
        check(not closed, f"pinging now and then, the {LAN_PER_SOURCE} stay open ({len(closed)} closed)")

        logs = s.closed_logs("lan", "127.0.0.1")
        check(len(logs) == 1 and logs[0].get("reason") == "per_source",
              "event=sip_connection_closed side=lan source=127.0.0.1 reason=per_source logged once for 12 closings",
              str(logs))
        count = s.metric("b2bua_sip_connections_closed_total", side="lan", reason="per_source")
        check(count == 12, f"/metrics counts the 12 closed ({count})")
        open_now = wait_until(lambda: s.metric("b2bua_sip_connections", side="lan") == LAN_PER_SOURCE, 5)
        check(open_now, f"/metrics: {LAN_PER_SOURCE} LAN connections open once the phone's sipp has gone "
              f"({s.metric('b2bua_sip_connections', side='lan')})")
        close_all(older + newer)
        s.stop()


def tcp_total_cap(binary):
    """40 addresses with 8 connections each (none over the per-address cap): 256 stay, the
    least recently active are closed; a phone still registers and UDP is answered."""
    raise_fd_limit(1024)
    with Harness("security-tcp-total", binary) as h:
        s = Daemon(h)
        sources = [f"127.0.1.{n}" for n in range(1, 41)]
        older_sources, newer_sources = sources[:8], sources[8:]
        older = open_conns(s.lan, older_sources, LAN_PER_SOURCE)
        time.sleep(1.5)
        newer = open_conns(s.lan, newer_sources, LAN_PER_SOURCE)
        check(len(older) + len(newer) == 320, f"{len(older) + len(newer)} connections opened from 40 addresses")
        opened = time.monotonic()
        gone = wait_until(lambda: not alive(older), LATE_S + 3, interval=0.2)
        check(gone, f"the 64 least recently active connections are closed ({len(alive(older))} still open)")
        check(time.monotonic() - opened <= LATE_S + 1, f"within {time.monotonic() - opened:.1f} s of the last one")
        check(len(alive(newer)) == LAN_TOTAL, f"the {LAN_TOTAL} most recently active stay ({len(alive(newer))} open)")
        check(wait_until(lambda: s.metric("b2bua_sip_connections", side="lan") == LAN_TOTAL, 3),
              f"/metrics: {LAN_TOTAL} LAN connections open ({s.metric('b2bua_sip_connections', side='lan')})")

        s.register_over_tcp("127.0.0.2", "phone-tcp")
        r = status_of(s.lan)
        check(r is not None and r.status == 200, "an OPTIONS over UDP is answered 200")
        # The phone's connection was the 257th: one of the others made way for it.
        still = len(alive(newer))
        check(LAN_TOTAL - 1 <= still <= LAN_TOTAL, f"{still} of the {LAN_TOTAL} stay alongside the phone")

        logs = s.closed_logs("lan", reason="total")
        per_source = {src: sum(1 for f in logs if f.get("source") == src) for src in sources}
        check(all(per_source[src] == 1 for src in older_sources) and max(per_source.values()) == 1,
              "event=sip_connection_closed side=lan reason=total logged once for each address that lost "
              "connections", str({k: v for k, v in per_source.items() if v}))
        check(not s.closed_logs("lan", reason="per_source"), "no address was over its own cap")
        count = s.metric("b2bua_sip_connections_closed_total", side="lan", reason="total")
        check(count is not None and 64 <= count <= 65, f"/metrics counts the 64 closed (and the one for the "
              f"phone, if it went yet): {count}")
        close_all(older + newer)
        s.stop()


def wan_tcp_per_source_cap(binary):
    """The WAN agent listens on TCP for a TCP trunk; a stranger's 10 connections: 4 stay. With
    wan.strangers "reject" the kernel lets strangers reach the port, so the cap is what holds
    them."""
    with Harness("security-wan-tcp-per-source", binary) as h:
        s = Daemon(h, tcp_trunk=True, strangers="reject")
        older = open_conns(s.wan, ["127.0.0.3"], 6)
        time.sleep(1.5)
        newer = open_conns(s.wan, ["127.0.0.3"], WAN_PER_SOURCE)
        gone = wait_until(lambda: not alive(older), LATE_S + 2)
        check(gone, f"the 6 least recently active connections of the stranger are closed ({len(alive(older))} open)")
        check(len(alive(newer)) == WAN_PER_SOURCE, f"the {WAN_PER_SOURCE} most recently active stay "
              f"({len(alive(newer))} open)")
        closed = keep_pinging(newer, 3, every=1.0)
        check(not closed, f"pinging, the {WAN_PER_SOURCE} stay open ({len(closed)} closed)")
        logs = s.closed_logs("wan", "127.0.0.3")
        check(len(logs) == 1 and logs[0].get("reason") == "per_source",
              "event=sip_connection_closed side=wan source=127.0.0.3 reason=per_source logged once", str(logs))
        count = s.metric("b2bua_sip_connections_closed_total", side="wan", reason="per_source")
        check(count == 6, f"/metrics counts the 6 closed on the WAN side ({count})")
        check(s.metric("b2bua_sip_connections_closed_total", side="lan", reason="per_source") in (None, 0),
              "and none on the LAN side")
        close_all(older + newer)
        s.stop()


def spoofed_invite(wan_port, ruri_user, timeout=3.0):
    """An INVITE with SDP over UDP from 127.0.0.1 (the provider's address) to the WAN port;
    returns the datagrams that came back within `timeout`."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        lh, lp = sock.getsockname()
        sdp = ("v=0\r\no=far 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
               f"m=audio {lp + 2} RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n")
        msg = (f"INVITE sip:{ruri_user}@127.0.0.1:{wan_port} SIP/2.0\r\n"
               f"Via: SIP/2.0/UDP {lh}:{lp};rport;branch=z9hG4bK{random.getrandbits(48):x}\r\n"
               "Max-Forwards: 69\r\n"
               f"From: \"Far End\" <sip:+4989111222@127.0.0.1>;tag={random.getrandbits(32):x}\r\n"
               f"To: <sip:{provider.USER}@127.0.0.1>\r\n"
               f"Call-ID: {random.getrandbits(64):x}@spoof\r\n"
               "CSeq: 1 INVITE\r\n"
               f"Contact: <sip:+4989111222@{lh}:{lp}>\r\n"
               "Content-Type: application/sdp\r\n"
               f"Content-Length: {len(sdp)}\r\n\r\n{sdp}")
        sock.sendto(msg.encode(), ("127.0.0.1", wan_port))
        got = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                got.append(sock.recv(65535).decode(errors="replace"))
            except socket.timeout:
                break
        return got


def tcp_trunk_ignores_udp_from_provider_address(binary):
    """A TCP trunk registered at kamailio: an INVITE over UDP from kamailio's address, for the
    trunk's number or for its registration token, gets nothing and rings nobody (a UDP source
    is trivially forged, the trunk's connection is not); the same call sent by kamailio over
    the connection rings phone 10, which answers."""
    with Harness("security-tcp-trunk-udp", binary) as h:
        kamailio, wan, lan, status, far_port = h.port(5)
        k = provider.start_kamailio(h, [f"udp:127.0.0.1:{kamailio}", f"tcp:127.0.0.1:{kamailio}"])
        d = h.start_daemon({
            "lan": {"listen": [f"udp:127.0.0.1:{lan}"], "networks": ["127.0.0.0/8"]},
            "wan": {"address": "127.0.0.1", "port": wan, "dscp_sip": -1, "strangers": "drop"},
            "registrar": {"qualify_interval": 0},
            "extensions": [{"number": "10", "password": PHONE_PASSWORD}],
            "trunks": [{"name": "prov", "registrar": f"sip:127.0.0.1:{kamailio}", "transport": "tcp",
                        "username": provider.USER, "password": provider.PASSWORD, "expires": 60,
                        "numbers": [provider.USER], "keepalive": {"method": "crlf", "interval": 20},
                        "binding_check": 0}],
            "routing": {"inbound": [{"number": provider.USER, "ring": ["10"], "timeout": 20}]},
            "media": {"ports": list(h.ports.span(20)), "timeout": 30},
            "status": {"listen": f"127.0.0.1:{status}"},
            "log": {"level": "debug"},
        })
        # The first REGISTER names our listening port; the answer's rport names the connection's,
        # and the trunk registers again with that (the provider's requests come back over it).
        conn_port = int(d.wait_log(r"event=contact_updated trunk=prov from=127\.0\.0\.1:%d to=127\.0\.0\.1:(\d+)" % wan,
                                   timeout=10).group(1))
        saved = k.wait_log(r"saved sip:%s@127\.0\.0\.1 contact=<sip:(b2t[0-9a-f]{12})@127\.0\.0\.1:%d;transport=tcp>"
                           % (provider.USER, conn_port), timeout=10)
        token = saved.group(1)
        check(conn_port != wan, f"the trunk registered over TCP (our connection's port {conn_port})")

        phone_port = h.port()
        r = h.sipp(h.write_scenario("reg10", scenarios.phone_register("10", PHONE_PASSWORD)), f"127.0.0.1:{lan}",
                   phone_port, name="reg10")
        check_sipp(r, "phone 10 registered")
        phone = h.sipp_bg(scenarios.phone_answer(), f"127.0.0.1:{lan}", phone_port, name="phone10", timeout=40)
        time.sleep(0.3)

        def rejected():
            m = re.search(r"^b2bua_wan_packets_dropped_total (\d+)", get(status, "/metrics")[2], re.M)
            return int(m.group(1)) if m else None

        before = rejected()
        for what, user in (("the trunk's number", provider.USER), ("the trunk's registration token", token)):
            got = spoofed_invite(wan, user)
            check(not got, f"an INVITE over UDP from the provider's address for {what}: no answer at all",
                  "\n".join(got)[:1500])
        after = wait_until(lambda: (rejected() or 0) >= (before or 0) + 2 and rejected(), 3)
        check(before is not None and after, f"both dropped by the kernel like a stranger's "
              f"(b2bua_wan_packets_dropped_total {before} -> {rejected()})")
        check(not h.messages("phone10", method="INVITE"), "the phone never rang")
        check(not re.search(r"event=call_started\b", d.output()), "no call started")

        far = h.sipp(h.write_scenario("in", scenarios.provider_call(provider.USER, hold_ms=1500)),
                     f"127.0.0.1:{kamailio}", far_port, name="in")
        check_sipp(far, "the same call through the provider is answered; the far end hangs up")
        h.finish(phone, "phone 10 rang and answered it")
        check(re.search(r"relaying INVITE to sip:%s@127\.0\.0\.1:%d;transport=tcp" % (token, conn_port), k.output()),
              "kamailio sent that INVITE over the trunk's own TCP connection")
        h.stop_daemon(d)


if __name__ == "__main__":
    run_flows({f.__name__: f for f in (tcp_silent_connection_closed, tcp_slow_message_closed, tcp_oversized_message,
                                       tcp_per_source_cap, tcp_total_cap, wan_tcp_per_source_cap,
                                       tcp_trunk_ignores_udp_from_provider_address)})
