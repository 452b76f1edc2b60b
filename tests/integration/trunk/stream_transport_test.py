"""Trunks over TCP and TLS against kamailio as the provider (kamailio-provider.cfg).

  --tcp  registers over TCP; the Contact moves to our connection's port (rport), so the
         provider's requests come back over our own connection (what works behind a NAT);
         CRLF pings are answered with pongs (the connection stays), a provider that stops
         answering pongs gets its connection closed and, once it is back, the trunk registers
         again on a fresh connection; shutdown unregisters.
  --tls  a test CA and a certificate for provider.test, resolved by a DNS server of the test
         (dnsmasq): registers over TLS with the certificate checked against the name, inbound
         request over the TLS connection; then a CA store without our CA and a registrar URI
         the certificate does not name each fail with one clear error line naming the cause."""
import os
import re
import signal
import subprocess
import sys
import time

from provider import USER, probe, trunk_config
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from harness import Harness, check, wait_port_free  # noqa: E402

CASE = sys.argv[2] if len(sys.argv) > 2 and sys.argv[2] in ("--tcp", "--tls") else "--tcp"
BASE = {"--tcp": 16260, "--tls": 16270}[CASE]
KAMAILIO, WAN, LAN, WAN_TLS, CALLER, KAMAILIO_TLS, DNS = (BASE, BASE + 1, BASE + 2, BASE + 3, BASE + 4, BASE + 5,
                                                          BASE + 6)
HERE = os.path.dirname(os.path.abspath(__file__))


def start_kamailio(h, listen, extra=()):
    for port in {KAMAILIO, KAMAILIO_TLS}:
        check(wait_port_free(port), f"port {port} is free")
    argv = ["kamailio", "-DD", "-E", "-f", os.path.join(HERE, "kamailio-provider.cfg"), "-Y", h.dir, "-m", "32",
            "-M", "8", *extra]
    for l in listen:
        argv += ["-l", l]
    k = h.spawn(argv, "kamailio")
    k.wait_log(r"INFO: <core> \[main.c:\d+\]: main\(\): processes \(at least\)|ready|listening on", timeout=10)
    return k


def contact_port(k, transport):
    m = re.findall(r"saved sip:%s@\S+ contact=<sip:b2t[0-9a-f]{12}@127\.0\.0\.1:(\d+);transport=%s>"
                   % (USER, transport), k.output())
    return int(m[-1]) if m else None


def make_certificates(h):
    """A CA, and a server certificate for provider.test signed by it."""
    def openssl(*args):
        subprocess.run(["openssl", *args], cwd=h.dir, check=True, capture_output=True)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=b2bua test CA")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "srv.key", "-out", "srv.csr", "-subj",
            "/CN=provider.test")
    with open(h.path("san.cnf"), "w") as f:
        f.write("subjectAltName=DNS:provider.test\n")
    openssl("x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out",
            "srv.pem", "-days", "2", "-extfile", "san.cnf")
    os.makedirs(h.path("trusted"))
    os.rename(h.path("ca.pem"), h.path("trusted/cafile.pem"))  # sofia reads <dir>/cafile.pem
    os.makedirs(h.path("untrusted"))


def tcp_case(h):
    k = start_kamailio(h, [f"udp:127.0.0.1:{KAMAILIO}", f"tcp:127.0.0.1:{KAMAILIO}"])
    cfg = trunk_config((LAN, WAN), f"sip:127.0.0.1:{KAMAILIO}", transport="tcp",
                       keepalive={"method": "crlf", "interval": 5})
    d = h.start_daemon(cfg)
    d.wait_log(r"event=contact_updated trunk=prov from=127\.0\.0\.1:%d to=127\.0\.0\.1:(\d+)" % WAN, timeout=10)
    port = int(re.search(r"event=contact_updated trunk=prov .* to=127\.0\.0\.1:(\d+)", d.output()).group(1))
    k.wait_log(r"saved sip:%s@127\.0\.0\.1 contact=<sip:b2t[0-9a-f]{12}@127\.0\.0\.1:%d;transport=tcp>"
               % (USER, port), timeout=10)
    check(port != WAN, f"registered over TCP with the Contact at our connection's port {port} (rport)")
    check("sip_alg_detected" not in d.output(), "no false ALG alarm (rport differs on a connection, Via does not)")

    rc = probe(h, "inbound", f"127.0.0.1:{KAMAILIO}", "127.0.0.1", CALLER, 200, user=USER)
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
    d.wait_log(r"event=contact_updated trunk=prov from=127\.0\.0\.1:%d to=127\.0\.0\.1:(\d+)" % port, timeout=20,
               after=mark)
    new_port = int(re.findall(r"event=contact_updated trunk=prov .* to=127\.0\.0\.1:(\d+)", d.output()[mark:])[-1])
    k.wait_log(r"saved sip:%s@127\.0\.0\.1 contact=<sip:b2t[0-9a-f]{12}@127\.0\.0\.1:%d;transport=tcp>"
               % (USER, new_port), timeout=10)
    check(new_port != port, f"registered again on a fresh connection (port {port} -> {new_port})")

    mark = k.log_size()
    check(d.stop() == 0, "daemon exits cleanly")
    k.wait_log(r"request REGISTER from 127\.0\.0\.1:%d .*expires=0" % new_port, timeout=5, after=mark)
    check(True, "unregistered over the TCP connection at shutdown")
    check("trunk-secret" not in d.output(), "no secret in the daemon log")


