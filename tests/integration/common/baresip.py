"""baresip (Debian's baresip-core) as a phone of a test, driven over its ctrl_tcp socket:
netstring JSON, commands in, responses and call events out. What every such phone shares is
here; a test's own phone says what differs (its audio modules and source, RTP ports, command
line switches, account parameters) and waits for the daemon's binding as it needs to.
"""
import json
import os
import re
import socket
import threading

from harness import check, fail, udp_bound, wait_until
from netns import in_netns

MODULES = "/usr/lib/baresip/modules"


class Baresip:
    """One baresip process registered as `ext` at `registrar` (host:port) with `password`:
    its own config folder, SIP port (and the TLS port above it, which baresip binds too),
    ctrl_tcp port; the ctrl_tcp connection is read by a thread that keeps every event and
    response.

    `config`: config lines of the caller's own (audio modules, source, player, rtp_ports), added
    to the shared ones (loopback only, g711, account/menu/ctrl_tcp). `account`: the account's
    parameters after the password ("answermode=auto;regint=600"). `args`: more switches for the
    command line ("-s", "-v").

    `address`: where it listens for SIP and what its SDP announces. `netns`: a network namespace
    (ip netns) to run it in; its ctrl_tcp socket stays on that namespace's loopback, reached from
    here through netns.py. `ports`: its SIP port (the TLS port above it is taken too) and
    ctrl_tcp port, when the test does not take them from the harness's block."""

    def __init__(self, h, ext, registrar, password, config="", account="", args=(), address="127.0.0.1",
                 netns=None, ports=None):
        self.h, self.ext = h, ext
        self.netns = netns
        self.sip_port, self.ctrl_port = ports or (h.port(2)[0], h.port())
        self.dir = h.path(f"baresip{ext}")
        os.makedirs(self.dir, exist_ok=True)
        with open(os.path.join(self.dir, "config"), "w") as f:
            # net_interface: its SDP announces the address it sends from (else the address of the
            # default interface, which the relay's 1 s strict latch drops on loopback).
            f.write(f"poll_method epoll\nnet_interface {address}\nsip_listen {address}:{self.sip_port}\n"
                    f"module_path {MODULES}\nmodule g711.so\n"
                    "module_app account.so\nmodule_app menu.so\nmodule_app ctrl_tcp.so\n"
                    f"ctrl_tcp_listen 127.0.0.1:{self.ctrl_port}\n" + config)
        with open(os.path.join(self.dir, "accounts"), "w") as f:
            f.write(f"<sip:{ext}@{registrar};transport=udp>;auth_pass={password}" +
                    (f";{account}" if account else "") + "\n")
        wrap = ["ip", "netns", "exec", netns] if netns else []
        self.proc = h.spawn([*wrap, "baresip", "-f", self.dir, *args], f"baresip{ext}")
        self.items = []
        self.lock = threading.Lock()
        self.token = 0
        up = wait_until(lambda: not self.proc.running() or self._here(lambda: udp_bound(self.sip_port, address)
                                                                      and self._connect()), 10)
        if not up or not self.proc.running():
            fail(f"baresip {ext} did not start:\n{self.proc.output()[-2000:]}")
        threading.Thread(target=self._read, daemon=True).start()

    def _here(self, fn):
        """fn() in the phone's namespace (sockets made there stay there)."""
        return in_netns(self.netns, fn) if self.netns else fn()

    def _connect(self):
        try:
            self.sock = socket.create_connection(("127.0.0.1", self.ctrl_port), timeout=1)
        except OSError:
            return False
        self.sock.settimeout(None)
        return True

    def _read(self):
        buf = b""
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            buf += data
            while True:  # netstrings: <length>:<json>,
                head, colon, rest = buf.partition(b":")
                if not colon or not head.isdigit() or len(rest) < int(head) + 1:
                    break
                n = int(head)
                with self.lock:
                    self.items.append(json.loads(rest[:n]))
                buf = rest[n + 1:]

    def command(self, command, params="", timeout=5):
        """Sends a command; returns its response's data (fails the test on an error answer)."""
        self.token += 1
        token = f"t{self.token}"
        raw = json.dumps({"command": command, "params": params, "token": token}).encode()
        self.sock.sendall(str(len(raw)).encode() + b":" + raw + b",")
        r = wait_until(lambda: next((i for i in self.snapshot() if i.get("response") and i.get("token") == token),
                                    None), timeout)
        check(r and r.get("ok"), f"  baresip {self.ext}: /{command} {params}".rstrip(), str(r))
        return r.get("data", "")

    def snapshot(self):
        with self.lock:
            return list(self.items)

    def mark(self):
        """Where the events so far end (for `after`)."""
        return len(self.snapshot())

    def events(self, kind=None, after=0):
        return [i for i in self.snapshot()[after:] if i.get("event") and (kind is None or i.get("type") == kind)]

    def calls(self, after=0):
        """The call events past `after` (an INVITE that reached baresip makes at least one)."""
        return [(e.get("type"), e.get("param")) for e in self.events(after=after)
                if e.get("type", "").startswith("CALL_")]

    def wait_event(self, kind, timeout=10, after=0):
        """The first `kind` event past `after` within `timeout` s; fails the test otherwise."""
        e = wait_until(lambda: self.events(kind, after), timeout)
        if not e:
            fail(f"baresip {self.ext}: no {kind} event within {timeout}s; events "
                 f"{[(i.get('type'), i.get('param')) for i in self.events(after=after)]}\n"
                 f"{self.log()[-2000:]}")
        return e[0]

    def log(self):
        """Its output without the call status line it rewrites in place."""
        return re.sub(r"\[\d+:\d\d:\d\d\] audio=\d+/\d+ \(bit/s\)\s*", "", self.proc.output())

    def quit(self):
        """/quit (unregisters), then the harness's TERM/KILL if it is still there."""
        try:
            self.command("quit", timeout=2)
        except SystemExit:
            pass
        wait_until(lambda: not self.proc.running(), 5)
        self.proc.stop(5)
