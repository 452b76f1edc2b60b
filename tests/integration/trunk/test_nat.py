#!/usr/bin/env python3
"""Public address learning against sipp playing a provider behind which we look NATed: its
responses say received=203.0.113.7;rport=40000. We must re-register with that address in the
Contact, keep it in storage, and name our private address in no Contact once it is known
(sofia writes the bound address into Via: RFC 3581 received/rport exists for exactly that).
Also the WAN gate: an OPTIONS from a foreign source (127.0.0.5) gets no answer (403 with
wan.strangers "reject"), one from the provider's address gets 200."""
import re
import socket
import time

from provider import probe, recv, respond, start_provider, trunk_config, wait_exit
from harness import Harness, check, run_flows, wait_until
from status_http import get_json

NAT = ("203.0.113.7", 40000)


def answers_to(wan_port, source, method="OPTIONS", wait_s=3.0, extra=""):
    """Sends one `method` from `source` (ip, port) to our WAN port, resent like a client
    would; the first lines of everything that comes back within `wait_s`."""
    got = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(source)
        sock.settimeout(0.2)
        request = (f"{method} sip:probe@127.0.0.1:{wan_port} SIP/2.0\r\n"
                   f"Via: SIP/2.0/UDP {source[0]}:{source[1]};branch=z9hG4bK-stranger-{method}\r\n"
                   f"From: <sip:scan@{source[0]}>;tag=s1\r\nTo: <sip:probe@127.0.0.1>\r\n"
                   f"Call-ID: stranger-{method}-{source[1]}\r\nCSeq: 1 {method}\r\n"
                   f"Contact: <sip:scan@{source[0]}:{source[1]}>\r\nMax-Forwards: 70\r\n"
                   f"{extra}Content-Length: 0\r\n\r\n").encode()
        deadline = time.monotonic() + wait_s
        sends = 0
        while time.monotonic() < deadline:
            if sends < 3:  # a client retransmits; silence must hold for those too
                sock.sendto(request, ("127.0.0.1", wan_port))
                sends += 1
            try:
                data, _ = sock.recvfrom(65535)
                got.append(data.decode(errors="replace").split("\r\n")[0])
            except socket.timeout:
                continue
    return got


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

        answers = answers_to(wan, ("127.0.0.5", foreign))
        check(not answers, f"OPTIONS from a foreign source (127.0.0.5): no answer at all ({answers})")
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


def wan_strangers(binary):
    """Scanners on the WAN port: requests from a source that is no trunk's server get no answer
    at all by default: not even the SIP stack's own 100 Trying to an INVITE, a 405 to a method
    the WAN never serves, or a 100 to a request with a Timestamp (the kernel drops them before
    the stack sees them). The drops are counted and logged once; "reject" answers them 403."""
    with Harness("trunk-wan-strangers", binary) as h:
        lan, wan, provider_port, stranger, probe_port, status = h.port(6)
        cfg = trunk_config((lan, wan), f"sip:127.0.0.1:{provider_port}")
        cfg["status"] = {"listen": f"127.0.0.1:{status}"}
        d = h.start_daemon(cfg)
        for method in ("OPTIONS", "INVITE", "REGISTER", "SUBSCRIBE", "REFER"):
            answers = answers_to(wan, ("127.0.0.5", stranger), method, wait_s=1.5)
            check(not answers, f"{method} from a stranger: no answer at all ({answers})")
        answers = answers_to(wan, ("127.0.0.5", stranger), "OPTIONS", wait_s=1.5, extra="Timestamp: 1\r\n")
        check(not answers, f"OPTIONS with a Timestamp from a stranger: no answer ({answers})")
        line = d.wait_log(r"level=warn component=trunk event=wan_packets_dropped dropped_total=(\d+)", timeout=15)
        check(line and int(line.group(1)) >= 3, "the kernel's drops are logged as a warning", d.output()[-2000:])
        snapshot = get_json(status)
        check(snapshot.get("wan_packets_dropped", 0) >= 18 and snapshot.get("wan_requests_rejected") == 0,
              "/status counts the dropped packets; none reached the SIP stack",
              f"{snapshot.get('wan_packets_dropped')} {snapshot.get('wan_requests_rejected')}")
        check(len(re.findall(r"event=wan_packets_dropped", d.output())) == 1, "logged once")
        h.stop_daemon(d)
        cfg["wan"]["strangers"] = "reject"
        d = h.start_daemon(cfg, name="reject")
        rc = probe(h, "foreign", f"127.0.0.1:{wan}", "127.0.0.5", probe_port, 403)
        check(rc == 0, f"with wan.strangers reject: 403 ({rc})")
        h.stop_daemon(d)


if __name__ == "__main__":
    run_flows({f.__name__: f for f in (nat_public_address, wan_strangers)})
