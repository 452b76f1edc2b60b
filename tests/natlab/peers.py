"""The lab's peers: kamailio as the provider, sipp as the far end (in `wan`) and as the phones
(in `lan`), and b2bua itself. Each runs in its namespace through `ip netns exec` (which execs
the program, so the PID we hold is the program's own) and is ended by that PID."""
import os
import re
import sqlite3
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration", "common"))
from harness import Process, read_text, sipp_argv, wait_until, write_jsonc  # noqa: E402
import scenarios  # noqa: E402  (the phone templates of the integration tests)
import topology as topo  # noqa: E402

TRUNK_USER = "4930123456"
BASELINE_USER = "4930999"
PROVIDER_PASSWORD = "natlab-provider-secret"
DID = "+" + TRUNK_USER
PHONE_EXT, PHONE_PASSWORD = "10", "natlab-pw-10"
PHONE_UA = "TestPhone/1.0"          # User-Agent of the scenarios' phone
PHONE_CALL_ID = "natlab-phone-"    # Call-ID prefix of the phones' calls
SIP_TIMEOUT_S = 30


def log_lines(process, pattern, after=0):
    return [ln for ln in process.output()[after:].splitlines() if re.search(pattern, ln)]


class Peers:
    def __init__(self, topology, workdir):
        self.t = topology
        self.dir = workdir
        self.processes = []
        # A far end that latches (phase_nat_kinds.py, symmetric NAT): it plays nothing of its own
        # and echoes every RTP packet to the address and port it came from (sipp -rtp_echo).
        self.latching_far_end = False

    def path(self, name):
        return os.path.join(self.dir, name)

    def spawn(self, host, argv, name):
        p = Process(["ip", "netns", "exec", self.t.ns(host), *argv], self.path(f"{name}.log"), cwd=self.dir)
        self.processes.append(p)
        return p

    def stop_all(self):
        for p in reversed(self.processes):
            try:
                p.stop(timeout=5)
            except Exception:  # cleanup must reach every process
                pass

    # --- kamailio, the provider ---

    def start_kamailio(self, name="kamailio"):
        with open(os.path.join(HERE, "kamailio.cfg")) as f:
            cfg = f.read()
        for key, value in (("PROVIDER", topo.PROVIDER), ("FAR_END", topo.FAR_END), ("PASSWORD", PROVIDER_PASSWORD),
                           ("ACCOUNTS", f"{TRUNK_USER}|{BASELINE_USER}")):
            cfg = cfg.replace(f"@@{key}@@", value)
        path = self.path("kamailio.cfg")
        with open(path, "w") as f:
            f.write(cfg)
        rundir = self.path("kamailio-run")
        os.makedirs(rundir, exist_ok=True)
        # -DD: stay in the foreground (its children die with it), so the PID we hold is the main one.
        p = self.spawn("wan", ["kamailio", "-f", path, "-DD", "-E", "-m", "32", "-M", "8", "-Y", rundir, "-w", rundir],
                       name)
        if not wait_until(lambda: "INFO: <core> [core/udp_server.c" in p.output() or not p.running() or
                          self._udp_bound("wan", topo.PROVIDER, 5060), 10):
            raise RuntimeError("kamailio did not start:\n" + p.output()[-2000:])
        if not p.running():
            raise RuntimeError("kamailio exited:\n" + p.output()[-2000:])
        return p

    def _udp_bound(self, host, ip, port):
        r = self.t.in_ns(host, ["ss", "-Hnlu", f"src {ip}:{port}"], check=False)
        return bool(r.stdout.strip())

    # --- b2bua ---

    def b2bua_config(self, lan_ip, wan_ip, wan_port, wan_interface=None, transport="udp"):
        return {
            "lan": {"listen": [f"udp:{lan_ip}:5060"], "networks": [topo.LAN_NET], "realm": "natlab.arpa"},
            "wan": {"address": wan_ip, "port": wan_port, "interface": wan_interface},
            "registrar": {"qualify_interval": 0},
            "extensions": [{"number": PHONE_EXT, "password": PHONE_PASSWORD}],
            "trunks": [{"name": "provider", "registrar": f"sip:{topo.PROVIDER}", "username": TRUNK_USER,
                        "password": PROVIDER_PASSWORD, "expires": 60, "transport": transport,
                        # Below the lab's NAT timeout, as the default (20 s) is below a home router's 30 s.
                        "keepalive": {"method": "crlf", "interval": 5},
                        "numbers": [DID], "retry": {"max_backoff": 15}}],
            "routing": {"inbound": [{"number": DID, "ring": [PHONE_EXT], "timeout": 20}],
                        "outbound": [{"prefix": "0", "trunk": "provider"}]},
            "media": {"ports": list(topo.RELAY_PORTS_ROUTER if lan_ip == topo.RTR_LAN else topo.RELAY_PORTS_LAN),
                      "timeout": 30},
            "status": {"listen": "127.0.0.1:18088"},
            "storage": {"path": "b2bua.db"},
            "log": {"level": "debug"},
        }

    def start_b2bua(self, binary, host, config, name):
        d = os.path.join(self.dir, name)
        os.makedirs(d, exist_ok=True)
        path = write_jsonc(os.path.join(d, "b2bua.jsonc"), config, "natlab")
        p = self.spawn(host, [binary, "run", "--config", path], name)
        p.db = os.path.join(d, "b2bua.db")
        if not p.find_log(r"component=daemon event=started", 15):
            raise RuntimeError(f"b2bua did not start ({name}): " + p.output()[-1500:])
        return p

    @staticmethod
    def rows(daemon, query, params=()):
        """Rows of a query on the daemon's database (read-only; [] while it has no such table)."""
        try:
            con = sqlite3.connect(f"file:{daemon.db}?mode=ro", uri=True, timeout=5)
        except sqlite3.Error:
            return []
        try:
            return con.execute(query, params).fetchall()
        except sqlite3.Error:
            return []
        finally:
            con.close()

    @staticmethod
    def call_records(daemon, after_id=0):
        return Peers.rows(daemon, "SELECT id, direction, extension, final_code, hangup_by, media_stats_json, notes "
                                  "FROM call_records WHERE id > ? ORDER BY id", (after_id,))

    # --- sipp, the phones and the far end ---

    def sipp(self, host, name, xml, target, ip, port, media_port, timeout=SIP_TIMEOUT_S, extra=()):
        """Starts sipp in the background; wait with finish()."""
        path = self.path(f"{name}.xml")
        with open(path, "w") as f:
            f.write(xml)
        cid = PHONE_CALL_ID + "%u-%p@%s" if host == "lan" else "far-%u-%p@%s"
        argv = sipp_argv(path, target, ip, port, media_port, timeout=timeout, trace=self.path(name),
                         extra=["-cid_str", cid, *extra])
        p = self.spawn(host, argv, name)
        p.name = name
        return p

    def finish(self, p, timeout=SIP_TIMEOUT_S + 10):
        """Waits for a sipp; returns (ok, tail of its output and errors)."""
        if not wait_until(lambda: not p.running(), timeout, interval=0.1):
            p.kill9()
        else:
            p.stop()
        text = p.output() + read_text(self.path(f"{p.name}.errors"))
        return p.proc.returncode == 0, text[-1200:]

    def messages(self, name):
        return read_text(self.path(f"{name}.messages"))

    def phone(self, name, xml, target, port, media_port, timeout=SIP_TIMEOUT_S):
        return self.sipp("lan", name, xml, target, topo.PHONE, port, media_port, timeout)

    def far(self, name, xml, port, media_port, timeout=SIP_TIMEOUT_S):
        extra = ()
        if self.latching_far_end:
            xml = re.sub(r'<nop><action><exec play_pcap_audio="[^"]*"/></action></nop>\n', "", xml)
            extra = ("-rtp_echo",)
        return self.sipp("wan", name, xml, f"{topo.PROVIDER}:5060", topo.FAR_END, port, media_port, timeout, extra)


