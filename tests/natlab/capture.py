"""tshark on the router's WAN interface for the whole run (or on another host's interface), and the search of that capture for
anything private: a private address in an IP header or anywhere in a UDP payload (SIP headers,
SDP, RTCP), the phone's User-Agent, a LAN Call-ID. Payloads are searched as bytes, so SIP on an
unusual port or a message tshark cannot decode is searched all the same."""
import ipaddress
import os
import re
import signal
import subprocess
import time

from harness import Process, wait_until

PRIVATE_RE = re.compile(rb"(?<![0-9.])(10\.\d{1,3}\.\d{1,3}\.\d{1,3}|192\.168\.\d{1,3}\.\d{1,3}|"
                        rb"172\.(1[6-9]|2\d|3[01])\.\d{1,3}\.\d{1,3})(?![0-9])")
SIP_START_RE = re.compile(rb"^(SIP/2\.0 \d{3}|[A-Z]+ sip:)")


class Capture:
    def __init__(self, topology, path, interface, host="rtr"):
        self.t = topology
        self.host = host
        self.path = path
        self.interface = interface
        self.proc = None

    def start(self):
        argv = ["ip", "netns", "exec", self.t.ns(self.host), "tshark", "-n", "-q", "-i", self.interface, "-w", self.path]
        self.proc = Process(argv, self.path + ".log")
        ok = wait_until(lambda: "Capturing on" in self.proc.output() or not self.proc.running(), 15)
        if not ok or not self.proc.running():
            raise RuntimeError("tshark did not start: " + self.proc.output()[-500:])
        time.sleep(0.5)

    def stop(self):
        if self.proc and self.proc.running():
            # SIGINT lets dumpcap write its last buffer.
            self.proc.signal(signal.SIGINT)
            wait_until(lambda: not self.proc.running(), 10)
        if self.proc:
            self.proc.stop(timeout=5)

    def packets(self, start, end):
        """[(time, src, dst, sport, dport, payload bytes)] of UDP packets between two epoch times."""
        if not os.path.exists(self.path):
            return []
        r = subprocess.run(["tshark", "-n", "-r", self.path, "-Y", f"udp && frame.time_epoch >= {start} && "
                            f"frame.time_epoch <= {end}", "-T", "fields", "-E", "separator=|", "-e",
                            "frame.time_epoch", "-e", "ip.src", "-e", "ip.dst", "-e", "udp.srcport", "-e",
                            "udp.dstport", "-e", "udp.payload"], capture_output=True, text=True, timeout=120)
        out = []
        for line in r.stdout.splitlines():
            parts = line.split("|")
            if len(parts) < 6:
                continue
            try:
                payload = bytes.fromhex(parts[5].replace(":", ""))
            except ValueError:
                payload = b""
            out.append((float(parts[0]), parts[1], parts[2], parts[3], parts[4], payload))
        return out


def is_sip(payload):
    return bool(SIP_START_RE.match(payload))


def where(payload, index):
    """'REGISTER Via', '200 Contact', 'INVITE Request-URI', 'SDP c=': what line `index` of a message is."""
    if not is_sip(payload):
        return "non-SIP payload"
    lines = payload.split(b"\r\n")
    first = lines[0].decode(errors="replace")
    kind = first.split(" ")[1] if first.startswith("SIP/2.0") else first.split(" ")[0]
    if index == 0:
        return f"{kind} Request-URI"
    line = lines[index]
    if len(line) > 1 and line[1:2] == b"=":
        return f"{kind} SDP {line[:2].decode(errors='replace')}"
    return f"{kind} {line.split(b':', 1)[0].decode(errors='replace')}"


def summary(found):
    """'Via of REGISTER x5, Contact of REGISTER x1' from leaks()' evidence."""
    counts = {}
    for _, _, place in found:
        counts[place] = counts.get(place, 0) + 1
    return ", ".join(f"{place} x{n}" for place, n in sorted(counts.items(), key=lambda kv: -kv[1]))


def leaks(packets, markers):
    """Everything private seen in `packets`: [(what, evidence line, where)]; and the SIP message count."""
    found = []
    sip = 0
    for when, src, dst, sport, dport, payload in packets:
        if is_sip(payload):
            sip += 1
        for addr in (src, dst):
            try:
                if ipaddress.ip_address(addr).is_private and not addr.startswith(("198.51.100.", "203.0.113.")):
                    found.append(("private address in IP header", f"{src}:{sport} -> {dst}:{dport}", "IP header"))
            except ValueError:
                pass
        first = payload.split(b"\r\n", 1)[0].decode(errors="replace")[:60]
        for index, line in enumerate(payload.split(b"\r\n")):
            hits = [m.group(0) for m in PRIVATE_RE.finditer(line)] + [m for m in markers if m in line]
            for hit in hits:
                found.append((hit.decode(errors="replace"),
                              f"{src}:{sport} -> {dst}:{dport} '{first}': {line.decode(errors='replace')[:160]}",
                              where(payload, index)))
    return found, sip
