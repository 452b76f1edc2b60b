"""What the registrar tests share: the daemon config, sipp runs of the scenarios/ folder, and
the bindings as the daemon stored them."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "common"))

import digest  # noqa: E402
from harness import wait_until  # noqa: E402

REALM = "test.arpa"
SCENARIOS = os.path.join(HERE, "scenarios")


def config(port, **registrar):
    """Extension 10 by password, 11 by HA1, 12 by password; min_expires 30, qualify off unless given."""
    reg = {"min_expires": 30, "max_expires": 3600, "default_expires": 600, "qualify_interval": 0}
    reg.update(registrar)
    return {
        "lan": {"listen": [f"udp:127.0.0.1:{port}"], "networks": ["127.0.0.0/8"], "realm": REALM},
        "registrar": reg,
        "extensions": [
            {"number": "10", "password": "secret10"},
            {"number": "11", "ha1": digest.ha1("11", REALM, "secret11")},
            {"number": "12", "password": "secret12"},
        ],
        "log": {"level": "debug"},
    }


def sipp(h, scenario, port, local_port, user, password, extra=(), name=None, timeout=15):
    argv = ["-key", "user", user, "-au", user, "-ap", password, *extra]
    return h.sipp(os.path.join(SCENARIOS, scenario + ".xml"), f"127.0.0.1:{port}", local_port, extra=argv,
                  timeout=timeout, name=name or scenario)


def bindings(h, aor=None):
    """(aor, contact, expires_at, q, source, reachable) rows, after the daemon's queued writes."""
    q = "SELECT aor, contact, expires_at, q, source, reachable FROM bindings"
    if aor is not None:
        return h.db_rows(q + " WHERE aor = ? ORDER BY contact", args=(aor,))
    return h.db_rows(q + " ORDER BY aor, contact")


def wait_bindings(h, aor, predicate, timeout=5):
    rows = wait_until(lambda: predicate(bindings(h, aor)) and bindings(h, aor) or None, timeout)
    return rows if rows is not None else bindings(h, aor)
