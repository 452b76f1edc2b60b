#!/usr/bin/env python3
"""Flood benchmark: b2bua on a router, its WAN port flooded from the internet by many forged
sources and its LAN port by a broken or compromised LAN device with many forged sources, with
REGISTER, INVITE, OPTIONS and random bytes mixed, for `--duration` seconds. Meanwhile its trunk
must stay registered at a real provider (kamailio) and a phone must call out through it, during
and after the flood; its memory must stay bounded and come back, its file descriptors too
(README.md: what is measured, the figures, what they mean).

    bench_flood.py B2BUA_BINARY SIP_FLOOD_BINARY [--target both|wan|lan] [--rate PPS]
                   [--duration 60] [--after 60] [--sources 10000] [--mix register=1,...]
                   [--no-assert] [--keep]

Network namespaces, named after this process's PID (needs root; exit 77 otherwise):

    lan  phone 192.168.1.10      192.168.1.1  mid  203.0.113.2   203.0.113.1  wan
         flood  from 192.168.128.0/17  (b2bua)               provider 198.51.100.10 (kamailio)
                (inside lan.networks)                        far end  198.51.100.20 (sipp)
                                                             flood from 198.18.0.0/16 (RFC 2544)

The forged ranges are routed from `mid` back to the namespace the flood came from, so every
answer b2bua gives to a forged source arrives there, is counted by status code (nftables) and
dropped. Everything runs through `ip netns exec` and is ended by its PID; the namespaces go on
exit, on failure and on SIGINT/SIGTERM. Every load stops by itself (the sender's --duration).
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "integration", "common"))
from harness import Process, read_text, sipp_argv, wait_until, write_jsonc  # noqa: E402
import scenarios  # noqa: E402

PREFIX = "b2bflood"
DAEMON_LAN, PHONE, LAN_ATTACKER = "192.168.1.1", "192.168.1.10", "192.168.1.20"
LAN_NETWORKS = "192.168.0.0/16"          # the daemon's lan.networks: phones and the LAN flood
LAN_FORGED = "192.168.128.0/17"
DAEMON_WAN, WAN_GATEWAY = "203.0.113.2", "203.0.113.1"
PROVIDER, FAR_END = "198.51.100.10", "198.51.100.20"
WAN_FORGED = "198.18.0.0/16"
SIP_PORT, PHONE_PORT, FAR_PORT, STATUS_PORT = 5060, 5070, 5090, 18088
TRUNK_USER, TRUNK_PASSWORD = "4930123456", "flood-provider-secret"
TRUNK_EXPIRES = 60                       # kamailio's min_expires: refreshes fall inside the flood
EXT, EXT_PASSWORD = "10", "flood-phone-pw-10"
DIALLED = "0301234567"

# The acceptance criteria: the README's security promise, as numbers (README.md here).
RSS_PEAK_LIMIT_KB = 16 * 1024            # above idle, during the flood
RSS_AFTER_LIMIT_KB = 2 * 1024            # above idle, `--after` seconds after the flood
FD_DURING_SLACK = 32                     # above idle: a call in progress holds relay sockets
FD_AFTER_SLACK = 2
# What the counters count, by status line (the first 12 bytes of the UDP payload).
REPLY_CODES = ("100", "180", "200", "400", "401", "403", "404", "405", "407", "408", "480", "481", "482", "483",
               "500", "501", "503", "513")
SAMPLE_S = 0.5


def log(text):
    print(text, flush=True)


def run(argv, check=True, input_text=None, timeout=20):
    r = subprocess.run(argv, input=input_text, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {r.stderr.strip()}")
    return r


# --- the network ---------------------------------------------------------------------------

class Net:
    """Three namespaces joined by two veth pairs; created inside the namespaces only, so no name
    can clash with the host's or with another run's."""

    def __init__(self, prefix):
        self.prefix = prefix
        self.created = []

    def ns(self, host):
        return f"{self.prefix}-{host}"

    def ip(self, host, *args):
        return run(["ip", "-n", self.ns(host), *args])

    def exec(self, host, argv, **kw):
        return run(["ip", "netns", "exec", self.ns(host), *argv], **kw)

    def sysctl(self, host, **values):
        for key, value in values.items():
            self.exec(host, ["sysctl", "-q", "-w", f"{key}={value}"])

    def create(self):
        for host in ("mid", "lan", "wan"):
            run(["ip", "netns", "add", self.ns(host)])
            self.created.append(self.ns(host))
            self.ip(host, "link", "set", "lo", "up")
        self.ip("mid", "link", "add", "lan0", "type", "veth", "peer", "name", "eth0", "netns", self.ns("lan"))
        self.ip("mid", "link", "add", "wan0", "type", "veth", "peer", "name", "eth0", "netns", self.ns("wan"))
        self.ip("mid", "addr", "add", f"{DAEMON_LAN}/24", "dev", "lan0")
        self.ip("mid", "addr", "add", f"{DAEMON_WAN}/24", "dev", "wan0")
        for dev in ("lan0", "wan0"):
            self.ip("mid", "link", "set", dev, "up")
        self.ip("lan", "addr", "add", f"{PHONE}/24", "dev", "eth0")
        self.ip("lan", "addr", "add", f"{LAN_ATTACKER}/24", "dev", "eth0")
        self.ip("wan", "addr", "add", f"{WAN_GATEWAY}/24", "dev", "eth0")
        for host in ("lan", "wan"):
            self.ip(host, "link", "set", "eth0", "up")
        for address in (PROVIDER, FAR_END):
            self.ip("wan", "addr", "add", f"{address}/32", "dev", "lo")
        # Answers to the forged sources go back where the flood came from.
        self.ip("mid", "route", "add", "default", "via", WAN_GATEWAY)
        self.ip("mid", "route", "add", LAN_FORGED, "via", LAN_ATTACKER)
        self.ip("lan", "route", "add", "default", "via", DAEMON_LAN)
        # The forged sources arrive where their way back leads, so a strict reverse-path filter
        # would pass them too; off anyway, so the host's setting (inherited) changes nothing.
        self.sysctl("mid", **{"net.ipv4.conf.all.rp_filter": 0, "net.ipv4.conf.default.rp_filter": 0,
                              "net.ipv4.conf.lan0.rp_filter": 0, "net.ipv4.conf.wan0.rp_filter": 0})
        self.exec("lan", ["nft", "-f", "-"], input_text=counter_rules(DAEMON_LAN, LAN_FORGED))
        self.exec("wan", ["nft", "-f", "-"], input_text=counter_rules(DAEMON_WAN, WAN_FORGED))

    def replies(self, host):
        """What the daemon sent to the forged sources: {"total": n, "100": n, ...}."""
        r = self.exec(host, ["nft", "-j", "list", "table", "inet", "flood_count"], check=False)
        out = {}
        try:
            for item in json.loads(r.stdout)["nftables"]:
                c = item.get("counter")
                if c:
                    out[c["name"].replace("code_", "")] = c["packets"]
        except (ValueError, KeyError):
            pass
        return out

    def destroy(self):
        for name in reversed(self.created):
            remove_namespace(name)
        self.created.clear()


def counter_rules(daemon, forged):
    lines = [f"  counter code_{c} {{}}" for c in REPLY_CODES]
    matches = [f"    udp sport {SIP_PORT} @ih,0,96 0x{('SIP/2.0 ' + c + ' ').encode().hex()} counter name code_{c} drop"
               for c in REPLY_CODES]
    return ("table inet flood_count {\n  counter total {}\n" + "\n".join(lines) + "\n"
            "  chain replies {\n    counter name total\n" + "\n".join(matches) + "\n    drop\n  }\n"
            "  chain pre {\n    type filter hook prerouting priority raw; policy accept;\n"
            f"    ip saddr {daemon} ip daddr {forged} udp sport {SIP_PORT} jump replies\n"
            f"    ip saddr {daemon} ip daddr {forged} drop\n  }}\n}}\n")


def remove_namespace(name):
    """Ends what still runs in one of our namespaces (by PID) and removes it."""
    r = run(["ip", "netns", "pids", name], check=False)
    for pid in r.stdout.split():
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass
    run(["ip", "netns", "del", name], check=False)


def remove_stale_namespaces():
    """Namespaces of an earlier run that was killed before it could clean up (its PID is gone)."""
    r = run(["ip", "netns", "list"], check=False)
    for line in r.stdout.splitlines():
        m = re.match(rf"({PREFIX}-(\d+)-\w+)", line)
        if m and not os.path.exists(f"/proc/{m.group(2)}"):
            remove_namespace(m.group(1))


# --- the daemon's figures --------------------------------------------------------------------

def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            m = re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M)
        return int(m.group(1)) if m else None
    except OSError:
        return None


def fd_count(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def cpu_s(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def udp_counters(pid):
    """The daemon namespace's UDP counters (/proc/PID/net is the namespace of PID)."""
    try:
        with open(f"/proc/{pid}/net/snmp") as f:
            rows = [ln.split() for ln in f if ln.startswith("Udp:")]
        return dict(zip(rows[0][1:], map(int, rows[1][1:])))
    except (OSError, IndexError, ValueError):
        return {}


