"""Registration with digest auth against sipp as the provider: the 401 (or 407 with --proxy)
challenge is answered with the right credentials, the provider grants 6 s instead of the 60 s
asked for, and the refresh comes before those 6 s run out (from the granted expiry)."""
import re
import sys
import time

from provider import (USER, digest_valid, messages, received_requests, recv, respond, start_provider, trunk_config, wait_exit,
                      www_auth)
sys.path.insert(0, __import__("os").path.join(__import__("os").path.dirname(__file__), "..", "common"))
from harness import Harness, check  # noqa: E402

PROXY = "--proxy" in sys.argv
PORTS = (16112, 16111) if PROXY else (16102, 16101)
PROVIDER = 16113 if PROXY else 16103

with Harness("trunk-auth-407" if PROXY else "trunk-auth-401") as h:
    code, reason = (407, "Proxy Authentication Required") if PROXY else (401, "Unauthorized")
    steps = [recv(), respond(code, reason, [www_auth(proxy=PROXY)]),
             recv(), respond(200, "OK", contact_expires=6),
             # The refresh reuses the cached credentials (nc=2) without a new challenge.
             recv(), respond(200, "OK", contact_expires=6)]
    provider = start_provider(h, steps, PROVIDER, timeout=30)
    d = h.start_daemon(trunk_config(PORTS, f"sip:127.0.0.1:{PROVIDER}"))
    d.wait_log(r"event=registered trunk=prov", timeout=10)
    t_registered = time.monotonic()
    rc = wait_exit(provider, 15)
    t_refreshed = time.monotonic()
    check(rc == 0, f"provider scenario completed (challenge answered, refresh authorised): rc={rc}\n" +
          messages(h)[-3000:])
    regs = received_requests(h)
    check(len(regs) == 3, f"three REGISTERs seen: {len(regs)}")
    check(all("Expires: 60" in r for r in regs), "each asked for the configured 60 s")
    auth_header = "Proxy-Authorization:" if PROXY else "Authorization:"
    check(auth_header in regs[1] and 'username="%s"' % USER in regs[1], f"{auth_header} with the username")
    check(digest_valid(regs[1]) and digest_valid(regs[2]), "digest responses are right for the password")
    check("nc=00000002" in regs[2], "refresh reused the nonce with nc=2")
    elapsed = t_refreshed - t_registered
    check(elapsed < 6.0, f"refresh came {elapsed:.1f}s after a 6 s grant, before it expired")
    m = re.search(r"Contact: <sip:(b2t[0-9a-f]{12})@127\.0\.0\.1:%d>" % PORTS[1], regs[0])
    check(m is not None, "Contact carries the trunk's registration token")
    d.wait_log(r"event=refreshed trunk=prov expires=6", timeout=3)
    rows = h.db_rows("SELECT registered_until, last_status FROM trunk_state WHERE trunk='prov'")
    check(rows and rows[0][1] == 200 and rows[0][0] > time.time(), f"state stored: {rows}")
    check("trunk-secret" not in d.output(), "the password never appears in the log")
    check(d.stop() == 0, "daemon exits cleanly")
