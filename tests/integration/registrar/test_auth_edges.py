#!/usr/bin/env python3
"""Digest edge cases and access control, with a scripted client (common/sip_client.py) where
sipp cannot do it: nonce-count replay, stale nonce, brute-force block (silence, one log line),
an extension locked by a guess spread over many addresses, requests from outside
lan.networks (403, or silence), and reloads (password change, removed extension, SHA-256
challenges). One flow per ctest entry (run_flows)."""
import json
import re
import signal
import subprocess
import time

from registrar_common import bindings, config
from harness import check, run_flows, running, wait_until
from sip_client import Client

SECRETS = ("secret1", "newpass10", "guess")


class Registrar:
    def __init__(self, h, **registrar):
        self.h = h
        self.port = h.port()
        self.cfg = config(self.port, **registrar)
        self.daemon = h.start_daemon(self.cfg)
        self.daemon.wait_log(r"component=registrar event=started")
        self.clients = []

    def client(self, user, bind_host="127.0.0.1"):
        c = Client(self.port, self.h.port(), user, bind_host=bind_host, user_agent="registrar-test-client")
        self.clients.append(c)
        return c

    def reload(self, cfg):
        mark = self.daemon.log_size()
        self.h.write_config(cfg)
        self.daemon.signal(signal.SIGHUP)
        self.daemon.wait_log(r"event=config_applied", after=mark)

    def stop(self):
        for c in self.clients:
            c.close()
        self.h.stop_daemon(self.daemon)
        out = self.daemon.output()
        check(not any(s in out for s in SECRETS), "no password in the log")


def nonce_count_replay(binary):
    with running("registrar-replay", binary, Registrar) as r:
        c = r.client("10")
        res, ch = c.login("secret10")
        check(res is not None and res.status == 200, "login with the right password")
        replay = c.register(c.digest(ch, "secret10", 1))
        check(replay is not None and replay.status == 401 and "stale=true" in replay.get("www-authenticate"),
              "the same nonce-count again (a replay) is refused with a fresh stale=true challenge")
        res = c.register(c.digest(ch, "secret10", 2))
        check(res is not None and res.status == 200, "the next nonce-count on the same nonce is accepted")


def stale_nonce(binary):
    with running("registrar-stale", binary, Registrar, nonce_lifetime=10) as r:
        c = r.client("12")
        res, ch = c.login("secret12")
        check(res is not None and res.status == 200, "logged in; the nonce ages from now")
        time.sleep(11)  # past nonce_lifetime
        res = c.register(c.digest(ch, "secret12", 2))
        check(res is not None and res.status == 401 and "stale=true" in res.get("www-authenticate"),
              "right credentials on an expired nonce get 401 stale=true" +
              ("" if res and res.status == 401 else f": {res and res.raw}"))
        res = c.register(c.digest(res.challenge(), "secret12", 1))
        check(res is not None and res.status == 200, "the fresh nonce from the stale challenge works")


def brute_force_block(binary):
    """Five wrong passwords from one source (the default limit), then silence for it; a known
    password for another extension between the guesses does not reset the count. Phones on
    other sources go on, and a new one registers."""
    with running("registrar-block", binary, Registrar) as r:
        phone = r.client("10")
        res, ch = phone.login("secret10")
        check(res is not None and res.status == 200, "a phone on 127.0.0.1 logged in")
        attacker = r.client("10", bind_host="127.0.0.3")
        own = r.client("12", bind_host="127.0.0.3")  # the attacker's own phone: 12's password is known
        first = attacker.register()
        codes = []
        for i in range(5):
            codes.append(attacker.register(attacker.digest(first.challenge(), f"guess{i}", i + 1)).status)
            if i in (1, 3):
                res, _ = own.login("secret12")
                check(res is not None and res.status == 200, "the known password of 12 still works from there")
        check(codes == [403] * 5, f"wrong passwords get 403: {codes}")
        silent = attacker.register(attacker.digest(first.challenge(), "secret10", 9), timeout=1.5)
        check(silent is None,
              "a blocked source gets no answer, even with the right password" + (f": {silent.raw}" if silent else ""))
        check(attacker.register(timeout=1.0) is None, "not even a challenge")
        r.daemon.wait_log(r"event=source_blocked source=127.0.0.3 seconds=600 failures=5")
        check(r.daemon.output().count("event=source_blocked") == 1, "the block is logged once, not per packet")
        res = phone.register(phone.digest(ch, "secret10", 2))
        check(res is not None and res.status == 200, "other sources are not affected by the block")
        res, _ = r.client("11", bind_host="127.0.0.4").login("secret11")
        check(res is not None and res.status == 200, "a phone registering for the first time elsewhere is fine")


