"""Harder kinds of NAT for the lab (natlab.py runs these phases with the lab's checks):

- double_nat_router, double_nat_lan: the provider's modem routes (NAT) in front of the home
  router, as many cable and DSL boxes do out of the box. A `modem` namespace is put between
  `rtr` and `wan`: rtr's WAN address becomes private (192.168.178.2), the modem MASQUERADEs to
  203.0.113.2 and drops everything unsolicited, with the same short UDP timeouts.

      lan/srv -- br0 192.168.50.1 rtr wan0 192.168.178.2 -- lan0 192.168.178.1 modem wan0 203.0.113.2 -- wan

  Checked: registration, an inbound call after idling three NAT timeouts and two-way audio
  (natlab.py's checks), nothing private on the modem's outer link (capture.py on `modem`'s
  wan0), and that `b2bua doctor --json`, run in the b2bua host's namespace, reports the double
  NAT; before the modem is put in, the same doctor must not (no false alarm).

- symmetric: rtr's NAT gives every new mapping a fresh random public port (nft `masquerade
  fully-random`; endpoint-dependent mapping, RFC 4787 "symmetric") and filters by address and
  port (conntrack), UDP timeout 15 s. b2bua in the LAN must register, keep its mapping alive,
  and take calls both ways. A symmetric NAT cannot be traversed by announcing an address: the
  port of a media flow is known only once its first packet has left, so the provider's media
  side must latch (send to where our media comes from, RFC 4961 symmetric RTP), as SBCs do
  for NATed customers. The far end here latches (sipp -rtp_echo): it sends nothing of its own,
  only what it receives, back to the source address and port.

Each function takes natlab.Lab and adds its result lines to it.
"""
import json
import os
import re
import time

import peers as P
import topology as topo
from capture import Capture, leaks, summary
from peers import log_lines

PHASES = ("double_nat_router", "double_nat_lan", "symmetric")

MODEM_LAN = "192.168.178.1"
RTR_WAN_BEHIND_MODEM = "192.168.178.2"
MODEM_INNER_IF = "lan0"

# Symmetric NAT for the LAN's flows: a fresh random port for every new mapping. The router's
# own traffic keeps the plain MASQUERADE (b2bua on the router is not what this phase tests).
SYMMETRIC_RULES = """
flush chain ip natlab_nat postrouting
add rule ip natlab_nat postrouting oifname "{wan}" ip saddr {lan} masquerade fully-random
add rule ip natlab_nat postrouting oifname "{wan}" masquerade
"""


PLAIN_RULES = """
flush chain ip natlab_nat postrouting
add rule ip natlab_nat postrouting oifname "{wan}" masquerade
"""


def insert_modem(t, nat_timeout_s):
    """Puts the `modem` namespace between rtr and wan: the provider's end of rtr's WAN link
    moves into the modem as its LAN side, a new link joins the modem to the provider, and rtr's
    WAN address becomes private. rtr's own link and its capture stay as they are."""
    t.run(["ip", "netns", "add", t.ns("modem")])
    t.created.append(t.ns("modem"))
    t.ip("modem", "link", "set", "lo", "up")
    t.ip("wan", "link", "set", "eth0", "netns", t.ns("modem"))
    t.ip("modem", "link", "set", "eth0", "name", MODEM_INNER_IF)
    t.ip("modem", "addr", "add", f"{MODEM_LAN}/24", "dev", MODEM_INNER_IF)
    t.ip("modem", "link", "set", MODEM_INNER_IF, "up")
    t.ip("modem", "link", "add", topo.WAN_IF, "type", "veth", "peer", "name", "eth0", "netns", t.ns("wan"))
    t.ip("modem", "addr", "add", f"{topo.RTR_WAN}/24", "dev", topo.WAN_IF)
    t.ip("modem", "link", "set", topo.WAN_IF, "up")
    t.ip("modem", "route", "add", "default", "via", topo.ISP_GW)
    t.ip("wan", "addr", "add", f"{topo.ISP_GW}/24", "dev", "eth0")
    t.ip("wan", "link", "set", "eth0", "up")
    t.sysctl("modem", **{"net.ipv4.ip_forward": 1})
    t.sysctl("modem", **{"net.netfilter.nf_conntrack_udp_timeout": nat_timeout_s,
                         "net.netfilter.nf_conntrack_udp_timeout_stream": nat_timeout_s})
    # The router's rules: NAT, and everything unsolicited from the WAN dropped and counted (no
    # exposed host, no port forwarding), as such a box is delivered. The ports they open on the
    # router itself lead nowhere on the modem: nothing listens there.
    t.nft("modem", topo.RTR_RULES.format(wan=topo.WAN_IF, relay_min=topo.RELAY_PORTS_ROUTER[0],
                                         relay_max=topo.RELAY_PORTS_ROUTER[1]))
    t.ip("rtr", "addr", "del", f"{t.wan_address}/24", "dev", topo.WAN_IF)
    t.ip("rtr", "addr", "add", f"{RTR_WAN_BEHIND_MODEM}/24", "dev", topo.WAN_IF)
    t.ip("rtr", "route", "replace", "default", "via", MODEM_LAN)
    t.flush_conntrack()


