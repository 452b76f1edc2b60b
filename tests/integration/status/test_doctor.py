#!/usr/bin/env python3
"""`b2bua doctor` against a running daemon: a healthy box exits 0, a trunk whose provider
refuses the password and a weak, world-readable config exit 2, a provider behind a rewriting
SIP ALG exits 1, with findings that say why (and
never the password), the status page's Health box says the same, and no daemon at all exits 2
naming the address tried. One flow per ctest entry (run_flows)."""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
sys.path.insert(0, HERE)
from cdp import CHROMIUM, Browser  # noqa: E402
from harness import Harness, check, run_flows, wait_until  # noqa: E402
from sip_client import register  # noqa: E402
from status_http import get_json  # noqa: E402

PHONE_PASSWORD = "pw-kitchen-Jk55"
TRUNK_PASSWORD = "trunk-wrong-Vb62"
NONCE = "c2lwcC1ub25jZS0x"

# A provider that does not take our password: challenges the first REGISTER, refuses the answer.
REFUSING_REGISTRAR = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="registrar refusing the credentials">
  <recv request="REGISTER"/>
  <send><![CDATA[
SIP/2.0 401 Unauthorized
[last_Via:]
[last_From:]
[last_To:];tag=[pid]registrar
[last_Call-ID:]
[last_CSeq:]
WWW-Authenticate: Digest realm="provider.test", nonce="NONCE", algorithm=MD5, qop="auth"
Content-Length: 0

]]></send>
  <recv request="REGISTER"/>
  <send><![CDATA[
SIP/2.0 403 Forbidden
[last_Via:]
[last_From:]
[last_To:];tag=[pid]registrar
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

]]></send>
</scenario>
""".replace("NONCE", NONCE)


# A provider behind a router whose SIP ALG rewrote our REGISTER's Contact on the way out: the
# 200 lists our registration token at the router's public address, with no `received` that
# would say the provider chose it (trunk/alg_detector.h).
ALG_REGISTRAR = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="registrar behind a rewriting ALG">
  <recv request="REGISTER">
    <action>
      <ereg regexp="&lt;sip:([^@&gt;]+)@" search_in="hdr" header="Contact:" check_it="true" assign_to="contact,token"/>
    </action>
  </recv>
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]registrar
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:[$token]@203.0.113.2:5060>;expires=300
X-Contact-Seen: [$contact]
Content-Length: 0

]]></send>
</scenario>
"""


class Setup:
    def __init__(self, h):
        self.h = h
        self.lan, self.wan, self.status, self.provider, self.phone = h.port(5)

    def config(self, **changes):
        cfg = {
            "lan": {"listen": [f"udp:127.0.0.1:{self.lan}"], "networks": ["127.0.0.0/8"]},
            "wan": {"address": "127.0.0.1", "port": self.wan},
            # No qualify: the test's phone is a one-shot client that answers no OPTIONS.
            "registrar": {"qualify_interval": 0},
            "extensions": [{"number": "10", "name": "Kitchen", "password": PHONE_PASSWORD}],
            "status": {"listen": f"127.0.0.1:{self.status}"},
        }
        cfg.update(changes)
        return cfg

    def trunk(self, **changes):
        t = {"name": "provider", "registrar": f"sip:127.0.0.1:{self.provider}", "username": "4930123456",
             "numbers": ["+4930123456"], "keepalive": {"method": "off"}, "binding_check": 0}
        t.update(changes)
        return t


def doctor(binary, cfg, *args):
    return subprocess.run([binary, "doctor", "--config", cfg, *args], capture_output=True, text=True, timeout=30)


def show(r):
    """The run as the test log keeps it (the README's examples are copied from such runs)."""
    print(f"--- b2bua doctor (exit {r.returncode})\n{r.stdout}{r.stderr}---", flush=True)


