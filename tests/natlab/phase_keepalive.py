"""NAT lab phases of the keep-alive sized to the NAT (keepalive.interval "auto", wan.stun):
b2bua in the LAN measures the router's UDP mapping lifetime with STUN (RFC 5780 4.6) against
coturn in `wan`, sets its keep-alive to 80% of it, and keeps its registration through idle
periods of three NAT timeouts; an inbound call after each idle period must ring the phone.

Each case sets the router's UDP conntrack timeouts (both of them) and starts a fresh b2bua:

    keepalive        15 s NAT, idle 45 s, then an ISP reconnect: measured again   (CI)
    keepalive_long   20 s NAT, idle 60 s       (CI: the shorter stand-in of the 60 s case)
    NATLAB_KEEPALIVE_CASES=60:180 natlab.sh ... keepalive   the 60 s NAT with 180 s of idle, by hand

Figures per case: the measured lifetime, the interval chosen, how long the measurement took,
keep-alive packets per hour during the idle period (counted on the router: CRLF pings and
OPTIONS probes from b2bua's SIP port to the provider) against the 180 of the fixed 20 s, the
NAT mapping of the trunk's flow (same conntrack id before and after the idle period: it never
expired) and the inbound call.
"""
import json
import os
import re
import time

import topology as topo
from harness import wait_until
from peers import log_lines

STUN_IPS = ("198.51.100.30", "198.51.100.31")  # coturn needs two addresses for RFC 5780
STUN_PORT = 3478
SIP_PORT = 5080  # b2bua's WAN port in the LAN placement
# (NAT timeout s, idle s, then an ISP reconnect that must trigger a new measurement)
CASES = {"keepalive": [(15, 45, True)], "keepalive_long": [(20, 60, False)]}
PHASES = tuple(CASES)
FIXED_INTERVAL_S = 20

# Counted on the router's forward path: what b2bua's SIP socket sends to the provider.
COUNT_RULES = """
table inet natlab_keepalive {{
  counter ka_crlf {{}}
  counter ka_options {{}}
  counter ka_sip {{}}
  chain forward {{
    type filter hook forward priority -10; policy accept;
    ip saddr {srv} udp sport {port} ip daddr {provider} udp dport 5060 counter name ka_sip
    ip saddr {srv} udp sport {port} ip daddr {provider} udp length 12 counter name ka_crlf
    ip saddr {srv} udp sport {port} ip daddr {provider} @th,64,56 0x4f5054494f4e53 counter name ka_options
  }}
}}
"""


def cases(phase):
    override = os.environ.get("NATLAB_KEEPALIVE_CASES")
    if override:
        return [(*(int(x) for x in c.split(":")), False) for c in override.split(",")]
    return CASES[phase]


def start_coturn(lab):
    for ip in STUN_IPS:
        lab.t.ip("wan", "addr", "add", f"{ip}/32", "dev", "lo")
    argv = ["turnserver", "-n", "--no-cli", "--no-tls", "--no-dtls", "--listening-port", str(STUN_PORT),
            "--simple-log", "--log-file", "stdout", "--pidfile", lab.peers.path("turnserver.pid"),
            "--userdb", lab.peers.path("turndb")]
    for ip in STUN_IPS:
        argv += ["--listening-ip", ip]
    p = lab.peers.spawn("wan", argv, "coturn")
    if not wait_until(lambda: all(lab.peers._udp_bound("wan", ip, STUN_PORT) for ip in STUN_IPS), 10):
        raise RuntimeError("coturn did not start:\n" + p.output()[-1500:])
    return p


def conntrack_id(lab):
    """The conntrack id of the trunk's flow (b2bua's SIP socket to the provider), or None."""
    r = lab.t.in_ns("rtr", ["conntrack", "-L", "-p", "udp", "--orig-src", topo.SRV_LAN, "--orig-port-src",
                            str(SIP_PORT), "--orig-dst", topo.PROVIDER, "-o", "id"], check=False)
    m = re.search(r"id=(\d+)", r.stdout)
    return m.group(1) if m else None


