#!/usr/bin/env python3
"""The status page in a real headless Chromium (Debian's chromium, driven over the DevTools
protocol): it loads with no console errors, shows the daemon's data (version, a trunk
registered with a provider that sipp plays, the extensions, a phone registered for real),
follows the token in the URL fragment and fits a phone screen. Ports 18120-18139 and 18096 on
127.0.0.1. Exit 77 (skipped) without chromium.

To extend when a feature starts describing itself: add (description, JavaScript expression) to
EXPECTED; `text('#trunks')` is the visible text of that section."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
sys.path.insert(0, HERE)
from harness import Harness, check, fail, wait_until  # noqa: E402
from cdp import CHROMIUM, Browser  # noqa: E402
from sip_register import register  # noqa: E402
from status_http import get_json  # noqa: E402

LAN_PORT = 18120
STATUS_PORT = 18122
PHONE_PORT = 18124
TOKEN = "page-token-5e6f7a8b9c"

TEXT = "const text = (sel) => document.querySelector(sel).innerText;"
EXPECTED = [
    ("the version from /status", "text('#version').includes(VERSION)"),
    ("the uptime", "/up \\d/.test(text('#uptime'))"),
    ("the configured trunk", "text('#trunks').includes('provider') && text('#trunks').includes('sip:127.0.0.1:18123')"),
    ("the trunk registered with the provider", "/\\bregistered\\b/.test(text('#trunks'))"),
    ("both extensions", "text('#phones').includes('Kitchen') && text('#phones').includes('Office')"),
    ("the registered phone with its contact",
     "text('#phones').includes('registered') && text('#phones').includes('sip:10@127.0.0.1:18124')"),
    ("the phone's user agent", "text('#phones').includes('status-page-phone')"),
    ("the call list", "text('#recent').includes('No calls yet')"),
]


def config(status):
    return {
        "lan": {"listen": [f"udp:127.0.0.1:{LAN_PORT}"], "networks": ["127.0.0.0/8"]},
        "wan": {"address": "127.0.0.1", "port": 18121},
        "extensions": [{"number": "10", "name": "Kitchen", "password": "pw-kitchen-Jk55"},
                       {"number": "11", "name": "Office", "password": "pw-office-Hg44"}],
        "trunks": [{"name": "provider", "registrar": "sip:127.0.0.1:18123", "username": "4930123456",
                    "password": "trunk-pw-Fd33", "numbers": ["+4930123456"], "keepalive": {"method": "off"}}],
        "routing": {"outbound": [{"prefix": "", "trunk": "provider"}]},
        "media": {"ports": [18126, 18139]},
        "status": status,
    }


def start_provider(h, name):
    """sipp as the provider's registrar on the trunk's port: grants one REGISTER, then exits."""
    return h.spawn(["sipp", "-sf", os.path.join(HERE, "provider_registrar.xml"), "-i", "127.0.0.1", "-p", "18123",
                    "-mp", "18096", "-m", "1", "-nostdin", "-timeout", "60s"], name)


def trunk_registered(provider, token=None):
    ok = wait_until(lambda: get_json(STATUS_PORT, token=token)["trunks"][0].get("state") == "registered", 10)
    return ok and provider.proc.wait(10) == 0


def check_page(page, version, where):
    for description, expression in EXPECTED:
        js = f"(() => {{ {TEXT} const VERSION = {version!r}; return {expression}; }})()"
        ok = page.wait_for(js, 10)
        if not ok:
            body = page.evaluate("document.body.innerText")
            fail(f"{where}: the page does not show {description}:\n{body}")
        print(f"ok: {where}: the page shows {description}", flush=True)


def main():
    if not os.access(CHROMIUM, os.X_OK):
        print(f"SKIP: {CHROMIUM} not installed (packaging/install-deps.sh --test installs it)")
        sys.exit(77)
    binary = sys.argv[1]
    with Harness("status-page", binary) as h:
        provider = start_provider(h, "provider")
        d = h.start_daemon(config({"listen": f"127.0.0.1:{STATUS_PORT}"}))
        code = register(LAN_PORT, "10", "pw-kitchen-Jk55", PHONE_PORT, user_agent="status-page-phone")
        check(code == 200, f"phone 10 registers with the daemon (got {code})")
        version = get_json(STATUS_PORT)["version"]
        check(trunk_registered(provider), "the trunk registered with the provider")

        with Browser() as browser:
            page = browser.open(f"http://127.0.0.1:{STATUS_PORT}/")
            check_page(page, version, "desktop")
            errors = page.errors()
            check(not errors, f"no console errors or exceptions ({errors})")
            # The check above can fail: an error the page would log is seen.
            page.evaluate("setTimeout(() => console.error('probe-error'), 0); 1")
            check(page.wait_for("document.readyState === 'complete'", 2) and
                  any("probe-error" in e for e in page.errors()), "a console error would be caught")
            page.events.clear()

            # A phone screen: nothing wider than the viewport, sections stacked.
            page.call("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=3, mobile=True)
            page.navigate(f"http://127.0.0.1:{STATUS_PORT}/")
            check_page(page, version, "phone")
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            check(overflow is not None and overflow <= 0, f"no horizontal scrolling on a 390 px screen ({overflow} px)")
            page.close()
        check(d.stop() == 0, "daemon stops cleanly")

        # With a token: the page takes it from the fragment, which never reaches the server.
        provider = start_provider(h, "provider2")
        d = h.start_daemon(config({"listen": f"127.0.0.1:{STATUS_PORT}", "token": TOKEN}), name="token")
        check(trunk_registered(provider, TOKEN), "the trunk registered again")
        code = register(LAN_PORT, "10", "pw-kitchen-Jk55", PHONE_PORT, user_agent="status-page-phone")
        check(code == 200, "phone 10 registers again")
        with Browser() as browser:
            page = browser.open(f"http://127.0.0.1:{STATUS_PORT}/#token={TOKEN}")
            check_page(page, version, "token in fragment")
            errors = page.errors()
            check(not errors, f"no console errors with the token ({errors})")
            page.navigate(f"http://127.0.0.1:{STATUS_PORT}/")
            banner = page.wait_for("document.querySelector('#banner').innerText.includes('#token=')", 10)
            check(banner, "without the token the page says how to pass it")
            page.close()
        check(TOKEN not in d.output(), "the token from the fragment never reached the server's log")
        check(d.stop() == 0, "daemon with token stops cleanly")
    print("PASS")


if __name__ == "__main__":
    main()