def doctor_nat(lab, host, daemon):
    """`b2bua doctor --json` in the namespace of b2bua's host: its network.nat finding (or None)
    and the exit code."""
    config = os.path.join(os.path.dirname(daemon.db), "b2bua.jsonc")
    r = lab.t.in_ns(host, [lab.binary, "doctor", "--config", config, "--json"], check=False, timeout=30)
    try:
        findings = json.loads(r.stdout)
    except ValueError:
        return None, r.returncode, r.stdout[-300:] + r.stderr[-300:]
    nat = next((f for f in findings if f.get("id") == "network.nat"), None)
    return nat, r.returncode, ""


def describe(finding):
    return f"{finding['verdict']}: {finding['what']} ({finding['evidence']})" if finding else "no network.nat finding"


def start(lab, placement, wan_ip, label):
    """b2bua in a placement (as natlab.py's start_b2bua) with the WAN address given; registered?"""
    if placement == "router":
        host, lan_ip, wan_port, iface = "rtr", topo.RTR_LAN, 5060, topo.WAN_IF
    else:
        host, lan_ip, wan_port, iface = "srv", topo.SRV_LAN, 5080, None
    lab.lan_target = f"{lan_ip}:5060"
    t0 = time.monotonic()
    d = lab.peers.start_b2bua(lab.binary, host, lab.peers.b2bua_config(lan_ip, wan_ip, wan_port, iface), label)
    m = d.find_log(r"event=registered trunk=provider", 25)
    return host, d, (time.monotonic() - t0 if m else None)


def registered(lab, d, took, phase, nat):
    """The public address the trunk learned through `nat` ("?" if not logged); None, with a FAIL
    line, when it never registered."""
    if took is None:
        lab.results.add("FAIL", f"registration_idle[{phase}]", f"trunk never registered through the {nat}: "
                        + " | ".join(log_lines(d, r"level=(warn|error)|event=state")[-6:]))
        return None
    learned = re.search(r"event=public_address_learned trunk=provider public_address=(\S+)", d.output())
    mapped = learned.group(1) if learned else "?"
    lab.note(f"{phase}: registered after {took:.1f}s, public address {mapped}")
    return mapped


def check_no_double_nat(lab, host, d, where):
    """A single NAT (or none in front of the router): the doctor's network.nat finding is ok."""
    finding, code, broken = doctor_nat(lab, host, d)
    ok = finding is not None and finding["verdict"] == "ok" and "double" not in finding["what"]
    lab.results.add("PASS" if ok else "FAIL", f"doctor_no_double_nat[{where}]",
                    f"one NAT, b2bua doctor exit {code}: {describe(finding)}{broken}")


def check_single_nat_doctor(lab, placement):
    """Before the modem: one NAT (or none in front of the router); the doctor must not cry double NAT."""
    host, d, took = start(lab, placement, topo.RTR_WAN if placement == "router" else topo.SRV_LAN,
                          f"b2bua-single-{placement}")
    try:
        if took is None:
            lab.results.add("FAIL", f"doctor_no_double_nat[{placement}]", "trunk never registered through the single NAT: "
                            + " | ".join(log_lines(d, r"level=(warn|error)|event=state")[-6:]))
            return
        check_no_double_nat(lab, host, d, placement)
    finally:
        d.stop(timeout=10)


