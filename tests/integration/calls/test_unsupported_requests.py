#!/usr/bin/env python3
"""Requests a phone sends that b2bua does not serve: MESSAGE, SUBSCRIBE (a package phones use
and an unknown one; message-summary is served, voicemail.* tests it), PUBLISH, and REFER, NOTIFY, UPDATE and INFO outside any dialog. A
registered phone (extension 10, digest auth) sends each; it must get a final answer that tells
it the truth (RFC 3261, RFC 6665), so it stops retrying and falls back:

  - never a 2xx: the phone would believe a message was delivered, a subscription exists, a
    transfer is under way;
  - never a 5xx other than 501: those say "try again later", and phones do;
  - 405 only with an Allow header that leaves the method out (RFC 3261 21.4.6);
  - 489 for an event package nobody serves (RFC 6665 7.2.2), with Allow-Events when it comes;
  - 481 for a request that belongs to a dialog when there is none (RFC 3261 12.2.2, RFC 6665
    4.1.3 for NOTIFY, RFC 6086 4.2.2 for INFO).

Each case is a flow of its own (calls.unsupported_<case>) and prints what it got. EXPECTED
holds the one answer each case gets: the table of what a phone hears for each request."""
import os
import random
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import digest  # noqa: E402
from harness import check, fail, Harness, run_flows  # noqa: E402
from sip_client import Client, Response  # noqa: E402

# case: the final answers that are right for it.
EXPECTED = {
    "message": {405},                 # not in Allow (RFC 3261 8.2.1), with the Allow we serve
    "subscribe_presence": {489},      # only message-summary is served (voicemail lamps): Bad Event
    "subscribe_foo": {489},
    "publish": {405},
    "refer": {405},                   # REFER is allowed in a call (transfer), never outside one
    "notify": {405},
    "notify_unknown_dialog": {405},
    "update": {481},                  # in-dialog methods outside a dialog (RFC 3261 12.2.2)
    "update_unknown_dialog": {481},
    "info": {481},                    # RFC 6086 4.2: INFO belongs to a dialog
    "info_unknown_dialog": {481},
}

EXTENSION, PASSWORD = "10", "pw-ten"

# case: (method, Request-URI user, extra headers, To tag: a dialog that does not exist)
CASES = {
    "message": ("MESSAGE", "11", ["Content-Type: text/plain"], None),
    "subscribe_presence": ("SUBSCRIBE", "11", ["Event: presence", "Accept: application/pidf+xml", "Expires: 600"], None),
    "subscribe_foo": ("SUBSCRIBE", "11", ["Event: foo", "Expires: 600"], None),
    "publish": ("PUBLISH", "10", ["Event: presence", "Expires: 600", "Content-Type: application/pidf+xml"], None),
    "refer": ("REFER", "11", ["Refer-To: <sip:12@127.0.0.1>"], None),
    "notify": ("NOTIFY", "10", ["Event: message-summary", "Subscription-State: active;expires=600"], None),
    "notify_unknown_dialog": ("NOTIFY", "10", ["Event: message-summary", "Subscription-State: active;expires=600"],
                              "gone"),
    "update": ("UPDATE", "11", [], None),
    "update_unknown_dialog": ("UPDATE", "11", [], "gone"),
    "info": ("INFO", "11", ["Content-Type: application/dtmf-relay"], None),
    "info_unknown_dialog": ("INFO", "11", ["Content-Type: application/dtmf-relay"], "gone"),
}

BODIES = {
    "MESSAGE": "hello",
    "PUBLISH": '<?xml version="1.0"?><presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:10@test.arpa"/>',
    "INFO": "Signal=5\r\nDuration=160\r\n",
}


def send(client, call_id, method, ruri, to_user, headers, to_tag, authorization=None, timeout=2.0):
    """One request on the phone's socket; returns (final Response or None,
    requests that reached the phone meanwhile)."""
    lh, lp = client.local
    body = BODIES.get(method, "")
    client.cseq += 1
    lines = [f"{method} {ruri} SIP/2.0",
             f"Via: SIP/2.0/UDP {lh}:{lp};rport;branch=z9hG4bK{random.getrandbits(48):x}",
             "Max-Forwards: 70",
             f"From: <sip:{client.user}@{client.server[0]}>;tag={client.tag}",
             f"To: <sip:{to_user}@{client.server[0]}>" + (f";tag={to_tag}" if to_tag else ""),
             f"Call-ID: {call_id}",
             f"CSeq: {client.cseq} {method}",
             f"Contact: <sip:{client.user}@{lh}:{lp}>",
             *headers,
             *([f"Proxy-Authorization: {authorization}"] if authorization else []),
             "User-Agent: test-phone",
             f"Content-Length: {len(body.encode())}", "", body]
    client.sock.sendto("\r\n".join(lines).encode(), client.server)
    requests = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        client.sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            data, _ = client.sock.recvfrom(65535)
        except socket.timeout:
            break
        text = data.decode(errors="replace")
        if not text.startswith("SIP/2.0 "):
            requests.append(text.split("\r\n", 1)[0])
            continue
        r = Response(text)
        if r.status >= 200:
            return r, requests
    return None, requests


