"""Checks 5 and 6 with b2bua on the router itself (`router_outage`, `router_alg`): the LAN
placement runs them inside its own phases; on the router they are phases of their own, so each
stays short (60 s of outage, or a registration and two calls) beside the router phase's 48 s
idle and its ISP reconnect.

    router_outage   kamailio stopped for 60 s and started again (its registrations lost): the
                    trunk backs off and registers again within the bound, an inbound call
                    rings the phone with two-way RTP, no ALG warning
    router_alg      the kernel's SIP helper attached where a router's ALG sees the router's own
                    SIP traffic (topology.ALG_RULES_ROUTER: OUTPUT and PREROUTING on wan0);
                    registration and calls both ways work, no `sip_alg_detected`

Called from natlab.py's Lab.run() with the lab (its topology, peers, results and capture
windows); runs in the lab's thread.
"""
import time

from peers import log_lines


def run_outage(lab):
    start = time.time()
    d, took = lab.start_b2bua("router", "b2bua-router-outage")
    try:
        if took is None:
            lab.results.add("FAIL", "provider_outage[router]", "trunk never registered: "
                            + " | ".join(log_lines(d, r"level=(warn|error)|event=state")[-6:]))
            return
        lab.note(f"router_outage: trunk registered after {took:.1f}s")
        lab.register_phone("router_outage")
        lab.check_outage(d, "router")
        # No ALG here: a warning would send an admin hunting for nothing.
        false_alg = log_lines(d, r"event=sip_alg_detected")
        lab.results.add("FAIL" if false_alg else "PASS", "no_false_alg[router_outage]",
                        f"sip_alg_detected lines without an ALG: {false_alg[:2] if false_alg else 'none'}")
    finally:
        code = d.stop(timeout=10)
        lab.windows["router_outage"] = (start, time.time())
        lab.private_windows.setdefault("router_outage", [])
        if code != 0:
            lab.results.add("FAIL", "daemon_exit[router_outage]", f"b2bua exited with {code}")


def run_alg(lab):
    lab.run_alg("router")
    lab.private_windows.setdefault("router_alg", [])


PHASES = {"router_outage": run_outage, "router_alg": run_alg}
