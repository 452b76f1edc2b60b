#!/usr/bin/env python3
"""Start-up and shutdown benchmark: how long `b2bua run` takes from exec to READY=1 (the
systemd readiness datagram, sent to a NOTIFY_SOCKET this script binds) and from SIGTERM to its
exit, idle, with 10 trunks and 100 phone bindings restored from SQLite. Both goals: < 200 ms.

Two trunk set-ups, each a row:
  provider     the 10 trunks register (digest auth) at a Kamailio provider on loopback; the
               daemon is stopped once all 10 are registered, so its shutdown un-REGISTERs them
  unreachable  the 10 trunks point at closed loopback ports (ICMP port unreachable)
The 100 bindings point at closed loopback ports too (their qualify OPTIONS go unanswered).

Anchor (provider row): the provider Kamailio itself (one worker), from exec to its first
answered OPTIONS and from SIGTERM to exit, restarted in every repeat.

Prints medians (and min/max) of the repeats; exits 1 with FAIL lines when a median is over the
goal or a run went wrong (READY never came, a trunk never registered, bindings not restored).

    bench_startup.py [--short] [--runs N] [--keep] B2BUA_BINARY
"""
import argparse
import os
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "integration", "common"))
from harness import Harness, Process, udp_bound  # noqa: E402

GOAL_MS = 200.0
TRUNKS = 10
BINDINGS = 100
TRUNK_PASSWORD = "trunk-pw-0123"


class NotifySocket:
    """The service manager's end of sd_notify: an AF_UNIX datagram socket in the work folder."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)

    def wait_for(self, state, timeout):
        """Monotonic time the datagram carrying `state` arrived (None after `timeout`)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(4096).decode(errors="replace")
            except socket.timeout:
                return None
            if state in data.split("\n"):
                return time.monotonic()

    def drain(self):
        self.sock.setblocking(False)
        try:
            while self.sock.recv(4096):
                pass
        except (BlockingIOError, OSError):
            pass

    def close(self):
        self.sock.close()


def options_answered(port):
    """True when an OPTIONS to 127.0.0.1:`port` gets any SIP answer within 20 ms."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        lport = s.getsockname()[1]
        msg = (f"OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{lport};rport;branch=z9hG4bK{time.monotonic_ns()}\r\n"
               f"Max-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=p\r\nTo: <sip:127.0.0.1:{port}>\r\n"
               f"Call-ID: {time.monotonic_ns()}@probe\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
        s.settimeout(0.02)
        try:
            s.sendto(msg.encode(), ("127.0.0.1", port))
            return s.recv(4096).startswith(b"SIP/2.0 ")
        except OSError:
            return False


def closed_udp_ports(h, n):
    """`n` ports of the test's block with nothing bound to them (ICMP port unreachable)."""
    ports = h.port(n)
    return [ports] if isinstance(ports, int) else list(ports)


def daemon_config(h, lan, wan, trunk_targets, phone_ports):
    trunks = [{"name": f"t{i}", "registrar": f"sip:127.0.0.1:{target}", "username": f"acct{i}",
               "password": TRUNK_PASSWORD, "expires": 600, "keepalive": {"method": "off"}}
              for i, target in enumerate(trunk_targets)]
    return {
        "lan": {"listen": [f"udp:127.0.0.1:{lan}"], "networks": ["127.0.0.0/8"], "realm": "bench.arpa"},
        "wan": {"address": "127.0.0.1", "port": wan},
        "extensions": [{"number": str(200 + i), "password": f"pw-{i:04d}-x"} for i in range(len(phone_ports))],
        "trunks": trunks,
        "log": {"level": "info"},
    }


