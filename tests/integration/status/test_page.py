#!/usr/bin/env python3
"""The status page in a real headless Chromium (Debian's chromium, driven over the DevTools
protocol): it loads with no console errors, shows the daemon's data (version, a trunk
registered with a provider that sipp plays, the extensions, a phone registered for real) and
fits a phone screen (flow page); it follows the token in the URL fragment (flow page_token); it
says which extension is locked after password guessing and which one's calls out a crossed
limit blocks, each with the time that ends, and nothing for the others (flow
page_locks_and_limits). Exit 77 (skipped) without chromium.

To extend when a feature starts describing itself: add (description, JavaScript expression) to
expected(); `text('#trunks')` is the visible text of that section."""
import json
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
sys.path.insert(0, HERE)
from harness import Harness, check, check_sipp, fail, run_flows, wait_until  # noqa: E402
from cdp import CHROMIUM, Browser  # noqa: E402
import scenarios  # noqa: E402
from sip_client import Client, register  # noqa: E402
from status_http import get_json  # noqa: E402

TOKEN = "page-token-5e6f7a8b9c"
TEXT = "const text = (sel) => document.querySelector(sel).innerText;"


class Setup:
    def __init__(self, h):
        self.h = h
        self.lan, self.wan, self.status, self.provider, self.phone = h.port(5)
        self.url = f"http://127.0.0.1:{self.status}/"

    def expected(self):
        return [
            ("the version from /status", "text('#version').includes(VERSION)"),
            ("the uptime", "/up \\d/.test(text('#uptime'))"),
            ("the configured trunk", f"text('#trunks').includes('provider') && "
                                     f"text('#trunks').includes('sip:127.0.0.1:{self.provider}')"),
            ("the trunk registered with the provider", "/\\bregistered\\b/.test(text('#trunks'))"),
            ("both extensions", "text('#phones').includes('Kitchen') && text('#phones').includes('Office')"),
            ("the registered phone with its contact",
             f"text('#phones').includes('registered') && text('#phones').includes('sip:10@127.0.0.1:{self.phone}')"),
            ("the phone's user agent", "text('#phones').includes('status-page-phone')"),
            ("the call list", "text('#recent').includes('No calls yet')"),
            ("no lock or limit, as there is none", "!/locked|blocked/.test(text('#phones'))"),
        ]

    def start(self, name, token=None):
        """sipp as the provider's registrar (grants one REGISTER, then exits), the daemon, and
        phone 10 registered with it; returns the daemon and the version it reports."""
        provider = self.h.sipp_bg(os.path.join(HERE, "provider_registrar.xml"), None, self.provider,
                                  name=f"provider-{name}", timeout=60)
        status = {"listen": f"127.0.0.1:{self.status}", **({"token": token} if token else {})}
        d = self.h.start_daemon({
            "lan": {"listen": [f"udp:127.0.0.1:{self.lan}"], "networks": ["127.0.0.0/8"]},
            "wan": {"address": "127.0.0.1", "port": self.wan},
            "extensions": [{"number": "10", "name": "Kitchen", "password": "pw-kitchen-Jk55"},
                           {"number": "11", "name": "Office", "password": "pw-office-Hg44"}],
            "trunks": [{"name": "provider", "registrar": f"sip:127.0.0.1:{self.provider}", "username": "4930123456",
                        "password": "trunk-pw-Fd33", "numbers": ["+4930123456"], "keepalive": {"method": "off"}}],
            "routing": {"outbound": [{"prefix": "", "trunk": "provider"}]},
            "status": status,
        }, name=name)
        code = register(self.lan, "10", "pw-kitchen-Jk55", self.phone, user_agent="status-page-phone")
        check(code == 200, f"phone 10 registers with the daemon (got {code})")
        registered = wait_until(lambda: get_json(self.status, token=token)["trunks"][0].get("state") == "registered", 10)
        check(registered and provider.wait(10) == 0, "the trunk registered with the provider")
        return d, get_json(self.status, token=token)["version"]

    def check_page(self, page, version, where):
        for description, expression in self.expected():
            js = f"(() => {{ {TEXT} const VERSION = {version!r}; return {expression}; }})()"
            if not page.wait_for(js, 10):
                body = page.evaluate("document.body.innerText")
                fail(f"{where}: the page does not show {description}:\n{body}")
            print(f"ok: {where}: the page shows {description}", flush=True)


def need_chromium():
    if not os.access(CHROMIUM, os.X_OK):
        print(f"SKIP: {CHROMIUM} not installed (packaging/install-deps.sh --test installs it)")
        sys.exit(77)


