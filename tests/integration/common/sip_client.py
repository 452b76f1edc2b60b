"""A tiny SIP-over-UDP client for what sipp cannot script or is too heavy for: replaying a
digest nonce-count, re-using an expired nonce, sending from a blocked source, expecting
silence, one OPTIONS or INVITE to read the answer's status, registering a phone in one call.

Digests come from digest.py; everything is bounded by socket timeouts.
"""
import random
import socket

import digest


class Response:
    def __init__(self, raw):
        self.raw = raw
        first, _, rest = raw.partition("\r\n")
        self.status_line = first.strip()
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
        """The parameters of the WWW-Authenticate Digest challenge for `algorithm`, or None."""
        for value in self.all("www-authenticate"):
            params = digest.params(value)
            if params.get("algorithm", "MD5").upper() == algorithm.upper():
                return params
        return None


class Client:
    """One UDP socket, one Call-ID. local_port 0: any free port."""

    def __init__(self, server_port, local_port, user, host="127.0.0.1", bind_host="127.0.0.1",
                 user_agent="test-client"):
        self.server = (host, server_port)
        self.user = user
        self.user_agent = user_agent
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((bind_host, local_port))
        self.local = self.sock.getsockname()
        self.call_id = f"{random.getrandbits(64):x}@test"
        self.tag = f"{random.getrandbits(32):x}"
        self.cseq = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        self.sock.close()

    @property
    def uri(self):
        return f"sip:{self.server[0]}:{self.server[1]}"

    def digest(self, challenge, password, nc, method="REGISTER", user=None, algorithm="MD5", cnonce="0a4f113b"):
        return digest.authorization(challenge, user or self.user, password, method, self.uri, nc=nc, cnonce=cnonce,
                                    algorithm=algorithm)

    def request(self, method, ruri=None, to_user=None, from_user=None, headers=(), cseq=None, timeout=2.0):
        """Sends one request without a body; returns the final Response, or None when nothing
        final came back in time."""
        self.cseq = cseq if cseq is not None else self.cseq + 1
        lh, lp = self.local
        to_user = to_user or self.user
        from_user = from_user or self.user
        lines = [f"{method} {ruri or self.uri} SIP/2.0",
                 f"Via: SIP/2.0/UDP {lh}:{lp};rport;branch=z9hG4bK{random.getrandbits(48):x}",
                 "Max-Forwards: 70",
                 f"From: <sip:{from_user}@{self.server[0]}>;tag={self.tag}",
                 f"To: <sip:{to_user}@{self.server[0]}>",
                 f"Call-ID: {self.call_id}",
                 f"CSeq: {self.cseq} {method}",
                 *headers,
                 f"User-Agent: {self.user_agent}", "Content-Length: 0", "", ""]
        self.sock.sendto("\r\n".join(lines).encode(), self.server)
        return self.receive(timeout)

    def register(self, authorization=None, expires=120, contacts=None, cseq=None, timeout=2.0, to_user=None):
        """Sends one REGISTER; returns a Response, or None when nothing came back in time."""
        lh, lp = self.local
        contacts = contacts if contacts is not None else [f"<sip:{self.user}@{lh}:{lp}>"]
        headers = [f"Contact: {c}" for c in contacts]
        if expires is not None:
            headers.append(f"Expires: {expires}")
        if authorization:
            headers.append(f"Authorization: {authorization}")
        # From names the AoR too: a third-party registration is not what these tests send.
        return self.request("REGISTER", to_user=to_user, from_user=to_user, headers=headers, cseq=cseq,
                            timeout=timeout)

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
        if ch is None:
            return first, None
        return self.register(self.digest(ch, password, 1, algorithm=algorithm), expires=expires), ch


def register(registrar_port, number, password, local_port, user_agent="test-phone", expires=600, timeout=3.0):
    """Registers a phone (REGISTER, 401, REGISTER with an MD5 digest); returns the final status
    code of the authenticated REGISTER (200 when the binding exists), 0 when nothing answered."""
    with Client(registrar_port, local_port, number, user_agent=user_agent) as c:
        r, ch = c.login(password, expires=expires)
        if r is None:
            return 0
        return 0 if ch is None and r.status == 401 else r.status  # 401 without an MD5 challenge: 0


def status_of(port, method="OPTIONS", user="probe", to_user=None, local_port=0, timeout=2.0, **kw):
    """The final Response to one `method` sent to 127.0.0.1:port, or None."""
    with Client(port, local_port, user, **kw) as c:
        return c.request(method, ruri=f"sip:{to_user}@127.0.0.1:{port}" if to_user else None, to_user=to_user,
                         headers=[f"Contact: <sip:{user}@{c.local[0]}:{c.local[1]}>"], timeout=timeout)
