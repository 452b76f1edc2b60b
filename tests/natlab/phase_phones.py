"""Check 12 (`phones`): real softphones behind the NAT, baresip (Debian's baresip-core) and
linphonec (linphone-cli), one after the other as extension 10 in `lan`, registered to b2bua in
the LAN placement (`srv`). That placement shows more than the router one: b2bua itself is behind
the NAT, so the SDP it gives the provider must name the public address it learned from
`received`/`rport`, while the SDP it gives the phone names its LAN address; the phone's RTP
crosses the LAN to the relay and the relay's crosses the NAT.

Per phone: an inbound call (the far end calls the DID through kamailio, the NAT and b2bua; the
phone auto-answers and sends a 440 Hz tone; the far end hangs up) and an outbound call (the
phone dials 0301234567, the far end answers and plays its audio; the phone hangs up). RTP is
counted at the phone and at the far end (the lab's nft counters, topology.COUNTER_RULES: the
phones' SIP ports are in 5000-5999, their RTP ports outside) and in the call record; at least
MIN_PACKETS (1 s of 20 ms packets) each way at each end. Check 3 then reads the phase's WAN
capture for private addresses and the phones' names and Call-IDs.

The phones are driven as in the loopback flows: baresip over ctrl_tcp (its socket on the lan
namespace's loopback, reached through netns.py), linphonec over its stdin.

Called from natlab.py's Lab.run() with the lab; runs in the lab's thread.
"""
import os
import re
import sys
import time

import peers as P
import topology as topo
from harness import Process, wait_until
from peers import log_lines

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration", "common"))
from baresip import Baresip  # noqa: E402
from linphonec import Linphonec  # noqa: E402

MIN_PACKETS = 50
TALK_S = 3
FAR_UAS_PORT, FAR_UAC_PORT = 5090, 5092      # natlab.py's far end ports
BARESIP_PORTS = (5076, 5078)                 # SIP (and TLS above it), ctrl_tcp
BARESIP_RTP = "10000-10019"
LINPHONE_PORTS = (5080, 12000, 12010, 12020)  # SIP, audio, video, text
OUT_NUMBER = "0301234567"


class LanHost:
    """What the phone classes of the integration tests take from their harness (path, spawn,
    processes), for the lab: files in the lab's folder, processes ended with the lab's."""

    def __init__(self, lab):
        self.lab = lab
        self.processes = lab.peers.processes

    def path(self, name):
        return os.path.join(self.lab.dir, name)

    def spawn(self, argv, name, cwd=None):
        p = Process(argv, self.path(f"{name}.log"), cwd=cwd or self.lab.dir)
        self.processes.append(p)
        return p


