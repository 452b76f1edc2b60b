"""GET on the daemon's status endpoint (stdlib only), for the status tests and benchmarks."""
import http.client
import json


def get(port, path, token=None, host="127.0.0.1", timeout=5, host_header=None):
    """GET http://host:port/path; returns (status, headers dict (lower-case keys), body str).
    `host_header` replaces the Host header (as a browser sends a name it resolved)."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if host_header:
            headers["Host"] = host_header
        conn.request("GET", path, headers=headers)
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode(errors="replace")
    finally:
        conn.close()


def get_json(port, path="/status", token=None):
    status, _, body = get(port, path, token)
    if status != 200:
        raise AssertionError(f"GET {path} -> {status}: {body}")
    return json.loads(body)
