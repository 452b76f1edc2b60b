#!/usr/bin/env python3
"""Public address learning against sipp playing a provider behind which we look NATed: its
responses say received=203.0.113.7;rport=40000. We must re-register with that address in the
Contact, keep it in storage, and name our private address in no Contact once it is known
(sofia writes the bound address into Via: RFC 3581 received/rport exists for exactly that).
Also the WAN gate: an OPTIONS from a foreign source (127.0.0.5) gets 403, one from the
provider's address gets 200."""
from provider import probe, recv, respond, start_provider, trunk_config, wait_exit
from harness import Harness, check, run_flows, wait_until

NAT = ("203.0.113.7", 40000)


def nat_public_address(binary):
    with Harness("trunk-nat", binary) as h:
        lan, wan, provider_port, foreign, local = h.port(5)
        steps = [recv(), respond(200, "OK", contact_expires=60, nat=NAT),
                 recv(), respond(200, "OK", contact_expires=60, nat=NAT),
                 # keep-alive OPTIONS over the registered flow
                 recv("OPTIONS"), respond(200, "OK", nat=NAT),
                 recv("OPTIONS"), respond(200, "OK", nat=NAT)]
        provider = start_provider(h, steps, provider_port, timeout=40)
        d = h.start_daemon(trunk_config((lan, wan), f"sip:127.0.0.1:{provider_port}",
                                        keepalive={"method": "options", "interval": 5}))
        d.wait_log(r"event=contact_updated trunk=prov from=127.0.0.1:%d to=203.0.113.7:40000" % wan, timeout=10)
        d.wait_log(r"event=refreshed trunk=prov|event=registered trunk=prov.*203\.0\.113\.7", timeout=5)

        rc = probe(h, "foreign", f"127.0.0.1:{wan}", "127.0.0.5", foreign, 403)
        check(rc == 0, f"OPTIONS from a foreign source (127.0.0.5) answered 403: rc={rc}")
        d.wait_log(r"event=wan_request_rejected method=OPTIONS source=127\.0\.0\.5:%d rejected_total=1" % foreign,
                   timeout=3)
        rc = probe(h, "from_provider", f"127.0.0.1:{wan}", "127.0.0.1", local, 200)
        check(rc == 0, f"OPTIONS from the provider's address answered 200: rc={rc}")

        rc = wait_exit(provider, 20)
        check(rc == 0, f"provider saw two REGISTERs and two keep-alive OPTIONS: rc={rc}",
              h.sipp_messages("provider")[-2000:])
        regs = h.messages("provider", method="REGISTER")
        check("Contact: <sip:b2t" in regs[1] and "@203.0.113.7:40000>" in regs[1],
              "second REGISTER carries the learned public address")
        later = regs[1:] + h.messages("provider", method="OPTIONS")
        contact_lines = [l for r in later for l in r.splitlines() if l.lower().startswith(("contact:", "m:"))]
        check(contact_lines and all("127.0.0.1" not in l for l in contact_lines),
              f"no private address in any Contact once the public one is known: {contact_lines}")
        row = wait_until(lambda: h.db_rows("SELECT public_address FROM trunk_state WHERE trunk='prov'"), 5)
        check(row and row[0][0] == "203.0.113.7:40000", f"public address stored: {row}")
        h.stop_daemon(d)


if __name__ == "__main__":
    run_flows({"nat_public_address": nat_public_address})
