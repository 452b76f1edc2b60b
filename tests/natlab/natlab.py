#!/usr/bin/env python3
"""The NAT lab: b2bua between LAN phones and a real provider (kamailio) across a real NAT
(namespaces, MASQUERADE, short UDP conntrack timeouts), in two placements: on the router
itself, and on a server in the LAN behind the router. One line per check:
PASS/FAIL/SKIP/XFAIL name: figures. The lab and its first phases are in this file: they share
the topology and the order in which it is brought up and torn down (topology.py, peers.py hold
the pieces); later phases are files of their own (phase_*.py) that drive a Lab, and
phase_nat_kinds.py adds the phases that change the NAT itself (they run last).

    natlab.py PREFIX B2BUA_BINARY WORKDIR     (run through natlab.sh, as root)
    natlab.py --list-phases                   (CMake adds a test natlab.<phase> for each)

NATLAB_PHASES=lan,alg runs only some phases (the default: all of PHASES); ctest runs one
phase per test, each in a lab of its own.
"""
import json
import os
import re
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import peers as P  # noqa: E402
import phase_keepalive  # noqa: E402
import phase_nat_kinds as nat_kinds  # noqa: E402  (double NAT, symmetric NAT)
import topology as topo  # noqa: E402
from capture import Capture, leaks, summary  # noqa: E402
from harness import sipp_trace, wait_until  # noqa: E402
from peers import log_lines  # noqa: E402
import phase_phones  # noqa: E402  (real phones: baresip and linphonec)
import phase_router  # noqa: E402  (the outage and the ALG with b2bua on the router)

sys.path.insert(0, os.path.join(HERE, "..", "integration", "voicemail"))
import voicemail_support as vm  # noqa: E402  (the answering machine's rules and audio analysis)

NAT_TIMEOUT_S = 15                  # rtr's UDP conntrack timeouts (both of them)
IDLE_S = 3 * NAT_TIMEOUT_S + 3      # check 1: idle for more than three NAT timeouts
OUTAGE_S = 60                       # check 5
# Bounds we state (README): keep-alive 5 s with an OPTIONS probe every 4th tick finds the new
# public address within 20 s, plus one registration round-trip.
REREGISTER_AFTER_IP_CHANGE_S = 30
# After the outage: the backoff cap (retry.max_backoff 15 s, +20% jitter) plus the 8 s bound of
# one REGISTER transaction.
REREGISTER_AFTER_OUTAGE_S = 30
BASELINE_IDLE_S = NAT_TIMEOUT_S + 5
# Check 9: the provider restarts and forgets every registration. The lab queries its binding
# every 10 s (two keep-alive intervals); re-registered within that plus one REGISTER round with
# its challenge. The bound for a real provider is 60 s.
BINDING_CHECK_S = 10
REREGISTER_AFTER_RESTART_S = BINDING_CHECK_S + 5
# Check 10: b2bua starts on the router while its WAN link is down; the link comes up later.
LINK_DOWN_S = 20
REGISTER_AFTER_LINK_UP_S = 3
# Check 11, the answering machine: the phone rings this long before the machine takes the
# call; the far end talks for MESSAGE_S after the greeting and the beep. The recording must be
# what it sent: normalized cross-correlation at the best lag of at least MATCH_CORR (the same
# signal after mu-law there and back scores 0.9999, another speech-like signal of its kind
# about 0.0, so lost or reordered packets are what the margin is for).
VOICEMAIL_AFTER_S = 3
MESSAGE_S = 5.0
MATCH_CORR = 0.8
DEADLINE_S = 840                    # the whole lab, under ctest's 900 s

PHONE_PORT, PHONE_OUT_PORT, BASELINE_PHONE_PORT = 5070, 5072, 5074
FAR_UAS_PORT, FAR_UAC_PORT = 5090, 5092
PHASES = ("router", "lan", "alg", "tcp", "baseline", "restart", "boot", "voicemail")
# Phases kept in files of their own: name -> run(lab).
MORE_PHASES = {**phase_phones.PHASES, **phase_router.PHASES,
               **{name: (lambda lab, name=name: phase_keepalive.run(lab, lab.binary, name))
                  for name in phase_keepalive.PHASES}}
PHASES += tuple(MORE_PHASES) + nat_kinds.PHASES


class Interrupted(Exception):
    pass


class Results:
    def __init__(self):
        self.lines = []

    def add(self, status, name, text):
        line = f"{status} {name}: {text}"
        self.lines.append((status, line))
        print(line, flush=True)

    def ok(self):
        return all(status in ("PASS", "XFAIL", "SKIP") for status, _ in self.lines)