def run_double_nat(lab, placement, nat_timeout_s):
    phase = f"double_nat_{placement}"
    if lab.t.ns("modem") not in lab.t.created:
        check_single_nat_doctor(lab, placement)
        insert_modem(lab.t, nat_timeout_s)
    else:
        lab.note(f"{phase}: the modem is in already (an earlier phase of this lab); no single-NAT doctor check")
    outer = Capture(lab.t, os.path.join(lab.dir, f"{phase}-modem-wan.pcap"), topo.WAN_IF, host="modem")
    outer.start()
    start_t = time.time()
    wan_ip = RTR_WAN_BEHIND_MODEM if placement == "router" else topo.SRV_LAN
    host, d, took = start(lab, placement, wan_ip, f"b2bua-{phase}")
    try:
        if not registered(lab, d, took, phase, "double NAT"):
            return
        lab.register_phone(phase)
        ok, figures = lab.call_out(d, lab.lan_target, phase)
        lab.results.add("PASS" if ok else "FAIL", f"two_way_audio_out[{phase}]", figures)
        modem_drops0 = lab.t.counter("modem", "natlab_fw", "wan_unsolicited")
        ok_in = lab.check_idle(d, phase)
        lab.results.add("PASS" if ok_in else "FAIL", f"two_way_audio_in[{phase}]",
                        f"see registration_idle (modem dropped "
                        f"{lab.t.counter('modem', 'natlab_fw', 'wan_unsolicited') - modem_drops0} unsolicited packets "
                        f"meanwhile)")
        finding, code, broken = doctor_nat(lab, host, d)
        ok = (finding is not None and finding["verdict"] == "warning" and "double NAT" in finding["what"]
              and MODEM_LAN in finding["evidence"])
        lab.results.add("PASS" if ok else "FAIL", f"doctor_double_nat[{phase}]",
                        f"b2bua doctor exit {code}: {describe(finding)}{broken}")
        false_alg = log_lines(d, r"event=sip_alg_detected")
        lab.results.add("FAIL" if false_alg else "PASS", f"no_false_alg[{phase}]",
                        f"sip_alg_detected lines without an ALG: {false_alg[:2] if false_alg else 'none'}")
    finally:
        code = d.stop(timeout=10)
        end_t = time.time()
        outer.stop()
        if code != 0:
            lab.results.add("FAIL", f"daemon_exit[{phase}]", f"b2bua exited with {code}")
    report_outer_capture(lab, outer, phase, start_t, end_t)


def report_outer_capture(lab, capture, phase, start_t, end_t):
    """Check 3 on the modem's outer link: what the provider and the internet see."""
    packets = capture.packets(start_t, end_t)
    found, sip = leaks(packets, [P.PHONE_UA.encode(), P.PHONE_CALL_ID.encode()])
    name = f"nothing_private[{phase}]"
    if not sip:
        lab.results.add("FAIL", name, f"no SIP captured on the modem's outer link ({len(packets)} UDP packets)")
    elif found:
        kinds = sorted({what for what, _, _ in found})
        lab.results.add("FAIL", name, f"{len(found)} leaks of {', '.join(kinds)} in {sip} SIP messages / "
                                      f"{len(packets)} UDP packets: {summary(found)}; first: {found[0][1]}")
    else:
        lab.results.add("PASS", name, f"{sip} SIP messages and {len(packets)} UDP packets on the modem's outer link, "
                                      f"no private address (192.168.50.x nor 192.168.178.x), no '{P.PHONE_UA}', "
                                      f"no LAN Call-ID")


def public_port(lab):
    """The public port rtr's conntrack gives b2bua's SIP flow (192.168.50.2:5080 -> provider:5060)."""
    r = lab.t.in_ns("rtr", ["conntrack", "-L", "-p", "udp", "--orig-src", topo.SRV_LAN, "--orig-port-src", "5080",
                            "--orig-dst", topo.PROVIDER], check=False)
    m = re.search(r"src=\S+ dst=\S+ sport=5080 dport=5060 .*?dst=\S+ sport=5060 dport=(\d+)", r.stdout)
    return int(m.group(1)) if m else None