# --- far-end scenarios (the provider's side of a call; kamailio record-routes, so in-dialog
# requests follow the route set through it, as with a real provider) ---

def _wrap(name, body):
    return f'<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="{name}">\n{body}\n</scenario>\n'


_UAS_HDR = """[last_Via:]
[last_Record-Route:]
[last_From:]
[last_To:];tag=[pid]far
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:far@[local_ip]:[local_port]>
User-Agent: FarEnd/1.0
"""


def far_answer(ring_ms=300):
    """Answers one INVITE with SDP, plays audio, waits for the BYE."""
    body = ('<recv request="INVITE" crlf="true"/>\n'
            f'<send><![CDATA[\nSIP/2.0 180 Ringing\n{_UAS_HDR}Content-Length: 0\n\n]]></send>\n'
            f'<pause milliseconds="{ring_ms}"/>\n'
            f'<send retrans="500"><![CDATA[\nSIP/2.0 200 OK\n{_UAS_HDR}'
            f'Content-Type: application/sdp\nContent-Length: [len]\n\n{scenarios.SDP}]]></send>\n'
            '<recv request="ACK" crlf="true"/>\n'
            f'<nop><action><exec play_pcap_audio="{scenarios.PCAP}"/></action></nop>\n'
            '<recv request="BYE"/>\n'
            '<send><![CDATA[\nSIP/2.0 200 OK\n[last_Via:]\n[last_From:]\n[last_To:]\n[last_Call-ID:]\n'
            '[last_CSeq:]\nContent-Length: 0\n\n]]></send>\n')
    return _wrap("far_answer", body)