def page(binary):
    need_chromium()
    with Harness("status-page", binary) as h:
        s = Setup(h)
        d, version = s.start("b2bua")
        with Browser() as browser:
            p = browser.open(s.url)
            s.check_page(p, version, "desktop")
            errors = p.errors()
            check(not errors, f"no console errors or exceptions ({errors})")
            # The check above can fail: an error the page would log is seen.
            p.evaluate("setTimeout(() => console.error('probe-error'), 0); 1")
            check(p.wait_for("document.readyState === 'complete'", 2) and
                  any("probe-error" in e for e in p.errors()), "a console error would be caught")
            p.events.clear()

            # A phone screen: nothing wider than the viewport, sections stacked.
            p.call("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=3, mobile=True)
            p.navigate(s.url)
            s.check_page(p, version, "phone")
            overflow = p.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            check(overflow is not None and overflow <= 0, f"no horizontal scrolling on a 390 px screen ({overflow} px)")
            p.close()
        h.stop_daemon(d)


def page_token(binary):
    """The page takes the token from the fragment, which never reaches the server."""
    need_chromium()
    with Harness("status-page-token", binary) as h:
        s = Setup(h)
        d, version = s.start("token", token=TOKEN)
        with Browser() as browser:
            p = browser.open(f"{s.url}#token={TOKEN}")
            s.check_page(p, version, "token in fragment")
            errors = p.errors()
            check(not errors, f"no console errors with the token ({errors})")
            p.navigate(s.url)
            banner = p.wait_for("document.querySelector('#banner').innerText.includes('#token=')", 10)
            check(banner, "without the token the page says how to pass it")
            p.close()
        check(TOKEN not in d.output(), "the token from the fragment never reached the server's log")
        h.stop_daemon(d)


# The visible text of the Phones rows of one extension (a row per binding, or one without).
ROW = ("const row = (ext) => [...document.querySelectorAll('#phones tbody tr')]"
       ".filter((tr) => tr.cells[0].innerText.trim() === ext).map((tr) => tr.innerText).join('\\n');")


def ends_at(unix_s):
    """How the page writes the time a lock or block ends: HH:MM in local time (the browser's
    zone is the test's), a date in front when that is not today (a run just before midnight)."""
    return r"(\d{4}-\d\d-\d\d )?" + re.escape(time.strftime("%H:%M", time.localtime(unix_s)))


def phone_rows_show(status, expected):
    """The page, on a desktop and then a 390 px phone screen, shows each (description, JS
    expression over row(ext)) of `expected` in the phones table, needs no horizontal scrolling
    on the phone, and logs no errors."""
    with Browser() as browser:
        p = browser.open(f"http://127.0.0.1:{status}/")
        for where in ("desktop", "phone"):
            if where == "phone":
                p.call("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=3, mobile=True)
                p.navigate(f"http://127.0.0.1:{status}/")
            for description, expression in expected:
                if not p.wait_for(f"(() => {{ {ROW} return {expression}; }})()", 10):
                    shown = p.evaluate("document.querySelector('#phones').innerText")
                    fail(f"{where}: the page does not show {description}:\n{shown}")
                print(f"ok: {where}: the page shows {description}", flush=True)
        overflow = p.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        check(overflow is not None and overflow <= 0, f"no horizontal scrolling on a 390 px screen ({overflow} px)")
        errors = p.errors()
        check(not errors, f"no console errors or exceptions ({errors})")
        p.close()


def page_locks_and_limits(binary):
    """Extension 10 locked by wrong passwords from two addresses (each under its own limit),
    11 blocked by its limit of one call out an hour, 12 neither: the page shows each with the
    time it ends, on a desktop and a phone screen, and nothing for 12."""
    need_chromium()
    with Harness("status-page-locks", binary) as h:
        lan, wan, status, provider_port = h.port(4)
        d = h.start_daemon({
            "lan": {"listen": [f"udp:127.0.0.1:{lan}"], "networks": ["127.0.0.0/8"]},
            "wan": {"address": "127.0.0.1", "port": wan},
            "registrar": {"qualify_interval": 0, "lock_after_failures": 4, "lock_min_sources": 2},
            "extensions": [{"number": "10", "name": "Kitchen", "password": "pw-kitchen-Jk55"},
                           {"number": "11", "name": "Office", "password": "pw-office-Hg44",
                            "limits": {"calls_per_hour": 1}},
                           {"number": "12", "name": "Hall", "password": "pw-hall-Rt61"}],
            "trunks": [{"name": "provider", "registrar": f"sip:127.0.0.1:{provider_port}", "username": "4930123456",
                        "register": False, "numbers": ["+4930123456"], "keepalive": {"method": "off"}}],
            "routing": {"outbound": [{"prefix": "0", "trunk": "provider"}]},
            "media": {"ports": list(h.ports.span(20)), "timeout": 30},
            "status": {"listen": f"127.0.0.1:{status}"},
        })
        # Two wrong passwords for 10 from each of two addresses: 4 failures from 2 sources lock it.
        for source in ("127.0.0.2", "127.0.0.3"):
            with Client(lan, 0, "10", bind_host=source) as guesser:
                challenge = guesser.register().challenge()
                for n in (1, 2):
                    r = guesser.register(guesser.digest(challenge, f"guess-{source}-{n}", n))
                    check(r is not None and r.status == 403, f"wrong password {n} for 10 from {source}: 403")
        locks = wait_until(lambda: get_json(status)["registrar"]["locked_extensions"], 3) or []
        check([lock["ext"] for lock in locks] == ["10"], f"/status: 10 is locked {locks}")
        lock_until = locks[0]["until"]

        # 11 may make one call out an hour: the second is refused and blocks it.
        prov = h.sipp_bg(scenarios.provider_answer(), f"127.0.0.1:{wan}", provider_port, name="provider", timeout=40)
        time.sleep(0.3)
        for name, dialled, expect in (("first", "0301001", "200"), ("second", "0301002", "403")):
            r = h.sipp(h.write_scenario(name, scenarios.phone_call_out("11", "pw-office-Hg44", dialled, expect=expect,
                                                                        hold_ms=300)),
                       f"127.0.0.1:{lan}", h.port(), name=name)
            check_sipp(r, f"the {name} call out of 11 this hour: {expect}")
            if name == "first":
                h.finish(prov, "the provider answered the first call")
        limits = next(e for e in get_json(status)["extensions"] if e["number"] == "11")["limits"]
        check(limits.get("blocked") is True and limits.get("blocked_by") == "calls_per_hour" and
              limits.get("blocked_until"), f"/status: 11 is blocked by calls_per_hour {limits}")

        lock_text = r"locked \(password guessing\) until " + ends_at(lock_until)
        block_text = "external calls blocked: calls_per_hour until " + ends_at(limits["blocked_until"])
        expected = [
            ("10 locked until the lock ends", f"new RegExp({json.dumps(lock_text)}).test(row('10'))"),
            ("11's calls out blocked until the block ends", f"new RegExp({json.dumps(block_text)}).test(row('11'))"),
            ("no block for 10, no lock for 11",
             "!row('10').includes('external calls') && !row('11').includes('password guessing')"),
            ("nothing of the kind for 12", "row('12').includes('Hall') && !/locked|blocked/.test(row('12'))"),
        ]
        phone_rows_show(status, expected)
        h.stop_daemon(d)


def page_forwarding(binary):
    """Extension 10 forwards on busy and on no answer (from the file), 11 is on do-not-disturb
    and forwards every call, set from its phone with feature codes; 12 has nothing: the page
    shows each extension's forwarding in its row, on a desktop and a phone screen."""
    need_chromium()
    with Harness("status-page-forwarding", binary) as h:
        lan, wan, status, provider_port = h.port(4)
        d = h.start_daemon({
            "lan": {"listen": [f"udp:127.0.0.1:{lan}"], "networks": ["127.0.0.0/8"]},
            "wan": {"address": "127.0.0.1", "port": wan},
            "registrar": {"qualify_interval": 0},
            "extensions": [{"number": "10", "name": "Kitchen", "password": "pw-kitchen-Jk55",
                            "forward": {"busy": "11", "no_answer": "0301234567", "no_answer_after": 25}},
                           {"number": "11", "name": "Office", "password": "pw-office-Hg44"},
                           {"number": "12", "name": "Hall", "password": "pw-hall-Rt61"}],
            "trunks": [{"name": "provider", "registrar": f"sip:127.0.0.1:{provider_port}", "username": "4930123456",
                        "register": False, "numbers": ["+4930123456"], "keepalive": {"method": "off"}}],
            "routing": {"outbound": [{"prefix": "0", "trunk": "provider"}]},
            "media": {"ports": list(h.ports.span(20)), "timeout": 30},
            "status": {"listen": f"127.0.0.1:{status}"},
        })
        for code in ("*26%23", "*21*12%23"):
            xml = scenarios.phone_call("11", "pw-office-Hg44", code, hangup="callee", play=False)
            r = h.sipp(h.write_scenario(f"code{code[1:3]}", xml), f"127.0.0.1:{lan}", h.port(), name=f"code{code[1:3]}")
            check_sipp(r, f"11 dials {code}: 200, then our BYE")
        features = next(e for e in get_json(status)["extensions"] if e["number"] == "11")["features"]
        check(features["dnd"] is True and features["forward"]["always"] == "12",
              f"/status: 11 is on do-not-disturb and forwards to 12 {features}")
        expected = [
            ("10's busy and no-answer forwards", "row('10').includes('busy \u2192 11') && "
                                                 "row('10').includes('no answer \u2192 0301234567 after 25 s')"),
            ("11 on do-not-disturb forwarding all calls to 12",
             "row('11').includes('do-not-disturb') && row('11').includes('all calls \u2192 12')"),
            ("nothing for 12", "row('12').includes('Hall') && !/\u2192|do-not-disturb/.test(row('12'))"),
        ]
        phone_rows_show(status, expected)
        h.stop_daemon(d)


if __name__ == "__main__":
    run_flows({f.__name__: f for f in (page, page_token, page_locks_and_limits, page_forwarding)})