def trunk_status(lab):
    """The trunk's entry of b2bua's /status, fetched inside `srv` (the endpoint is on its loopback)."""
    r = lab.t.in_ns("srv", ["python3", "-c", "import urllib.request,sys;"
                            "sys.stdout.write(urllib.request.urlopen('http://127.0.0.1:18088/status',timeout=5)"
                            ".read().decode())"], check=False)
    try:
        return next((t for t in json.loads(r.stdout).get("trunks", []) if t.get("name") == "provider"), {})
    except ValueError:
        return {}


def counters(lab):
    return {n: lab.t.counter("rtr", "natlab_keepalive", f"ka_{n}") for n in ("crlf", "options", "sip")}


def check_remeasured(lab, d, where, nat_s, keepalive):
    """An ISP reconnect (new public address, every mapping gone) may mean another NAT: the
    keep-alive's OPTIONS probe (every 4th tick) learns the address, and the trunk measures again."""
    off = d.log_size()
    t0 = time.monotonic()
    lab.t.change_public_address(topo.RTR_WAN_AFTER_RECONNECT)
    try:
        bound = 4 * keepalive + 10
        started = d.find_log(r'event=nat_lifetime_measuring trunk=provider \S+ why="public address changed"', bound, off)
        took = time.monotonic() - t0
        again = d.find_log(r"event=nat_lifetime trunk=provider lifetime_s=([\d.]+) \S+ keepalive_s=(\d+)",
                           3 * nat_s + 60, off) if started else None
        if not again:
            lab.results.add("FAIL", f"nat_lifetime_reconnect[{where}]",
                            f"no new measurement after the address change ({'started' if started else 'not started'}"
                            f" within {bound}s); log: "
                            + " | ".join(log_lines(d, r"event=(nat_lifetime|public_address)|level=(warn|error)",
                                                   off)[-4:]))
            return
        lab.results.add("PASS", f"nat_lifetime_reconnect[{where}]",
                        f"public address {topo.RTR_WAN} -> {topo.RTR_WAN_AFTER_RECONNECT}: measuring again "
                        f"{took:.1f}s after the change (bound {bound}s: 4 keep-alive ticks), measured "
                        f"{again.group(1)}s, keep-alive {again.group(2)}s")
    finally:
        lab.t.change_public_address(topo.RTR_WAN)