def doctor_healthy(binary):
    """An IP-authenticated trunk and a registered phone: nothing to say but ok, exit 0."""
    with Harness("doctor-healthy", binary) as h:
        s = Setup(h)
        cfg = h.write_config(s.config(trunks=[s.trunk(register=False)]))
        d = h.start_daemon(cfg)
        check(register(s.lan, "10", PHONE_PASSWORD, s.phone, user_agent="doctor-phone") == 200,
              "a phone registers as extension 10")
        r = doctor(binary, cfg)
        show(r)
        check(r.returncode == 0, f"b2bua doctor exits 0 on a healthy box ({r.returncode})", r.stdout + r.stderr)
        check(r.stdout.startswith("All good"), "it says all is good")
        for needle in ("trunk provider does not register", "1 phone is registered on extension 10",
                       "the config file is not readable by other users", "the database can be written"):
            check(needle in r.stdout, f"it lists what it checked: {needle}")
        findings = json.loads(doctor(binary, cfg, "--json").stdout)
        check(findings and all(f["verdict"] == "ok" for f in findings), "--json prints the findings, every one ok")
        # Besides the daemon's findings, the doctor reports the NATs it probes itself (nat_path.h).
        check(("network.nat", "ok") in [(f["id"], f["verdict"]) for f in findings],
              "the doctor adds its own NAT finding: no NAT on loopback")
        verdicts = [(f["id"], f["verdict"]) for f in findings if f["id"] != "network.nat"]
        check([(f["id"], f["verdict"]) for f in get_json(s.status)["health"]] == verdicts,
              "GET /status carries the same findings as \"health\"")
        h.stop_daemon(d)


def refused_trunk(h, s):
    """A provider that refuses the trunk's password, the daemon, and a phone on extension 10;
    returns the daemon and its config once the trunk is in auth_failed."""
    provider = h.sipp_bg(REFUSING_REGISTRAR, None, s.provider, name="provider", timeout=30)
    cfg = h.write_config(s.config(trunks=[s.trunk(password=TRUNK_PASSWORD)]))
    d = h.start_daemon(cfg)
    check(register(s.lan, "10", PHONE_PASSWORD, s.phone, user_agent="doctor-phone") == 200,
          "a phone registers as extension 10")
    refused = wait_until(lambda: get_json(s.status)["trunks"][0].get("state") == "auth_failed", 10)
    check(refused, "the provider refused the trunk's credentials")
    h.finish(provider, "the provider challenged and refused")
    return d, cfg


def doctor_wrong_trunk_password(binary):
    """The provider answers 403 to our credentials: a problem naming the trunk and the 403, exit 2."""
    with Harness("doctor-wrong-password", binary) as h:
        s = Setup(h)
        d, cfg = refused_trunk(h, s)
        r = doctor(binary, cfg)
        show(r)
        check(r.returncode == 2, f"b2bua doctor exits 2 ({r.returncode})", r.stdout + r.stderr)
        check(r.stdout.find("PROBLEMS") < r.stdout.find("OK\n"), "problems come first")
        check("the provider refuses the credentials of trunk provider" in r.stdout, "the finding names the trunk")
        check("403 Forbidden" in r.stdout, "the evidence is the provider's 403")
        check("password of trunk provider" in r.stdout, "the action says to check the trunk's password")
        check('for realm "provider.test": wrong password or user' in r.stdout, "the realm of the challenge is named")
        check('after answering WWW-Authenticate Digest realm="provider.test", algorithm MD5' in r.stdout,
              "the evidence shows the 403 came after our answer to that challenge")
        j = doctor(binary, cfg, "--json")
        problem = [f for f in json.loads(j.stdout) if f["id"] == "trunk.provider.registration"]
        check(j.returncode == 2 and problem and problem[0]["verdict"] == "problem",
              "--json has trunk.provider.registration as a problem, exit 2")
        for where, text in (("b2bua doctor", r.stdout + r.stderr), ("b2bua doctor --json", j.stdout),
                            ("the daemon's log", d.output())):
            check(TRUNK_PASSWORD not in text, f"{where} never shows the trunk's password")
        for where, text in (("b2bua doctor", r.stdout + r.stderr), ("b2bua doctor --json", j.stdout),
                            ("GET /status", json.dumps(get_json(s.status)))):
            check(NONCE not in text and "response=" not in text and "cnonce" not in text,
                  f"{where} shows neither the provider's nonce nor our digest answer")
        h.stop_daemon(d)


