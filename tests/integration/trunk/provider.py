"""The provider's side for the trunk tests: sipp scenarios built from a few steps, so each test
states only what its provider does differently; kamailio as a real provider
(kamailio-provider.cfg); a DNS server (dnsmasq) and a CA of the test.

    steps = [recv(), respond(401, "Unauthorized", [www_auth()]), recv(),
             respond(200, "OK", contact_expires=6)]
    provider = start_provider(h, steps, port=h.port())
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
from harness import check, udp_bound, wait_until  # noqa: E402

USER = "4930111"
PASSWORD = "trunk-secret"
REALM = "trunk.test"

_VIA_RE = r"SIP/2.0/([A-Z]+) ([^;]*);.*branch=([^;]*)"


def recv(method="REGISTER", optional=False, timeout_ms=None, label=None):
    """Receives `method`; remembers its Via parts and Contact URI (digest.verify_request() checks auth)."""
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
    """Starts sipp as the provider in the background; h.messages(name) reads what it got."""
    p = h.sipp_bg(scenario(steps, name), None, port, name=name, calls=calls, timeout=timeout, ip=ip)
    # The daemon registers at once: a provider not yet listening would answer with ICMP.
    if not wait_until(lambda: udp_bound(port, ip) or not p.running(), 10) or not p.running():
        raise RuntimeError(f"sipp provider did not start on {ip}:{port}:\n{p.output()[-2000:]}")
    return p


def wait_exit(process, timeout):
    """Waits for a background sipp to finish; returns its exit code (None if still running)."""
    wait_until(lambda: not process.running(), timeout)
    return None if process.running() else process.proc.returncode


def trunk_config(ports, registrar, **trunk):
    """A daemon config with one trunk; `ports` = (lan_port, wan_port)."""
    t = {"name": "prov", "registrar": registrar, "username": USER, "password": PASSWORD, "expires": 60,
         "keepalive": {"method": "off", "interval": 20}, "binding_check": 0}
    t.update(trunk)
    return {
        "lan": {"listen": [f"udp:127.0.0.1:{ports[0]}"], "networks": ["127.0.0.0/8"]},
        "wan": {"address": "127.0.0.1", "port": ports[1], "dscp_sip": -1},
        "trunks": [t],
        "log": {"level": "debug"},
    }


def probe(h, name, target, local_ip, local_port, expect, method="OPTIONS", user="probe"):
    """Sends one `method` from local_ip:local_port to `target` and expects response `expect`;
    returns sipp's exit code."""
    xml = scenario([f"""<send retrans="500"><![CDATA[
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
"""], name)
    return wait_exit(h.sipp_bg(xml, target, local_port, name=name, timeout=10, ip=local_ip), 15)


def start_kamailio(h, listen, defines=()):
    """kamailio-provider.cfg on `listen` (["udp:127.0.0.1:PORT", ...]; the first must be UDP);
    `defines` are -A arguments (WITH_TLS, TLS_CERT=..., FAR_END=...)."""
    argv = ["-m", "32", "-M", "8"]
    for item in listen:
        argv += ["-l", item]
    for item in defines:
        argv += ["-A", item]
    return h.start_kamailio(os.path.join(HERE, "kamailio-provider.cfg"), int(listen[0].rsplit(":", 1)[1]), argv,
                            ready=r"INFO: <core> \[main.c:\d+\]: main\(\): processes \(at least\)|ready|listening on")


def start_dnsmasq(h, port, *records, log_queries=False):
    """A DNS server of the test on 127.0.0.1:port with `records` (dnsmasq options such as
    --host-record=...), and a resolv.conf pointing at it (h.path("resolv.conf"))."""
    argv = ["/usr/sbin/dnsmasq", "-k", "--user=root", "--group=root", "--pid-file=", "--no-resolv", "--no-hosts",
            f"--port={port}", "--listen-address=127.0.0.1", "--bind-interfaces", "--log-facility=-",
            *(["--log-queries"] if log_queries else []), *records]
    dns = h.spawn(argv, "dnsmasq")
    dns.wait_log(r"started, version", timeout=5)
    check(wait_until(lambda: udp_bound(port), 5), "dnsmasq listens")
    with open(h.path("resolv.conf"), "w") as f:
        f.write(f"nameserver 127.0.0.1\nport {port}\n")  # sofia's resolver reads a port line
    return dns


def make_certificates(h):
    """A CA, and a server certificate for provider.test signed by it; the CA alone in
    h.path("trusted"), an empty CA store in h.path("untrusted")."""
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
