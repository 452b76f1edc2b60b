"""Registers a phone with the daemon over UDP (REGISTER, 401, REGISTER with RFC 2617/7616
digest, MD5 with qop=auth), python3 stdlib only: enough for the status tests to have real
bindings to show without a softphone."""
import hashlib
import re
import socket
import uuid


def _md5(text):
    return hashlib.md5(text.encode()).hexdigest()


def _challenge(response):
    """The MD5 Digest challenge's parameters from a 401."""
    for line in response.split("\r\n"):
        if line.lower().startswith("www-authenticate:") and "digest" in line.lower():
            params = dict(re.findall(r'(\w+)="?([^",]*)"?', line.split(":", 1)[1]))
            if params.get("algorithm", "MD5").upper() == "MD5":
                return params
    return None


def register(registrar_port, number, password, local_port, user_agent="status-test-phone", expires=600,
             host="127.0.0.1", timeout=3.0):
    """Returns the final status code of the authenticated REGISTER (200 when the binding exists)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((host, local_port))
    s.settimeout(timeout)
    call_id = uuid.uuid4().hex
    tag = uuid.uuid4().hex[:8]
    uri = f"sip:{host}:{registrar_port}"

    def send(cseq, authorization=None):
        lines = [f"REGISTER {uri} SIP/2.0",
                 f"Via: SIP/2.0/UDP {host}:{local_port};branch=z9hG4bK{uuid.uuid4().hex[:12]};rport",
                 "Max-Forwards: 70",
                 f"From: <sip:{number}@{host}>;tag={tag}",
                 f"To: <sip:{number}@{host}>",
                 f"Call-ID: {call_id}",
                 f"CSeq: {cseq} REGISTER",
                 f"Contact: <sip:{number}@{host}:{local_port}>",
                 f"Expires: {expires}",
                 f"User-Agent: {user_agent}"]
        if authorization:
            lines.append(f"Authorization: {authorization}")
        s.sendto(("\r\n".join(lines) + "\r\nContent-Length: 0\r\n\r\n").encode(), (host, registrar_port))
        while True:
            data = s.recv(65535).decode(errors="replace")
            code = int(data.split(" ", 2)[1])
            if code >= 200:
                return code, data

    try:
        code, response = send(1)
        if code != 401:
            return code
        c = _challenge(response)
        if not c:
            return 0
        cnonce, nc = uuid.uuid4().hex[:16], "00000001"
        ha1 = _md5(f"{number}:{c['realm']}:{password}")
        ha2 = _md5(f"REGISTER:{uri}")
        digest = _md5(f"{ha1}:{c['nonce']}:{nc}:{cnonce}:auth:{ha2}")
        auth = (f'Digest username="{number}", realm="{c["realm"]}", nonce="{c["nonce"]}", uri="{uri}", '
                f'response="{digest}", algorithm=MD5, qop=auth, nc={nc}, cnonce="{cnonce}"')
        if "opaque" in c:
            auth += f', opaque="{c["opaque"]}"'
        return send(2, auth)[0]
    except (socket.timeout, ValueError, IndexError):
        return 0
    finally:
        s.close()