def memory_map(pid):
    """Where the resident memory is: smaps_rollup's totals, and Rss of the main heap, of other
    anonymous mappings (glibc's thread arenas among them) and of file mappings, in kB."""
    out = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                m = re.match(r"(\w+):\s+(\d+) kB", line)
                if m and m.group(1) in ("Rss", "Anonymous", "Private_Dirty"):
                    out[m.group(1).lower()] = int(m.group(2))
        heap = anon = files = 0
        kind = None
        with open(f"/proc/{pid}/smaps") as f:
            for line in f:
                head = re.match(r"^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$", line)
                if head:
                    name = head.group(1).strip()
                    kind = "heap" if name == "[heap]" else "anon" if not name else (
                        "file" if name.startswith("/") else "other")
                elif line.startswith("Rss:") and kind:
                    kb = int(line.split()[1])
                    if kind == "heap":
                        heap += kb
                    elif kind == "anon":
                        anon += kb
                    elif kind == "file":
                        files += kb
        out.update(heap=heap, anon_mappings=anon, files=files)
    except OSError:
        pass
    return out


class Sampler(threading.Thread):
    """VmRSS and open descriptors of the daemon every SAMPLE_S seconds, with the time. A daemon
    whose RSS passes `abort_kb` ends the flood early (the senders get SIGTERM): the benchmark
    must not take the machine's memory with it."""

    def __init__(self, pid, abort_kb):
        super().__init__(daemon=True)
        self.pid = pid
        self.abort_kb = abort_kb
        self.samples = []   # (monotonic, rss_kb, fds, cpu_s)
        self.senders = []
        self.aborted_at = None
        self.stop_event = threading.Event()

    def run(self):
        while not self.stop_event.is_set():
            rss = rss_kb(self.pid)  # None once the daemon is gone (a zombie has no VmRSS and no descriptors)
            self.samples.append((time.monotonic(), rss, fd_count(self.pid) if rss else None, cpu_s(self.pid)))
            if rss and rss > self.abort_kb and self.aborted_at is None:
                self.aborted_at = time.monotonic()
                for s in list(self.senders):
                    s.signal(signal.SIGTERM)
            self.stop_event.wait(SAMPLE_S)

    def window(self, t0, t1):
        return [s for s in self.samples if t0 <= s[0] <= t1]


