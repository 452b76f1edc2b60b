"""The lab's network: four namespaces joined by veth pairs, a NAT router between a private LAN
and two documentation "internet" ranges.

    lan  (phones)        192.168.50.10 --+
                                         +-- br0 192.168.50.1  rtr  wan0 203.0.113.2 --- 203.0.113.1  wan
    srv  (b2bua in LAN)  192.168.50.2  --+        (MASQUERADE, short UDP timeouts)          kamailio 198.51.100.10
                                                                                              far end  198.51.100.20

Every link is created inside its namespaces (never in the host's), so interface names cannot
clash with the host or with a parallel run; namespace names carry the run's PID. Everything
the lab starts runs through `ip netns exec` and is ended by PID (processes.py).
"""
import json
import subprocess

LAN_NET = "192.168.50.0/24"
RTR_LAN = "192.168.50.1"
SRV_LAN = "192.168.50.2"
PHONE = "192.168.50.10"
ISP_GW = "203.0.113.1"
RTR_WAN = "203.0.113.2"
RTR_WAN_AFTER_RECONNECT = "203.0.113.3"
PROVIDER = "198.51.100.10"
FAR_END = "198.51.100.20"
WAN_IF = "wan0"
HOSTS = ("lan", "srv", "rtr", "wan")

# Relay port ranges. b2bua on the router uses the range its firewall opens; b2bua in the LAN uses
# another one, closed on the router as on a real one. That matters: a far end that starts its
# RTP a moment before our first packet has opened the mapping (it starts on the ACK, we send on
# the 200) must be dropped by the router's filter, as a home router does. Were that port open
# on the router, the stray packet would leave a confirmed conntrack entry for it, and the NAT
# would then move our flow to another public port than the SDP names (one-way audio towards a
# far end that does not latch).
RELAY_PORTS_ROUTER = (30000, 30199)
RELAY_PORTS_LAN = (40000, 40199)

# Router firewall: established flows pass, anything unsolicited from the WAN is dropped and
# counted (`wan_unsolicited`): packets that hit an expired NAT mapping land there. Ports 5060 and
# the router's relay range are open on the router itself because b2bua may run there.
RTR_RULES = """
table inet natlab_fw {{
  counter wan_unsolicited {{}}
  chain input {{
    type filter hook input priority 0; policy accept;
    iifname "{wan}" ct state established,related accept
    iifname "{wan}" udp dport {{ 5060, {relay_min}-{relay_max} }} accept
    iifname "{wan}" meta l4proto icmp accept
    iifname "{wan}" counter name wan_unsolicited drop
  }}
  chain forward {{
    type filter hook forward priority 0; policy accept;
    iifname "{wan}" ct state established,related accept
    iifname "{wan}" counter name wan_unsolicited drop
  }}
}}
table ip natlab_nat {{
  chain postrouting {{
    type nat hook postrouting priority 100;
    oifname "{wan}" masquerade
  }}
}}
"""

# The kernel's SIP ALG (nf_conntrack_sip + nf_nat_sip) on UDP 5060, as a home router with "SIP
# ALG" switched on. Helpers are no longer attached automatically (kernel >= 6.0): an explicit rule.
ALG_RULES = """
table inet natlab_alg {
  ct helper sip_alg { type "sip" protocol udp; l3proto ip; }
  chain prerouting {
    type filter hook prerouting priority 0;
    udp dport 5060 ct helper set "sip_alg"
  }
  chain output {
    type filter hook output priority 0;
    udp dport 5060 ct helper set "sip_alg"
  }
}
"""

# The same ALG when the SIP stack runs on the router itself (b2bua on `rtr`). A router's ALG sits
# on its WAN interface, and the router's own SIP traffic never crosses FORWARD: what it sends to
# the provider is locally generated (OUTPUT, leaving by wan0), what the provider starts towards
# it comes in on wan0 (PREROUTING). Both attach the helper to the connection, which then sees
# every message of it both ways. The LAN side (phones -> the router's port 5060) is left alone,
# as on a router whose ALG is a WAN feature.
ALG_RULES_ROUTER = """
table inet natlab_alg {{
  ct helper sip_alg {{ type "sip" protocol udp; l3proto ip; }}
  chain output {{
    type filter hook output priority 0;
    oifname "{wan}" udp dport 5060 ct helper set "sip_alg"
  }}
  chain prerouting {{
    type filter hook prerouting priority 0;
    iifname "{wan}" udp dport 5060 ct helper set "sip_alg"
  }}
}}
"""

# RTP counters at the two ends of a call: the phone in `lan`, the far end in `wan`. SIP uses
# ports 5000-5999 in this lab, everything else to or from these hosts over UDP is media.
COUNTER_RULES = """
table inet natlab_count {{
  counter rtp_in {{}}
  counter rtp_out {{}}
  chain input {{
    type filter hook input priority 0; policy accept;
    ip daddr {ip} udp dport != 5000-5999 counter name rtp_in
  }}
  chain output {{
    type filter hook output priority 0; policy accept;
    ip saddr {ip} udp sport != 5000-5999 counter name rtp_out
  }}
}}
"""


class CommandFailed(RuntimeError):
    pass