def seed_bindings(db, phone_ports):
    """Writes one binding per extension, as the registrar would have left them at its last stop."""
    now = int(time.time())
    with sqlite3.connect(db) as c:
        c.execute("DELETE FROM bindings")
        for i, port in enumerate(phone_ports):
            aor = str(200 + i)
            c.execute("INSERT INTO bindings (aor, contact, call_id, cseq, expires_at, q, updated_at, transport, source, "
                      "user_agent) VALUES (?, ?, ?, 1, ?, 1.0, ?, 'udp', ?, 'bench-phone')",
                      (aor, f"sip:{aor}@127.0.0.1:{port}", f"seed-{aor}@bench", now + 3600, now, f"127.0.0.1:{port}"))


class Bench:
    def __init__(self, h, binary):
        self.h = h
        self.binary = binary
        self.notify = NotifySocket(h.path("notify.sock"))
        self.env = dict(os.environ, NOTIFY_SOCKET=self.notify.path)
        self.failures = []
        self.seq = 0

    def start_daemon(self, config_path):
        """(process, ms from exec to READY=1 or None)."""
        self.seq += 1
        self.notify.drain()
        t0 = time.monotonic()
        p = Process([self.binary, "run", "--config", config_path], self.h.path(f"b2bua-{self.seq}.log"), cwd=self.h.dir,
                    env=self.env)
        self.h.processes.append(p)
        ready = self.notify.wait_for("READY=1", 10)
        return p, (ready - t0) * 1000 if ready else None

    def stop(self, p):
        """ms from SIGTERM to the exit of `p` (its exit code checked)."""
        t0 = time.monotonic()
        os.kill(p.pid, signal.SIGTERM)
        code = p.wait(10)
        ms = (time.monotonic() - t0) * 1000
        if code != 0:
            self.failures.append(f"{p.log_path}: exit code {code}")
        return ms

    def run_daemon(self, config_path, expect_registered):
        p, ready_ms = self.start_daemon(config_path)
        if ready_ms is None:
            self.failures.append(f"{p.log_path}: no READY=1 within 10 s")
            p.stop()
            return None, None
        if not p.find_log(rf"component=registrar event=started bindings_restored={BINDINGS}\b", 5):
            self.failures.append(f"{p.log_path}: the {BINDINGS} bindings were not restored")
        if expect_registered:
            if not p.find_log(r"(?s)(event=registered trunk=t\d.*){%d}" % TRUNKS, 10):
                self.failures.append(f"{p.log_path}: not all {TRUNKS} trunks registered")
        time.sleep(0.3)  # idle: what the start set going has settled
        stop_ms = self.stop(p)
        return ready_ms, stop_ms


def start_kamailio(h, port, seq):
    """(process, ms from exec to the first answered OPTIONS)."""
    with open(os.path.join(HERE, "kamailio-provider.cfg")) as f:
        text = f.read()
    text = text.replace("@@PORT@@", str(port)).replace("@@PASSWORD@@", TRUNK_PASSWORD)
    text = text.replace("@@SECRET@@", os.urandom(8).hex())
    cfg = h.path("kamailio.cfg")
    with open(cfg, "w") as f:
        f.write(text)
    rundir = h.path("kamailio-run")
    os.makedirs(rundir, exist_ok=True)
    t0 = time.monotonic()
    p = Process(["kamailio", "-f", cfg, "-DD", "-E", "-m", "32", "-M", "8", "-Y", rundir, "-w", rundir],
                h.path(f"kamailio-{seq}.log"), cwd=h.dir)
    h.processes.append(p)
    while time.monotonic() - t0 < 10 and p.running():
        if options_answered(port):
            return p, (time.monotonic() - t0) * 1000
        time.sleep(0.002)
    raise RuntimeError(f"kamailio did not answer OPTIONS on {port}:\n{p.output()[-2000:]}")