class Phase:
    def __init__(self, lab):
        self.lab = lab
        self.host = LanHost(lab)
        self.registrar = f"{topo.SRV_LAN}:5060"
        self.call_ids = []

    def result(self, ok, name, text):
        self.lab.results.add("PASS" if ok else "FAIL", name, text)

    def figures(self, d, last):
        """Packets at the phone, at the far end, in the relay's record: (all >= MIN_PACKETS, text)."""
        ok, text = self.lab._audio_figures(d, last)
        phone_in, phone_out = self.lab.t.rtp_counters("lan")
        far_in, far_out = self.lab.t.rtp_counters("wan")
        return ok and min(phone_in, phone_out, far_in, far_out) >= MIN_PACKETS, text

    def call_in(self, d, label, answered):
        """The far end calls the DID; `answered()` waits for the phone to take it (None: it did not)."""
        self.lab._reset_rtp()
        last = self.lab._last_record_id(d)
        t0 = time.monotonic()
        far = self.lab.peers.far(f"phones_far_call_{label}", P.far_call_in(P.DID, hold_ms=TALK_S * 1000),
                                 FAR_UAC_PORT, 7100)
        how = answered()
        ok_far, out_far = self.lab.peers.finish(far)
        took = time.monotonic() - t0
        time.sleep(0.5)
        two_way, text = self.figures(d, last)
        ok = ok_far and bool(how) and two_way
        text = f"{how or 'not answered'}; {text}; call took {took:.1f}s"
        self.result(ok, f"phone_in[{label}]", text if ok else f"far end ok={ok_far}; {text}\n  far: {out_far[-400:]}")

    def call_out(self, d, label, dial, hang_up):
        """The phone dials OUT_NUMBER (`dial()` returns what shows it is answered), talks TALK_S,
        `hang_up()`; the far end answers and waits for the BYE."""
        self.lab._reset_rtp()
        last = self.lab._last_record_id(d)
        far = self.lab.peers.far(f"phones_far_answer_{label}", P.far_answer(), FAR_UAS_PORT, 7000)
        time.sleep(0.3)
        t0 = time.monotonic()
        how = dial()
        if how:
            time.sleep(TALK_S)
        hang_up()
        ok_far, out_far = self.lab.peers.finish(far, timeout=10)
        took = time.monotonic() - t0
        time.sleep(0.5)
        two_way, text = self.figures(d, last)
        ok = ok_far and bool(how) and two_way
        text = f"{how or 'not answered'}; {text}; call took {took:.1f}s"
        self.result(ok, f"phone_out[{label}]", text if ok else f"far end ok={ok_far}; {text}\n  far: {out_far[-400:]}")

    def registered(self, d, off, user_agent, label):
        m = d.find_log(rf"event=binding_added ext={P.PHONE_EXT} contact={re.escape(topo.PHONE)}:\d+ [^\n]*"
                       rf"user_agent=\"?{user_agent}[^\n]*", 15, off)
        if not m:
            self.result(False, f"phone_in[{label}]", f"{label} did not register with b2bua; log: "
                        + " | ".join(log_lines(d, r"ext=10|level=(warn|error)", off)[-4:]))
        return m

    def baresip(self, d):
        off = d.log_size()
        try:
            phone = Baresip(self.host, P.PHONE_EXT, self.registrar, P.PHONE_PASSWORD,
                            config=("module ausine.so\naudio_source ausine,440\nausrc_srate 48000\n"
                                    f"ausrc_channels 2\nrtp_ports {BARESIP_RTP}\n"),
                            account="regint=600;answermode=auto", address=topo.PHONE, netns=self.lab.t.ns("lan"),
                            ports=BARESIP_PORTS)
        except SystemExit:  # the helper reports its failure and exits; here that is one FAIL line
            self.result(False, "phone_in[baresip]", "baresip did not start (baresip10.log)")
            return
        try:
            if not self.registered(d, off, "baresip", "baresip"):
                return

            def established(direction):
                mark = phone.mark()

                def wait():
                    e = wait_until(lambda: phone.events("CALL_ESTABLISHED", mark), 12)
                    if not e or e[0].get("direction") != direction:
                        return None
                    self.call_ids.append(e[0].get("id", "").encode())
                    rtp = wait_until(lambda: phone.events("CALL_RTPESTAB", mark), 5)
                    return f"baresip: {direction} call established, RTP established={bool(rtp)}"
                return wait

            self.call_in(d, "baresip", established("incoming"))
            answered = established("outgoing")
            self.call_out(d, "baresip", lambda: phone.command("dial", OUT_NUMBER) is not None and answered(),
                          lambda: phone.command("hangup") if phone.proc.running() else None)
        except SystemExit:
            self.result(False, "phone_out[baresip]", "baresip refused a command; " + phone.log()[-600:])
        finally:
            phone.quit()
            d.find_log(rf"event=binding_removed ext={P.PHONE_EXT}", 5, off)

    def linphonec(self, d):
        off = d.log_size()
        phone = Linphonec(self.host, P.PHONE_EXT, self.registrar, P.PHONE_PASSWORD, "natlab.arpa",
                          ports=LINPHONE_PORTS, wrap=["ip", "netns", "exec", self.lab.t.ns("lan")])
        try:
            if not self.registered(d, off, "Linphonec", "linphonec"):
                return
            phone.tone(self.host.path("tone.wav"), seconds=30)

            def established(pattern):
                mark = phone.log_size()
                return lambda: ("linphonec: " + m.group(0)) if (
                    m := phone.find_log(pattern, 12, mark)) else None

            # linphonec prints the call's state changes on its console.
            self.call_in(d, "linphonec", established(r"Call \d+ with [^\n]* connected\."))
            answered = established(r"Call \d+ with [^\n]* connected\.")
            self.call_out(d, "linphonec",
                          lambda: phone.command(f"call sip:{OUT_NUMBER}@{self.registrar}") or answered(),
                          lambda: phone.command("terminate"))
        finally:
            phone.quit()


def run_phones(lab):
    """Check 12: b2bua in the LAN, baresip then linphonec as extension 10."""
    start = time.time()
    config = lab.peers.b2bua_config(topo.SRV_LAN, topo.SRV_LAN, 5080)
    lab.lan_target = f"{topo.SRV_LAN}:5060"
    d = lab.peers.start_b2bua(lab.binary, "srv", config, "b2bua-phones")
    phase = Phase(lab)
    try:
        if not d.find_log(r"event=registered trunk=provider", 25):
            lab.results.add("FAIL", "phone_in[baresip]", "trunk never registered: "
                            + " | ".join(log_lines(d, r"level=(warn|error)|event=state")[-6:]))
            return
        phase.baresip(d)
        phase.linphonec(d)
        false_alg = log_lines(d, r"event=sip_alg_detected")
        lab.results.add("FAIL" if false_alg else "PASS", "no_false_alg[phones]",
                        f"sip_alg_detected lines without an ALG: {false_alg[:2] if false_alg else 'none'}")
    finally:
        code = d.stop(timeout=10)
        lab.windows["phones"] = (start, time.time())
        # The phones' names (User-Agent, SDP a=tool, o= user) and baresip's Call-IDs.
        lab.private_windows["phones"] = [b"baresip", b"inphone", *[c for c in phase.call_ids if c]]
        lab.note(f"phones: {time.time() - start:.0f}s")
        if code != 0:
            lab.results.add("FAIL", "daemon_exit[phones]", f"b2bua exited with {code}")


PHASES = {"phones": run_phones}
