#!/usr/bin/env python3
"""Registration with digest auth against sipp as the provider: the 401 (or 407) challenge is
answered with the right credentials, the provider grants 6 s instead of the 60 s asked for,
and the refresh comes before those 6 s run out (from the granted expiry).
  mixed    the 401 carries a SHA-256 and an MD5 challenge (RFC 8760 providers), which sofia
           1.12 cannot answer: we answer the MD5 one ourselves;
  sha256   the 401 offers SHA-256 only: answered with SHA-256 (RFC 7616)."""
import re
import time

from provider import PASSWORD, USER, recv, respond, start_provider, trunk_config, wait_exit, www_auth
from harness import Harness, check, run_flows
import digest


def register_auth(binary, proxy=False, case=""):
    with Harness("trunk-auth-" + ("407" if proxy else "401") + case, binary) as h:
        lan, wan, provider_port = h.port(3)
        challenges = {"": [www_auth(proxy=proxy)],
                      "mixed": [www_auth(proxy=proxy, algorithm="SHA-256", nonce="sha[call_number]"),
                                www_auth(proxy=proxy, algorithm="MD5")],
                      "sha256": [www_auth(proxy=proxy, algorithm="SHA-256")]}[case]
        code, reason = (407, "Proxy Authentication Required") if proxy else (401, "Unauthorized")
        steps = [recv(), respond(code, reason, challenges),
                 recv(), respond(200, "OK", contact_expires=6),
                 # The refresh reuses the cached credentials (nc=2) without a new challenge.
                 recv(), respond(200, "OK", contact_expires=6)]
        provider = start_provider(h, steps, provider_port, timeout=30)
        d = h.start_daemon(trunk_config((lan, wan), f"sip:127.0.0.1:{provider_port}"))
        d.wait_log(r"event=registered trunk=prov", timeout=10)
        t_registered = time.monotonic()
        rc = wait_exit(provider, 15)
        t_refreshed = time.monotonic()
        check(rc == 0, f"provider scenario completed (challenge answered, refresh authorised): rc={rc}",
              h.sipp_messages("provider")[-3000:])
        regs = h.messages("provider", method="REGISTER")
        check(len(regs) == 3, f"three REGISTERs seen: {len(regs)}")
        check(all("Expires: 60" in r for r in regs), "each asked for the configured 60 s")
        auth_header = "Proxy-Authorization:" if proxy else "Authorization:"
        check(auth_header in regs[1] and 'username="%s"' % USER in regs[1], f"{auth_header} with the username")
        check(digest.verify_request(regs[1], "REGISTER", PASSWORD) and digest.verify_request(regs[2], "REGISTER", PASSWORD),
              "digest responses are right for the password")
        if case:
            # Our own answer (sofia cannot): the algorithm asked for, in the challenged call; the
            # refresh repeats it (a provider that refuses the replay challenges again, and that
            # challenge is answered like the first).
            want = "algorithm=SHA-256" if case == "sha256" else "algorithm=MD5"
            check(want in regs[1], f"answered with {want}")
            call_ids = {re.search(r"^Call-ID: (.*)$", r, re.M).group(1) for r in regs}
            check(len(call_ids) == 1, f"one Call-ID for the challenge, the answer and the refresh: {call_ids}")
        else:
            check("nc=00000002" in regs[2], "refresh reused the nonce with nc=2")
        elapsed = t_refreshed - t_registered
        check(elapsed < 6.0, f"refresh came {elapsed:.1f}s after a 6 s grant, before it expired")
        m = re.search(r"Contact: <sip:(b2t[0-9a-f]{12})@127\.0\.0\.1:%d>" % wan, regs[0])
        check(m is not None, "Contact carries the trunk's registration token")
        d.wait_log(r"event=refreshed trunk=prov expires=6", timeout=3)
        rows = h.db_rows("SELECT registered_until, last_status FROM trunk_state WHERE trunk='prov'")
        check(rows and rows[0][1] == 200 and rows[0][0] > time.time(), f"state stored: {rows}")
        check(PASSWORD not in d.output(), "the password never appears in the log")
        h.stop_daemon(d)


FLOWS = {
    "register_auth_401": lambda binary: register_auth(binary),
    "register_auth_407": lambda binary: register_auth(binary, proxy=True),
    "register_auth_mixed_sha256_md5": lambda binary: register_auth(binary, case="mixed"),
    "register_auth_sha256_only": lambda binary: register_auth(binary, case="sha256"),
}

if __name__ == "__main__":
    run_flows(FLOWS)