def poll_status(port, out_path, seconds):
    """Runs inside the daemon's namespace (--poll-status): GET /status once a second, one JSON
    line per try, bounded by `seconds`."""
    import status_http
    end = time.monotonic() + seconds
    with open(out_path, "a") as out:
        while time.monotonic() < end:
            t = time.time()
            line = {"t": t}
            try:
                s = status_http.get_json(port, "/status")
                trunk = (s.get("trunks") or [{}])[0]
                line.update(ok=True, state=trunk.get("state"), last_status=trunk.get("last_status"),
                            wan_rejected=s.get("wan_requests_rejected"), took=round(time.time() - t, 3))
            except Exception as e:  # a status endpoint that does not answer is a figure
                line.update(ok=False, error=str(e)[:120], took=round(time.time() - t, 3))
            out.write(json.dumps(line) + "\n")
            out.flush()
            time.sleep(max(0.0, 1.0 - (time.time() - t)))


# --- peers ---------------------------------------------------------------------------------

FAR_HDR = """[last_Via:]
[last_Record-Route:]
[last_From:]
[last_To:];tag=[pid]far
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:far@[local_ip]:[local_port]>
"""


def far_answer():
    """The far end behind the provider: answers each INVITE with SDP, plays audio, waits for BYE."""
    body = ('<recv request="INVITE" crlf="true"/>\n'
            f'<send><![CDATA[\nSIP/2.0 180 Ringing\n{FAR_HDR}Content-Length: 0\n\n]]></send>\n'
            '<pause milliseconds="200"/>\n'
            f'<send retrans="500"><![CDATA[\nSIP/2.0 200 OK\n{FAR_HDR}'
            f'Content-Type: application/sdp\nContent-Length: [len]\n\n{scenarios.SDP}]]></send>\n'
            '<recv request="ACK" crlf="true"/>\n'
            f'<nop><action><exec play_pcap_audio="{scenarios.PCAP}"/></action></nop>\n'
            '<recv request="BYE"/>\n'
            '<send><![CDATA[\nSIP/2.0 200 OK\n[last_Via:]\n[last_From:]\n[last_To:]\n[last_Call-ID:]\n'
            '[last_CSeq:]\nContent-Length: 0\n\n]]></send>\n')
    return f'<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="far_answer">\n{body}</scenario>\n'


