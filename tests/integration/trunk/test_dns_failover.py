#!/usr/bin/env python3
"""A trunk whose registrar is a DNS name: the servers come from SRV records, the trunk fails over
to the next SRV target and back.

A dnsmasq of the test answers `_sip._udp.provider.test` with primary.provider.test (priority
10) and backup.provider.test (priority 20), both 127.0.0.1; the daemon asks it
through its own resolv.conf (wan.resolv_conf).
  phase A  the primary is a socket that never answers: after our 8 s response bound the trunk
           registers at the backup (sipp), which also gets the keep-alive OPTIONS; failback
           probes (OPTIONS every keep-alive interval) go to the silent primary and change nothing.
  phase B  sipp answers at the primary: the next probe is answered, the trunk fails back and
           registers there; at shutdown it unregisters there."""
import re
import socket
import time

from provider import start_dnsmasq, start_provider, trunk_config
from harness import Harness, check, run_flows

INTERVAL = 5  # keep-alive interval (the shortest allowed), also the failback probe's

# A registrar that answers whatever comes on a call, in any order, for as long as it lasts:
# REGISTER with its Contact and Expires echoed (a binding for the time asked, none for an
# un-REGISTER), OPTIONS (keep-alives and failback probes) with a plain 200.
def _ok(extra_headers=""):
    return ('<send next="loop"><![CDATA[\nSIP/2.0 200 OK\n[last_Via:]\n[last_From:]\n[last_To:];tag=prov[call_number]\n'
            '[last_Call-ID:]\n[last_CSeq:]\n' + extra_headers + 'Content-Length: 0\n\n]]></send>\n')


RESPONDER = ['<label id="loop"/>\n<recv request="OPTIONS" optional="true" next="options"/>\n'
             '<recv request="REGISTER"/>\n' + _ok("[last_Contact:]\n[last_Expires:]\n") +
             '<label id="options"/>\n' + _ok()]


def method(request):
    text = request.decode(errors="replace") if isinstance(request, bytes) else request
    return text.split(" ", 1)[0]


def call_id(request):
    text = request.decode(errors="replace") if isinstance(request, bytes) else request
    m = re.search(r"^(?:Call-ID|i):\s*(\S+)", text, re.M | re.I)
    return m.group(1) if m else None


def drain(sock):
    out = []
    sock.setblocking(False)
    while True:
        try:
            out.append(sock.recv(65535))
        except BlockingIOError:
            return out