def summary(values):
    v = [x for x in values if x is not None]
    if not v:
        return None, "none"
    med = statistics.median(v)
    return med, f"{med:.1f} ms (min {min(v):.1f}, max {max(v):.1f}, n={len(v)})"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--short", action="store_true", help="5 repeats per set-up (the ctest check)")
    ap.add_argument("--runs", type=int, default=0)
    ap.add_argument("--keep", action="store_true", help="keep the work folder (daemon logs)")
    args = ap.parse_args()
    runs = args.runs or (5 if args.short else 15)

    with Harness("startup-bench", args.binary) as h:
        b = Bench(h, h.binary)
        lan, wan, provider = h.port(3)
        unreachable = closed_udp_ports(h, TRUNKS)
        phone_ports = closed_udp_ports(h, 10)
        phones = [phone_ports[i % len(phone_ports)] for i in range(BINDINGS)]  # one binding per extension

        # The database: the schema from a first start, then the bindings the restarts restore.
        first = h.write_config(daemon_config(h, lan, wan, unreachable, phones), "seed.jsonc")
        p, ready = b.start_daemon(first)
        if ready is None:
            print(f"FAIL: the daemon never sent READY=1:\n{p.output()[-2000:]}")
            return 1
        b.stop(p)
        seed_bindings(h.path("b2bua.db"), phones)

        results = {}
        cfg_unreachable = h.write_config(daemon_config(h, lan, wan, unreachable, phones), "unreachable.jsonc")
        cfg_provider = h.write_config(daemon_config(h, lan, wan, [provider] * TRUNKS, phones), "provider.jsonc")
        rows = {"unreachable": ([], []), "provider": ([], []), "kamailio": ([], [])}
        for i in range(runs):
            ready_ms, stop_ms = b.run_daemon(cfg_unreachable, expect_registered=False)
            rows["unreachable"][0].append(ready_ms)
            rows["unreachable"][1].append(stop_ms)
            k, k_ready = start_kamailio(h, provider, i)
            ready_ms, stop_ms = b.run_daemon(cfg_provider, expect_registered=True)
            rows["provider"][0].append(ready_ms)
            rows["provider"][1].append(stop_ms)
            t0 = time.monotonic()
            k.signal(signal.SIGTERM)
            k.wait(10)
            rows["kamailio"][0].append(k_ready)
            rows["kamailio"][1].append((time.monotonic() - t0) * 1000)
            if udp_bound(provider):
                b.failures.append("kamailio still holds its port after its exit")

        print(f"b2bua idle with {TRUNKS} trunks and {BINDINGS} bindings restored from SQLite; {runs} repeats; "
              f"goal < {GOAL_MS:.0f} ms for both")
        print()
        print("| set-up | start to READY=1 (median) | SIGTERM to exit (median) |")
        print("|---|---|---|")
        labels = {"unreachable": f"b2bua, {TRUNKS} trunks at closed loopback ports",
                  "provider": f"b2bua, {TRUNKS} trunks registered at a kamailio provider (un-REGISTER at stop)",
                  "kamailio": "anchor: the kamailio provider, 1 worker (start to first OPTIONS answered)"}
        for name, (ready, stop) in rows.items():
            r_med, r_text = summary(ready)
            s_med, s_text = summary(stop)
            results[name] = (r_med, s_med)
            print(f"| {labels[name]} | {r_text} | {s_text} |")
        print()
        for name in ("unreachable", "provider"):
            r_med, s_med = results[name]
            if r_med is None or r_med >= GOAL_MS:
                b.failures.append(f"{name}: start to READY median {r_med} ms is not under {GOAL_MS:.0f} ms")
            if s_med is None or s_med >= GOAL_MS:
                b.failures.append(f"{name}: SIGTERM to exit median {s_med} ms is not under {GOAL_MS:.0f} ms")
        b.notify.close()
        for f in b.failures:
            print(f"FAIL: {f}")
        if b.failures or args.keep:
            print(f"kept {h.dir}")
        else:
            shutil.rmtree(h.dir, ignore_errors=True)
        return 1 if b.failures else 0


if __name__ == "__main__":
    sys.exit(main())