class Bench:
    def __init__(self, args, workdir):
        self.args = args
        self.dir = workdir
        self.net = Net(f"{PREFIX}-{os.getpid()}")
        self.processes = []
        self.daemon = None

    def path(self, name):
        return os.path.join(self.dir, name)

    def spawn(self, host, argv, name):
        p = Process(["ip", "netns", "exec", self.net.ns(host), *argv], self.path(f"{name}.log"), cwd=self.dir)
        p.name = name
        self.processes.append(p)
        return p

    def stop_all(self):
        for p in reversed(self.processes):
            try:
                p.stop(timeout=5)
            except Exception:  # cleanup must reach every process
                pass

    def start_kamailio(self):
        with open(os.path.join(HERE, "kamailio-provider.cfg")) as f:
            cfg = f.read()
        for key, value in (("PROVIDER", PROVIDER), ("FAR_END", f"{FAR_END}:{FAR_PORT}"),
                           ("PASSWORD", TRUNK_PASSWORD), ("ACCOUNT", TRUNK_USER)):
            cfg = cfg.replace(f"@@{key}@@", value)
        with open(self.path("kamailio.cfg"), "w") as f:
            f.write(cfg)
        rundir = self.path("kamailio-run")
        os.makedirs(rundir, exist_ok=True)
        p = self.spawn("wan", ["kamailio", "-f", self.path("kamailio.cfg"), "-DD", "-E", "-m", "32", "-M", "8",
                               "-Y", rundir, "-w", rundir], "kamailio")
        bound = wait_until(lambda: not p.running() or bool(self.net.exec(
            "wan", ["ss", "-Hnlu", f"src {PROVIDER}:{SIP_PORT}"], check=False).stdout.strip()), 10, 0.2)
        if not bound or not p.running():
            raise RuntimeError("kamailio did not start:\n" + p.output()[-2000:])
        return p

    def config(self):
        return {
            "lan": {"listen": [f"udp:{DAEMON_LAN}:{SIP_PORT}"], "networks": [LAN_NETWORKS], "realm": "flood.arpa"},
            "wan": {"address": DAEMON_WAN, "port": SIP_PORT, "strangers": "drop"},
            "registrar": {"qualify_interval": 0},
            "extensions": [{"number": EXT, "password": EXT_PASSWORD}],
            "trunks": [{"name": "provider", "registrar": f"sip:{PROVIDER}", "username": TRUNK_USER,
                        "password": TRUNK_PASSWORD, "expires": TRUNK_EXPIRES, "numbers": [f"+{TRUNK_USER}"]}],
            "routing": {"outbound": [{"prefix": "0", "trunk": "provider"}]},
            "media": {"ports": [30000, 30199]},
            "status": {"listen": f"127.0.0.1:{STATUS_PORT}"},
            "storage": {"path": "b2bua.db"},
            "log": {"level": "info"},
        }

    def start_daemon(self):
        d = self.path("b2bua")
        os.makedirs(d, exist_ok=True)
        path = write_jsonc(os.path.join(d, "b2bua.jsonc"), self.config(), "the flood benchmark")
        p = self.spawn("mid", [os.path.abspath(self.args.binary), "run", "--config", path], "b2bua")
        if not p.find_log(r"component=daemon event=started", 15):
            raise RuntimeError("b2bua did not start:\n" + p.output()[-2000:])
        self.daemon = p
        return p

    def sipp(self, host, name, xml, target, ip, port, media_port, calls=1, timeout=30):
        path = self.path(f"{name}.xml")
        with open(path, "w") as f:
            f.write(xml)
        argv = sipp_argv(path, target, ip, port, media_port, calls=calls, timeout=timeout, trace=self.path(name))
        return self.spawn(host, argv, name)

    def finish(self, p, timeout):
        """Waits for a sipp run (bounded); (ok, the tail of its output and errors)."""
        wait_until(lambda: not p.running(), timeout, 0.1)
        code = p.stop(timeout=2)
        text = p.output() + read_text(self.path(f"{p.name}.errors"))
        return code == 0, text[-800:]

    def phone(self, name, xml):
        return self.sipp("lan", name, xml, f"{DAEMON_LAN}:{SIP_PORT}", PHONE, PHONE_PORT, 6000)

    def call(self, name):
        """One call out from the phone through the trunk; (ok, seconds, detail)."""
        t0 = time.monotonic()
        p = self.phone(name, scenarios.phone_call_out(EXT, EXT_PASSWORD, DIALLED, hold_ms=2000))
        ok, text = self.finish(p, 45)
        return ok, time.monotonic() - t0, text

    def call_in_background(self, name, result):
        def go():
            result.update(zip(("ok", "seconds", "detail"), self.call(name)))
        th = threading.Thread(target=go, daemon=True)
        th.start()
        return th

    def flood(self, host, name):
        a = self.args
        to, forged = (f"{DAEMON_WAN}:{SIP_PORT}", WAN_FORGED) if host == "wan" else (f"{DAEMON_LAN}:{SIP_PORT}",
                                                                                   LAN_FORGED)
        argv = [os.path.abspath(a.sender), "--to", to, "--from", forged, "--sources", str(a.sources),
                "--rate", str(a.rate), "--duration", str(a.duration), "--mix", a.mix]
        return self.spawn(host, argv, name)