class Topology:
    def __init__(self, prefix, log):
        self.prefix = prefix
        self.log = log
        self.created = []
        self.wan_address = RTR_WAN

    def ns(self, host):
        return f"{self.prefix}-{host}"

    def run(self, argv, check=True, input_text=None, timeout=20):
        r = subprocess.run(argv, input=input_text, capture_output=True, text=True, timeout=timeout)
        self.log(f"$ {' '.join(argv)} -> {r.returncode} {r.stderr.strip()[:300]}")
        if check and r.returncode != 0:
            raise CommandFailed(f"{' '.join(argv)}: {r.stderr.strip()}")
        return r

    def in_ns(self, host, argv, **kw):
        return self.run(["ip", "netns", "exec", self.ns(host), *argv], **kw)

    def ip(self, host, *args, **kw):
        return self.run(["ip", "-n", self.ns(host), *args], **kw)

    def nft(self, host, rules):
        return self.in_ns(host, ["nft", "-f", "-"], input_text=rules)

    def sysctl(self, host, **values):
        for key, value in values.items():
            self.in_ns(host, ["sysctl", "-q", "-w", f"{key}={value}"])

    def create(self, nat_timeout_s):
        for host in HOSTS:
            self.run(["ip", "netns", "add", self.ns(host)])
            self.created.append(self.ns(host))
            self.ip(host, "link", "set", "lo", "up")
        # LAN: a bridge in the router, the phone host and the server host on it.
        self.ip("rtr", "link", "add", "br0", "type", "bridge")
        self.ip("rtr", "addr", "add", f"{RTR_LAN}/24", "dev", "br0")
        self.ip("rtr", "link", "set", "br0", "up")
        for host, port, address in (("lan", "lan0", PHONE), ("srv", "srv0", SRV_LAN)):
            self.ip("rtr", "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", self.ns(host))
            self.ip("rtr", "link", "set", port, "master", "br0", "up")
            self.ip(host, "addr", "add", f"{address}/24", "dev", "eth0")
            self.ip(host, "link", "set", "eth0", "up")
            self.ip(host, "route", "add", "default", "via", RTR_LAN)
        # WAN: the ISP's gateway and the provider's hosts live in `wan`.
        self.ip("rtr", "link", "add", WAN_IF, "type", "veth", "peer", "name", "eth0", "netns", self.ns("wan"))
        self.ip("rtr", "addr", "add", f"{RTR_WAN}/24", "dev", WAN_IF)
        self.ip("rtr", "link", "set", WAN_IF, "up")
        self.ip("rtr", "route", "add", "default", "via", ISP_GW)
        self.ip("wan", "addr", "add", f"{ISP_GW}/24", "dev", "eth0")
        self.ip("wan", "link", "set", "eth0", "up")
        for address in (PROVIDER, FAR_END):
            self.ip("wan", "addr", "add", f"{address}/32", "dev", "lo")
        self.sysctl("rtr", **{"net.ipv4.ip_forward": 1})
        self.nft("rtr", RTR_RULES.format(wan=WAN_IF, relay_min=RELAY_PORTS_ROUTER[0],
                                             relay_max=RELAY_PORTS_ROUTER[1]))
        # Per namespace; both must be short: a UDP flow that saw replies moves to the "stream"
        # timeout (120 s by default), which would hide the aggressive NAT.
        self.sysctl("rtr", **{"net.netfilter.nf_conntrack_udp_timeout": nat_timeout_s,
                              "net.netfilter.nf_conntrack_udp_timeout_stream": nat_timeout_s})
        self.nft("lan", COUNTER_RULES.format(ip=PHONE))
        self.nft("wan", COUNTER_RULES.format(ip=FAR_END))

    def destroy(self):
        for name in reversed(self.created):
            self.run(["ip", "netns", "del", name], check=False)
        self.created.clear()

    # --- what the checks do to the network ---

    def counter(self, host, table, name):
        r = self.in_ns(host, ["nft", "-j", "list", "counter", "inet", table, name], check=False)
        try:
            for item in json.loads(r.stdout)["nftables"]:
                if "counter" in item:
                    return item["counter"]["packets"]
        except (ValueError, KeyError):
            pass
        return -1

    def reset_counters(self, host, table, *names):
        for name in names:
            self.in_ns(host, ["nft", "reset", "counter", "inet", table, name], check=False)

    def rtp_counters(self, host):
        return self.counter(host, "natlab_count", "rtp_in"), self.counter(host, "natlab_count", "rtp_out")

    def wan_drops(self):
        return self.counter("rtr", "natlab_fw", "wan_unsolicited")

    def flush_conntrack(self):
        self.in_ns("rtr", ["conntrack", "-F"], check=False)

    def change_public_address(self, new):
        """An ISP reconnect: the router's WAN address changes and every mapping is gone."""
        self.ip("rtr", "addr", "del", f"{self.wan_address}/24", "dev", WAN_IF)
        self.ip("rtr", "addr", "add", f"{new}/24", "dev", WAN_IF)
        self.ip("rtr", "route", "replace", "default", "via", ISP_GW)
        self.wan_address = new
        self.flush_conntrack()

    def alg_on(self, placement="lan"):
        self.nft("rtr", ALG_RULES if placement == "lan" else ALG_RULES_ROUTER.format(wan=WAN_IF))
        self.flush_conntrack()  # helpers attach to new connections only

    def alg_off(self):
        self.in_ns("rtr", ["nft", "delete", "table", "inet", "natlab_alg"], check=False)
        self.flush_conntrack()
