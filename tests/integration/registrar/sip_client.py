"""A tiny SIP-over-UDP REGISTER client for the cases sipp cannot script: replaying a digest
nonce-count, re-using an expired nonce, sending from a blocked source, expecting silence.

Digest per RFC 2617 (qop=auth) and RFC 8760 (SHA-256); everything bounded by socket timeouts.
"""
import hashlib
import random
import re
import socket


def _h(algorithm, text):
    fn = hashlib.sha256 if algorithm.upper() == "SHA-256" else hashlib.md5
    return fn(text.encode()).hexdigest()


class Response:
    def __init__(self, raw):
        self.raw = raw
        first, _, rest = raw.partition("\r\n")
        self.status = int(first.split()[1])
        self.headers = []
        for line in rest.split("\r\n"):
            if not line:
                break
            name, _, value = line.partition(":")
            self.headers.append((name.strip().lower(), value.strip()))

    def all(self, name):
        return [v for n, v in self.headers if n == name.lower()]

    def get(self, name):
        values = self.all(name)
        return values[0] if values else None

    def challenge(self, algorithm="MD5"):
        for value in self.all("www-authenticate"):
            params = dict(re.findall(r'(\w+)=("[^"]*"|[^,\s]+)', value))
            params = {k: v.strip('"') for k, v in params.items()}
            if params.get("algorithm", "MD5").upper() == algorithm.upper():
                return params
        return None


class Client:
    def __init__(self, server_port, local_port, user, host="127.0.0.1", bind_host="127.0.0.1"):
        self.server = (host, server_port)
        self.user = user
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((bind_host, local_port))
        self.local = self.sock.getsockname()
        self.call_id = f"{random.getrandbits(64):x}@test"
        self.tag = f"{random.getrandbits(32):x}"
        self.cseq = 0

    def close(self):
        self.sock.close()

    def digest(self, challenge, password, nc, method="REGISTER", user=None, algorithm="MD5", cnonce="0a4f113b"):
        user = user or self.user
        uri = f"sip:{self.server[0]}:{self.server[1]}"
        realm, nonce = challenge["realm"], challenge["nonce"]
        ha1 = _h(algorithm, f"{user}:{realm}:{password}")
        ha2 = _h(algorithm, f"{method}:{uri}")
        ncs = f"{nc:08x}"
        response = _h(algorithm, f"{ha1}:{nonce}:{ncs}:{cnonce}:auth:{ha2}")
        return (f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
                f'response="{response}", algorithm={algorithm}, cnonce="{cnonce}", qop=auth, nc={ncs}')

    def register(self, authorization=None, expires=120, contacts=None, cseq=None, timeout=2.0, to_user=None):
        """Sends one REGISTER; returns a Response, or None when nothing came back in time."""
        self.cseq = cseq if cseq is not None else self.cseq + 1
        lh, lp = self.local
        contacts = contacts if contacts is not None else [f"<sip:{self.user}@{lh}:{lp}>"]
        to_user = to_user or self.user
        lines = [f"REGISTER sip:{self.server[0]}:{self.server[1]} SIP/2.0",
                 f"Via: SIP/2.0/UDP {lh}:{lp};rport;branch=z9hG4bK{random.getrandbits(48):x}",
                 "Max-Forwards: 70",
                 f"From: <sip:{to_user}@{self.server[0]}>;tag={self.tag}",
                 f"To: <sip:{to_user}@{self.server[0]}>",
                 f"Call-ID: {self.call_id}",
                 f"CSeq: {self.cseq} REGISTER"]
        lines += [f"Contact: {c}" for c in contacts]
        if expires is not None:
            lines.append(f"Expires: {expires}")
        if authorization:
            lines.append(f"Authorization: {authorization}")
        lines += ["User-Agent: registrar-test-client", "Content-Length: 0", "", ""]
        self.sock.sendto("\r\n".join(lines).encode(), self.server)
        return self.receive(timeout)

    def receive(self, timeout):
        self.sock.settimeout(timeout)
        try:
            while True:
                data, _ = self.sock.recvfrom(65535)
                text = data.decode(errors="replace")
                if text.startswith("SIP/2.0 "):
                    r = Response(text)
                    if r.status >= 200:
                        return r
        except socket.timeout:
            return None

    def login(self, password, expires=120, algorithm="MD5"):
        """Challenge + authenticated REGISTER; returns (final response, challenge used)."""
        first = self.register(expires=expires)
        if first is None or first.status != 401:
            return first, None
        ch = first.challenge(algorithm)
        return self.register(self.digest(ch, password, 1, algorithm=algorithm), expires=expires), ch