def doctor_sip_alg(binary):
    """The provider lists our Contact at an address we never sent: an ALG rewrote it. A warning
    with the remedy, exit 1."""
    with Harness("doctor-alg", binary) as h:
        s = Setup(h)
        provider = h.sipp_bg(ALG_REGISTRAR, None, s.provider, name="provider", timeout=30)
        cfg = h.write_config(s.config(trunks=[s.trunk(password="trunk-Vb62-Kq81-Zt04")]))
        d = h.start_daemon(cfg)
        check(register(s.lan, "10", PHONE_PASSWORD, s.phone, user_agent="doctor-phone") == 200,
              "a phone registers as extension 10")
        h.finish(provider, "the provider answered the REGISTER")
        d.wait_log(r"event=sip_alg_detected", timeout=10)
        r = doctor(binary, cfg)
        show(r)
        check(r.returncode == 1, f"b2bua doctor exits 1: warnings only ({r.returncode})", r.stdout + r.stderr)
        check("a SIP ALG (the router's SIP helper) rewrites b2bua's messages to trunk provider" in r.stdout,
              "the warning names the ALG and the trunk")
        findings = {f["id"]: f for f in json.loads(doctor(binary, cfg, "--json").stdout)}
        alg = findings.get("trunk.provider.alg", {})
        check(alg.get("verdict") == "warning" and alg.get("action"), "--json: trunk.provider.alg is a warning with a remedy")
        h.stop_daemon(d)


def doctor_page(binary):
    """The status page's Health box lists the same problem; skipped (77) without chromium."""
    if not os.access(CHROMIUM, os.X_OK):
        print(f"SKIP: {CHROMIUM} not installed")
        sys.exit(77)
    with Harness("doctor-page", binary) as h:
        s = Setup(h)
        d, _ = refused_trunk(h, s)
        with Browser() as browser:
            p = browser.open(f"http://127.0.0.1:{s.status}/")
            health = "document.querySelector('#health').innerText"
            check(p.wait_for(f"{health}.includes('refuses the credentials of trunk provider') && "
                             f"{health}.includes('403 Forbidden')", 10),
                  "the Health box shows the refused credentials with the 403", p.evaluate(health) or "")
            check(p.evaluate(f"!{health}.includes('the database can be written')"), "it lists no finding that is ok")
            check(p.evaluate("document.querySelector('#health-count').innerText") == "(1 problem, 0 warnings)",
                  "its heading counts problems and warnings")
            check(not p.errors(), f"no console errors ({p.errors()})")
            p.close()
        h.stop_daemon(d)


def doctor_weak_secret_and_perms(binary):
    """A config every user can read, with a 4-character extension password: a warning and a
    problem, exit 2, and the password nowhere."""
    with Harness("doctor-weak", binary) as h:
        s = Setup(h)
        weak = "Qz7w"
        cfg = h.write_config(s.config(extensions=[{"number": "10", "name": "Kitchen", "password": weak}]))
        os.chmod(cfg, 0o644)
        d = h.start_daemon(cfg)
        r = doctor(binary, cfg)
        show(r)
        check(r.returncode == 2, f"b2bua doctor exits 2 ({r.returncode})", r.stdout + r.stderr)
        findings = {f["id"]: f for f in json.loads(doctor(binary, cfg, "--json").stdout)}
        perms = findings.get("config.permissions", {})
        check(perms.get("verdict") == "warning" and "0644" in perms.get("evidence", "") and
              perms.get("action") == f"chmod 640 {cfg}", "the readable config is a warning: chmod 640 it")
        secret = findings.get("secret.extension.10", {})
        check(secret.get("verdict") == "problem" and "shorter than" in secret.get("evidence", ""),
              "the short password of extension 10 is a problem")
        check(weak not in r.stdout + r.stderr and weak not in json.dumps(findings), "the password is never shown")
        h.stop_daemon(d)


def doctor_no_daemon(binary):
    """Nothing listens on status.listen: exit 2, and the message names the address tried."""
    with Harness("doctor-no-daemon", binary) as h:
        s = Setup(h)
        cfg = h.write_config(s.config())
        r = doctor(binary, cfg)
        show(r)
        check(r.returncode == 2, f"b2bua doctor exits 2 ({r.returncode})")
        check(f"127.0.0.1:{s.status}" in r.stderr and "is the daemon running?" in r.stderr,
              "the message names the address it tried", r.stderr)


if __name__ == "__main__":
    run_flows({f.__name__: f for f in (doctor_healthy, doctor_wrong_trunk_password, doctor_sip_alg, doctor_page,
                                       doctor_weak_secret_and_perms, doctor_no_daemon)})
