#!/usr/bin/env python3
"""sipvicious, the scanner most SIP attacks start with, against the daemon's LAN and WAN sides:
svmap (is there a SIP server, and which product), svwar (which extensions exist), svcrack (a
dictionary of passwords for one extension). What a scan may learn:

- LAN, svmap: that a SIP server answers (it is the phones' registrar), but no product name or
  version (User-Agent, Server, Warning or anywhere else in an answer).
- LAN, svwar: nothing. Existing and unknown extensions get the same answers (status, phrase and
  headers apart from tags, nonces and what the request echoes), for REGISTER, INVITE and OPTIONS;
  checked on svwar's report and with probes of our own, without credentials and with a wrong
  password.
- LAN, svcrack: nothing. The password guard (registrar.block_after_failures, 5 by default)
  silences the source before the right password, the last line of scan/passwords.txt, is tried,
  and keeps it silent however much it sends. A phone elsewhere still registers with it.
- WAN, anything, from an address that is no trunk's server: no answer to OPTIONS (wan.strangers
  "drop", the default), however many it sends. At most the stack's automatic 100 Trying to an
  INVITE and its 405 to a method the WAN side never serves (REGISTER), the exceptions README.md
  names; nothing else, and no product name or version in them.

svwar and svcrack of sipvicious 0.3.3 ignore their -b (bind address) option: they send from
127.0.0.1 whatever it says. So on the WAN side the trunk's server is 127.0.0.9 and 127.0.0.1 is
a stranger there; svmap honours -b and scans the WAN from 127.0.0.5. Every run gets its own
local port (-P) and -x, the address it writes into Via and Contact. One flow per ctest entry
(run_flows)."""
import ast
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
import digest  # noqa: E402
from harness import Harness, check, fail, run_flows  # noqa: E402
from sip_client import Client  # noqa: E402

REALM = "test.arpa"
DICTIONARY = os.path.join(HERE, "scan", "passwords.txt")
PASSWORDS = {"10": "harbour-quiet-7Kx", "11": "lantern-eleven-42"}
EXISTING = ("10", "11")
SCANNED = [str(n) for n in range(10, 100)]  # 10 and 11 exist, 12-99 do not
PROVIDER_IP = "127.0.0.9"                    # the trunk's server: nobody else is one
STRANGER = "127.0.0.5"
GUARD_FAILURES = 5                           # registrar.block_after_failures, default
# Request headers an answer copies (RFC 3261 8.2.6.2): they differ because the requests do. To
# is copied too, with a tag of the answer's own added.
ECHOED = {"via", "v", "from", "f", "to", "t", "call-id", "i", "cseq"}
# Where a product name would show; every header is searched for the name and version anyway.
IDENTITY_HEADERS = ("user-agent", "server", "organization", "warning")


class Setup:
    """The daemon with extensions 10 and 11, a WAN side and a trunk (without registration, so
    nothing is sent to its server); the phone of 10 registered from 127.0.0.1 when asked."""

    def __init__(self, h, register_phone=False):
        self.h = h
        self.lan, self.wan, provider = h.port(3)
        self.version = subprocess.run([h.binary, "--version"], capture_output=True, text=True,
                                      timeout=10).stdout.split()[-1]
        self.daemon = h.start_daemon({
            "lan": {"listen": [f"udp:127.0.0.1:{self.lan}"], "networks": ["127.0.0.0/8"], "realm": REALM},
            "wan": {"address": "127.0.0.1", "port": self.wan, "dscp_sip": -1},
            "registrar": {"qualify_interval": 0},
            "extensions": [{"number": n, "password": p} for n, p in PASSWORDS.items()],
            "trunks": [{"name": "prov", "registrar": f"sip:{PROVIDER_IP}:{provider}", "username": "4930123456",
                        "register": False, "numbers": ["+4930123456"], "keepalive": {"method": "off"},
                        "binding_check": 0}],
            "routing": {"inbound": [{"number": "+4930123456", "ring": ["10"], "timeout": 20}],
                        "outbound": [{"prefix": "0", "trunk": "prov"}]},
            "log": {"level": "debug"},
        })
        self.daemon.wait_log(r"component=registrar event=started")
        if register_phone:
            with Client(self.lan, h.port(), "10", user_agent="scan-test-phone") as phone:
                res, _ = phone.login(PASSWORDS["10"])
            check(res is not None and res.status == 200, "the phone of 10 registered from 127.0.0.1")

    def stop(self):
        self.h.stop_daemon(self.daemon)
        out = self.daemon.output()
        check(not any(p in out for p in PASSWORDS.values()), "no password in the daemon's log")


