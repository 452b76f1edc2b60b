"""Digest authentication as SIP uses it: RFC 2617 (MD5, with or without qop=auth) and RFC 7616 /
RFC 8760 (SHA-256, the same recipe with another hash). Tests answer challenges and check the
daemon's answers with these functions only.

    ch = challenge(response_header_value)          # {'realm': ..., 'nonce': ..., ...}
    value = authorization(ch, "10", "secret", "REGISTER", "sip:127.0.0.1:5060", nc=1)
    verify(value, "REGISTER", "secret")            # True
"""
import hashlib
import re

_PARAM = re.compile(r'(\w+)=("[^"]*"|[^,\s]+)')


def params(value):
    """The parameters of a Digest challenge or answer ('Digest realm="x", nonce="y", qop=auth',
    with or without the header name in front) as a dict, quotes removed."""
    if ":" in value.split("Digest", 1)[0]:
        value = value.split(":", 1)[1]
    return {k: v.strip('"') for k, v in _PARAM.findall(value)}


def h(algorithm, text):
    fn = hashlib.sha256 if (algorithm or "MD5").upper() == "SHA-256" else hashlib.md5
    return fn(text.encode()).hexdigest()


def ha1(user, realm, password, algorithm="MD5"):
    return h(algorithm, f"{user}:{realm}:{password}")


def response(ha1_hex, nonce, method, uri, algorithm="MD5", qop=None, nc=None, cnonce=None):
    ha2 = h(algorithm, f"{method}:{uri}")
    if qop:
        return h(algorithm, f"{ha1_hex}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
    return h(algorithm, f"{ha1_hex}:{nonce}:{ha2}")


def authorization(challenge, user, password, method, uri, nc=1, cnonce="0a4f113b", algorithm=None):
    """The value of an (Proxy-)Authorization header answering `challenge` (a dict from
    params()); qop=auth when the challenge offers it."""
    algorithm = algorithm or challenge.get("algorithm", "MD5")
    realm, nonce = challenge["realm"], challenge["nonce"]
    qop = "auth" if "auth" in [q.strip() for q in challenge.get("qop", "auth").split(",")] else None
    ncs = f"{nc:08x}"
    digest = response(ha1(user, realm, password, algorithm), nonce, method, uri, algorithm, qop, ncs, cnonce)
    value = (f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
             f'response="{digest}", algorithm={algorithm}')
    if qop:
        value += f', cnonce="{cnonce}", qop={qop}, nc={ncs}'
    if "opaque" in challenge:
        value += f', opaque="{challenge["opaque"]}"'
    return value


def verify(value, method, password, user=None, realm=None):
    """True when the Digest answer `value` is right for `password` (and names `user` and
    `realm` when they are given)."""
    p = params(value)
    if user is not None and p.get("username") != user:
        return False
    if realm is not None and p.get("realm") != realm:
        return False
    if not all(k in p for k in ("username", "realm", "nonce", "uri", "response")):
        return False
    algorithm = p.get("algorithm", "MD5")
    want = response(ha1(p["username"], p["realm"], password, algorithm), p["nonce"], method, p["uri"], algorithm,
                    p.get("qop"), p.get("nc"), p.get("cnonce"))
    return p["response"] == want


def verify_request(request, method, password, user=None, realm=None):
    """verify() on the (Proxy-)Authorization header of a SIP request's text; False without one."""
    m = re.search(r"^(?:Proxy-)?Authorization:\s*(Digest .*)$", request, re.M | re.I)
    return bool(m) and verify(m.group(1).strip(), method, password, user, realm)
