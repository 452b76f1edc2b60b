#!/usr/bin/env python3
"""How a trunk's registrar name is resolved, in the situations a real system has: the name only
in /etc/hosts, a DNS server that never answers, an SRV record whose target only the hosts file
knows. The daemon reads the system's own /etc/hosts and /etc/resolv.conf (wan.resolv_conf left
at its default), so each flow runs in a network namespace of its own: `ip netns exec`
bind-mounts /etc/netns/<ns>/hosts and resolv.conf over the system's, and the namespace's
loopback gives the DNS server port 53 and the provider 5060 without touching the host.

The script re-runs itself inside the namespace (--inside); the outer run creates the
namespace (named with its PID), and removes it, its /etc/netns folder and whatever still runs in
it at the end, also after a failure. Needs root: without a namespace the flow fails.

  hosts_file_registrar     registrar.example.net only in the hosts file, no DNS server at all:
                           the trunk registers there.
  silent_dns_then_answers  dns-only.example.net, not in the hosts file; the DNS server drops
                           every query: dns_timeout names it within ~5 s,
                           the status says "DNS: no answer from"; it starts answering (dnsmasq)
                           and the trunk registers within the backoff step.
  srv_target_in_hosts_file dnsmasq answers the SRV query with edge.provider.test, whose address
                           only the hosts file has: the trunk registers at that target's port."""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

from provider import start_dnsmasq, start_provider, trunk_config
from harness import Harness, check, fail, run_flows
from status_http import get_json

REGISTRAR = "127.0.0.2"  # on the namespace's loopback, apart from the daemon's 127.0.0.1
EDGE = "127.0.0.3"
HOSTS = f"127.0.0.1 localhost\n{REGISTRAR} registrar.example.net\n{EDGE} edge.provider.test\n"

# A registrar that answers every REGISTER (and un-REGISTER) with its Contact and Expires echoed.
RESPONDER = ['<label id="loop"/>\n<recv request="REGISTER"/>\n'
             '<send next="loop"><![CDATA[\nSIP/2.0 200 OK\n[last_Via:]\n[last_From:]\n'
             '[last_To:];tag=prov[call_number]\n[last_Call-ID:]\n[last_CSeq:]\n[last_Contact:]\n[last_Expires:]\n'
             'Content-Length: 0\n\n]]></send>\n']


def start(h, registrar):
    """The daemon with one trunk towards `registrar`, its status endpoint, and the time it started."""
    lan, wan, status = h.port(3)
    cfg = trunk_config((lan, wan), registrar)
    cfg["status"] = {"listen": f"127.0.0.1:{status}"}
    d = h.start_daemon(cfg)
    return d, status, time.monotonic()


def hosts_file_registrar(binary):
    with Harness("trunk-dns-hosts", binary) as h:
        start_provider(h, RESPONDER, 5060, ip=REGISTRAR, calls=10)
        d, _, _ = start(h, "sip:registrar.example.net")
        d.wait_log(r"event=servers_resolved trunk=prov servers=127\.0\.0\.2:5060 ", timeout=5)
        d.wait_log(r"event=registered trunk=prov server=sip:127\.0\.0\.2:5060", timeout=5)
        check(True, "registrar.example.net from the hosts file: registered there (no DNS server listening)")
        check("event=dns_failed" not in d.output() and "event=dns_timeout" not in d.output(),
              "no DNS failure logged")
        h.stop_daemon(d)


