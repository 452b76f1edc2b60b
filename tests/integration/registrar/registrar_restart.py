"""Bindings survive a daemon restart and a kill -9; expired ones are gone after a restart.
Ports 15100-15109."""
import time

from registrar_common import Harness, bindings, check, config, wait_bindings, wait_until
from sip_client import Client

PORT = 15100

with Harness("registrar-restart") as h:
    cfg = config(PORT, min_expires=10)
    d = h.start_daemon(cfg)
    d.wait_log(r"component=registrar event=started bindings_restored=0")
    c = Client(PORT, 15101, "10")
    r, ch = c.login("secret10", expires=600)
    check(r is not None and r.status == 200, "10 registered for 600 s")
    short = Client(PORT, 15102, "12")
    r, _ = short.login("secret12", expires=12)
    check(r is not None and r.status == 200, "12 registered for 12 s")
    c.close()
    short.close()
    wait_bindings(h, None, lambda rows: len(rows) == 2)

    check(d.stop() == 0, "orderly stop")
    d = h.start_daemon(cfg, name="b2bua2")
    d.wait_log(r"component=registrar event=started bindings_restored=2")
    q = Client(PORT, 15103, "10")
    first = q.register(contacts=[], expires=None)
    r = q.register(q.digest(first.challenge(), "secret10", 1), contacts=[], expires=None)
    check(r is not None and r.status == 200 and any("127.0.0.1:15101" in x for x in r.all("contact")),
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

    # And while running: a binding expires on time.
    short = Client(PORT, 15104, "12")
    r, _ = short.login("secret12", expires=10)
    check(r is not None and r.status == 200, "12 registered for 10 s")
    d.wait_log(r"event=binding_expired ext=12 contact=127.0.0.1:15104", timeout=13)
    check(wait_until(lambda: not bindings(h, "12"), 5), "an expired binding leaves the database while running")
    q.close()
    short.close()
    check(d.stop() == 0, "orderly stop")
    check("AddressSanitizer" not in d.output() and "LeakSanitizer" not in d.output(), "no sanitizer report")
print("PASS")
