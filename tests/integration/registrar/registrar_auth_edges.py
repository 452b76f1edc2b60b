"""Digest edge cases and access control, with a scripted client (sip_client.py) where sipp
cannot do it: nonce-count replay, stale nonce, brute-force block (silence, one log line),
requests from outside lan.networks (403, or silence), and reloads (password change, removed
extension, SHA-256 challenges). Ports 15080-15089."""
import signal
import time

from registrar_common import Harness, bindings, check, config, wait_until
from sip_client import Client

PORT = 15080


def reload(h, d, cfg):
    mark = d.log_size()
    h.write_config(cfg)
    d.signal(signal.SIGHUP)
    d.wait_log(r"event=config_applied", after=mark)


with Harness("registrar-auth") as h:
    cfg = config(PORT, nonce_lifetime=10, block_after_failures=3, block_window=60, block_duration=600)
    d = h.start_daemon(cfg)
    d.wait_log(r"component=registrar event=started")

    c1 = Client(PORT, 15081, "10")
    r, ch = c1.login("secret10")
    check(r is not None and r.status == 200, "login with the right password")
    replay = c1.register(c1.digest(ch, "secret10", 1))
    check(replay is not None and replay.status == 401 and "stale=true" in replay.get("www-authenticate"),
          "the same nonce-count again (a replay) is refused with a fresh stale=true challenge")
    r = c1.register(c1.digest(ch, "secret10", 2))
    check(r is not None and r.status == 200, "the next nonce-count on the same nonce is accepted")

    stale_client = Client(PORT, 15082, "12")
    r, stale_ch = stale_client.login("secret12")
    check(r is not None and r.status == 200, "second phone logged in; its nonce ages from now")
    started_stale_wait = time.monotonic()

    # Brute force from another loopback address: three failures, then silence.
    attacker = Client(PORT, 15083, "10", bind_host="127.0.0.3")
    first = attacker.register()
    codes = [attacker.register(attacker.digest(first.challenge(), f"guess{i}", i + 1)).status for i in range(3)]
    check(codes == [403, 403, 403], f"wrong passwords get 403: {codes}")
    silent = attacker.register(attacker.digest(first.challenge(), "secret10", 9), timeout=1.5)
    check(silent is None, "a blocked source gets no answer, even with the right password" + (f": {silent.raw}" if silent else ""))
    check(attacker.register(timeout=1.0) is None, "not even a challenge")
    d.wait_log(r"event=source_blocked source=127.0.0.3 seconds=600 failures=3")
    check(d.output().count("event=source_blocked") == 1, "the block is logged once, not per packet")
    r = c1.register(c1.digest(ch, "secret10", 3))
    check(r is not None and r.status == 200, "other sources are not affected by the block")

    # Outside lan.networks: 403, then silence.
    outside = dict(cfg, lan=dict(cfg["lan"], networks=["10.0.0.0/8"], outside="reject"))
    reload(h, d, outside)
    c4 = Client(PORT, 15084, "10")
    r = c4.register()
    check(r is not None and r.status == 403, "a REGISTER from outside lan.networks gets 403 (outside: reject)")
    reload(h, d, dict(outside, lan=dict(outside["lan"], outside="drop")))
    check(c4.register(timeout=1.5) is None, "and no answer at all with outside: drop")

    # Reload: new password for 10, extension 12 removed, SHA-256 offered first.
    changed = dict(cfg, extensions=[{"number": "10", "password": "newpass10"}, cfg["extensions"][1]],
                   registrar=dict(cfg["registrar"], sha256=True))
    reload(h, d, cfg)
    check(len(bindings(h, "12")) == 1, "12 has a binding before the reload")
    elapsed = time.monotonic() - started_stale_wait
    if elapsed < 11:  # the stale case below needs the nonce older than nonce_lifetime (10 s)
        time.sleep(11 - elapsed)
    r = stale_client.register(stale_client.digest(stale_ch, "secret12", 2))
    check(r is not None and r.status == 401 and "stale=true" in r.get("www-authenticate"),
          "right credentials on an expired nonce get 401 stale=true" + ("" if r and r.status == 401 else f": {r and r.raw}"))
    r = stale_client.register(stale_client.digest(r.challenge(), "secret12", 1))
    check(r is not None and r.status == 200, "the fresh nonce from the stale challenge works")

    reload(h, d, changed)
    d.wait_log(r"event=binding_removed ext=12 .*reason=extension_removed")
    check(wait_until(lambda: not bindings(h, "12"), 5), "a removed extension's bindings are gone")
    c5 = Client(PORT, 15085, "10")
    r, _ = c5.login("secret10")
    check(r is not None and r.status == 403, "the old password no longer works after reload")
    first = c5.register()
    offered = first.all("www-authenticate")
    check(len(offered) == 2 and "SHA-256" in offered[0] and "MD5" in offered[1],
          f"SHA-256 challenge first, MD5 second: {offered}")
    r = c5.register(c5.digest(first.challenge("SHA-256"), "newpass10", 1, algorithm="SHA-256"))
    check(r is not None and r.status == 200, "SHA-256 digest (RFC 8760) with the new password")
    c6 = Client(PORT, 15086, "11")
    r, _ = c6.login("secret11", algorithm="SHA-256")
    check(r is not None and r.status == 403, "an HA1-only extension cannot use SHA-256")
    r, _ = c6.login("secret11", algorithm="MD5")
    check(r is not None and r.status == 200, "but still registers with MD5")

    for c in (c1, stale_client, attacker, c4, c5, c6):
        c.close()
    check(d.stop() == 0, "daemon stops cleanly")
    out = d.output()
    check("secret1" not in out and "newpass10" not in out and "guess" not in out, "no password in the log")
    check("AddressSanitizer" not in out and "LeakSanitizer" not in out, "no sanitizer report")
print("PASS")