def run_case(lab, binary, nat_s, idle_s, reconnect):
    where = f"lan-{nat_s}s"
    start = time.time()
    lab.t.sysctl("rtr", **{"net.netfilter.nf_conntrack_udp_timeout": nat_s,
                           "net.netfilter.nf_conntrack_udp_timeout_stream": nat_s})
    lab.t.flush_conntrack()
    config = lab.peers.b2bua_config(topo.SRV_LAN, topo.SRV_LAN, SIP_PORT)
    config["wan"]["stun"] = f"{STUN_IPS[0]}:{STUN_PORT}"
    # Nothing else keeps the mapping open during the idle period: a refresh is 10 minutes away,
    # no binding queries.
    config["trunks"][0].update(keepalive={"method": "crlf", "interval": "auto"}, expires=600, binding_check=0)
    lab.lan_target = f"{topo.SRV_LAN}:5060"
    d = lab.peers.start_b2bua(binary, "srv", config, f"b2bua-keepalive-{nat_s}")
    try:
        if not d.find_log(r"event=registered trunk=provider", 25):
            lab.results.add("FAIL", f"nat_lifetime[{where}]", "trunk never registered: "
                            + " | ".join(log_lines(d, r"level=(warn|error)|event=state")[-6:]))
            return
        # The measurement ends within about two and a half NAT timeouts plus the answer bounds.
        m = d.find_log(r"event=nat_lifetime trunk=provider lifetime_s=([\d.]+) at_least=(\w+) keepalive_s=(\d+) "
                       r"method=stun took_s=(\d+)", 3 * nat_s + 60)
        if not m:
            lab.results.add("FAIL", f"nat_lifetime[{where}]", "no measurement: "
                            + " | ".join(log_lines(d, r"event=nat_lifetime|level=(warn|error)")[-4:]))
            return
        lifetime, at_least, keepalive, took = float(m.group(1)), m.group(2), int(m.group(3)), int(m.group(4))
        # Never above the real lifetime (that keep-alive would be too long), and within a tenth
        # plus a second of it (the search's promise).
        ok = at_least == "false" and nat_s * 0.9 - 1 <= lifetime <= nat_s and keepalive == int(lifetime * 0.8)
        lab.results.add("PASS" if ok else "FAIL", f"nat_lifetime[{where}]",
                        f"router UDP timeout {nat_s}s: measured {lifetime}s in {took}s, keep-alive {keepalive}s "
                        f"(80%, bound {nat_s * 0.9 - 1:.1f}..{nat_s}s)")
        trunk = trunk_status(lab)
        shown = (trunk.get("nat_lifetime_state"), trunk.get("nat_lifetime_s"), trunk.get("keepalive_interval_s"))
        lab.results.add("PASS" if shown == ("measured", int(lifetime), keepalive) else "FAIL",
                        f"nat_lifetime_status[{where}]",
                        f"/status trunk: nat_lifetime_state={shown[0]} nat_lifetime_s={shown[1]} "
                        f"keepalive_interval_s={shown[2]}")
        # Idle: three NAT timeouts with only keep-alives on the flow.
        time.sleep(1)
        lab.t.reset_counters("rtr", "natlab_keepalive", "ka_crlf", "ka_options", "ka_sip")
        off = d.log_size()
        drops0 = lab.t.wan_drops()
        flow0 = conntrack_id(lab)
        lab.note(f"{where}: idling {idle_s}s with a {keepalive}s keep-alive")
        t0 = time.monotonic()
        time.sleep(idle_s)
        idle = time.monotonic() - t0
        flow1 = conntrack_id(lab)
        c = counters(lab)
        drops = lab.t.wan_drops() - drops0
        lost = log_lines(d, r"event=(state .*from=registered|registration_failed|keepalive_lost|register_timeout)",
                         off)
        per_hour = (c["crlf"] + c["options"]) * 3600 / idle
        fixed = 3600 / FIXED_INTERVAL_S
        figures = (f"idle {idle:.0f}s: {c['crlf']} CRLF + {c['options']} OPTIONS ({c['sip']} packets to the "
                   f"provider in all) = {per_hour:.0f} keep-alives an hour (fixed {FIXED_INTERVAL_S}s: {fixed:.0f}, "
                   f"{'unsafe' if FIXED_INTERVAL_S >= nat_s else 'safe'} here); mapping conntrack id "
                   f"{flow0} -> {flow1}; WAN drops {drops}; losses {lost[:2] if lost else 0}")
        kept = flow0 is not None and flow0 == flow1
        # The phone registers now: a long case outlasts its binding (300 s), which is the LAN's
        # business, not the trunk's.
        lab.register_phone(f"keepalive_{nat_s}")
        ok_call, call = lab.call_in(d, f"keepalive_{nat_s}")
        status = "PASS" if kept and not lost and ok_call and c["crlf"] > 0 else "FAIL"
        lab.results.add(status, f"keepalive_idle[{where}]", f"{figures}; inbound call after idle: {call}")
        if reconnect:
            check_remeasured(lab, d, where, nat_s, keepalive)
    finally:
        d.stop(timeout=10)
        lab.windows[f"keepalive-{nat_s}"] = (start, time.time())


def run(lab, binary, phase):
    lab.t.nft("rtr", COUNT_RULES.format(srv=topo.SRV_LAN, port=SIP_PORT, provider=topo.PROVIDER))
    start_coturn(lab)
    for nat_s, idle_s, reconnect in cases(phase):
        run_case(lab, binary, nat_s, idle_s, reconnect)