class Lab:
    def __init__(self, prefix, binary, workdir):
        self.binary = binary
        self.dir = workdir
        self.results = Results()
        self.t = topo.Topology(prefix, self._trace)
        self.peers = P.Peers(self.t, workdir)
        self.capture = Capture(self.t, os.path.join(workdir, "wan.pcap"), topo.WAN_IF)
        self.windows = {}
        # Check 3 for more capture windows than the placements': window name -> more markers
        # (bytes) that must not reach the WAN either.
        self.private_windows = {}
        self.kamailio = None
        self.trace = open(os.path.join(workdir, "natlab.trace"), "w")

    def _trace(self, text):
        self.trace.write(f"{time.time():.3f} {text}\n")
        self.trace.flush()

    def note(self, text):
        print(f"# {text}", flush=True)
        self._trace(text)

    # --- calls ---

    def _records_after(self, daemon, last_id, timeout=8):
        rows = wait_until(lambda: self.peers.call_records(daemon, last_id), timeout, interval=0.2)
        return rows or []

    def _last_record_id(self, daemon):
        rows = self.peers.call_records(daemon)
        return rows[-1][0] if rows else 0

    def _reset_rtp(self):
        for host in ("lan", "wan"):
            self.t.reset_counters(host, "natlab_count", "rtp_in", "rtp_out")

    def _audio_figures(self, daemon, last_id):
        """Packets counted at the phone, at the far end and in the relay's call record."""
        phone_in, phone_out = self.t.rtp_counters("lan")
        far_in, far_out = self.t.rtp_counters("wan")
        rows = self._records_after(daemon, last_id)
        relay = {}
        if rows:
            try:
                relay = json.loads(rows[-1][5] or "{}")
            except ValueError:
                relay = {}
        a, b = relay.get("a", {}), relay.get("b", {})
        counts = [phone_in, phone_out, far_in, far_out, a.get("packets", 0), b.get("packets", 0)]
        text = (f"phone rx={phone_in} tx={phone_out}, far end rx={far_in} tx={far_out}, "
                f"relay a={a.get('packets', 0)} b={b.get('packets', 0)} "
                f"(sent a={a.get('packets_sent', 0)} b={b.get('packets_sent', 0)}), "
                f"record={rows[-1][1:5] if rows else 'none'}")
        return all(c > 0 for c in counts), text

    def call_out(self, daemon, lan_target, label):
        """Check 2, outbound: the phone dials out through b2bua, the far end answers."""
        self._reset_rtp()
        last = self._last_record_id(daemon)
        far = self.peers.far(f"far_answer_{label}", P.far_answer(), FAR_UAS_PORT, 7000)
        time.sleep(0.3)
        xml = P.scenarios.phone_call_out(P.PHONE_EXT, P.PHONE_PASSWORD, "0301234567", hold_ms=3000)
        phone = self.peers.phone(f"phone_out_{label}", xml, lan_target, PHONE_OUT_PORT, 6100)
        ok_phone, out_phone = self.peers.finish(phone)
        ok_far, out_far = self.peers.finish(far, timeout=8)
        time.sleep(0.5)
        two_way, figures = self._audio_figures(daemon, last)
        if ok_phone and ok_far and two_way:
            return True, figures
        return False, f"phone ok={ok_phone} far ok={ok_far} {figures}\n  phone: {out_phone[-400:]}\n  far: {out_far[-400:]}"

    def call_in(self, daemon, label, expect_ok=True):
        """Check 1/2, inbound: the far end calls the trunk's number, the LAN phone answers."""
        self._reset_rtp()
        last = self._last_record_id(daemon)
        phone = self.peers.phone(f"phone_in_{label}", P.scenarios.phone_answer(ring_ms=500), self.lan_target,
                                 PHONE_PORT, 6000)
        time.sleep(0.3)
        t0 = time.monotonic()
        far = self.peers.far(f"far_call_{label}", P.far_call_in(P.DID), FAR_UAC_PORT, 7100)
        ok_far, out_far = self.peers.finish(far)
        ok_phone, out_phone = self.peers.finish(phone, timeout=5 if not ok_far else 15)
        elapsed = time.monotonic() - t0
        rang = "INVITE sip:" in self.peers.messages(f"phone_in_{label}")
        time.sleep(0.5)
        two_way, figures = self._audio_figures(daemon, last)
        figures = f"phone rang={rang}, {figures}, call took {elapsed:.1f}s"
        if ok_phone and ok_far and two_way:
            return True, figures
        return False, f"phone ok={ok_phone} far ok={ok_far} {figures}\n  phone: {out_phone[-400:]}\n  far: {out_far[-400:]}"

    # --- phases ---

    def register_phone(self, label):
        xml = P.scenarios.phone_register(P.PHONE_EXT, P.PHONE_PASSWORD)
        p = self.peers.phone(f"phone_reg_{label}", xml, self.lan_target, PHONE_PORT, 6000)
        ok, out = self.peers.finish(p)
        if not ok:
            raise RuntimeError(f"the phone could not register with b2bua ({label}): {out}")

    def start_b2bua(self, placement, label, transport="udp"):
        if placement == "router":
            host, lan_ip, wan_ip, wan_port, iface = "rtr", topo.RTR_LAN, topo.RTR_WAN, 5060, topo.WAN_IF
        else:
            host, lan_ip, wan_ip, wan_port, iface = "srv", topo.SRV_LAN, topo.SRV_LAN, 5080, None
        self.lan_target = f"{lan_ip}:5060"
        t0 = time.monotonic()
        d = self.peers.start_b2bua(self.binary, host,
                                   self.peers.b2bua_config(lan_ip, wan_ip, wan_port, iface, transport), label)
        m = d.find_log(r"event=registered trunk=provider", 25)
        return d, (time.monotonic() - t0 if m else None)

    def check_idle(self, d, placement):
        """Check 1: registered through the NAT, still registered after >= 3 NAT timeouts of idling,
        and an inbound call then rings the phone."""
        off = d.log_size()
        drops0 = self.t.wan_drops()
        self.note(f"{placement}: idling {IDLE_S}s (NAT timeout {NAT_TIMEOUT_S}s)")
        time.sleep(IDLE_S)
        lost = log_lines(d, r"event=(state .*from=registered|registration_failed|keepalive_lost|register_timeout)", off)
        refreshes = len(log_lines(d, r"event=refreshed trunk=provider", off))
        drops = self.t.wan_drops() - drops0
        ok_call, figures = self.call_in(d, f"{placement}_idle")
        name = f"registration_idle[{placement}]"
        if lost or not ok_call:
            why = f"lost registration: {lost[:3]}" if lost else "inbound call after idling failed"
            self.results.add("FAIL", name, f"{why}; idle {IDLE_S}s, {refreshes} refreshes, WAN drops {drops}; {figures}")
        else:
            self.results.add("PASS", name, f"registered through NAT, idle {IDLE_S}s (3x{NAT_TIMEOUT_S}s NAT timeout) "
                                           f"with {refreshes} refreshes and 0 losses, WAN drops during idle {drops}; "
                                           f"inbound call after idle: {figures}")
        return ok_call

    def check_isp_reconnect(self, d, placement):
        """Check 4: the router's public address changes; b2bua re-registers and calls come in again."""
        off = d.log_size()
        t0 = time.monotonic()
        self.t.change_public_address(topo.RTR_WAN_AFTER_RECONNECT)
        new = re.escape(topo.RTR_WAN_AFTER_RECONNECT)
        learned = d.find_log(rf"event=public_address_(changed|learned) trunk=provider public_address={new}",
                           REREGISTER_AFTER_IP_CHANGE_S, off)
        registered = None
        if learned:
            at = off + learned.end()
            registered = d.find_log(r"event=(registered|refreshed) trunk=provider",
                                  max(1.0, REREGISTER_AFTER_IP_CHANGE_S - (time.monotonic() - t0)), at)
        took = time.monotonic() - t0
        name = f"isp_reconnect[{placement}]"
        if not registered:
            evidence = log_lines(d, r"level=(warn|error)|event=(state|public_address|register_sent)", off)[-6:]
            self.results.add("FAIL", name, f"no re-registration with {topo.RTR_WAN_AFTER_RECONNECT} within "
                                           f"{REREGISTER_AFTER_IP_CHANGE_S}s of the address change; log: "
                                           + " | ".join(evidence))
            return False
        ok_call, figures = self.call_in(d, f"{placement}_reconnect")
        if ok_call:
            self.results.add("PASS", name, f"public address {topo.RTR_WAN} -> {topo.RTR_WAN_AFTER_RECONNECT}, "
                                           f"re-registered after {took:.1f}s (bound {REREGISTER_AFTER_IP_CHANGE_S}s); "
                                           f"inbound call: {figures}")
        else:
            self.results.add("FAIL", name, f"re-registered after {took:.1f}s but the inbound call failed: {figures}")
        return ok_call

    def check_outage(self, d, placement):
        """Check 5: the provider is gone for a minute; b2bua backs off and comes back by itself."""
        off = d.log_size()
        self.kamailio.stop()
        self.note(f"{placement}: provider down for {OUTAGE_S}s")
        time.sleep(OUTAGE_S)
        self.kamailio = self.peers.start_kamailio("kamailio-after-outage")
        t_up = time.monotonic()
        off_up = d.log_size()
        back = d.find_log(r"event=(registered|refreshed) trunk=provider", REREGISTER_AFTER_OUTAGE_S, off_up)
        took = time.monotonic() - t_up
        failures = log_lines(d, r"event=registration_failed trunk=provider", off)
        delays = [int(m.group(1)) for ln in failures for m in [re.search(r"retry_in_ms=(\d+)", ln)] if m]
        backoff = bool(log_lines(d, r"event=state trunk=provider .*to=backoff", off))
        name = f"provider_outage[{placement}]"
        figures = (f"outage {OUTAGE_S}s: {len(failures)} failed attempts, backoff delays "
                   f"{[round(x / 1000, 1) for x in delays]}s, state backoff seen={backoff}")
        if not back:
            self.results.add("FAIL", name, f"{figures}; not registered again within {REREGISTER_AFTER_OUTAGE_S}s "
                                           f"of the provider's return; log: "
                                           + " | ".join(log_lines(d, r"level=(warn|error)|event=state", off)[-5:]))
            return False
        ok_call, call = self.call_in(d, f"{placement}_outage")
        status = "PASS" if ok_call and backoff and failures else "FAIL"
        self.results.add(status, name, f"{figures}; re-registered {took:.1f}s after the provider returned "
                                       f"(bound {REREGISTER_AFTER_OUTAGE_S}s); inbound call: {call}")
        return ok_call

    def run_placement(self, placement, reconnect=True, outage=False, transport="udp"):
        start = time.time()
        # Results and capture windows are named by placement, "lan-tcp" for a TCP trunk.
        where = placement if transport == "udp" else f"{placement}-{transport}"
        d, took = self.start_b2bua(placement, f"b2bua-{where}", transport)
        placement = where
        if took is None:
            self.results.add("FAIL", f"registration_idle[{placement}]", "trunk never registered through the NAT: "
                             + " | ".join(log_lines(d, r"level=(warn|error)|event=state")[-6:]))
            d.stop()
            self.windows[placement] = (start, time.time())
            return
        self.note(f"{placement}: trunk registered after {took:.1f}s")
        self.register_phone(placement)
        ok, figures = self.call_out(d, self.lan_target, placement)
        self.results.add("PASS" if ok else "FAIL", f"two_way_audio_out[{placement}]", figures)
        if self.check_idle(d, placement):
            # The inbound call of check 1 is check 2's inbound call as well.
            self.results.add("PASS", f"two_way_audio_in[{placement}]", "see registration_idle: both ends counted")
        else:
            self.results.add("FAIL", f"two_way_audio_in[{placement}]", "see registration_idle")
        if reconnect:
            self.check_isp_reconnect(d, placement)
        if outage:
            self.check_outage(d, placement)
        # The router has no ALG here: any ALG warning would send an admin hunting for nothing.
        false_alg = log_lines(d, r"event=sip_alg_detected")
        self.results.add("FAIL" if false_alg else "PASS", f"no_false_alg[{placement}]",
                         f"sip_alg_detected lines without an ALG: {false_alg[:2] if false_alg else 'none'}")
        code = d.stop(timeout=10)
        self.windows[placement] = (start, time.time())
        if code != 0:
            self.results.add("FAIL", f"daemon_exit[{placement}]", f"b2bua exited with {code}")
        if self.t.wan_address != topo.RTR_WAN:
            self.t.change_public_address(topo.RTR_WAN)

    def check_provider_restart(self, d, placement):
        """Check 9: the provider restarts and loses its location table (kamailio's usrloc is in
        memory), back within seconds, and tells nobody. b2bua's binding query finds our Contact
        gone and registers again; the next inbound call rings."""
        off = d.log_size()
        self.kamailio.stop()
        self.kamailio = self.peers.start_kamailio(f"kamailio-restarted-{placement}")
        t_up = time.monotonic()
        # UDP: only the binding check can tell (the lab's refresh is 10 minutes away), and the
        # state goes registering -> registered. TCP: the restart closed our connection, and a
        # REGISTER on a new one (a refresh to nua) re-creates the binding at once.
        again = r"event=registered" if placement == "lan" else r"event=(registered|refreshed)"
        back = d.find_log(again + r" trunk=provider", REREGISTER_AFTER_RESTART_S, off)
        took = time.monotonic() - t_up
        name = f"provider_restart[{placement}]"
        noticed = log_lines(d, r"event=(binding_lost|keepalive_lost|registration_failed|register_timeout) "
                               r"trunk=provider", off)
        if noticed:
            how = re.search(r"event=(\w+)", noticed[0]).group(1)
        else:
            how = "the closed connection" if placement != "lan" else "nothing"
        if not back:
            self.results.add("FAIL", name, f"not registered again within {REREGISTER_AFTER_RESTART_S}s of the "
                                           f"provider's return (noticed by: {how}); log: "
                                           + " | ".join(log_lines(d, r"level=(warn|error)|event=state", off)[-5:]))
            return False
        ok_call, call = self.call_in(d, f"{placement}_restart")
        self.results.add("PASS" if ok_call else "FAIL", name,
                         f"provider restarted with an empty location table; noticed by {how}, registered again "
                         f"{took:.1f}s after it returned (binding check every {BINDING_CHECK_S}s, bound "
                         f"{REREGISTER_AFTER_RESTART_S}s); inbound call: {call}")
        return ok_call

    def binding_check_cost(self, d, placement, since):
        """The price of noticing: our binding queries and the challenges answered for them, per hour."""
        elapsed = time.monotonic() - since
        queries = len(log_lines(d, r"event=binding_check_sent trunk=provider"))
        challenged = len(log_lines(d, r"event=binding_check_challenged trunk=provider"))
        per_hour = (queries + challenged) * 3600 / elapsed
        self.results.add("PASS", f"binding_check_cost[{placement}]",
                         f"{queries} queries and {challenged} answered challenges in {elapsed:.0f}s: "
                         f"{per_hour:.0f} REGISTER requests an hour at a {BINDING_CHECK_S}s period "
                         f"({per_hour * BINDING_CHECK_S / 30:.0f} at the default 30s)")

    def run_restart(self, transport):
        """Checks 9 for one transport: b2bua in the LAN, the provider restarted."""
        start = time.time()
        placement = "lan" if transport == "udp" else f"lan-{transport}"
        config = self.peers.b2bua_config(topo.SRV_LAN, topo.SRV_LAN, 5080, None, transport)
        # A refresh every 5 minutes, so that only the binding check can notice the loss in time.
        config["trunks"][0].update(binding_check=BINDING_CHECK_S, expires=600)
        self.lan_target = f"{topo.SRV_LAN}:5060"
        d = self.peers.start_b2bua(self.binary, "srv", config, f"b2bua-restart-{placement}")
        try:
            if not d.find_log(r"event=registered trunk=provider", 25):
                self.results.add("FAIL", f"provider_restart[{placement}]", "trunk never registered: "
                                 + " | ".join(log_lines(d, r"level=(warn|error)|event=state")[-6:]))
                return
            registered_at = time.monotonic()
            self.register_phone(f"restart_{placement}")
            # Registered and quiet for a while first, so the check has answered at least once.
            d.find_log(r"event=binding_check_ok trunk=provider", BINDING_CHECK_S + 5)
            self.check_provider_restart(d, placement)
            self.binding_check_cost(d, placement, registered_at)
        finally:
            d.stop(timeout=10)
            self.windows[f"restart-{placement}"] = (start, time.time())

    def run_boot(self, without_address=False):
        """Check 10: b2bua starts on the router while its WAN side is not ready: the link down
        (the DSL line not synced yet) for 20 s, or (10b) no address yet (DHCP or PPP not done)
        for 10 s. The log says why it waits, phones are served meanwhile, and the trunk registers
        within 3 s of the link or the address coming."""
        start = time.time()
        label = "boot_no_address" if without_address else "boot_link_down"
        wan_if = ["dev", topo.WAN_IF]
        if without_address:
            self.t.ip("rtr", "addr", "del", f"{topo.RTR_WAN}/24", *wan_if)
            reason, down_s = "the interface has no address yet", LINK_DOWN_S / 2
        else:
            self.t.ip("rtr", "link", "set", topo.WAN_IF, "down")
            reason, down_s = "the link is down", LINK_DOWN_S
        self.lan_target = f"{topo.RTR_LAN}:5060"
        config = self.peers.b2bua_config(topo.RTR_LAN, topo.RTR_WAN, 5060, topo.WAN_IF)
        d = self.peers.start_b2bua(self.binary, "rtr", config, f"b2bua-{label}")
        try:
            waiting = d.find_log(rf"event=wan_waiting interface=wan0 reason=\"{reason}\"[^\n]*", 5)
            self.register_phone(label)  # served while the WAN side waits
            time.sleep(down_s)
            failures = log_lines(d, r"event=registration_failed trunk=provider")
            off = d.log_size()
            if without_address:
                self.t.ip("rtr", "addr", "add", f"{topo.RTR_WAN}/24", *wan_if)
            else:
                self.t.ip("rtr", "link", "set", topo.WAN_IF, "up")
            t_up = time.monotonic()
            self.t.ip("rtr", "route", "replace", "default", "via", topo.ISP_GW)
            back = d.find_log(r"event=registered trunk=provider", REGISTER_AFTER_LINK_UP_S, off)
            took = time.monotonic() - t_up
            name = f"{label}[router]"
            if not back or not waiting:
                self.results.add("FAIL", name, f"log explains the wait: {bool(waiting)}; registered within "
                                               f"{REGISTER_AFTER_LINK_UP_S}s: {bool(back)}; log: "
                                               + " | ".join(log_lines(d, r"level=(warn|error)|event=(state|wan_)")[-6:]))
                return
            ok_call, call = self.call_in(d, label)
            events = ", ".join(m.group(0) for w in log_lines(d, r"event=(wan_usable|retry_now|wan_rebuilt)", off)[:2]
                               for m in [re.search(r"event=\w+", w)] if m)
            self.results.add("PASS" if ok_call else "FAIL", name,
                             f"WAN not ready for {down_s:.0f}s at start ({len(failures)} failed attempts; log: "
                             f"{waiting.group(0)[:120]}); the phone registered meanwhile; registered {took:.1f}s "
                             f"after it came (bound {REGISTER_AFTER_LINK_UP_S}s; {events}); inbound call: {call}")
        finally:
            d.stop(timeout=10)
            self.windows[label] = (start, time.time())

    def run_voicemail(self):
        """Check 11: an inbound provider call nobody answers, b2bua in the LAN behind the NAT. The
        phone is registered and rings but nobody picks up (the usual way a message is left at
        home); after voicemail.after the answering machine answers the provider, plays its
        greeting and the beep, and records. The far end talks from the answer on (audio of
        known content) and hangs up; the stored message must be the part it said after the beep."""
        start = time.time()
        config = self.peers.b2bua_config(topo.SRV_LAN, topo.SRV_LAN, 5080)
        config["extensions"][0]["voicemail"] = {"after": VOICEMAIL_AFTER_S}
        config["voicemail"] = {"folder": "voicemail"}
        self.lan_target = f"{topo.SRV_LAN}:5060"
        d = self.peers.start_b2bua(self.binary, "srv", config, "b2bua-voicemail")
        try:
            if not d.find_log(r"event=registered trunk=provider", 25):
                self.results.add("FAIL", "voicemail_answer[lan]", "trunk never registered: "
                                 + " | ".join(log_lines(d, r"level=(warn|error)|event=state")[-6:]))
                return
            self.register_phone("voicemail")
            self._voicemail_call(d, os.path.join(os.path.dirname(d.db), "voicemail"))
        finally:
            code = d.stop(timeout=10)
            self.windows["voicemail"] = (start, time.time())
            if code != 0:
                self.results.add("FAIL", "daemon_exit[voicemail]", f"b2bua exited with {code}")

    def _voicemail_call(self, d, folder):
        """The call: the phone rings, the machine answers the far end, which talks and hangs up."""
        greet = vm.greeting_seconds()
        source = vm.speechlike(greet + MESSAGE_S)
        payload = vm.ulaw_encode(source)
        pcap = self.peers.path("far_voice.pcap")
        P.write_rtp_pcap(pcap, [payload[i:i + 160] for i in range(0, len(payload) - 159, 160)])
        self._reset_rtp()
        last = self._last_record_id(d)
        phone = self.peers.phone("phone_vm", P.scenarios.phone_ring_only(), self.lan_target, PHONE_PORT, 6000)
        time.sleep(0.3)
        t0 = time.monotonic()
        # play_pcap_audio runs beside the scenario: the BYE follows the last packet by 0.5 s.
        xml = P.far_call_in(P.DID, hold_ms=int((greet + MESSAGE_S + 0.5) * 1000), pcap=pcap, sdp=P.SDP_PCMU)
        far = self.peers.far("far_call_vm", xml, FAR_UAC_PORT, 7100)
        ok_far, out_far = self.peers.finish(far)
        ok_phone, out_phone = self.peers.finish(phone, timeout=5)
        took = time.monotonic() - t0
        heard, _ = self.t.rtp_counters("wan")
        trace = sipp_trace(self.peers.messages("phone_vm"))
        invite = next((m for m in trace if m.received and m.method == "INVITE"), None)
        cancel = next((m for m in trace if m.received and m.method == "CANCEL"), None)
        rang = cancel.time - invite.time if invite and cancel else None
        records = self._records_after(d, last)
        record = records[-1][1:5] if records else None
        notes = vm.notes_of(records[-1]) if records else []
        # Behind the NAT the answer must name the public address (learned from received/rport),
        # as the relay's SDP does: the provider sends its RTP where the SDP says.
        answered_by = next((m.text for m in sipp_trace(self.peers.messages("far_call_vm"))
                            if m.received and m.first_line.startswith("SIP/2.0 200")
                            and re.search(r"^CSeq:\s*\d+ INVITE", m.text, re.M)), "")
        media = re.search(r"^c=IN IP4 (\S+)", answered_by, re.M)
        media = media.group(1) if media else None
        answer = (f"phone rang {rang:.1f}s (voicemail.after {VOICEMAIL_AFTER_S}s) and was cancelled; " if rang
                  else "the phone was not rung and cancelled; ")
        answer += f"the machine's answer names c={media} (public {self.t.wan_address}); "
        answer += (f"the far end received {heard} media packets ({heard * 0.02:.2f}s of 20 ms; greeting + beep "
                   f"{greet:.2f}s), call took {took:.1f}s; record {record}, notes '{' '.join(notes)}'")
        expected = {"the far end's call": ok_far, "the phone rang and was cancelled": ok_phone and rang is not None,
                    f"rang {VOICEMAIL_AFTER_S}s +-1s": rang is not None and abs(rang - VOICEMAIL_AFTER_S) <= 1.0,
                    "the public address in c=": media == self.t.wan_address,
                    "greeting and beep heard +-0.5s": abs(heard * 0.02 - greet) <= 0.5,
                    "record inbound/10/200/caller": record == ("inbound", P.PHONE_EXT, 200, "caller"),
                    f"voicemail=no_answer:{P.PHONE_EXT} noted": f"voicemail=no_answer:{P.PHONE_EXT}" in notes,
                    "voice_result=message noted": "voice_result=message" in notes}
        missed = [what for what, ok in expected.items() if not ok]
        if not missed:
            self.results.add("PASS", "voicemail_answer[lan]", answer)
        else:
            self.results.add("FAIL", "voicemail_answer[lan]", f"not as expected: {', '.join(missed)}; {answer}\n"
                                                              f"  phone: {out_phone[-400:]}\n  far: {out_far[-400:]}")
        self._voicemail_message(d, folder, source, greet)

    def _voicemail_message(self, d, folder, source, greet):
        """The stored message: one row for the extension, its WAV, and in it the far end's audio."""
        name = "voicemail_message[lan]"
        rows = wait_until(lambda: self.peers.rows(d, f"SELECT {vm.MESSAGE_COLUMNS} FROM voice_messages"), 5)
        if not rows or len(rows) != 1:
            self.results.add("FAIL", name, f"{len(rows or [])} rows in voice_messages, one expected; log: "
                             + " | ".join(log_lines(d, r"component=voicemail|level=(warn|error)")[-4:]))
            return
        # The far end talks for MESSAGE_S after the beep, minus the time its first packet takes
        # to arrive, plus up to the 0.5 s before its BYE.
        broken = next((text.strip() for ok, text in vm.message_findings(rows[0], P.PHONE_EXT, vm.FAR, MESSAGE_S,
                                                                     700, "message", folder) if not ok), None)
        if broken:
            self.results.add("FAIL", name, f"{broken}; row {rows[0]}")
            return
        rec = vm.read_wav(os.path.join(folder, rows[0][7]))[3]
        lag, corr = vm.align(rec, source)
        # The message holds the far end's audio from the end of the beep on: it starts there in
        # what the far end sent, and its sound lasts as long as what was left of it.
        left_ms = (len(source) - lag) / 8
        sound_ms = (max((i for i, x in enumerate(rec) if abs(x) > 64), default=-1) + 1) / 8
        figures = (f"row for mailbox {rows[0][1]} from {rows[0][2]}, {rows[0][5]} ms, {rows[0][7]}; correlation "
                   f"{corr:.4f} (bound {MATCH_CORR}) at {lag / 8000:.2f}s of the far end's audio (greeting + beep "
                   f"{greet:.2f}s); sound {sound_ms:.0f} ms of {left_ms:.0f} ms sent after that point")
        ok = (corr >= MATCH_CORR and greet - 0.5 <= lag / 8000 <= greet + 1.5 and abs(sound_ms - left_ms) <= 150)
        self.results.add("PASS" if ok else "FAIL", name, figures)

    def run_alg(self, placement="lan"):
        """Check 6: the kernel's SIP ALG on the router, b2bua in the LAN (or on the router:
        topology.ALG_RULES_ROUTER says where the helper sits then)."""
        name = f"sip_alg[{placement}]"
        label = "alg" if placement == "lan" else f"{placement}_alg"
        try:
            self.t.alg_on(placement)
        except topo.CommandFailed as e:
            self.results.add("SKIP", name, f"the kernel's SIP conntrack helper is not available here: {e}")
            return
        start = time.time()
        d = None
        try:
            d, took = self.start_b2bua(placement, f"b2bua-{label}")
            if took is None:
                self.results.add("FAIL", name, "no registration with the ALG on: "
                                 + " | ".join(log_lines(d, r"level=(warn|error)|event=state")[-6:]))
                return
            self.register_phone(label)
            ok_out, out = self.call_out(d, self.lan_target, label)
            ok_in, inb = self.call_in(d, label)
            helper = self.t.in_ns("rtr", ["conntrack", "-L", "-p", "udp", "--dport", "5060"], check=False)
            helped = "helper=sip" in helper.stdout
            # The kernel's helper rewrites only the private address and port it sees in Via,
            # Contact and SDP, and b2bua never sends them to a provider (b2bua.invalid until the
            # public address is learned, then that address): it finds nothing to rewrite, so
            # nothing to report either. What would be wrong is a warning all the same.
            warned = log_lines(d, r"event=sip_alg_detected")
            figures = (f"registered after {took:.1f}s with the helper attached (conntrack helper=sip seen={helped}); "
                       f"ALG warnings: {warned[:2] if warned else 'none (nothing of ours was rewritten)'}; "
                       f"outbound: {out}; inbound: {inb}")
            self.results.add("PASS" if helped and not warned and ok_out and ok_in else "FAIL", name, figures)
        finally:
            if d:
                d.stop(timeout=10)
            self.t.alg_off()
            self.windows[label] = (start, time.time())

    def run_baseline(self):
        """Check 7: a phone registered straight to the provider through the NAT."""
        start = time.time()
        provider = f"{topo.PROVIDER}:5060"
        reg = self.peers.phone("baseline_reg", P.scenarios.phone_register(P.BASELINE_USER, P.PROVIDER_PASSWORD),
                               provider, BASELINE_PHONE_PORT, 6200)
        ok_reg, out = self.peers.finish(reg)
        if not ok_reg:
            self.results.add("FAIL", "baseline", f"the phone could not register at the provider: {out}")
            return

        def attempt(label, timeout):
            phone = self.peers.phone(f"baseline_phone_{label}", P.phone_ring_busy(), provider, BASELINE_PHONE_PORT,
                                     6200, timeout=timeout)
            time.sleep(0.3)
            far = self.peers.far(f"baseline_far_{label}", P.far_call_expect_busy(P.BASELINE_USER), 5094, 7200,
                                 timeout=15)
            ok_far, far_out = self.peers.finish(far, timeout=25)
            ok_phone, _ = self.peers.finish(phone, timeout=3)
            return ok_far and ok_phone, far_out

        ok_fresh, _ = attempt("fresh", 20)
        drops0 = self.t.wan_drops()
        self.note(f"baseline: idling {BASELINE_IDLE_S}s")
        time.sleep(BASELINE_IDLE_S)
        ok_after, far_out = attempt("expired", 20)
        drops = self.t.wan_drops() - drops0
        self.windows["baseline"] = (start, time.time())
        self.baseline = (ok_fresh, ok_after, drops, far_out)

    def report_capture(self):
        """Check 3 for each placement; the baseline's leak goes into check 7's line."""
        self.capture.stop()
        markers = [P.PHONE_UA.encode(), P.PHONE_CALL_ID.encode()]
        for placement in ("router", "lan", "voicemail", *self.private_windows):
            if placement not in self.windows:
                continue
            packets = self.capture.packets(*self.windows[placement])
            found, sip = leaks(packets, markers + self.private_windows.get(placement, []))
            name = f"nothing_private[{placement}]"
            if not sip:
                self.results.add("FAIL", name, f"no SIP captured on the WAN interface ({len(packets)} UDP packets)")
            elif found:
                kinds = sorted({what for what, _, _ in found})
                evidence = "; ".join(ev for _, ev, _ in found[:2])
                self.results.add("FAIL", name, f"{len(found)} leaks of {', '.join(kinds)} in {sip} SIP messages / "
                                               f"{len(packets)} UDP packets: {summary(found)}; first: {evidence}")
            else:
                more = self.private_windows.get(placement)
                self.results.add("PASS", name, f"{sip} SIP messages and {len(packets)} UDP packets on the WAN, "
                                               f"no private address, no '{P.PHONE_UA}', no LAN Call-ID"
                                               + (f", none of {len(more)} more markers" if more else ""))
        if hasattr(self, "baseline"):
            ok_fresh, ok_after, drops, far_out = self.baseline
            found, sip = leaks(self.capture.packets(*self.windows["baseline"]), markers)
            private = sorted({what for what, _, _ in found})
            figures = (f"phone straight to the provider: rings while the mapping is fresh={ok_fresh}, after "
                       f"{BASELINE_IDLE_S}s idle={ok_after} (router dropped {drops} packets of the provider hitting "
                       f"the expired mapping); leaked {private} in {len(found)} places of {sip} SIP messages "
                       f"({summary(found)})")
            if ok_fresh and not ok_after and found:
                self.results.add("XFAIL", "baseline", figures)
            else:
                self.results.add("FAIL", "baseline", "the baseline did not fail the expected way: " + figures)

    def run(self):
        self.note(f"building the lab ({self.t.prefix}-*)")
        self.t.create(NAT_TIMEOUT_S)
        self.capture.start()
        self.kamailio = self.peers.start_kamailio()
        phases = (os.environ.get("NATLAB_PHASES") or ",".join(PHASES)).split(",")
        unknown = set(phases) - set(PHASES)
        if unknown:
            raise ValueError(f"unknown phases {sorted(unknown)}; there are {PHASES}")
        if "router" in phases:
            self.run_placement("router")
        if "lan" in phases:
            self.run_placement("lan", outage=True)
        if "alg" in phases:
            self.run_alg()
        if "tcp" in phases:
            # The trunk over TCP from behind the router: calls come back over our connection,
            # and after the address change the dead connection is noticed and replaced.
            self.run_placement("lan", transport="tcp")
        if "baseline" in phases:
            self.run_baseline()
        if "restart" in phases:
            self.run_restart("udp")
            self.run_restart("tcp")
        if "boot" in phases:
            self.run_boot()
            self.run_boot(without_address=True)
        if "voicemail" in phases:
            self.run_voicemail()
        for phase, run_phase in MORE_PHASES.items():
            if phase in phases:
                run_phase(self)
        nat_kinds.run(self, phases, NAT_TIMEOUT_S)  # last: they put a modem in front of the router
        self.report_capture()

    def close(self):
        self.peers.stop_all()
        self.capture.stop()
        self.t.destroy()
        self.trace.close()


def main():
    if sys.argv[1:2] == ["--list-phases"]:
        print(";".join(PHASES))
        return 0
    prefix, binary, workdir = sys.argv[1], os.path.abspath(sys.argv[2]), sys.argv[3]

    def interrupted(signum, _frame):
        raise Interrupted(f"signal {signum} (interrupt or the {DEADLINE_S} s deadline)")

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGALRM, interrupted)
    signal.alarm(DEADLINE_S)
    lab = Lab(prefix, binary, workdir)
    t0 = time.monotonic()
    try:
        lab.run()
    except Exception as e:  # a broken lab is a failure, never a pass
        lab.results.add("FAIL", "lab", f"{type(e).__name__}: {e}")
    finally:
        signal.alarm(0)
        lab.close()
    print(f"# lab finished in {time.monotonic() - t0:.0f}s; logs in {workdir}", flush=True)
    return 0 if lab.results.ok() else 1


if __name__ == "__main__":
    sys.exit(main())
