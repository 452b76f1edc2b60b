"""kamailio as a real provider (registrar + usrloc in memory + digest auth, see
kamailio-provider.cfg): the trunk registers with auth, refreshes within the 10 s kamailio
grants (60 s asked), a request the provider relays to our registered Contact reaches b2bua
and is matched to the trunk by its token, and shutdown unregisters (Expires 0)."""
import os
import re
import sys

from provider import USER, probe, trunk_config
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from harness import Harness, check, wait_port_free  # noqa: E402

KAMAILIO, WAN, LAN, CALLER = 16190, 16191, 16192, 16194
HERE = os.path.dirname(os.path.abspath(__file__))

with Harness("trunk-kamailio") as h:
    check(wait_port_free(KAMAILIO), "kamailio's port is free")
    k = h.spawn(["kamailio", "-DD", "-E", "-f", os.path.join(HERE, "kamailio-provider.cfg"), "-Y", h.dir,
                 "-l", f"udp:127.0.0.1:{KAMAILIO}", "-m", "32", "-M", "8"], "kamailio")
    k.wait_log(r"INFO: <core> \[main.c:\d+\]: main\(\): processes \(at least\)|ready|listening on", timeout=10)
    d = h.start_daemon(trunk_config((LAN, WAN), f"sip:127.0.0.1:{KAMAILIO}"))
    k.wait_log(r"saved sip:%s@127\.0\.0\.1 contact=<sip:b2t[0-9a-f]{12}@127\.0\.0\.1:%d>" % (USER, WAN), timeout=10)
    d.wait_log(r"event=registered trunk=prov server=sip:127\.0\.0\.1:%d expires=10" % KAMAILIO, timeout=5)
    check(True, "registered at kamailio with digest auth; granted 10 s")
    first = len(re.findall(r"saved sip:", k.output()))
    d.wait_log(r"event=refreshed trunk=prov expires=10", timeout=10)
    check(len(re.findall(r"saved sip:", k.output())) > first, "refresh within the granted 10 s, authenticated")

    rc = probe(h, "inbound", f"127.0.0.1:{KAMAILIO}", "127.0.0.1", CALLER, 200, user=USER)
    check(rc == 0, f"OPTIONS to the AoR, relayed by kamailio to our Contact, answered 200: rc={rc}")
    d.wait_log(r"event=inbound_answered trunk=prov method=OPTIONS matched_by=token", timeout=3)
    check(re.search(r"relaying OPTIONS to sip:b2t[0-9a-f]{12}@127\.0\.0\.1:%d" % WAN, k.output()) is not None,
          "kamailio relayed it to the token Contact")

    mark = k.log_size()
    check(d.stop() == 0, "daemon exits cleanly")
    k.wait_log(r"request REGISTER from 127\.0\.0\.1:%d .*expires=0" % WAN, timeout=5, after=mark)
    check("trunk-secret" not in d.output(), "no secret in the daemon log")
    k.stop()