def _invite(number, cseq, sdp=scenarios.SDP):
    body = (f"Content-Type: application/sdp\nContent-Length: [len]\n\n{sdp}" if sdp
            else "Content-Length: 0\n\n")
    return f"""INVITE sip:{number}@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: "Far End" <sip:+4989111222@[local_ip]>;tag=[pid]far
To: <sip:{number}@[remote_ip]>
Call-ID: [call_id]
CSeq: {cseq} INVITE
Contact: <sip:+4989111222@[local_ip]:[local_port]>
Max-Forwards: 70
User-Agent: FarEnd/1.0
{body}"""


def _in_dialog(method, cseq):
    return f"""{method} [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: "Far End" <sip:+4989111222@[local_ip]>;tag=[pid]far
To: <sip:{{n}}@[remote_ip]>[peer_tag_param]
Call-ID: [call_id]
CSeq: {cseq} {method}
[routes]
Max-Forwards: 70
Content-Length: 0

"""


def far_call_in(number, hold_ms=3000, pcap=scenarios.PCAP, sdp=scenarios.SDP):
    """Calls `number` at the provider, plays `pcap` (its RTP) once answered, hangs up after
    hold_ms."""
    body = (f'<send retrans="500"><![CDATA[\n{_invite(number, 1, sdp)}]]></send>\n'
            '<recv response="100" optional="true"/>\n'
            '<recv response="180" optional="true"/>\n'
            '<recv response="183" optional="true"/>\n'
            '<recv response="200" rtd="true" rrs="true"/>\n'
            f'<send><![CDATA[\n{_in_dialog("ACK", 1).format(n=number)}]]></send>\n'
            f'<nop><action><exec play_pcap_audio="{pcap}"/></action></nop>\n'
            f'<pause milliseconds="{hold_ms}"/>\n'
            f'<send retrans="500"><![CDATA[\n{_in_dialog("BYE", 2).format(n=number)}]]></send>\n'
            '<recv response="200"/>\n')
    return _wrap("far_call_in", body)


# PCMU first: the answering machine answers with the offer's codec, and the audio of known
# content the far end sends is mu-law encoded.
SDP_PCMU = scenarios.SDP.replace("RTP/AVP 8 101", "RTP/AVP 0 101").replace("a=rtpmap:8 PCMA/8000",
                                                                         "a=rtpmap:0 PCMU/8000")


def write_rtp_pcap(path, payloads, pt=0, ptime_ms=20):
    """A pcap (Ethernet, IPv4, UDP) of one RTP stream, one payload every ptime_ms, for sipp's
    play_pcap_audio: sipp sends each UDP payload to the media address of the answer, paced by
    the capture's timestamps. The addresses and ports in it are not used."""
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    ssrc, seq0, ts0 = 0x4E41540A, 4000, 80000
    for i, payload in enumerate(payloads):
        rtp = struct.pack("!BBHII", 0x80, (0x80 if i == 0 else 0) | pt, (seq0 + i) & 0xFFFF,
                          (ts0 + i * 8 * ptime_ms) & 0xFFFFFFFF, ssrc) + payload
        udp = struct.pack("!HHHH", 7000, 7000, 8 + len(rtp), 0) + rtp
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xFFFF, 0, 64, 17, 0,
                         bytes([192, 0, 2, 1]), bytes([192, 0, 2, 2]))
        frame = b"\x00\x00\x00\x00\x00\x02" + b"\x00\x00\x00\x00\x00\x01" + b"\x08\x00" + ip + udp
        usec = i * ptime_ms * 1000
        out.append(struct.pack("<IIII", usec // 1_000_000, usec % 1_000_000, len(frame), len(frame)) + frame)
    with open(path, "wb") as f:
        f.write(b"".join(out))


def far_call_expect_busy(number):
    """Calls `number`; the phone rings (180) and declines (486): proof the INVITE reached it."""
    ack = f"""ACK sip:{number}@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch-4];rport
From: "Far End" <sip:+4989111222@[local_ip]>;tag=[pid]far
To: <sip:{number}@[remote_ip]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0

"""
    body = (f'<send retrans="500"><![CDATA[\n{_invite(number, 1, sdp=None)}]]></send>\n'
            '<recv response="100" optional="true"/>\n'
            '<recv response="180"/>\n'
            '<recv response="486"/>\n'
            f'<send><![CDATA[\n{ack}]]></send>\n')
    return _wrap("far_call_busy", body)


def phone_ring_busy():
    """A phone that rings and declines: enough to show an INVITE reached it."""
    hdr = ("[last_Via:]\n[last_From:]\n[last_To:];tag=[pid]ph\n[last_Call-ID:]\n[last_CSeq:]\n"
           "Contact: <sip:[local_ip]:[local_port]>\n")
    body = ('<recv request="INVITE" crlf="true"/>\n'
            f'<send><![CDATA[\nSIP/2.0 180 Ringing\n{hdr}Content-Length: 0\n\n]]></send>\n'
            f'<send><![CDATA[\nSIP/2.0 486 Busy Here\n{hdr}Content-Length: 0\n\n]]></send>\n'
            '<recv request="ACK"/>\n')
    return _wrap("phone_ring_busy", body)