# --- sipvicious -------------------------------------------------------------------------------

class Run:
    def __init__(self, argv, out, err, seconds):
        self.argv, self.out, self.err, self.seconds = argv, out, err, seconds
        self.text = out + err

    def rows(self):
        """The rows of the table svmap/svwar/svcrack print at the end (header left out)."""
        rows = [tuple(c.strip() for c in line.strip().strip("|").split("|"))
                for line in self.out.splitlines() if line.startswith("|")]
        return [r for r in rows if r[0] not in ("SIP Device", "Extension")]

    def received(self):
        """The packets the tool printed as received (svmap -d, svwar --debug), as text."""
        packets = []
        for line in self.out.splitlines():
            if line.startswith(("b'", 'b"')):
                try:
                    packets.append(ast.literal_eval(line).decode(errors="replace"))
                except (ValueError, SyntaxError):
                    fail(f"cannot read a packet {self.argv[0]} printed: {line[:200]}")
        return packets

    def said(self):
        """What the tool logged about its run (warnings and errors, first lines only)."""
        lines = [l for l in self.err.splitlines()
                 if l.startswith(("WARNING", "ERROR", "CRITICAL")) and "Response:" not in l]
        return "; ".join(l.split(":", 2)[-1].strip()[:120] for l in lines[:4])