def dns_srv_failover_failback(binary):
    with Harness("trunk-dns-failover", binary) as h:
        lan, wan, primary, backup, dns_port = h.port(5)
        dns = start_dnsmasq(h, dns_port, "--local-ttl=30",
                            f"--srv-host=_sip._udp.provider.test,primary.provider.test,{primary},10,0",
                            f"--srv-host=_sip._udp.provider.test,backup.provider.test,{backup},20,0",
                            "--host-record=primary.provider.test,127.0.0.1", "--host-record=backup.provider.test,127.0.0.1",
                            log_queries=True)

        # Phase A: the primary takes datagrams and never answers (no ICMP error to fail fast on).
        silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        silent.bind(("127.0.0.1", primary))
        start_provider(h, RESPONDER, backup, name="backup", timeout=60, calls=100)

        cfg = trunk_config((lan, wan), "sip:provider.test", keepalive={"method": "options", "interval": INTERVAL})
        cfg["wan"]["resolv_conf"] = h.path("resolv.conf")
        d = h.start_daemon(cfg)
        d.wait_log(r"event=servers_resolved trunk=prov servers=127\.0\.0\.1:%d,127\.0\.0\.1:%d ttl_s=30"
                   % (primary, backup), timeout=5)
        check(re.search(r"query\[SRV\] _sip\._udp\.provider\.test from 127\.0\.0\.1", dns.output()),
              "the daemon asked our dns_port for the SRV records")
        check(re.search(r"query\[A\] primary\.provider\.test", dns.output())
              and re.search(r"query\[A\] backup\.provider\.test", dns.output()), "and for both targets' A records")
        d.wait_log(r"event=register_sent trunk=prov server=127\.0\.0\.1:%d" % primary, timeout=5)
        d.wait_log(r"event=register_timeout trunk=prov server=sip:127\.0\.0\.1:%d" % primary, timeout=12)
        d.wait_log(r"event=registered trunk=prov server=sip:127\.0\.0\.1:%d" % backup, timeout=5)
        check(True, "primary silent: registered at the backup (next SRV target) after the response bound")

        # The probes of the silent primary go unanswered and leave the trunk where it is.
        mark = d.log_size()
        d.wait_log(r"event=keepalive_answered trunk=prov status=200", timeout=2 * INTERVAL + 1, after=mark)
        d.wait_log(r"event=failback_probe_lost trunk=prov server=127\.0\.0\.1:%d" % primary, timeout=2 * INTERVAL + 1,
                   after=mark)
        check("event=failback " not in d.output(), "no failback while the primary is silent")
        seen = drain(silent)
        silent.close()
        sent = sum(method(r) == "REGISTER" for r in seen)
        check(sent >= 5, f"the silent primary got the REGISTER and its retransmissions ({sent})")
        if sent > 5:  # UDP sends at 0, 0.5, 1.5, 3.5 and 7.5 s fit in our 8 s bound
            print(f"note: the REGISTER given up after 8 s was still retransmitted ({sent} copies by now)", flush=True)
        check(any(method(r) == "OPTIONS" for r in seen), "and failback probes (OPTIONS)")
        # The transactions we gave up on (REGISTER after 8 s, probes after their bound) are not ours
        # to judge below: sofia may retransmit them until its timer F (32 s) and the primary answers.
        abandoned = {call_id(r) for r in seen}

        # Phase B: the primary answers; the next probe finds it and the trunk moves back.
        mark = d.log_size()
        up = time.monotonic()
        start_provider(h, RESPONDER, primary, name="primary", timeout=60, calls=100)
        d.wait_log(r"event=failback trunk=prov from=sip:127\.0\.0\.1:%d to=sip:127\.0\.0\.1:%d" % (backup, primary),
                   timeout=2 * INTERVAL, after=mark)
        took = time.monotonic() - up
        check(took <= INTERVAL + 1, f"failed back {took:.1f}s after the primary came up (probe every {INTERVAL}s)")
        back = d.log_size()
        d.wait_log(r"event=registered trunk=prov server=sip:127\.0\.0\.1:%d" % primary, timeout=5, after=mark)
        check(True, "registered at the primary again")
        # The primary now gets the keep-alives, and they are answered.
        d.wait_log(r"event=keepalive_started trunk=prov server=127\.0\.0\.1:%d" % primary, timeout=2, after=mark)
        d.wait_log(r"event=keepalive_answered trunk=prov status=200", timeout=INTERVAL + 2, after=back)
        check(not re.search(r"event=(register_timeout|registration_failed|keepalive_lost)", d.output()[mark:]),
              "no failure on the way back")
        ours = [r for r in h.messages("primary") if call_id(r) not in abandoned]
        regs = [r for r in ours if method(r) == "REGISTER"]
        check(len(regs) == 1 and re.search(r"^Expires: 60$", regs[0], re.M), "one REGISTER reached the primary")
        check(method(ours[0]) == "OPTIONS" and call_id(ours[0]) != call_id(regs[0]),
              "after a failback probe (OPTIONS) the primary answered")
        stale = [r for r in h.messages("primary") if call_id(r) in abandoned]
        if stale:
            print(f"note: the primary also got {len(stale)} retransmission(s) of transactions given up in phase A: "
                  + ", ".join(f"{method(r)} {call_id(r)}" for r in stale), flush=True)
        backup_regs = h.messages("backup", method="REGISTER")
        check(all(re.search(r"^Expires: 0$", r, re.M) for r in backup_regs[1:]),
              f"no REGISTER refreshed the backup after the failback ({len(backup_regs) - 1} un-REGISTER(s))")

        h.stop_daemon(d)
        check(re.search(r"event=unregistered trunk=prov status=200", d.output()), "unregistered at shutdown")
        regs = [r for r in h.messages("primary", method="REGISTER") if call_id(r) not in abandoned]
        check(len(regs) == 2 and re.search(r"^Expires: 0$", regs[1], re.M) and call_id(regs[1]) == call_id(regs[0]),
              "the un-REGISTER went to the primary, on the registration's call")


if __name__ == "__main__":
    run_flows({"dns_srv_failover_failback": dns_srv_failover_failback})
