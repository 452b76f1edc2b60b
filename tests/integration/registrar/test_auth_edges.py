#!/usr/bin/env python3
"""Digest edge cases and access control, with a scripted client (common/sip_client.py) where
sipp cannot do it: nonce-count replay, stale nonce, brute-force block (silence, one log line),
an extension locked by a guess spread over many addresses, requests from outside
lan.networks (403, or silence), reloads (password change, removed extension, SHA-256
challenges), and a digest whose uri is not the Request-URI (400). One flow per ctest entry
(run_flows)."""
import json
import re
import signal
import subprocess
import time

from registrar_common import bindings, config
import digest
import scenarios
from harness import check, check_sipp, run_flows, running, wait_until
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


class WithProvider(Registrar):
    """The registrar of the other flows plus a WAN side and a provider trunk for numbers
    starting with 0 (no registration, no keepalive): an INVITE that gets through reaches the
    provider's port."""

    def __init__(self, h):
        self.h = h
        self.port, wan, self.provider_port = h.port(3)
        self.lan, self.wan = f"127.0.0.1:{self.port}", f"127.0.0.1:{wan}"
        self.cfg = dict(config(self.port), wan={"address": "127.0.0.1", "port": wan},
                        trunks=[{"name": "provider", "registrar": f"sip:127.0.0.1:{self.provider_port}",
                                 "username": "4930123456", "register": False, "keepalive": {"method": "off"}}],
                        routing={"outbound": [{"prefix": "0", "trunk": "provider"}]})
        self.daemon = h.start_daemon(self.cfg)
        self.daemon.wait_log(r"component=registrar event=started")
        self.clients = []


def final_answer(h, run, status):
    """The status line and header names of the `status` answer sipp run `run` received."""
    for text in h.messages(run):
        lines = [line.strip() for line in text.splitlines()]
        if lines and lines[0].startswith(f"SIP/2.0 {status} "):
            head = lines[1:lines.index("")] if "" in lines else lines[1:]
            names = sorted(line.split(":", 1)[0].lower() for line in head if ":" in line)
            return lines[0], names
    return None


def digest_uri_mismatch(binary):
    """RFC 2617 3.2.2.5: the digest uri must be the Request-URI. A phone's INVITE authorization
    computed for one number (sipp -auth_uri) on an INVITE to another number gets 400, for a known
    and an unknown user alike, and nothing reaches the provider; the call to the number it was
    computed for goes out. A REGISTER whose uri names another host gets 400 too, and five of them
    from one address block it as five wrong passwords would. One log line each, no digest value
    in it."""
    with running("registrar-digest-uri", binary, WithProvider) as r:
        h = r.h
        provider = h.sipp_bg(scenarios.provider_answer(), r.wan, r.provider_port, name="provider", timeout=40)
        time.sleep(0.3)
        computed_for = f"0301234567@127.0.0.1:{r.port}"
        for user, password in (("10", "secret10"), ("99", "not-a-user")):
            run = h.sipp(h.write_scenario(f"replay{user}", scenarios.phone_call_out(user, password, "0307654321",
                                                                                    expect="400")),
                         r.lan, h.port(), name=f"replay{user}", extra=["-auth_uri", computed_for])
            check_sipp(run, f"{user}: an INVITE to 0307654321 answering the challenge for sip:{computed_for} gets 400")
        known, unknown = final_answer(h, "replay10", 400), final_answer(h, "replay99", 400)
        check(known is not None and known[0] == "SIP/2.0 400 Authorization URI Mismatch",
              f"the answer says why: {known}")
        check(known == unknown, "a known and an unknown user get the same answer", f"{known}\n{unknown}")
        lines = re.findall(r"^.*event=digest_uri_mismatch.*$", r.daemon.output(), re.M)
        check([re.sub(r"^.*?level=", "level=", line) for line in lines] ==
              [f"level=info component=registrar event=digest_uri_mismatch source=127.0.0.1 user={u} method=INVITE"
               for u in ("10", "99")], "one line per mismatch, without any value of the digest", "\n".join(lines))
        for user in ("10", "99"):
            r.daemon.wait_log(rf"event=auth_failed source=127\.0\.0\.1 user={user} method=INVITE")
        check(not h.messages("provider") and provider.running(), "nothing reached the provider")

        call = h.sipp(h.write_scenario("call", scenarios.phone_call_out("10", "secret10", "0301234567", hold_ms=500)),
                      r.lan, h.port(), name="call")
        check_sipp(call, "the call to the number the digest is computed for goes out (uri = Request-URI)")
        h.finish(provider, "the provider took that call")
        invites = h.messages("provider", method="INVITE")
        check(len(invites) == 1 and "0301234567" in invites[0] and "0307654321" not in invites[0],
              f"the provider got that INVITE and no other ({len(invites)})")

        shapes = {}
        for i in range(5):
            user, password = ("10", "secret10") if i % 2 == 0 else ("99", "not-a-user")
            c = r.client(user, bind_host="127.0.0.7")
            first = c.register()
            other_host = digest.authorization(first.challenge(), user, password, "REGISTER", f"sip:192.0.2.1:{r.port}")
            res = c.register(other_host)
            check(res is not None and res.status == 400,
                  f"REGISTER {i + 1} ({user}) answering for sip:192.0.2.1:{r.port} gets 400", res and res.raw)
            shapes.setdefault(user, (res.status_line, sorted(n for n, _ in res.headers)))
        check(shapes["10"] == shapes["99"], "a known and an unknown user get the same answer", str(shapes))
        r.daemon.wait_log(r"event=source_blocked source=127.0.0.7 seconds=600 failures=5")
        res, _ = r.client("10", bind_host="127.0.0.7").login("secret10")
        check(res is None, "five mismatches blocked the address like five wrong passwords: silence")
        res, _ = r.client("12").login("secret12")
        check(res is not None and res.status == 200, "a REGISTER whose uri is its Request-URI registers")
        check(len(re.findall(r"event=digest_uri_mismatch source=127\.0\.0\.7 user=\d+ method=REGISTER$",
                             r.daemon.output(), re.M)) == 5, "one line per REGISTER mismatch")


FLOWS = {f.__name__: f for f in (nonce_count_replay, stale_nonce, brute_force_block,
                                 distributed_guess_locks_extension, outside_networks, reload_credentials,
                                 digest_uri_mismatch)}

if __name__ == "__main__":
    run_flows(FLOWS)