def sipvicious(h, tool, args, name, timeout=45):
    """Runs svmap/svwar/svcrack to its end, bounded by `timeout` (killed by PID after it); its
    output stays in the flow's folder as `name`.out/.err."""
    path = shutil.which(tool)
    if not path:
        fail(f"{tool} not found: packaging/install-deps.sh --test installs sipvicious")
    argv = [path, *args]
    started = time.monotonic()
    try:
        r = subprocess.run(argv, capture_output=True, text=True, errors="replace", timeout=timeout,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        fail(f"{tool} did not end within {timeout}s: {' '.join(argv)}\n{(e.output or '')[-1500:]}")
    seconds = time.monotonic() - started
    for ext, text in (("out", r.stdout), ("err", r.stderr)):
        with open(h.path(f"{name}.{ext}"), "w") as f:
            f.write(text)
    check(r.returncode == 0 and "Traceback" not in r.stderr, f"{name}: {tool} ran to its end ({seconds:.1f} s)",
          r.stdout[-1500:] + r.stderr[-1500:])
    return Run(argv, r.stdout, r.stderr, seconds)


# --- answers ----------------------------------------------------------------------------------

def split(raw):
    head, _, body = raw.partition("\r\n\r\n")
    lines = head.split("\r\n")
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.append((name.strip().lower(), value.strip()))
    return lines[0], headers, body


def shape(raw):
    """An answer without what may differ between two requests: the headers it copies from the
    request, tags, nonces, and the user the request named."""
    first, headers, body = split(raw)
    out = [first]
    for name, value in headers:
        if name in ECHOED:
            value = "(copied)" + (";tag=*" if name in ("to", "t") and re.search(r";\s*tag=", value) else "")
        value = re.sub(r";\s*tag=[^;>\s,]+", ";tag=*", value)
        value = re.sub(r'nonce="[^"]*"', 'nonce="*"', value)
        value = re.sub(r"sip:[^@>;\s]+@", "sip:USER@", value)
        out.append(f"{name}: {value}")
    return tuple(out) + (body,)


def shapes(answers):
    """The distinct shapes of a run of answers, in order (retransmissions once)."""
    out = []
    for a in answers:
        s = shape(a)
        if s not in out:
            out.append(s)
    return tuple(out)


def to_user(raw):
    m = re.search(r"^(?:To|t):[^\r\n]*?<?sips?:([^@>;\s]+)@", raw, re.M)
    return m.group(1) if m else None


def identity(answers, version):
    """(what the answers say about the software in User-Agent/Server/..., the product name or
    version wherever they show up)."""
    said, leaks = set(), set()
    for a in answers:
        _, headers, _ = split(a)
        said.update(f"{n}: {v}" for n, v in headers if n in IDENTITY_HEADERS)
        low = a.lower()
        leaks.update(t for t in ("b2bua", version.lower(), "sofia") if t and t in low)
    return sorted(said), sorted(leaks)


class Probe:
    """One request at a time from a socket of our own on `source`: what a scanner sends, read
    without a scanner's interpretation."""

    def __init__(self, port, source="127.0.0.1"):
        self.port = port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((source, 0))
        self.local = self.sock.getsockname()
        self.tag = f"{random.getrandbits(32):x}"

    def close(self):
        self.sock.close()

    def ruri(self, method, user):
        return f"sip:127.0.0.1:{self.port}" if method == "REGISTER" else f"sip:{user}@127.0.0.1:{self.port}"

    def send(self, method, user, authorization=None, call_id=None, cseq=1, wait_s=1.5, after_final_s=0.3):
        """Sends `method` for `user` and returns every answer within `wait_s`, or up to
        `after_final_s` after the final one (the request resent once after 0.5 s while nothing
        came, as a client would). A final answer to an INVITE is ACKed, so the stack stops
        resending it."""
        lh, lp = self.local
        ruri = self.ruri(method, user)
        sender = user if method == "REGISTER" else "scan"  # a REGISTER names its AoR in From too
        call_id = call_id or f"{random.getrandbits(64):x}@scan"
        via = f"Via: SIP/2.0/UDP {lh}:{lp};rport;branch=z9hG4bK{random.getrandbits(48):x}"
        from_ = f"From: <sip:{sender}@127.0.0.1>;tag={self.tag}"
        header = {"REGISTER": "Authorization", "INVITE": "Proxy-Authorization"}.get(method)
        request = [f"{method} {ruri} SIP/2.0", via, "Max-Forwards: 70", from_, f"To: <sip:{user}@127.0.0.1>",
                   f"Call-ID: {call_id}", f"CSeq: {cseq} {method}", f"Contact: <sip:{sender}@{lh}:{lp}>",
                   *([f"{header}: {authorization}"] if authorization else []), "Content-Length: 0", "", ""]
        data = "\r\n".join(request).encode()
        answers = []
        self.sock.settimeout(0.1)
        deadline = time.monotonic() + wait_s
        resend_at = time.monotonic() + 0.5
        self.sock.sendto(data, ("127.0.0.1", self.port))
        while time.monotonic() < deadline:
            if not answers and resend_at and time.monotonic() >= resend_at:
                self.sock.sendto(data, ("127.0.0.1", self.port))
                resend_at = None
            try:
                raw = self.sock.recv(65535).decode(errors="replace")
            except socket.timeout:
                continue
            answers.append(raw)
            if re.match(r"SIP/2.0 [2-6]\d\d", raw):
                deadline = min(deadline, time.monotonic() + after_final_s)
            if method == "INVITE" and re.match(r"SIP/2.0 [2-6]\d\d", raw):
                # RFC 3261 17.1.1.3: the ACK of a non-2xx answer is part of the INVITE's transaction.
                to = re.search(r"^To:[^\r\n]*", raw, re.M).group(0)
                ack = [f"ACK {ruri} SIP/2.0", via, "Max-Forwards: 70", from_, to, f"Call-ID: {call_id}",
                       f"CSeq: {cseq} ACK", "Content-Length: 0", "", ""]
                self.sock.sendto("\r\n".join(ack).encode(), ("127.0.0.1", self.port))
        return answers

    def wrong_password(self, method, user):
        """A challenge, then an answer to it with a wrong password: every answer of both."""
        call_id = f"{random.getrandbits(64):x}@scan"
        first = self.send(method, user, call_id=call_id)
        finals = [a for a in first if re.match(r"SIP/2.0 40[17]", a)]
        if not finals:
            return first, []
        name = "www-authenticate" if method == "REGISTER" else "proxy-authenticate"
        challenge = digest.params(dict(split(finals[-1])[1])[name])
        auth = digest.authorization(challenge, user, "not-the-password-1", method, self.ruri(method, user))
        return first, self.send(method, user, authorization=auth, call_id=call_id, cseq=2)


def flood(port, source, count, method="OPTIONS", rate=200):
    """`count` requests (`method`), each a new transaction, from one socket on `source`, `rate`
    a second (slow enough for the daemon to take in every one); the first lines of every answer
    up to 1.5 s after the last one."""
    answers = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((source, 0))
        lh, lp = sock.getsockname()
        sock.settimeout(0.002)
        started = time.monotonic()
        for n in range(count):
            request = (f"{method} sip:{'' if method == 'REGISTER' else '10@'}127.0.0.1:{port} SIP/2.0\r\n"
                       f"Via: SIP/2.0/UDP {lh}:{lp};rport;branch=z9hG4bKflood{n}x{random.getrandbits(32):x}\r\n"
                       f"Max-Forwards: 70\r\nFrom: <sip:10@127.0.0.1>;tag=f{n}\r\nTo: <sip:10@127.0.0.1>\r\n"
                       f"Call-ID: flood-{n}-{random.getrandbits(32):x}\r\nCSeq: 1 {method}\r\n"
                       f"Contact: <sip:10@{lh}:{lp}>\r\nContent-Length: 0\r\n\r\n").encode()
            sock.sendto(request, ("127.0.0.1", port))
            while time.monotonic() < started + (n + 1) / rate:
                try:
                    answers.append(sock.recv(65535).decode(errors="replace").split("\r\n", 1)[0])
                except socket.timeout:
                    pass
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:
            try:
                answers.append(sock.recv(65535).decode(errors="replace").split("\r\n", 1)[0])
            except socket.timeout:
                pass
    return answers


def first_lines(answers):
    return [a.split("\r\n", 1)[0] for a in answers]


# --- flows ------------------------------------------------------------------------------------

def svmap_lan(binary):
    """svmap from 127.0.0.1 (inside lan.networks) with each method it can send: it may find the
    registrar, never which product and version it is."""
    with Harness("security-svmap-lan", binary) as h:
        s = Setup(h)
        seen = {}
        for method in ("OPTIONS", "INVITE", "REGISTER"):
            run = sipvicious(h, "svmap", ["-P", str(h.port()), "-b", "127.0.0.1", "-p", str(s.lan), "-m", method,
                                          "-d", "127.0.0.1"], f"svmap-{method}")
            answers = run.received()
            check(answers and all(a.startswith("SIP/2.0 ") for a in answers),
                  f"svmap {method}: the LAN side answers ({sorted(set(first_lines(answers)))}); that a SIP "
                  f"server is there is no secret to the LAN", run.text[-1500:])
            seen[method] = (run.rows(), answers)
        s.stop()
        for method, (rows, answers) in seen.items():
            said, leaks = identity(answers, s.version)
            check(not leaks and all(r[1:] == ("unknown",) for r in rows),
                  f"svmap {method}: no product name or version learned (svmap's table: {rows}; headers "
                  f"sent: {said})", f"found {leaks} in:\n{answers[0]}")


def svmap_wan(binary):
    """svmap from a stranger (127.0.0.5) against the WAN port: OPTIONS, the scan everyone
    runs, finds nothing, and neither do 1300 more OPTIONS (more than the daemon holds
    unanswered); INVITE and REGISTER get at most the stack's 100 Trying and 405 (the documented
    exceptions), and no product name or version with them. svmap from the trunk's server finds
    the port: the silence is not a wrong port."""
    with Harness("security-svmap-wan", binary) as h:
        s = Setup(h)
        control = sipvicious(h, "svmap", ["-P", str(h.port()), "-b", PROVIDER_IP, "-p", str(s.wan), "-d", "127.0.0.1"],
                             "svmap-provider")
        check(first_lines(control.received()) == ["SIP/2.0 200 OK"] and len(control.rows()) == 1,
              f"svmap OPTIONS from the trunk's server ({PROVIDER_IP}) finds the WAN port: it is there, for those "
              f"it serves", control.text[-1500:])
        runs = {}
        for method in ("OPTIONS", "INVITE", "REGISTER"):
            runs[method] = sipvicious(h, "svmap", ["-P", str(h.port()), "-b", STRANGER, "-p", str(s.wan), "-m",
                                                   method, "-d", "127.0.0.1"], f"svmap-{method}")
        # A scanner on the internet does not stop at one request: more than the daemon holds
        # unanswered (kMaxHeld, b2bua/sip/silent_drop.h).
        flooded = flood(s.wan, STRANGER, 1300)
        s.stop()
        options = runs["OPTIONS"]
        check(not options.received() and not options.rows() and "found nothing" in options.text,
              f"svmap OPTIONS from a stranger finds nothing: no answer at all ({options.said()})",
              options.text[-1500:])
        check(not flooded, f"1300 more OPTIONS from the stranger: no answer to any "
              f"({len(flooded)} answers: {sorted(set(flooded))})")
        allowed = {"INVITE": {"SIP/2.0 100 Trying"}, "REGISTER": {"SIP/2.0 405 Method Not Allowed"}}
        for method in ("INVITE", "REGISTER"):
            answers = runs[method].received()
            check(set(first_lines(answers)) <= allowed[method],
                  f"svmap {method} from a stranger gets nothing but {sorted(allowed[method])} "
                  f"({sorted(set(first_lines(answers)))}, svmap's table: {runs[method].rows()})",
                  "\n".join(answers)[:2000])
        for method in ("INVITE", "REGISTER"):
            answers = runs[method].received()
            said, leaks = identity(answers, s.version)
            check(not leaks, f"svmap {method} from a stranger learns no product name or version (headers sent: "
                  f"{said}, svmap's table: {runs[method].rows()})", f"found {leaks} in:\n{''.join(answers[:1])}")


def svwar_scan(h, s, method, force, pace):
    """One svwar run over 10-99 against the LAN side; its report, and the answers it got by the
    user each names."""
    label = f"svwar -m {method}{' --force' if force else ''}{'' if pace else ' (its own pace)'}"
    run = sipvicious(h, "svwar", ["-P", str(h.port()), "-x", "127.0.0.1", "-p", str(s.lan), "-m", method,
                                  "-e", "10-99", "--debug", *(["--force"] if force else []),
                                  *(["-t", str(pace)] if pace else []), "127.0.0.1"],
                     f"svwar-{method}{'-force' if force else ''}{'-paced' if pace else ''}")
    rows = run.rows()
    reported = {r[0] for r in rows}
    alike = len({r[1:] for r in rows}) == 1 and set(SCANNED) <= reported
    check(not rows or alike, f"{label}: learns nothing (" +
          (f"every extension reported alike: {rows[0][1:]}" if rows else f"no extension reported: {run.said()}") +
          ")", f"svwar reported {rows}")
    by_user = {}
    for a in run.received():
        by_user.setdefault(to_user(a), []).append(a)
    return label, run, by_user


def same_for_everyone(label, by_user):
    """Existing and unknown users got answers, and the same ones."""
    known = [u for u in by_user if u in EXISTING]
    unknown = [u for u in by_user if u not in EXISTING]
    check(known and unknown, f"{label}: svwar got answers for existing ({known}) and unknown users "
          f"({len(unknown)}, e.g. {unknown[:3]})")
    distinct = {shapes(v) for v in by_user.values()}
    check(len(distinct) == 1,
          f"{label}: the answers svwar got are the same for every user ({first_lines(by_user[known[0]])[:2]})",
          "\n\n".join("\n".join(d[0]) for d in distinct))


def svwar_lan(binary):
    """svwar over 10-99 (10 and 11 exist, 10 has a phone registered) with REGISTER, INVITE and
    OPTIONS, as svwar runs by default and with --force past its own sanity check, at 20
    requests a second (under lan.flood_per_source): it reports nothing, or everything alike,
    and the answers it got are the same for every user. Our own probes then compare existing
    and unknown users directly, without credentials and with a wrong password. Last, svwar at
    its own pace (hundreds a second): it learns nothing either, whether the answers stay alike
    or the daemon stops answering the scanner (which of the two is printed)."""
    with Harness("security-svwar-lan", binary) as h:
        s = Setup(h, register_phone=True)
        for method in ("REGISTER", "INVITE", "OPTIONS"):
            for force in (False, True):
                label, run, by_user = svwar_scan(h, s, method, force, pace=0.05)
                if not force and method != "OPTIONS":
                    # svwar's sanity check: a challenge for a random user means it cannot tell.
                    check(not any(u in EXISTING for u in by_user) and
                          "authentication request for an unknown extension" in run.err,
                          f"{label}: svwar gives up after its first request, a random user got a challenge",
                          run.text[-1500:])
                    continue
                same_for_everyone(label, by_user)

        probe = Probe(s.lan, "127.0.0.8")
        for method in ("REGISTER", "INVITE", "OPTIONS"):
            answers = {u: probe.send(method, u) for u in ("10", "11", "12", "57")}
            distinct = {shapes(a) for a in answers.values()}
            check(all(answers.values()) and len(distinct) == 1,
                  f"probe {method}: existing 10, 11 and unknown 12, 57 get the same answers "
                  f"{first_lines(answers['10'])}", "\n\n".join("\n".join(a[-1:]) for a in answers.values()))
        probe.close()
        for method, source in (("REGISTER", "127.0.0.6"), ("INVITE", "127.0.0.7")):
            probe = Probe(s.lan, source)
            answers = {u: probe.wrong_password(method, u) for u in ("10", "57")}
            probe.close()
            distinct = {(shapes(a), shapes(b)) for a, b in answers.values()}
            check(all(b for _, b in answers.values()) and len(distinct) == 1,
                  f"probe {method} with a wrong password: existing 10 and unknown 57 get the same answers "
                  f"{first_lines(answers['10'][1])}",
                  "\n\n".join("\n".join(b) for _, b in answers.values()))
        check("event=source_blocked" not in s.daemon.output(),
              "the answers alone told svwar nothing: the password guard never had to silence a source")

        mark = s.daemon.log_size()
        label, run, by_user = svwar_scan(h, s, "OPTIONS", True, pace=None)
        answered = [u for u in SCANNED if u in by_user]
        if len(answered) == len(SCANNED):
            same_for_everyone(label, by_user)
        else:
            # Silenced part way: the daemon must say it did so on purpose, and what came before
            # must tell nothing either.
            silenced = re.search(r"event=source_\w+ [^\n]*source=127\.0\.0\.1\b[^\n]*", s.daemon.output()[mark:])
            check(silenced, f"{label}: answers for {len(answered)} of {len(SCANNED)} users, then the daemon "
                  f"silenced the scanner ({silenced and silenced.group(0)[:160]})", s.daemon.output()[mark:][-2000:])
            if any(u in EXISTING for u in by_user):
                same_for_everyone(label, by_user)
        s.stop()


def svcrack_lan(binary):
    """svcrack on extension 10 from 127.0.0.1 with scan/passwords.txt: 50 wrong passwords, then
    the right one, at svcrack's own pace, sending on for 35 s after the last answer. The guard
    blocks the source after 5 failures (registrar.block_after_failures, default), so svcrack
    never gets to the right one; the block is logged once and from then on the source gets no
    answer at all, however much it sends and however long it listens. Before that, svcrack with
    a short list (two wrong, then the right one) does find it: the tool works against this
    daemon, and only the block stops it."""
    with open(DICTIONARY) as f:
        words = [w.strip() for w in f if w.strip()]
    check(len(words) == 51 and words[-1] == PASSWORDS["10"] and PASSWORDS["10"] not in words[:-1],
          f"the dictionary holds 50 wrong passwords, then the right one of 10 ({len(words)} lines)")
    with Harness("security-svcrack-lan", binary) as h:
        s = Setup(h)
        short = h.path("short.txt")
        with open(short, "w") as f:
            f.write(f"not-it-1\nnot-it-2\n{PASSWORDS['10']}\n")
        common = ["-x", "127.0.0.1", "-p", str(s.lan), "-u", "10", "-vv"]
        control = sipvicious(h, "svcrack", ["-P", str(h.port()), *common, "-d", short, "127.0.0.1"], "svcrack-short")
        check(f"The password for 10 is {PASSWORDS['10']}" in control.text,
              "svcrack with two wrong passwords, then the right one: it finds the password (the tool works "
              "against this daemon, and 2 failures stay under the guard's limit)", control.text[-1500:])
        check("event=source_blocked" not in s.daemon.output(), "no block after the two failures")

        mark = s.daemon.log_size()
        # svcrack's own pace; it waits for an answer longer than the daemon holds a request it
        # leaves unanswered (kHoldSeconds, b2bua/sip/silent_drop.h).
        attack = sipvicious(h, "svcrack", ["-P", str(h.port()), *common, "--maximumtime", "35", "-d", DICTIONARY,
                                           "127.0.0.1"], "svcrack-dictionary", timeout=70)
        tried = re.findall(r"^DEBUG:ASipOfRedWine:trying (.*)$", attack.err, re.M)
        check("The password for" not in attack.text and not attack.rows(),
              f"svcrack with 50 wrong passwords, then the right one: the password is not found "
              f"({attack.said()})", attack.text[-2000:])
        check(PASSWORDS["10"] not in tried and len(tried) < len(words),
              f"svcrack never got to the right password: it answered {len(tried)} challenges")
        log = s.daemon.output()[mark:]
        failures = len(re.findall(r"event=auth_failed source=127\.0\.0\.1 user=10 ", log))
        check(failures == GUARD_FAILURES,
              f"the guard counted {failures} failures from 127.0.0.1, then blocked it "
              f"(registrar.block_after_failures {GUARD_FAILURES})", log[-3000:])
        s.daemon.wait_log(rf"level=warn component=registrar event=source_blocked source=127\.0\.0\.1 seconds=600 "
                          rf"failures={GUARD_FAILURES}", timeout=3, after=mark)
        check(s.daemon.output().count("event=source_blocked") == 1, "the block is logged once, not per request")
        check("event=extension_locked" not in s.daemon.output(),
              "one source guessing does not lock the extension (that takes several)")

        with Client(s.lan, h.port(), "10", user_agent="scan-test-phone") as blocked:
            res, _ = blocked.login(PASSWORDS["10"])
        check(res is None, "the blocked address gets no answer, even with the right password" +
              (f": {res.status_line}" if res else ""))
        with Client(s.lan, h.port(), "10", bind_host="127.0.0.4", user_agent="scan-test-phone") as phone:
            res, _ = phone.login(PASSWORDS["10"])
        check(res is not None and res.status == 200,
              "a phone on 127.0.0.4 registers 10 with the right password" + (f" ({res.status_line})" if res else ""))
        s.stop()
        after_block = re.findall(r"^DEBUG:ASipOfRedWine:'(SIP/2\.0 \d{3} [^\\]*)", attack.err, re.M)
        check("seconds since we last received a response - stopping" in attack.err and
              "We got an unknown response" not in attack.err,
              f"svcrack got no answer once blocked, not even later: it stopped after 35 s of silence "
              f"(answers it could not use: {sorted(set(after_block))})", attack.err[-1500:])


def provider_answers(s):
    """The WAN port answers the trunk's server: silence for the others is no wrong port."""
    probe = Probe(s.wan, PROVIDER_IP)
    answers = probe.send("OPTIONS", "4930123456")
    probe.close()
    check(first_lines(answers) == ["SIP/2.0 200 OK"],
          f"an OPTIONS from the trunk's server ({PROVIDER_IP}) is answered {first_lines(answers)}")


def svwar_wan(binary):
    """svwar over 10-99 against the WAN port from a stranger, with each method: nothing
    reported, and nothing answers but the documented 100 Trying (INVITE) and 405 (REGISTER)."""
    with Harness("security-svwar-wan", binary) as h:
        s = Setup(h)
        provider_answers(s)
        allowed = {"REGISTER": {"SIP/2.0 405 Method Not Allowed"}, "INVITE": {"SIP/2.0 100 Trying"},
                   "OPTIONS": set()}
        runs = {}
        for method in ("REGISTER", "INVITE", "OPTIONS"):
            runs[method] = sipvicious(h, "svwar", ["-P", str(h.port()), "-x", "127.0.0.1", "-p", str(s.wan), "-m",
                                                   method, "-e", "10-99", "--force", "--debug", "127.0.0.1"],
                                      f"svwar-{method}")
        s.stop()
        for method, run in runs.items():
            answers = run.received()
            check(not run.rows() and set(first_lines(answers)) <= allowed[method],
                  f"svwar -m {method} from a stranger: no extension reported, answers "
                  f"{sorted(set(first_lines(answers)))} ({run.said()})", run.text[-1500:])
        for method, run in runs.items():
            answers = run.received()
            said, leaks = identity(answers, s.version)
            check(not leaks, f"svwar -m {method} from a stranger: no product name or version (headers sent: {said})",
                  "".join(answers[:1]))


def svcrack_wan(binary):
    """svcrack on 10 against the WAN port from a stranger: REGISTER is no method the WAN side
    serves, so svcrack gets the stack's 405 at most and cracks nothing. (svcrack -m INVITE is
    not run: 0.3.3 resends its INVITE for as long as 100 Trying answers come back.)"""
    with Harness("security-svcrack-wan", binary) as h:
        s = Setup(h)
        provider_answers(s)
        run = sipvicious(h, "svcrack", ["-P", str(h.port()), "-x", "127.0.0.1", "-p", str(s.wan), "-u", "10",
                                        "--maximumtime", "4", "-vv", "-d", DICTIONARY, "127.0.0.1"], "svcrack")
        s.stop()
        answers = re.findall(r"SIP/2\.0 \d{3} [^\\\r\n']*", run.err)
        check("The password for" not in run.text and not run.rows() and
              set(answers) <= {"SIP/2.0 405 Method Not Allowed"},
              f"svcrack from a stranger cracks nothing (answers seen: {sorted(set(answers))}; {run.said()})",
              run.text[-1500:])
        tried = len(re.findall(r"^DEBUG:ASipOfRedWine:trying ", run.err, re.M))
        check(tried == 0, f"svcrack never got a challenge to answer ({tried} passwords tried)")
        check("event=auth_failed" not in s.daemon.output(), "nothing from the WAN reached the password check")


FLOWS = {f.__name__: f for f in (svmap_lan, svmap_wan, svwar_lan, svcrack_lan, svwar_wan, svcrack_wan)}

if __name__ == "__main__":
    run_flows(FLOWS)
