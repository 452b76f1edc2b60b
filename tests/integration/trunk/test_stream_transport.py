#!/usr/bin/env python3
"""Trunks over TCP and TLS against kamailio as the provider (kamailio-provider.cfg).

  tcp_kamailio       registers over TCP; the Contact moves to our connection's port (rport), so
                     the provider's requests come back over our own connection (what works
                     behind a NAT); CRLF pings are answered with pongs (the connection stays), a
                     provider that stops answering pongs gets its connection closed and, once
                     it is back, the trunk registers again on a fresh connection; shutdown
                     unregisters.
  tls_kamailio       a test CA and a certificate for provider.test, resolved by a DNS server of
                     the test (dnsmasq): registers over TLS with the certificate checked against
                     the name, inbound request over the TLS connection;
  tls_untrusted_ca   a CA store without our CA, and
  tls_name_mismatch  a registrar URI the certificate does not name: each fails with one clear
                     error line naming the cause."""
import os
import re
import signal
import time

from provider import PASSWORD, USER, make_certificates, probe, start_dnsmasq, start_kamailio, trunk_config
from harness import Harness, check, run_flows

REGISTERED_TCP = r"saved sip:%s@127\.0\.0\.1 contact=<sip:b2t[0-9a-f]{12}@127\.0\.0\.1:%d;transport=tcp>"
CONTACT_UPDATED = r"event=contact_updated trunk=prov from=127\.0\.0\.1:%d to=127\.0\.0\.1:(\d+)"


def contact_port(k, transport):
    m = re.findall(r"saved sip:%s@\S+ contact=<sip:b2t[0-9a-f]{12}@127\.0\.0\.1:(\d+);transport=%s>"
                   % (USER, transport), k.output())
    return int(m[-1]) if m else None


def connection_port(d, wan_port, timeout=10, after=0):
    """The local port of the trunk's connection, from the Contact update it caused."""
    d.wait_log(CONTACT_UPDATED % wan_port, timeout=timeout, after=after)
    return int(re.findall(r"event=contact_updated trunk=prov .* to=127\.0\.0\.1:(\d+)", d.output()[after:])[-1])


def tcp_kamailio(binary):
    with Harness("trunk-tcp", binary) as h:
        kamailio, wan, lan, caller = h.port(4)
        k = start_kamailio(h, [f"udp:127.0.0.1:{kamailio}", f"tcp:127.0.0.1:{kamailio}"])
        d = h.start_daemon(trunk_config((lan, wan), f"sip:127.0.0.1:{kamailio}", transport="tcp",
                                        keepalive={"method": "crlf", "interval": 5}))
        port = connection_port(d, wan)
        k.wait_log(REGISTERED_TCP % (USER, port), timeout=10)
        check(port != wan, f"registered over TCP with the Contact at our connection's port {port} (rport)")
        check("sip_alg_detected" not in d.output(), "no false ALG alarm (rport differs on a connection, Via does not)")

        rc = probe(h, "inbound", f"127.0.0.1:{kamailio}", "127.0.0.1", caller, 200, user=USER)
        check(rc == 0, f"OPTIONS relayed by kamailio to our Contact answered 200: rc={rc}")
        d.wait_log(r"event=inbound_answered trunk=prov method=OPTIONS matched_by=token", timeout=3)
        check(re.search(r"relaying OPTIONS to sip:b2t[0-9a-f]{12}@127\.0\.0\.1:%d;transport=tcp" % port, k.output()),
              "kamailio sent it over our own connection (the Contact names its port)")

        # Pings every 5 s with a pong bound of 4 s: a connection whose pongs come back stays.
        time.sleep(11)
        check("event=connection_closed" not in d.output(), "kamailio pongs our CRLF pings: the connection stays")
        check(contact_port(k, "tcp") == port, "still the same connection after 11 s of pings")

        mark = d.log_size()
        os.killpg(k.pid, signal.SIGSTOP)  # kamailio and its children: the connection stays, pongs stop
        try:
            t0 = time.time()
            d.wait_log(r"level=warn component=sip event=connection_closed reason=\"no pong to the CRLF ping\"",
                       timeout=20, after=mark)
            # The next ping leaves within the 5 s interval, its pong is due 4 s later; sofia's
            # transport timer adds up to a few seconds on a busy machine.
            check(time.time() - t0 < 16, f"missing pong noticed in {time.time() - t0:.1f}s (interval 5 s + 4 s)")
        finally:
            os.killpg(k.pid, signal.SIGCONT)
        new_port = connection_port(d, port, timeout=20, after=mark)
        k.wait_log(REGISTERED_TCP % (USER, new_port), timeout=10)
        check(new_port != port, f"registered again on a fresh connection (port {port} -> {new_port})")

        mark = k.log_size()
        h.stop_daemon(d)
        k.wait_log(r"request REGISTER from 127\.0\.0\.1:%d .*expires=0" % new_port, timeout=5, after=mark)
        check(True, "unregistered over the TCP connection at shutdown")
        check(PASSWORD not in d.output(), "no secret in the daemon log")


