"""A SIP provider played by sipp, for the trunk tests: scenarios are built from a few steps so
each test states only what its provider does differently.

    steps = [recv(), respond(401, "Unauthorized", [www_auth()]), recv(),
             respond(200, "OK", contact_expires=6)]
    provider = start_provider(h, steps, port=16101)
"""
import hashlib
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from harness import wait_port_free, wait_until  # noqa: E402

USER = "4930111"
PASSWORD = "trunk-secret"
REALM = "trunk.test"

_VIA_RE = r"SIP/2.0/([A-Z]+) ([^;]*);.*branch=([^;]*)"


def recv(method="REGISTER", optional=False, timeout_ms=None, label=None):
    """Receives `method`; remembers its Via parts and Contact URI (digest_valid() checks auth)."""
    actions = [
        f'<ereg regexp="{_VIA_RE}" search_in="hdr" header="Via:" check_it="true" assign_to="via,proto,sentby,branch"/>',
    ]
    if method == "REGISTER":
        actions.append('<ereg regexp="&lt;([^&gt;]*)&gt;" search_in="hdr" header="Contact:" assign_to="ct,curi"/>')
    attrs = f'request="{method}"'
    if optional:
        attrs += ' optional="true"'
    if timeout_ms:
        attrs += f' timeout="{timeout_ms}" ontimeout="{label or "end"}"'
    xml = f'<recv {attrs}><action>{"".join(actions)}</action></recv>\n'
    return xml


def respond(code, reason, headers=(), contact_expires=None, nat=None):
    """Answers the last request. `nat`=(ip, port) adds received/rport as a NAT would cause."""
    if nat:
        via = f"Via: SIP/2.0/[$proto] [$sentby];branch=[$branch];received={nat[0]};rport={nat[1]}"
    else:
        via = "[last_Via:]"
    lines = [f"SIP/2.0 {code} {reason}", via, "[last_From:]", "[last_To:];tag=prov[call_number]", "[last_Call-ID:]",
             "[last_CSeq:]"]
    if contact_expires is not None:
        lines.append(f"Contact: <[$curi]>;expires={contact_expires}")
    lines.extend(headers)
    lines.append("Content-Length: 0")
    return "<send><![CDATA[\n" + "\n".join(lines) + "\n\n]]></send>\n"


def www_auth(proxy=False, algorithm="MD5", nonce="n0nce[call_number]"):
    name = "Proxy-Authenticate" if proxy else "WWW-Authenticate"
    return f'{name}: Digest realm="{REALM}", nonce="{nonce}", qop="auth", algorithm={algorithm}'


def pause(ms):
    return f'<pause milliseconds="{ms}"/>\n'


def label(name):
    return f'<label id="{name}"/>\n'


def scenario(steps, name="provider"):
    body = "".join(steps)
    # sipp rejects a scenario where a captured variable is not used twice; mark ours as used.
    captured = [v for v in ("via", "proto", "sentby", "branch", "ct", "curi") if f'"{v}' in body or f",{v}" in body]
    if captured:
        body += f'<Reference variables="{",".join(captured)}"/>\n'
    return f'<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="{name}">\n{body}<label id="end"/>\n</scenario>\n'


def start_provider(h, steps, port, name="provider", ip="127.0.0.1", timeout=60, calls=1):
    """Starts sipp as the provider in the background; its message log is h.path(name + '.messages')."""
    path = h.path(f"{name}.xml")
    with open(path, "w") as f:
        f.write(scenario(steps, name))
    argv = ["sipp", "-sf", path, "-i", ip, "-p", str(port), "-nostdin", "-m", str(calls),
            "-timeout", f"{timeout}s", "-timeout_error", "-trace_msg", "-message_file", h.path(f"{name}.messages"),
            "-trace_err", "-error_file", h.path(f"{name}.errors")]
    p = h.spawn(argv, name)
    # The daemon registers at once: a provider not yet listening would answer with ICMP.
    if not wait_until(lambda: not wait_port_free(port, ip, timeout=0) or not p.running(), 10) or not p.running():
        raise RuntimeError(f"sipp provider did not start on {ip}:{port}:\n{p.output()[-2000:]}")
    return p


def wait_exit(process, timeout):
    """Waits for a background sipp to finish; returns its exit code (None if still running)."""
    wait_until(lambda: not process.running(), timeout)
    return None if process.running() else process.proc.returncode


def messages(h, name="provider"):
    fp = h.path(f"{name}.messages")
    if not os.path.exists(fp):
        return ""
    with open(fp, errors="replace") as f:
        return f.read()


def received_requests(h, name="provider", method="REGISTER"):
    """The requests sipp received, as text blocks, in order."""
    out = []
    for block in messages(h, name).split("----------------------------------------------- ")[1:]:
        if "message received" in block:
            body = block.split("\n", 2)[-1] if "\n" in block else ""
            first = body.lstrip().split("\n", 1)[0]
            if first.startswith(method + " "):
                out.append(body.strip())
    return out


def trunk_config(ports, registrar, **trunk):
    """A daemon config with one trunk; `ports` = (lan_port, wan_port)."""
    t = {"name": "prov", "registrar": registrar, "username": USER, "password": PASSWORD, "expires": 60,
         "keepalive": {"method": "off", "interval": 20}}
    t.update(trunk)
    return {
        "lan": {"listen": [f"udp:127.0.0.1:{ports[0]}"], "networks": ["127.0.0.0/8"]},
        "wan": {"address": "127.0.0.1", "port": ports[1], "dscp_sip": -1},
        "trunks": [t],
        "status": {"listen": f"127.0.0.1:{ports[0] + 100}"},
        "log": {"level": "debug"},
    }


def digest_valid(request, method="REGISTER", password=PASSWORD):
    """Recomputes the digest response of an (Proxy-)Authorization header in `request` (RFC 2617)."""
    m = re.search(r"^(?:Proxy-)?Authorization: Digest (.*)$", request, re.M)
    if not m:
        return False
    p = dict((k, v.strip('"')) for k, v in re.findall(r'(\w+)=("[^"]*"|[^,\s]+)', m.group(1)))
    algorithm = hashlib.sha256 if p.get("algorithm", "MD5").upper() == "SHA-256" else hashlib.md5
    md5 = lambda s: algorithm(s.encode()).hexdigest()  # noqa: E731  (RFC 7616: same recipe)
    ha1 = md5(f"{p['username']}:{p['realm']}:{password}")
    ha2 = md5(f"{method}:{p['uri']}")
    want = md5(f"{ha1}:{p['nonce']}:{p['nc']}:{p['cnonce']}:{p['qop']}:{ha2}") if "qop" in p else \
        md5(f"{ha1}:{p['nonce']}:{ha2}")
    return p.get("response") == want


def probe(h, name, target, local_ip, local_port, expect, method="OPTIONS", user="probe"):
    """Sends one `method` from local_ip:local_port to `target` and expects response `expect`."""
    path = h.path(f"{name}.xml")
    with open(path, "w") as f:
        f.write(scenario([f"""<send retrans="500"><![CDATA[
{method} sip:{user}@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:probe@[local_ip]:[local_port]>;tag=[pid]p[call_number]
To: <sip:{user}@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 {method}
Max-Forwards: 70
Content-Length: 0

]]></send>
<recv response="{expect}"/>
"""], name))
    argv = ["sipp", target, "-sf", path, "-i", local_ip, "-p", str(local_port), "-nostdin", "-m", "1",
            "-timeout", "10s", "-timeout_error"]
    p = h.spawn(argv, name)
    return wait_exit(p, 15)
