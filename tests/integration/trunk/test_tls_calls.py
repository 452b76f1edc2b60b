#!/usr/bin/env python3
"""Calls over a TLS trunk: kamailio (kamailio-provider.cfg with TLS and record-routing) is the
provider, a sipp far end sits behind it on UDP, a sipp phone on the LAN side.

  tls_call_outbound  phone 10 dials 0301234567: the INVITE leaves over the trunk's TLS
                     connection (certificate checked against provider.test), kamailio relays it
                     to the far end, the answer, the phone's BYE and the RTP both ways go through;
  tls_call_inbound   the far end calls the trunk's number: kamailio sends the INVITE over our own
                     TLS connection (the Contact names its port), phone 10 answers, the far end
                     hangs up.
Each call is recorded."""
import json
import re
import time

from provider import PASSWORD, USER, make_certificates, start_dnsmasq, start_kamailio
from harness import Harness, check, check_sipp, run_flows
import records
import scenarios


class TlsTrunk:
    """The provider (kamailio over TLS, its DNS name from a dnsmasq of the test), the far end's
    port behind it, and the daemon registered over TLS."""

    def __init__(self, h):
        self.h = h
        kamailio, self.kamailio_tls, wan, wan_tls, self.lan, dns, self.far_port = h.port(7)
        self.kamailio = f"127.0.0.1:{kamailio}"
        make_certificates(h)
        start_dnsmasq(h, dns, "--host-record=provider.test,127.0.0.1", "--local-ttl=60")
        self.k = start_kamailio(h, [f"udp:{self.kamailio}", f"tls:127.0.0.1:{self.kamailio_tls}"],
                                ["WITH_TLS", f'TLS_CERT="{h.path("srv.pem")}"', f'TLS_KEY="{h.path("srv.key")}"',
                                 f'FAR_END="sip:127.0.0.1:{self.far_port}"'])
        self.d = h.start_daemon({
            "lan": {"listen": [f"udp:127.0.0.1:{self.lan}"], "networks": ["127.0.0.0/8"], "realm": "test.arpa"},
            "wan": {"address": "127.0.0.1", "port": wan, "tls_port": wan_tls, "tls_ca_dir": h.path("trusted"),
                    "resolv_conf": h.path("resolv.conf"), "dscp_sip": -1},
            "registrar": {"qualify_interval": 0},
            "extensions": [{"number": "10", "password": "pw-ten"}],
            "trunks": [{"name": "prov", "registrar": f"sip:provider.test:{self.kamailio_tls}", "transport": "tls",
                        "username": USER, "password": PASSWORD, "expires": 60, "numbers": [USER],
                        "keepalive": {"method": "crlf", "interval": 20}}],
            "routing": {"inbound": [{"number": USER, "ring": ["10"], "timeout": 20}],
                        "outbound": [{"prefix": "0", "trunk": "prov"}]},
            "media": {"ports": list(h.ports.span(20)), "timeout": 30},
            "log": {"level": "debug"},
        })
        self.d.wait_log(r"event=contact_updated trunk=prov from=127\.0\.0\.1:%d to=127\.0\.0\.1:(\d+)" % wan_tls,
                        timeout=10)
        self.port = int(re.search(r"event=contact_updated trunk=prov .* to=127\.0\.0\.1:(\d+)", self.d.output()).group(1))
        self.k.wait_log(r"saved sip:%s@provider\.test contact=<sip:b2t[0-9a-f]{12}@127\.0\.0\.1:%d;transport=tls>"
                        % (USER, self.port), timeout=10)
        check(True, f"trunk registered over TLS (Contact at our connection's port {self.port})")

    def check_record(self, direction, remote):
        row = self.h.call_records(1)[0]
        check(row[0:3] == (direction, "10", "prov") and row[4] == 200 and (remote is None or row[3] == remote),
              f"call record {row[:6]}")
        records.rtp_both_ways(direction, json.loads(row[7]) if row[7] else None)
        check(not re.search(r"level=(error|warn) component=(sip|trunk)", self.d.output()), "no TLS or trunk warnings")
        self.h.stop_daemon(self.d)


def tls_call_outbound(binary):
    with Harness("trunk-tls-call-out", binary) as h:
        t = TlsTrunk(h)
        far = h.sipp_bg(scenarios.provider_answer(), t.kamailio, t.far_port, name="far_answer")
        time.sleep(0.3)
        phone = h.sipp(h.write_scenario("out", scenarios.phone_call_out("10", "pw-ten", "0301234567")),
                       f"127.0.0.1:{t.lan}", h.port(), name="out")
        check_sipp(phone, "outbound call answered and hung up by the phone")
        h.finish(far, "far end got INVITE, ACK and BYE through kamailio")
        check(re.search(r"request INVITE from 127\.0\.0\.1:%d ruri=sip:0301234567@provider\.test" % t.port,
                        t.k.output()), "the INVITE reached kamailio over the trunk's TLS connection")
        t.check_record("outbound", "0301234567")


def tls_call_inbound(binary):
    with Harness("trunk-tls-call-in", binary) as h:
        t = TlsTrunk(h)
        phone_port = h.port()
        r = h.sipp(h.write_scenario("reg10", scenarios.phone_register("10", "pw-ten")), f"127.0.0.1:{t.lan}",
                   phone_port, name="reg10")
        check_sipp(r, "phone 10 registered")
        phone = h.sipp_bg(scenarios.phone_answer(), f"127.0.0.1:{t.lan}", phone_port, name="phone10")
        time.sleep(0.3)
        far = h.sipp(h.write_scenario("in", scenarios.provider_call(USER, hold_ms=2500)), t.kamailio, t.far_port,
                     name="in")
        check_sipp(far, "inbound call answered, far end hung up")
        h.finish(phone, "phone 10 answered the inbound call")
        check(re.search(r"relaying INVITE to sip:b2t[0-9a-f]{12}@127\.0\.0\.1:%d;transport=tls" % t.port, t.k.output()),
              "kamailio sent the INVITE to the Contact on our TLS connection")
        t.check_record("inbound", None)


if __name__ == "__main__":
    run_flows({f.__name__: f for f in (tls_call_outbound, tls_call_inbound)})
