#!/usr/bin/env python3
"""Bindings survive a daemon restart and a kill -9; expired ones are gone after a restart, and a
binding expires on time while the daemon runs. One flow per ctest entry (run_flows)."""
import time

from registrar_common import bindings, config, wait_bindings
from harness import Harness, check, run_flows, wait_until
from sip_client import Client


def survives_restart(binary):
    with Harness("registrar-restart", binary) as h:
        port = h.port()
        cfg = config(port, min_expires=10)
        d = h.start_daemon(cfg)
        d.wait_log(r"component=registrar event=started bindings_restored=0")
        long_port = h.port()
        with Client(port, long_port, "10") as c:
            r, _ = c.login("secret10", expires=600)
            check(r is not None and r.status == 200, "10 registered for 600 s")
        with Client(port, h.port(), "12") as short:
            r, _ = short.login("secret12", expires=12)
            check(r is not None and r.status == 200, "12 registered for 12 s")
        wait_bindings(h, None, lambda rows: len(rows) == 2)

        h.stop_daemon(d)
        d = h.start_daemon(cfg, name="b2bua2")
        d.wait_log(r"component=registrar event=started bindings_restored=2")
        with Client(port, h.port(), "10") as q:
            first = q.register(contacts=[], expires=None)
            r = q.register(q.digest(first.challenge(), "secret10", 1), contacts=[], expires=None)
            check(r is not None and r.status == 200 and any(f"127.0.0.1:{long_port}" in x for x in r.all("contact")),
                  "after a restart a query REGISTER lists the binding made before it")

        d.kill9()
        d = h.start_daemon(cfg, name="b2bua3")
        d.wait_log(r"component=registrar event=started bindings_restored=2")
        check(len(bindings(h)) == 2, "both bindings survive kill -9")

        # Let the 12 s binding run out while the daemon is down.
        d.kill9()
        remaining = 13 - (time.time() - min(row[2] - 12 for row in bindings(h, "12")))
        if remaining > 0:
            time.sleep(remaining)
        d = h.start_daemon(cfg, name="b2bua4")
        d.wait_log(r"component=registrar event=started bindings_restored=1")
        rows = bindings(h)
        check([row[0] for row in rows] == ["10"], f"the expired binding is gone after restart: {rows}")
        h.stop_daemon(d)


def expires_while_running(binary):
    with Harness("registrar-expiry", binary) as h:
        port = h.port()
        d = h.start_daemon(config(port, min_expires=10))
        d.wait_log(r"component=registrar event=started")
        phone = h.port()
        with Client(port, phone, "12") as short:
            r, _ = short.login("secret12", expires=10)
            check(r is not None and r.status == 200, "12 registered for 10 s")
        d.wait_log(rf"event=binding_expired ext=12 contact=127.0.0.1:{phone}", timeout=13)
        check(wait_until(lambda: not bindings(h, "12"), 5), "an expired binding leaves the database while running")
        h.stop_daemon(d)


FLOWS = {f.__name__: f for f in (survives_restart, expires_while_running)}

if __name__ == "__main__":
    run_flows(FLOWS)