# --- the run -------------------------------------------------------------------------------

def summary(values):
    values = [v for v in values if v is not None]
    return (min(values), max(values)) if values else (None, None)


def mib(kb):
    return "n/a" if kb is None else f"{kb / 1024:.1f} MiB"


def minus(a, b):
    """a - b, or None when either is missing (a daemon that died has no RSS)."""
    return None if a is None or b is None else a - b


def trunk_events(text):
    return [ln for ln in text.splitlines() if re.search(r"event=(state|registered|registration_failed|register_"
                                                         r"timeout|keepalive_lost|binding_lost) trunk=provider", ln)]


def main_run(args, workdir):
    b = Bench(args, workdir)
    results = []  # (ok, name, figures)

    def verdict(ok, name, figures):
        results.append((ok, name, figures))
        log(f"{'PASS' if ok else 'FAIL'} {name}: {figures}")

    try:
        b.net.create()
        b.start_kamailio()
        far = b.sipp("wan", "far_end", far_answer(), None, FAR_END, FAR_PORT, 7000, calls=3,
                     timeout=int(args.duration + args.after + 120))
        d = b.start_daemon()
        pid = d.pid
        log(f"# b2bua pid {pid}, files in {workdir}")
        if not d.find_log(r"event=registered trunk=provider", 25):
            raise RuntimeError("the trunk never registered:\n" + d.output()[-2000:])
        reg = b.phone("phone_register", scenarios.phone_register(EXT, EXT_PASSWORD))
        ok, text = b.finish(reg, 40)
        if not ok:
            raise RuntimeError(f"the phone could not register: {text}")
        # A first call allocates what every call needs once (relay, database pages), so the
        # idle figure is that of a daemon that has served a call.
        ok, _, text = b.call("call_warmup")
        if not ok:
            raise RuntimeError(f"the warm-up call failed before any flood: {text}")

        sampler = Sampler(pid, args.rss_abort * 1024)
        sampler.start()
        poll_for = int(args.duration + args.after + 30)
        poller = b.spawn("mid", [sys.executable, "-B", os.path.abspath(__file__), "--poll-status", str(STATUS_PORT),
                                 b.path("status.jsonl"), str(poll_for)], "status_poller")
        time.sleep(args.idle)
        t_idle = time.monotonic()
        idle_window = sampler.window(t_idle - args.idle + 0.5, t_idle)
        idle_rss = min(s[1] for s in idle_window if s[1])
        idle_fds = max(s[2] for s in idle_window if s[2])
        idle_map = memory_map(pid)
        log_at_flood = d.log_size()

        # The flood, with a call in the middle of it.
        udp0, cpu0 = udp_counters(pid), cpu_s(pid)
        t_flood = time.monotonic()
        wall_flood = time.time()
        senders = [b.flood(host, f"flood_{host}") for host in (("wan", "lan") if args.target == "both" else
                                                                (args.target,))]
        sampler.senders = senders
        during = {}
        time.sleep(args.call_at)
        th = b.call_in_background("call_during", during)
        wait_until(lambda: not any(s.running() for s in senders), args.duration + 15, 0.2)
        for s in senders:
            s.stop(timeout=2)
        t_end = time.monotonic()
        wall_end = time.time()
        peak_map = memory_map(pid)
        udp1, cpu1 = udp_counters(pid), cpu_s(pid)
        th.join(50)

        # After the flood: a call, then quiet until `--after` seconds have passed.
        time.sleep(min(5, args.after))
        after_ok, after_took, after_text = b.call("call_after")
        remaining = t_end + args.after - time.monotonic()
        if remaining > 0:
            time.sleep(remaining)
        t_after = time.monotonic()
        wall_after = time.time()
        after_map = memory_map(pid)
        sampler.stop_event.set()
        sampler.join(5)
        alive_throughout = all(s[1] is not None for s in sampler.samples) and d.running()
        poller.stop(timeout=3)

        replies = {host: b.net.replies(host) for host in ("wan", "lan")}
        daemon_log_flood = d.output()[log_at_flood:]
        if args.hold:
            # Figures are taken; the daemon stays up for a look by hand (gdb, smaps).
            log(f"# holding b2bua (pid {pid}) for {args.hold:.0f} s, RSS now {mib(rss_kb(pid))}")
            time.sleep(args.hold)
            log(f"# RSS at the end of the hold {mib(rss_kb(pid))}")
        code = d.stop(timeout=15)
        far.stop(timeout=3)

        # --- figures ---
        flood_samples = sampler.window(t_flood, t_end + SAMPLE_S)
        after_samples = sampler.window(t_after - 1.5, t_after + SAMPLE_S)
        _, peak_rss = summary(s[1] for s in flood_samples)
        _, peak_fds = summary(s[2] for s in flood_samples)
        after_rss = after_samples[-1][1] if after_samples else None
        after_fds = after_samples[-1][2] if after_samples else None
        # When after the flood RSS came within the limit (it may never).
        back_at = next((s[0] - t_end for s in sampler.window(t_end, t_after + SAMPLE_S)
                        if s[1] is not None and s[1] - idle_rss < RSS_AFTER_LIMIT_KB), None)
        sent = {}
        for s in senders:
            m = re.search(r"flood_done (.*)", s.output())
            sent[s.name.split("_")[1]] = dict(kv.split("=") for kv in m.group(1).split()) if m else {}
        delivered = udp1.get("InDatagrams", 0) - udp0.get("InDatagrams", 0)
        buffer_drops = udp1.get("RcvbufErrors", 0) - udp0.get("RcvbufErrors", 0)
        # InErrors counts the full buffers too, and what a socket filter of the daemon refused.
        filtered = udp1.get("InErrors", 0) - udp0.get("InErrors", 0) - buffer_drops
        flood_s = t_end - t_flood
        cpu = (cpu1 - cpu0) / flood_s if cpu0 is not None and cpu1 is not None else None
        statuses = [json.loads(ln) for ln in read_text(b.path("status.jsonl")).splitlines() if ln.strip()]
        answered = [s for s in statuses if s.get("ok")]
        in_flood = [s for s in statuses if wall_flood <= s["t"] <= wall_end]
        in_flood_answered = [s for s in in_flood if s.get("ok")]
        not_registered = [s for s in answered if s.get("state") != "registered"]
        slowest = max((s["took"] for s in statuses), default=0)
        lost = [ln for ln in trunk_events(daemon_log_flood)
                if re.search(r"event=(state .*from=registered|registration_failed|register_timeout|keepalive_lost|"
                             r"binding_lost)", ln)]
        provider_log = next((p.output() for p in b.processes if p.name == "kamailio"), "")
        refreshes = [int(m.group(1)) for m in re.finditer(r"flood-provider: register at=(\d+) .*contact=<sip",
                                                          provider_log)]
        # The provider's side: a binding lapses there when no refresh came within the granted expiry.
        marks = ([t for t in refreshes if t < wall_flood][-1:]
                 + [t for t in refreshes if wall_flood <= t <= wall_after] + [int(wall_after)])
        provider_gap = max((b2 - a2 for a2, b2 in zip(marks, marks[1:])), default=None)

        log("")
        log(f"== flood: target={args.target} rate={'max' if args.rate == 0 else args.rate}/s "
            f"duration={args.duration:.0f}s sources={args.sources} mix={args.mix}")
        for host, fig in sent.items():
            log(f"sender {host}: {fig.get('sent', '?')} packets in {fig.get('elapsed_s', '?')} s = "
                f"{fig.get('pps', '?')}/s (register {fig.get('register')}, invite {fig.get('invite')}, "
                f"options {fig.get('options')}, garbage {fig.get('garbage')}, send errors {fig.get('errors')})")
        if sampler.aborted_at is not None:
            log(f"flood ended early, {sampler.aborted_at - t_flood:.0f} s in: the daemon's RSS passed "
                f"{args.rss_abort} MiB (--rss-abort)")
        log(f"daemon namespace UDP during the flood: {delivered} datagrams delivered to sockets "
            f"({delivered / flood_s:.0f}/s), {buffer_drops} dropped at full receive buffers, {filtered} refused by "
            f"socket filters")
        for host in ("wan", "lan"):
            r = replies[host]
            codes = ", ".join(f"{c}: {r[c]}" for c in REPLY_CODES if r.get(c))
            log(f"replies to the forged {host.upper()} sources: {r.get('total', 0)} ({codes or 'none'})")
        log(f"daemon CPU during the flood: {cpu * 100:.0f}% of a core" if cpu is not None else "daemon CPU: n/a")
        log(f"RSS idle {mib(idle_rss)}, peak during the flood {mib(peak_rss)} (+{mib(minus(peak_rss, idle_rss))}), "
            f"{args.after:.0f} s after {mib(after_rss)} (+{mib(minus(after_rss, idle_rss))}); within idle + 2 MiB "
            + (f"{back_at:.0f} s after the flood" if back_at is not None else "never in the window"))
        for label, m in (("idle", idle_map), ("end of flood", peak_map), ("after", after_map)):
            log(f"memory at {label}: rss {mib(m.get('rss'))}, anonymous {mib(m.get('anonymous'))} "
                f"(main heap {mib(m.get('heap'))}, other anonymous mappings {mib(m.get('anon_mappings'))}), "
                f"file-backed {mib(m.get('files'))}")
        log(f"open descriptors: idle {idle_fds}, peak during the flood {peak_fds}, after {after_fds}")
        log(f"status endpoint: {len(answered)}/{len(statuses)} polls answered ({len(in_flood_answered)}/"
            f"{len(in_flood)} during the flood), slowest {slowest:.2f} s, trunk states seen "
            f"{sorted(set(s.get('state') for s in answered))}")
        log(f"provider: {len(refreshes)} registrations with a Contact in all, longest time without one from the "
            f"flood on {provider_gap} s (granted expiry {TRUNK_EXPIRES} s)")
        log(f"calls: during the flood {'ok' if during.get('ok') else 'FAILED'} "
            f"({during.get('seconds', 0):.1f} s), after {'ok' if after_ok else 'FAILED'} ({after_took:.1f} s)")
        every = sampler.samples[::10]
        log("RSS every 5 s (s from the flood's start: MiB, daemon CPU % of a core since the last): " + " ".join(
            f"{s[0] - t_flood:.0f}:{s[1] / 1024:.0f}/{100 * (s[3] - p[3]) / (s[0] - p[0]):.0f}%"
            for p, s in zip(every, every[1:]) if s[1] and s[3] is not None and p[3] is not None))
        log("")

        verdict(alive_throughout and code == 0, "no_crash", f"alive throughout: {alive_throughout}, exit code on "
                                                            f"SIGTERM {code}")
        trunk_ok = (not lost and not not_registered and bool(answered) and answered[-1].get("state") == "registered"
                    and provider_gap is not None and provider_gap <= TRUNK_EXPIRES)
        verdict(trunk_ok, "trunk_registered", f"{len(lost)} registration losses in the log {lost[:3]}, "
                f"{len(not_registered)} status polls not registered, last {answered[-1] if answered else None}, "
                f"provider went {provider_gap} s without a refresh (expiry {TRUNK_EXPIRES} s)")
        verdict(bool(during.get("ok")), "call_during_flood", f"{during.get('seconds', 0):.1f} s"
                + ("" if during.get("ok") else f"\n{during.get('detail', '')[-500:]}"))
        verdict(after_ok, "call_after_flood", f"{after_took:.1f} s" + ("" if after_ok else f"\n{after_text[-500:]}"))
        peak_over, after_over = minus(peak_rss, idle_rss), minus(after_rss, idle_rss)
        verdict(peak_over is not None and peak_over < RSS_PEAK_LIMIT_KB and sampler.aborted_at is None,
                "rss_during_flood", f"peak {mib(peak_rss)} - idle {mib(idle_rss)} = {mib(peak_over)} (limit 16 MiB)"
                + (" (flood ended early at the safety bound)" if sampler.aborted_at is not None else ""))
        verdict(after_over is not None and after_over < RSS_AFTER_LIMIT_KB, "rss_after_flood",
                f"{args.after:.0f} s after: {mib(after_rss)} - idle {mib(idle_rss)} = {mib(after_over)} (limit 2 MiB)")
        fds_ok = (None not in (peak_fds, after_fds) and peak_fds <= idle_fds + FD_DURING_SLACK
                  and after_fds <= idle_fds + FD_AFTER_SLACK)
        verdict(fds_ok, "fds_bounded",
                f"idle {idle_fds}, peak {peak_fds} (limit +{FD_DURING_SLACK}), after {after_fds} "
                f"(limit +{FD_AFTER_SLACK})")
        row = (f"| {args.target} | {'max' if args.rate == 0 else args.rate} | "
               + " + ".join(f"{float(f.get('pps', 0)):,.0f}" for f in sent.values())
               + f" | {sum(r.get('total', 0) for r in replies.values()):,} | {cpu * 100 if cpu else 0:.0f}% | "
               f"{mib(idle_rss)} | {mib(peak_rss)} | {mib(after_rss)} | "
               f"{idle_fds}/{peak_fds}/{after_fds} | "
               f"{'yes' if trunk_ok else 'NO'} | "
               f"{'ok' if during.get('ok') else 'FAIL'}/{'ok' if after_ok else 'FAIL'} |")
        log("table row: " + row)
        if args.json:
            with open(args.json, "w") as f:
                json.dump({"args": vars(args), "sent": sent, "replies": replies, "delivered": delivered,
                           "buffer_drops": buffer_drops, "filtered": filtered, "cpu": cpu, "idle_rss_kb": idle_rss,
                           "peak_rss_kb": peak_rss, "after_rss_kb": after_rss, "idle_fds": idle_fds,
                           "peak_fds": peak_fds, "after_fds": after_fds, "maps": [idle_map, peak_map, after_map],
                           "samples": [(s[0] - t_flood, s[1], s[2], s[3]) for s in sampler.samples],
                           "statuses": statuses, "results": results}, f)
    finally:
        b.stop_all()
        b.net.destroy()
    return results