def silent_dns_then_answers(binary):
    with Harness("trunk-dns-silent", binary) as h:
        # Takes the queries and never answers (no ICMP error to fail fast on).
        silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        silent.bind(("127.0.0.1", 53))
        start_provider(h, RESPONDER, 5060, ip=REGISTRAR, calls=10)
        d, status_port, started = start(h, "sip:dns-only.example.net")
        m = d.wait_log(r"level=warn component=trunk event=dns_timeout trunk=prov name=dns-only\.example\.net "
                       r"servers=127\.0\.0\.1\b", timeout=8)
        took = time.monotonic() - started
        print(f"silent DNS server: dns_timeout {took:.1f}s after the daemon started", flush=True)
        check(took <= 5.5, f"dns_timeout named the silent server {took:.1f}s after start: {m.group(0)}")
        failed = d.wait_log(r"event=registration_failed trunk=prov status=0 phrase=\"DNS: no answer from 127\.0\.0\.1 "
                            r"for dns-only\.example\.net\" retry_in_ms=(\d+)", timeout=2)
        trunk = get_json(status_port)["trunks"][0]
        check(trunk["last_phrase"].startswith("DNS: no answer from 127.0.0.1"),
              f"the status's last response says the DNS server did not answer ({trunk['last_phrase']!r})")
        check("event=dns_failed" not in d.output(), "not logged as a name not found (dns_failed)")
        asked = 0
        silent.setblocking(False)
        while True:
            try:
                silent.recv(512)
                asked += 1
            except BlockingIOError:
                break
        check(asked >= 4, f"the silent server was asked SRV and A, each retried ({asked} queries)")

        # Right after a failure no lookup is in flight: the next one comes with the backoff.
        mark = d.log_size()
        retry_s = int(failed.group(1)) / 1000
        silent.close()
        up = time.monotonic()
        start_dnsmasq(h, 53, f"--host-record=dns-only.example.net,{REGISTRAR}")
        d.wait_log(r"event=registered trunk=prov server=sip:127\.0\.0\.2:5060", timeout=retry_s + 5, after=mark)
        took = time.monotonic() - up
        check(took <= retry_s + 1, f"registered {took:.1f}s after the DNS server answered (backoff {retry_s:.1f}s)")
        trunk = get_json(status_port)["trunks"][0]
        check(trunk["state"] == "registered" and trunk["last_status"] == 200, f"the status says registered ({trunk})")
        h.stop_daemon(d)


def srv_target_in_hosts_file(binary):
    with Harness("trunk-dns-srv-hosts", binary) as h:
        dns = start_dnsmasq(h, 53, "--srv-host=_sip._udp.provider.test,edge.provider.test,5080,10,0", log_queries=True)
        start_provider(h, RESPONDER, 5080, ip=EDGE, calls=10)
        d, _, _ = start(h, "sip:provider.test")
        d.wait_log(r"event=servers_resolved trunk=prov servers=127\.0\.0\.3:5080 ", timeout=5)
        d.wait_log(r"event=registered trunk=prov server=sip:127\.0\.0\.3:5080", timeout=5)
        check(True, "the SRV target's address from the hosts file: registered at 127.0.0.3:5080")
        check(re.search(r"query\[SRV\] _sip\._udp\.provider\.test from 127\.0\.0\.1", dns.output()),
              "the SRV record came from the DNS server")
        check(not re.search(r"query\[A\] edge\.provider\.test", dns.output()),
              "the target was not asked of the DNS server: the hosts file comes first")
        h.stop_daemon(d)


FLOWS = {"hosts_file_registrar": hosts_file_registrar, "silent_dns_then_answers": silent_dns_then_answers,
         "srv_target_in_hosts_file": srv_target_in_hosts_file}


def run(cmd, what):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"{what}: {' '.join(cmd)} -> {r.returncode}: {r.stderr.strip()}")


def in_namespace(argv):
    """Runs this script with `argv` inside a namespace of its own; returns its exit code."""
    if os.geteuid() != 0:
        fail("creating a network namespace needs root")
    ns = f"b2bua-dns-{os.getpid()}"
    etc = f"/etc/netns/{ns}"
    # ctest ends a test that ran too long with TERM: the cleanup below still runs.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    created = False
    try:
        os.makedirs(etc, exist_ok=True)
        with open(f"{etc}/hosts", "w") as f:
            f.write(HOSTS)
        with open(f"{etc}/resolv.conf", "w") as f:
            f.write("nameserver 127.0.0.1\n")
        run(["ip", "netns", "add", ns], "network namespace")
        created = True
        run(["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"], "loopback up")
        print(f"network namespace {ns}", flush=True)
        return subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-B", os.path.abspath(__file__), "--inside",
                               *argv]).returncode
    finally:
        if created:
            # Only what this test started runs in its namespace.
            pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
            subprocess.run(["ip", "netns", "delete", ns], capture_output=True)
        shutil.rmtree(etc, ignore_errors=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--list-flows"]:
        run_flows(FLOWS)
    elif sys.argv[1:2] == ["--inside"]:
        del sys.argv[1]
        run_flows(FLOWS)
    else:
        sys.exit(in_namespace(sys.argv[1:]))