class TlsProvider:
    """kamailio with a certificate for provider.test from a CA of the test, and a DNS server
    that resolves provider.test to 127.0.0.1."""

    def __init__(self, h):
        self.h = h
        self.kamailio, self.kamailio_tls, self.wan, self.wan_tls, self.lan, self.caller, dns = h.port(7)
        make_certificates(h)
        self.dns = start_dnsmasq(h, dns, "--host-record=provider.test,127.0.0.1", "--local-ttl=60", log_queries=True)
        self.k = start_kamailio(h, [f"udp:127.0.0.1:{self.kamailio}", f"tls:127.0.0.1:{self.kamailio_tls}"],
                                ["WITH_TLS", f'TLS_CERT="{h.path("srv.pem")}"', f'TLS_KEY="{h.path("srv.key")}"'])

    def config(self, registrar, ca_dir):
        cfg = trunk_config((self.lan, self.wan), registrar, transport="tls", keepalive={"method": "crlf", "interval": 5})
        cfg["wan"].update({"tls_port": self.wan_tls, "tls_ca_dir": self.h.path(ca_dir),
                           "resolv_conf": self.h.path("resolv.conf")})
        return cfg

    def expect_failure(self, name, registrar, ca_dir, transport_rx, trunk_rx):
        """One daemon run whose TLS connection must fail: one error line from the transport, one
        naming the trunk, and no registration."""
        d = self.h.start_daemon(self.config(registrar, ca_dir), name=name)
        d.wait_log(r"level=error component=sip event=tls_certificate_error " + transport_rx, timeout=10)
        d.wait_log(r"level=error component=trunk event=tls_failed trunk=prov .*" + trunk_rx, timeout=12)
        check("event=registered" not in d.output(), f"{name}: not registered")
        self.h.stop_daemon(d)
        self.k.stop()


def tls_kamailio(binary):
    with Harness("trunk-tls", binary) as h:
        p = TlsProvider(h)
        d = h.start_daemon(p.config(f"sip:provider.test:{p.kamailio_tls}", "trusted"), name="good")
        d.wait_log(r"event=registered trunk=prov server=\"sip:provider\.test:%d;transport=tls;maddr=127\.0\.0\.1\""
                   % p.kamailio_tls, timeout=10)
        check(re.search(r"query\[A\] provider\.test from 127\.0\.0\.1", p.dns.output()), "provider.test asked of our DNS")
        port = connection_port(d, p.wan_tls)
        p.k.wait_log(r"saved sip:%s@provider\.test contact=<sip:b2t[0-9a-f]{12}@127\.0\.0\.1:%d;transport=tls>"
                     % (USER, port), timeout=10)
        check(True, f"registered over TLS, certificate checked against provider.test; Contact at port {port}")
        check("sip_alg_detected" not in d.output(), "no false ALG alarm (Via names our TLS port)")
        rc = probe(h, "inbound", f"127.0.0.1:{p.kamailio}", "127.0.0.1", p.caller, 200, user=USER)
        check(rc == 0, f"OPTIONS relayed by kamailio over our TLS connection answered 200: rc={rc}")
        check(re.search(r"relaying OPTIONS to sip:b2t[0-9a-f]{12}@127\.0\.0\.1:%d;transport=tls" % port, p.k.output()),
              "kamailio relayed it to the Contact on our TLS connection")
        check(not re.search(r"level=(error|warn) component=sip", d.output()), "no transport warnings on a good run")
        mark = p.k.log_size()
        h.stop_daemon(d)
        p.k.wait_log(r"request REGISTER from 127\.0\.0\.1:%d .*expires=0" % port, timeout=5, after=mark)
        check(PASSWORD not in d.output(), "no secret in the daemon log")
        p.k.stop()


def tls_untrusted_ca(binary):
    """A CA store that does not hold the provider's CA."""
    with Harness("trunk-tls-untrusted", binary) as h:
        p = TlsProvider(h)
        p.expect_failure("untrusted", f"sip:provider.test:{p.kamailio_tls}", "untrusted",
                         r"error=\"unable to get local issuer certificate\" depth=0 subject=\"/CN=provider\.test\" "
                         r"issuer=\"/CN=b2bua test CA\"", r"error=\"certificate not trusted")


def tls_name_mismatch(binary):
    """A certificate that does not name the host we connect to (RFC 5922 7.2)."""
    with Harness("trunk-tls-mismatch", binary) as h:
        p = TlsProvider(h)
        p.expect_failure("mismatch", f"sip:127.0.0.1:{p.kamailio_tls}", "trusted",
                         r"error=\"the certificate does not name the server\" expected=127\.0\.0\.1",
                         r"does not name 127\.0\.0\.1")


if __name__ == "__main__":
    run_flows({f.__name__: f for f in (tcp_kamailio, tls_kamailio, tls_untrusted_ca, tls_name_mismatch)})