def main():
    if sys.argv[1:2] == ["--poll-status"]:
        poll_status(int(sys.argv[2]), sys.argv[3], float(sys.argv[4]))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("binary")
    ap.add_argument("sender")
    ap.add_argument("--target", choices=("both", "wan", "lan"), default="both")
    ap.add_argument("--rate", type=float, default=0, help="packets/s per flooded port, 0 = as fast as possible")
    ap.add_argument("--duration", type=float, default=60)
    ap.add_argument("--after", type=float, default=60, help="seconds after the flood until the last RSS figure")
    ap.add_argument("--idle", type=float, default=3, help="seconds of idle sampling before the flood")
    ap.add_argument("--call-at", type=float, default=None, help="seconds into the flood of the call (duration/3)")
    ap.add_argument("--sources", type=int, default=10000)
    ap.add_argument("--mix", default="register=1,invite=1,options=1,garbage=1")
    ap.add_argument("--rss-abort", type=int, default=3072, help="MiB of daemon RSS that end the flood early")
    ap.add_argument("--hold", type=float, default=0, help="seconds to keep the daemon up after the figures")
    ap.add_argument("--no-assert", action="store_true", help="print the figures, exit 0 whatever they are")
    ap.add_argument("--keep", action="store_true", help="keep the logs and traces (the folder is printed)")
    ap.add_argument("--json", help="write every figure and sample to this file")
    args = ap.parse_args()
    if args.call_at is None:
        args.call_at = args.duration / 3
    if not 1 <= args.duration <= 600 or not 0 <= args.after <= 600 or not 0 <= args.hold <= 600:
        ap.error("--duration 1..600, --after 0..600, --hold 0..600")
    if os.geteuid() != 0:
        print("SKIP bench.flood: needs root for network namespaces and raw sockets (CI runs as root)")
        return 77
    for tool in ("ip", "nft", "kamailio", "sipp", "ss"):
        if subprocess.run(["sh", "-c", f"command -v {tool}"], capture_output=True).returncode != 0:
            print(f"FAIL bench.flood: {tool} is missing (packaging/install-deps.sh --test)")
            return 1
    remove_stale_namespaces()

    # SIGTERM (ctest's timeout) and SIGINT unwind through the finally blocks: namespaces and
    # processes go.
    def interrupted(signum, _frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)
    workdir = tempfile.mkdtemp(prefix="b2bua-bench-flood-")
    try:
        results = main_run(args, workdir)
    except RuntimeError as e:
        print(f"FAIL bench.flood: {e}", flush=True)
        print(f"# files kept in {workdir}")
        return 1
    failed = [name for ok, name, _ in results if not ok]
    if failed or args.keep:
        print(f"# files kept in {workdir}")
    else:
        subprocess.run(["rm", "-rf", workdir])
    if failed and not args.no_assert:
        print(f"FAIL bench.flood: {', '.join(failed)}")
        return 1
    print("PASS bench.flood" if not failed else f"figures only (--no-assert); failed: {', '.join(failed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
