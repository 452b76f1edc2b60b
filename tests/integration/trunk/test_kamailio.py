#!/usr/bin/env python3
"""kamailio as a real provider (registrar + usrloc in memory + digest auth, see
kamailio-provider.cfg): the trunk registers with auth, refreshes within the 10 s kamailio
grants (60 s asked), a request the provider relays to our registered Contact reaches b2bua
and is matched to the trunk by its token, and shutdown unregisters (Expires 0)."""
import re

from provider import PASSWORD, USER, probe, start_kamailio, trunk_config
from harness import Harness, check, run_flows


def kamailio_provider(binary):
    with Harness("trunk-kamailio", binary) as h:
        kamailio, wan, lan, caller = h.port(4)
        k = start_kamailio(h, [f"udp:127.0.0.1:{kamailio}"])
        d = h.start_daemon(trunk_config((lan, wan), f"sip:127.0.0.1:{kamailio}"))
        k.wait_log(r"saved sip:%s@127\.0\.0\.1 contact=<sip:b2t[0-9a-f]{12}@127\.0\.0\.1:%d>" % (USER, wan), timeout=10)
        d.wait_log(r"event=registered trunk=prov server=sip:127\.0\.0\.1:%d expires=10" % kamailio, timeout=5)
        check(True, "registered at kamailio with digest auth; granted 10 s")
        first = len(re.findall(r"saved sip:", k.output()))
        d.wait_log(r"event=refreshed trunk=prov expires=10", timeout=10)
        check(len(re.findall(r"saved sip:", k.output())) > first, "refresh within the granted 10 s, authenticated")

        rc = probe(h, "inbound", f"127.0.0.1:{kamailio}", "127.0.0.1", caller, 200, user=USER)
        check(rc == 0, f"OPTIONS to the AoR, relayed by kamailio to our Contact, answered 200: rc={rc}")
        d.wait_log(r"event=inbound_answered trunk=prov method=OPTIONS matched_by=token", timeout=3)
        check(re.search(r"relaying OPTIONS to sip:b2t[0-9a-f]{12}@127\.0\.0\.1:%d" % wan, k.output()) is not None,
              "kamailio relayed it to the token Contact")

        mark = k.log_size()
        h.stop_daemon(d)
        k.wait_log(r"request REGISTER from 127\.0\.0\.1:%d .*expires=0" % wan, timeout=5, after=mark)
        check(PASSWORD not in d.output(), "no secret in the daemon log")
        k.stop()


if __name__ == "__main__":
    run_flows({"kamailio_provider": kamailio_provider})