def tls_config(h, registrar, ca_dir):
    cfg = trunk_config((LAN, WAN), registrar, transport="tls", keepalive={"method": "crlf", "interval": 5})
    cfg["wan"].update({"tls_port": WAN_TLS, "tls_ca_dir": h.path(ca_dir), "resolv_conf": h.path("resolv.conf")})
    return cfg


def expect_tls_failure(h, name, registrar, ca_dir, transport_rx, trunk_rx):
    """One daemon run whose TLS connection must fail: one error line from the transport, one
    naming the trunk, and no registration."""
    d = h.start_daemon(tls_config(h, registrar, ca_dir), name=name)
    d.wait_log(r"level=error component=sip event=tls_certificate_error " + transport_rx, timeout=10)
    d.wait_log(r"level=error component=trunk event=tls_failed trunk=prov .*" + trunk_rx, timeout=12)
    check("event=registered" not in d.output(), f"{name}: not registered")
    check(d.stop() == 0, "daemon exits cleanly")


def tls_case(h):
    make_certificates(h)
    check(wait_port_free(DNS), "DNS port is free")
    dns = h.spawn(["dnsmasq", "-k", "--no-resolv", "--no-hosts", f"--port={DNS}", "--listen-address=127.0.0.1",
                   "--bind-interfaces", "--user=root", "--group=root", "--pid-file=",
                   "--host-record=provider.test,127.0.0.1", "--local-ttl=60", "--log-queries", "--log-facility=-"],
                  "dnsmasq")
    dns.wait_log(r"started, version", timeout=5)
    with open(h.path("resolv.conf"), "w") as f:
        f.write(f"nameserver 127.0.0.1\nport {DNS}\n")  # sofia's resolver reads a port line
    k = start_kamailio(h, [f"udp:127.0.0.1:{KAMAILIO}", f"tls:127.0.0.1:{KAMAILIO_TLS}"],
                       ["-A", "WITH_TLS", "-A", f'TLS_CERT="{h.path("srv.pem")}"',
                        "-A", f'TLS_KEY="{h.path("srv.key")}"'])

    d = h.start_daemon(tls_config(h, f"sip:provider.test:{KAMAILIO_TLS}", "trusted"), name="good")
    d.wait_log(r"event=registered trunk=prov server=\"sip:provider\.test:%d;transport=tls;maddr=127\.0\.0\.1\""
               % KAMAILIO_TLS, timeout=10)
    check(re.search(r"query\[A\] provider\.test from 127\.0\.0\.1", dns.output()), "provider.test asked of our DNS")
    d.wait_log(r"event=contact_updated trunk=prov from=127\.0\.0\.1:%d to=127\.0\.0\.1:(\d+)" % WAN_TLS, timeout=10)
    port = int(re.search(r"event=contact_updated trunk=prov .* to=127\.0\.0\.1:(\d+)", d.output()).group(1))
    k.wait_log(r"saved sip:%s@provider\.test contact=<sip:b2t[0-9a-f]{12}@127\.0\.0\.1:%d;transport=tls>"
               % (USER, port), timeout=10)
    check(True, f"registered over TLS, certificate checked against provider.test; Contact at port {port}")
    check("sip_alg_detected" not in d.output(), "no false ALG alarm (Via names our TLS port)")
    rc = probe(h, "inbound", f"127.0.0.1:{KAMAILIO}", "127.0.0.1", CALLER, 200, user=USER)
    check(rc == 0, f"OPTIONS relayed by kamailio over our TLS connection answered 200: rc={rc}")
    check(re.search(r"relaying OPTIONS to sip:b2t[0-9a-f]{12}@127\.0\.0\.1:%d;transport=tls" % port, k.output()),
          "kamailio relayed it to the Contact on our TLS connection")
    check(not re.search(r"level=(error|warn) component=sip", d.output()), "no transport warnings on a good run")
    mark = k.log_size()
    check(d.stop() == 0, "daemon exits cleanly")
    k.wait_log(r"request REGISTER from 127\.0\.0\.1:%d .*expires=0" % port, timeout=5, after=mark)
    check("trunk-secret" not in d.output(), "no secret in the daemon log")

    # A CA store that does not hold the provider's CA.
    expect_tls_failure(h, "untrusted", f"sip:provider.test:{KAMAILIO_TLS}", "untrusted",
                       r"error=\"unable to get local issuer certificate\" depth=0 subject=\"/CN=provider\.test\" "
                       r"issuer=\"/CN=b2bua test CA\"", r"error=\"certificate not trusted")
    # A certificate that does not name the host we connect to (RFC 5922 7.2).
    expect_tls_failure(h, "mismatch", f"sip:127.0.0.1:{KAMAILIO_TLS}", "trusted",
                       r"error=\"the certificate does not name the server\" expected=127\.0\.0\.1",
                       r"does not name 127\.0\.0\.1")
    k.stop()


if __name__ == "__main__":
    with Harness("trunk-stream" + CASE.replace("-", "_")) as h:
        tcp_case(h) if CASE == "--tcp" else tls_case(h)
        print("PASS")
