#!/usr/bin/env python3
"""Keep-alives between registrations (one method per flow):
  options    sipp as provider answers the REGISTER and the first keep-alive OPTIONS, then goes
             silent: OPTIONS come every 5 s (the configured interval) on the registration's
             flow, and the unanswered one makes the trunk re-register at once (dead flow).
  crlf       a plain UDP socket plays the provider (sipp cannot show bare CRLFs): "\\r\\n\\r\\n"
             pings arrive every 5 s from our SIP port (the NAT mapping's source), every 4th
             interval an OPTIONS probe measures the round trip."""
import socket
import time

from provider import recv, respond, start_provider, trunk_config
from harness import Harness, check, run_flows, sipp_trace


def sipp_times(h, method):
    """Arrival times (epoch seconds) of `method` requests at the sipp provider."""
    return [m.time for m in sipp_trace(h.sipp_messages("provider")) if m.received and m.method == method]


def answer(sock, data, addr):
    """A minimal UAS: 200 to anything with the request's Via/From/To/Call-ID/CSeq."""
    text = data.decode(errors="replace")
    keep = [l for l in text.split("\r\n") if l.split(":")[0].lower() in ("via", "v", "from", "f", "to", "t", "call-id",
                                                                        "i", "cseq", "contact", "m")]
    lines = ["SIP/2.0 200 OK"] + [l + (";expires=60" if l.lower().startswith(("contact", "m:")) else "")
                                  for l in keep] + ["Content-Length: 0", "", ""]
    sock.sendto("\r\n".join(lines).encode(), addr)


def keepalive_options_dead_flow(binary):
    with Harness("trunk-keepalive-options", binary) as h:
        lan, wan, provider_port = h.port(3)
        registrar = f"sip:127.0.0.1:{provider_port}"
        steps = [recv(), respond(200, "OK", contact_expires=60), recv("OPTIONS"), respond(200, "OK"),
                 recv("OPTIONS"), "<pause milliseconds=\"20000\"/>\n"]
        provider = start_provider(h, steps, provider_port, timeout=40, calls=2)
        d = h.start_daemon(trunk_config((lan, wan), registrar, keepalive={"method": "options", "interval": 5}))
        d.wait_log(r"event=registered trunk=prov", timeout=10)
        d.wait_log(r"event=keepalive_answered trunk=prov status=200 rtt_ms=\d+", timeout=8)
        lost_at = d.log_size()
        d.wait_log(r"event=keepalive_lost trunk=prov", timeout=12)
        d.wait_log(r"event=register_sent", timeout=1, after=lost_at)
        time.sleep(0.5)
        opts = sipp_times(h, "OPTIONS")
        regs = sipp_times(h, "REGISTER")
        check(len(opts) >= 2 and 4.5 <= opts[1] - opts[0] <= 5.5,
              f"OPTIONS keep-alives 5 s apart: {[round(b - a, 2) for a, b in zip(opts, opts[1:])]}")
        first = h.messages("provider", method="OPTIONS")[0]
        check("Max-Forwards: 0" in first, "keep-alive OPTIONS carries Max-Forwards: 0")
        rereg = [t for t in regs if t > opts[1]]
        check(rereg and rereg[0] - opts[1] < 5.0,
              f"dead flow: re-REGISTER {rereg[0] - opts[1]:.1f}s after the unanswered OPTIONS (bound 4 s)")
        # The scripted provider cannot answer the un-REGISTER in the middle of its script; gone,
        # it is refused at once instead of keeping the shutdown waiting.
        provider.stop()
        h.stop_daemon(d)


def keepalive_crlf(binary):
    with Harness("trunk-keepalive-crlf", binary) as h:
        lan, wan, provider_port = h.port(3)
        registrar = f"sip:127.0.0.1:{provider_port}"
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", provider_port))
        sock.settimeout(0.5)
        d = h.start_daemon(trunk_config((lan, wan), registrar, keepalive={"method": "crlf", "interval": 5}))
        pings, options, deadline = [], [], time.monotonic() + 23
        while time.monotonic() < deadline:
            try:
                data, addr = sock.recvfrom(65535)
            except socket.timeout:
                continue
            if data == b"\r\n\r\n":
                pings.append((time.monotonic(), addr))
            elif data.startswith(b"OPTIONS "):
                options.append(time.monotonic())
                answer(sock, data, addr)
            elif data.startswith(b"REGISTER "):
                answer(sock, data, addr)
        sock.close()
        gaps = [round(b[0] - a[0], 2) for a, b in zip(pings, pings[1:])]
        check(len(pings) == 3 and all(4.5 <= g <= 5.5 for g in gaps), f"three CRLF pings 5 s apart: {gaps}")
        check(all(a == ("127.0.0.1", wan) for _, a in pings), "pings leave from our SIP socket (the mapped flow)")
        check(len(options) == 1 and 4.5 <= options[0] - pings[-1][0] <= 5.5, "every 4th interval an OPTIONS probe")
        d.wait_log(r"event=keepalive_answered trunk=prov status=200", timeout=2)
        h.stop_daemon(d)


if __name__ == "__main__":
    run_flows({f.__name__: f for f in (keepalive_options_dead_flow, keepalive_crlf)})