def listens_for_more(client, seconds):
    """Requests that reach the phone within `seconds` (a NOTIFY an accepted REFER would send)."""
    got = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        client.sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            data, _ = client.sock.recvfrom(65535)
        except socket.timeout:
            break
        text = data.decode(errors="replace")
        if not text.startswith("SIP/2.0 "):
            got.append(text.split("\r\n", 1)[0])
    return got


def ask(binary, case):
    """Starts the daemon, registers phone 10 and sends the case's request; returns what it got
    (the final Response or None, whether it was challenged first, requests that reached the
    phone)."""
    method, target, headers, to_tag = CASES[case]
    with Harness(f"calls-unsupported-{case.replace('_', '-')}", binary) as h:
        lan, phone_port = h.port(2)
        d = h.start_daemon({
            "lan": {"listen": [f"udp:127.0.0.1:{lan}"], "networks": ["127.0.0.0/8"], "realm": "test.arpa"},
            "registrar": {"qualify_interval": 0},
            "extensions": [{"number": "10", "password": PASSWORD}, {"number": "11", "password": "pw-eleven"},
                           {"number": "12", "password": "pw-twelve"}],
        })
        with Client(lan, phone_port, EXTENSION, user_agent="test-phone") as c:
            r, _ = c.login(PASSWORD)
            check(r is not None and r.status == 200, f"phone 10 registered ({r.status_line if r else 'no answer'})")
            call_id = f"{random.getrandbits(64):x}@test"
            ruri = f"sip:{target}@127.0.0.1:{lan}"
            r, requests = send(c, call_id, method, ruri, target, headers, to_tag)
            challenged = r is not None and r.status in (401, 407)
            if challenged:
                header = "proxy-authenticate" if r.status == 407 else "www-authenticate"
                values = r.all(header)
                check(bool(values), f"the {r.status} carries {header}", r.raw)
                credentials = digest.authorization(digest.params(values[0]), EXTENSION, PASSWORD, method, ruri)
                r, more = send(c, call_id, method, ruri, target, headers, to_tag, authorization=credentials)
                requests += more
            requests += listens_for_more(c, 1.0)
        h.stop_daemon(d)
    return r, challenged, requests


def judge(case, r):
    """The reasons the answer `r` is wrong for `case` (empty: right)."""
    method = CASES[case][0]
    if r is None:
        return ["no final answer within 2 s"]
    wrong = []
    if r.status not in EXPECTED[case]:
        wrong.append(f"{r.status} is not one of {sorted(EXPECTED[case])}")
    if 200 <= r.status < 300:
        wrong.append("a 2xx for a request nothing serves")
    if 500 <= r.status < 600 and r.status != 501:
        wrong.append("a 5xx other than 501 asks the phone to retry")
    if r.status == 489 and "message-summary" not in (r.get("Allow-Events") or "message-summary"):
        wrong.append(f"489 with Allow-Events that leaves out message-summary: {r.get('Allow-Events')}")
    if r.status == 405:
        allow = ",".join(r.all("allow")).upper()
        if not allow:
            wrong.append("405 without Allow")
        elif method in [m.strip() for m in allow.split(",")]:
            wrong.append(f"405 with Allow listing {method}: {allow}")
    return wrong


def flow(case):
    def run(binary):
        method = CASES[case][0]
        r, challenged, requests = ask(binary, case)
        got = r.status_line if r else "no answer"
        extra = [f"{n}: {r.get(n)}" for n in ("Allow", "Allow-Events", "Supported") if r and r.get(n)]
        print(f"  {case}: {method} got '{got}'{' after a challenge' if challenged else ''}"
              f"{' (' + '; '.join(extra) + ')' if extra else ''}", flush=True)
        check(not requests, f"{case}: no request reached the phone afterwards {requests}")
        wrong = judge(case, r)
        if wrong:
            fail(f"{case}: {method} got '{got}': {'; '.join(wrong)}\n{r.raw if r else ''}")
        print(f"ok: {case}: {got} is a right answer", flush=True)
    run.__name__ = f"unsupported_{case}"
    return run


FLOWS = {f"unsupported_{case}": flow(case) for case in CASES}

if __name__ == "__main__":
    run_flows(FLOWS)