def run_symmetric(lab):
    phase = "symmetric"
    lab.t.nft("rtr", SYMMETRIC_RULES.format(wan=topo.WAN_IF, lan=topo.LAN_NET))
    lab.lan_target = f"{topo.SRV_LAN}:5060"
    lab.t.flush_conntrack()
    start_t = time.time()
    host, d, took = start(lab, "lan", topo.SRV_LAN, "b2bua-symmetric")
    lab.peers.latching_far_end = True
    try:
        mapped = registered(lab, d, took, phase, "symmetric NAT")
        if not mapped:
            return
        # One NAT, however hostile: the doctor must not call it a double NAT.
        check_no_double_nat(lab, host, d, phase)
        lab.register_phone(phase)
        ok, figures = lab.call_out(d, lab.lan_target, phase)
        lab.results.add("PASS" if ok else "FAIL", f"two_way_audio_out[{phase}]", figures)
        port_before = public_port(lab)
        off = d.log_size()
        ok_in = lab.check_idle(d, phase)
        lab.results.add("PASS" if ok_in else "FAIL", f"two_way_audio_in[{phase}]", "see registration_idle")
        # The mapping kept: the same public port for our SIP flow before and after idling (a lost
        # mapping would have come back on another random port, and b2bua would have said so).
        port_after = public_port(lab)
        moved = log_lines(d, r"event=public_address_changed", off)
        # 5080 would mean the mapping kept our port: the symmetric rule is not in effect.
        ok_kept = (port_before not in (None, 5080) and port_before == port_after and not moved
                   and mapped.endswith(f":{port_before}"))
        lab.results.add("PASS" if ok_kept else "FAIL", f"mapping_kept[{phase}]",
                        f"b2bua's SIP flow {topo.SRV_LAN}:5080 mapped to {topo.RTR_WAN}:{port_before} before and "
                        f":{port_after} after idling (rtr's conntrack; fully-random mapping), learned public address "
                        f"{mapped}, public_address_changed while idle: {moved[:1] if moved else 'none'}")
        check_new_mapping(lab, d, phase)
    finally:
        lab.peers.latching_far_end = False
        d.stop(timeout=10)
        lab.windows[phase] = (start_t, time.time())
        lab.t.nft("rtr", PLAIN_RULES.format(wan=topo.WAN_IF))
        lab.t.flush_conntrack()


def check_new_mapping(lab, d, phase):
    """The symmetric NAT forgets every mapping (conntrack flushed, as after a router restart):
    the next packet gets another random port; b2bua must learn it and re-register."""
    name = f"new_mapping[{phase}]"
    off = d.log_size()
    before = re.findall(r"public_address=(\S+)", d.output())
    t0 = time.monotonic()
    lab.t.flush_conntrack()
    # Learned from whichever answer comes first: the keep-alive's OPTIONS (changed) or a
    # registration refresh that happened to be due (learned).
    changed = d.find_log(r"event=public_address_(?:changed|learned) trunk=provider public_address=(\S+)", 30, off)
    registered = changed and d.find_log(r"event=(registered|refreshed) trunk=provider", 15, off + changed.end())
    took = time.monotonic() - t0
    if not registered:
        lab.results.add("FAIL", name, f"no new public port learned and registered within 30 s of the flush; "
                                      f"log: " + " | ".join(log_lines(d, r"level=(warn|error)|event=(state|public)", off)[-5:]))
        return
    ok_call, figures = lab.call_in(d, f"{phase}_new_mapping")
    lab.results.add("PASS" if ok_call else "FAIL", name,
                    f"public address {before[-1] if before else '?'} -> {changed.group(1)} after the flush, "
                    f"re-registered after {took:.1f}s; inbound call: {figures}")


def run(lab, phases, nat_timeout_s):
    """The phases asked for, symmetric first: the modem, once in, stays for the rest of the lab."""
    if "symmetric" in phases:
        run_symmetric(lab)
    if "double_nat_router" in phases:
        run_double_nat(lab, "router", nat_timeout_s)
    if "double_nat_lan" in phases:
        run_double_nat(lab, "lan", nat_timeout_s)