def distributed_guess_locks_extension(binary):
    """Four wrong passwords for 10 from each of five addresses: each stays under the per-address
    limit, together they lock 10 (default 20 failures from 3 or more addresses). The lock is
    logged once and shown by `b2bua status`; the phone registered before keeps refreshing, a
    new phone of 10 gets the answer a wrong password gets, other extensions go on."""
    with running("registrar-lock", binary, Registrar) as r:
        phone = r.client("10")
        res, ch = phone.login("secret10")
        check(res is not None and res.status == 200, "the phone of 10 on 127.0.0.1 logged in")
        codes = []
        for n in range(2, 7):
            attacker = r.client("10", bind_host=f"127.0.0.{n}")
            first = attacker.register()
            for i in range(4):
                res = attacker.register(attacker.digest(first.challenge(), f"guess{n}{i}", i + 1))
                codes.append(res.status if res else None)
        check(codes == [403] * 20, f"every guess gets 403: {codes}")
        line = r.daemon.wait_log(r"level=warn component=registrar event=extension_locked ext=10 sources=5 "
                                 r"failures=20 until=\S+")
        check("event=source_blocked" not in r.daemon.output(), "no single address reached its limit")

        res = phone.register(phone.digest(ch, "secret10", 2))
        check(res is not None and res.status == 200,
              "the registered phone's refresh from its address is accepted while 10 is locked")
        newcomer = r.client("10", bind_host="127.0.0.9")
        ch9 = newcomer.register().challenge()
        wrong = newcomer.register(newcomer.digest(ch9, "not-it", 1))
        right = newcomer.register(newcomer.digest(ch9, "secret10", 2))
        shape = lambda res: res and (res.status_line, sorted(n for n, _ in res.headers))  # noqa: E731
        check(right is not None and right.status == 403 and shape(right) == shape(wrong),
              "a new phone of 10 with the right password gets exactly what a wrong password gets",
              f"{wrong and wrong.raw}\n{right and right.raw}")
        r.daemon.wait_log(r"event=auth_refused_locked source=127.0.0.9 ext=10")
        res, _ = r.client("12", bind_host="127.0.0.9").login("secret12")
        check(res is not None and res.status == 200, "other extensions are not locked")
        late = r.client("10", bind_host="127.0.0.8")
        first = late.register()
        late.register(late.digest(first.challenge(), "guess-late", 1))
        check(r.daemon.output().count("event=extension_locked") == 1, "the lock is logged once", line.group(0))

        config_path = r.h.path("b2bua.jsonc")
        status = json.loads(subprocess.run([r.h.binary, "status", "--json", "--config", config_path],
                                           capture_output=True, text=True, timeout=10).stdout)
        locked = status["registrar"]["locked_extensions"]
        check(len(locked) == 1 and locked[0]["ext"] == "10" and locked[0]["sources"] == 5 and
              status["registrar"]["locked_now"] == 1, f"/status lists the lock: {status['registrar']}")
        table = subprocess.run([r.h.binary, "status", "--config", config_path], capture_output=True, text=True,
                               timeout=10).stdout
        check(re.search(r"^  10 +in 1[45]m", table, re.M) is not None, "b2bua status shows 10 locked", table)


def outside_networks(binary):
    """A REGISTER from outside lan.networks: 403 (outside: reject), or silence (drop)."""
    with running("registrar-outside", binary, Registrar) as r:
        outside = dict(r.cfg, lan=dict(r.cfg["lan"], networks=["10.0.0.0/8"], outside="reject"))
        r.reload(outside)
        c = r.client("10")
        res = c.register()
        check(res is not None and res.status == 403, "a REGISTER from outside lan.networks gets 403 (outside: reject)")
        r.reload(dict(outside, lan=dict(outside["lan"], outside="drop")))
        check(c.register(timeout=1.5) is None, "and no answer at all with outside: drop")


def reload_credentials(binary):
    """Reload: new password for 10, extension 12 removed, SHA-256 offered first."""
    with running("registrar-reload", binary, Registrar) as r:
        h = r.h
        res, _ = r.client("12").login("secret12")
        check(res is not None and res.status == 200, "12 registered")
        check(wait_until(lambda: len(bindings(h, "12")) == 1, 5), "12 has a binding before the reload")
        changed = dict(r.cfg, extensions=[{"number": "10", "password": "newpass10"}, r.cfg["extensions"][1]],
                       registrar=dict(r.cfg["registrar"], sha256=True))
        r.reload(changed)
        r.daemon.wait_log(r"event=binding_removed ext=12 .*reason=extension_removed")
        check(wait_until(lambda: not bindings(h, "12"), 5), "a removed extension's bindings are gone")
        c = r.client("10")
        res, _ = c.login("secret10")
        check(res is not None and res.status == 403, "the old password no longer works after reload")
        first = c.register()
        offered = first.all("www-authenticate")
        check(len(offered) == 2 and "SHA-256" in offered[0] and "MD5" in offered[1],
              f"SHA-256 challenge first, MD5 second: {offered}")
        res = c.register(c.digest(first.challenge("SHA-256"), "newpass10", 1, algorithm="SHA-256"))
        check(res is not None and res.status == 200, "SHA-256 digest (RFC 8760) with the new password")
        ha1_only = r.client("11")
        res, _ = ha1_only.login("secret11", algorithm="SHA-256")
        check(res is not None and res.status == 403, "an HA1-only extension cannot use SHA-256")
        res, _ = ha1_only.login("secret11", algorithm="MD5")
        check(res is not None and res.status == 200, "but still registers with MD5")


FLOWS = {f.__name__: f for f in (nonce_count_replay, stale_nonce, brute_force_block,
                                 distributed_guess_locks_extension, outside_networks, reload_credentials)}

if __name__ == "__main__":
    run_flows(FLOWS)
