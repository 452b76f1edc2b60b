#!/usr/bin/env python3
"""The status page in a real headless Chromium (Debian's chromium, driven over the DevTools
protocol): it loads with no console errors, shows the daemon's data (version, a trunk
registered with a provider that sipp plays, the extensions, a phone registered for real) and
fits a phone screen (flow page); it follows the token in the URL fragment (flow page_token).
Exit 77 (skipped) without chromium.

To extend when a feature starts describing itself: add (description, JavaScript expression) to
expected(); `text('#trunks')` is the visible text of that section."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
sys.path.insert(0, HERE)
from harness import Harness, check, fail, run_flows, wait_until  # noqa: E402
from cdp import CHROMIUM, Browser  # noqa: E402
from sip_client import register  # noqa: E402
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


if __name__ == "__main__":
    run_flows({f.__name__: f for f in (page, page_token)})
