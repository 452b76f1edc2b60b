#!/usr/bin/env python3
"""The status page's voicemail part (flow voicemail_page): two messages in extension 10's
mailbox (rows and WAV files put in place while the daemon is stopped; its start-up
reconcile keeps rows whose file exists) are listed by GET /voicemail and on the page in a real
headless Chromium; Play fetches the WAV with the token and the <audio> element loads it (a
finite duration); Delete (confirm() answered yes) removes the row from the page, from
GET /voicemail and the file from disk. Over plain HTTP: the token is needed (401), unknown ids
and paths that try to climb out are 404, deleting without or with a wrong CSRF token or from a
foreign Origin is 403, other methods 405 (501 from evhttp for DELETE and OPTIONS), and a delete with the token from GET /voicemail
works (204). Exit 77 (skipped) without chromium."""
import http.client
import json
import math
import os
import re
import sqlite3
import struct
import sys
import time
import wave

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
sys.path.insert(0, HERE)
from harness import Harness, check, fail, run_flows, wait_until  # noqa: E402
from cdp import CHROMIUM, Browser  # noqa: E402

TOKEN = "vm-page-token-3c4d5e6f7a"


def need_chromium():
    if not os.access(CHROMIUM, os.X_OK):
        print(f"SKIP: {CHROMIUM} not installed (packaging/install-deps.sh --test installs it)")
        sys.exit(77)


def request(port, method, path, token=TOKEN, headers=None):
    """(status, headers dict with lower-case keys, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        h = {"Authorization": f"Bearer {token}"} if token else {}
        h.update(headers or {})
        conn.request(method, path, headers=h)
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def voicemail(port):
    status, _, body = request(port, "GET", "/voicemail")
    check(status == 200, f"GET /voicemail with the token: 200 ({status} {body[:200]!r})")
    return json.loads(body)


def write_wav(path, seconds, freq, rate=8000):
    samples = [int(6000 * math.sin(2 * math.pi * freq * i / rate)) for i in range(int(rate * seconds))]
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(struct.pack(f"<{len(samples)}h", *samples))


def voicemail_page(binary):
    need_chromium()
    with Harness("status-voicemail-page", binary) as h:
        lan, status = h.port(2)
        config = {
            "lan": {"listen": [f"udp:127.0.0.1:{lan}"], "networks": ["127.0.0.0/8"]},
            "registrar": {"qualify_interval": 0},
            "extensions": [{"number": "10", "name": "Kitchen", "password": "pw-kitchen-Jk55",
                            "voicemail": {"always": True}},
                           {"number": "11", "name": "Office", "password": "pw-office-Hg44"}],
            "status": {"listen": f"127.0.0.1:{status}", "token": TOKEN},
        }
        # A first start creates the database; the messages go in while the daemon is stopped.
        h.stop_daemon(h.start_daemon(config, name="first"))
        folder = h.path(os.path.join("voicemail", "10"))
        os.makedirs(folder, exist_ok=True)
        now_ms = int(time.time() * 1000)
        messages = [  # (file, caller number, caller name, received_ms, seconds, heard)
            ("10/1700000000001-1.wav", "+4989111222", "Anna Example", now_ms - 3_600_000, 2.0, 0),
            ("10/1700000000002-2.wav", "+4930555666", "", now_ms - 60_000, 3.0, 1),
        ]
        con = sqlite3.connect(h.path("b2bua.db"))
        try:
            for i, (file, number, name, received, seconds, heard) in enumerate(messages):
                path = h.path(os.path.join("voicemail", file))
                write_wav(path, seconds, 440 + 220 * i)
                con.execute("INSERT INTO voice_messages (mailbox, caller_number, caller_name, received_ms, "
                            "duration_ms, size_bytes, file, heard) VALUES ('10', ?, ?, ?, ?, ?, ?, ?)",
                            (number, name, received, int(seconds * 1000), os.path.getsize(path), file, heard))
            con.commit()
        finally:
            con.close()
        d = h.start_daemon(config, name="b2bua")

        # --- plain HTTP ---
        code, _, _ = request(status, "GET", "/voicemail", token=None)
        check(code == 401, f"GET /voicemail without the token: 401 ({code})")
        code, _, _ = request(status, "GET", "/voicemail", token="wrong-token")
        check(code == 401, f"GET /voicemail with a wrong token: 401 ({code})")
        v = voicemail(status)
        listed = v["mailboxes"].get("10", [])
        check([m["caller_number"] for m in listed] == ["+4989111222", "+4930555666"] and set(v["mailboxes"]) == {"10"},
              f"GET /voicemail lists both messages of mailbox 10, oldest first ({v['mailboxes']})")
        first, second = listed
        check(first["caller_name"] == "Anna Example" and first["duration_ms"] == 2000 and first["heard"] is False and
              first["received_ms"] == messages[0][3] and second["heard"] is True and
              set(first) == {"id", "caller_number", "caller_name", "received_ms", "duration_ms", "heard"},
              f"each message with its caller, name, time, length and state ({first})")
        csrf = v.get("csrf", "")
        check(re.fullmatch(r"[0-9a-f]{64}", csrf) is not None, "GET /voicemail carries a random CSRF token")

        code, headers, body = request(status, "GET", f"/voicemail/{first['id']}.wav")
        with open(h.path(os.path.join("voicemail", messages[0][0])), "rb") as f:
            check(code == 200 and headers.get("content-type") == "audio/wav" and body == f.read(),
                  f"GET /voicemail/{first['id']}.wav: the file's bytes as audio/wav ({code} {headers.get('content-type')})")
        check("access-control-allow-origin" not in headers, "no CORS header on the audio")
        code, _, _ = request(status, "GET", f"/voicemail/{first['id']}.wav", token=None)
        check(code == 401, f"the audio without the token: 401 ({code})")
        for path in ("/voicemail/999.wav", "/voicemail/../b2bua.db", "/voicemail/%2e%2e/b2bua.db",
                     "/voicemail/..%2fb2bua.db", f"/voicemail/{first['id']}", "/voicemail/10/1700000000001-1.wav",
                     f"/voicemail/-{first['id']}.wav", "/voicemail/0x1.wav"):
            code, _, body = request(status, "GET", path)
            check(code == 404, f"GET {path}: 404 ({code} {body[:80]!r})")

        delete = f"/voicemail/{second['id']}/delete"
        origin = f"http://127.0.0.1:{status}"
        refusals = [
            ("no CSRF token", {}),
            ("a wrong CSRF token", {"X-CSRF-Token": "0" * 64}),
            ("the status token as CSRF token", {"X-CSRF-Token": TOKEN}),
            ("a foreign Origin", {"X-CSRF-Token": csrf, "Origin": "http://evil.example"}),
            ("an Origin with another port", {"X-CSRF-Token": csrf, "Origin": f"http://127.0.0.1:{status + 1}"}),
            ("Origin null", {"X-CSRF-Token": csrf, "Origin": "null"}),
        ]
        for what, headers in refusals:
            code, _, _ = request(status, "POST", delete, headers=headers)
            check(code == 403, f"POST {delete} with {what}: 403 ({code})")
        code, _, _ = request(status, "POST", delete, token=None, headers={"X-CSRF-Token": csrf})
        check(code == 401, f"POST {delete} without the status token: 401 ({code})")
        # Methods evhttp does not take at all (DELETE, OPTIONS: no CORS preflight) get its 501.
        for method, path, want in (("DELETE", f"/voicemail/{second['id']}", 501), ("OPTIONS", delete, 501),
                                   ("GET", delete, 405), ("POST", "/voicemail", 405), ("POST", "/status", 405)):
            code, headers, _ = request(status, method, path, headers={"X-CSRF-Token": csrf})
            check(code == want and "access-control-allow-origin" not in headers, f"{method} {path}: {want} ({code})")
        code, _, _ = request(status, "POST", "/voicemail/999/delete", headers={"X-CSRF-Token": csrf, "Origin": origin})
        check(code == 404, f"deleting an unknown message: 404 ({code})")
        check(len(voicemail(status)["mailboxes"]["10"]) == 2 and
              os.path.exists(h.path(os.path.join("voicemail", messages[1][0]))),
              "nothing was deleted by the refused requests")
        code, headers, _ = request(status, "GET", "/")
        check("media-src 'self' blob:" in headers.get("content-security-policy", ""),
              f"the page's CSP lets <audio> play blob: URLs ({headers.get('content-security-policy')})")

        # --- the page ---
        first_wav = h.path(os.path.join("voicemail", messages[0][0]))
        row = f"document.querySelector('[data-message=\"{first['id']}\"]')"
        with Browser() as browser:
            p = browser.open(f"http://127.0.0.1:{status}/#token={TOKEN}")
            shown = p.wait_for("(() => { const t = document.querySelector('#voicemail').innerText; "
                               "return !document.querySelector('#voicemail-section').hidden && "
                               "document.querySelectorAll('#voicemail tbody tr').length === 2 && "
                               "t.includes('+4989111222') && t.includes('Anna Example') && t.includes('+4930555666') && "
                               "/\\bnew\\b/.test(t) && /\\bheard\\b/.test(t); })()", 10)
            if not shown:
                fail(f"the page does not list both messages:\n{p.evaluate('document.body.innerText')}")
            print("ok: the page lists both messages with caller, name and state", flush=True)
            check(p.evaluate("document.querySelector('#voicemail h3').innerText") == "Mailbox 10 (Kitchen)",
                  "the mailbox is headed with its extension's name")
            received = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(messages[0][3] / 1000))
            check(p.evaluate(f"{row}.closest('tr').innerText.includes({received!r})"),
                  f"the time received in local time ({received})")

            p.evaluate(f"{row}.querySelector('button.play').click(); 1")
            duration = p.wait_for("(() => { const a = document.querySelector('#voicemail-audio'); "
                                  "return a.src.startsWith('blob:') && a.readyState >= 1 && isFinite(a.duration) && "
                                  "a.duration > 0 ? a.duration : 0; })()", 10)
            check(duration and abs(duration - 2.0) < 0.1,
                  f"Play: the <audio> element loaded the message from a blob: URL ({duration} s)")
            src = p.evaluate("document.querySelector('#voicemail-audio').src")
            check(TOKEN not in src and "token" not in src, "the token is in no URL")
            check(p.evaluate("!document.querySelector('#voicemail-player').hidden && "
                             "document.querySelector('#voicemail-player').innerText.includes('+4989111222')"),
                  "the player says whose message it plays")

            p.evaluate("window.confirm = () => true; 1")
            p.evaluate(f"{row}.querySelector('button.delete').click(); 1")
            gone = p.wait_for(f"!{row} && document.querySelectorAll('#voicemail tbody tr').length === 1", 10)
            check(gone, "Delete: the message's row is gone from the page")
            check(p.evaluate("document.querySelector('#voicemail-player').hidden"), "the player of the deleted message closed")
            left = voicemail(status)["mailboxes"].get("10", [])
            check([m["id"] for m in left] == [second["id"]], f"GET /voicemail no longer lists it ({left})")
            check(not os.path.exists(first_wav), "its WAV file is gone from disk")
            check(h.db_rows("SELECT count(*) FROM voice_messages WHERE id = ?", args=(first["id"],))[0][0] == 0,
                  "its row is gone from the database")

            # The other one deleted over HTTP with the page's CSRF token and its own Origin.
            code, _, _ = request(status, "POST", delete, headers={"X-CSRF-Token": csrf, "Origin": origin})
            check(code == 204, f"POST {delete} with the CSRF token and the page's Origin: 204 ({code})")
            code, _, _ = request(status, "POST", delete, headers={"X-CSRF-Token": csrf})
            check(code == 404, f"deleting it again: 404 ({code})")
            check(not os.path.exists(h.path(os.path.join("voicemail", messages[1][0]))), "its file is gone too")
            empty = p.wait_for("document.querySelectorAll('#voicemail tbody tr').length === 0 && "
                               "document.querySelector('#voicemail').innerText.includes('No messages')", 10)
            check(empty, "the page says the mailbox is empty after its next refresh")
            errors = p.errors()
            check(not errors, f"no console errors or exceptions ({errors})")
            p.close()

        log = d.output()
        for m in (first, second):
            check(re.search(rf"component=status event=voicemail_deleted id={m['id']} mailbox=10\b", log),
                  f"one voicemail_deleted line for message {m['id']}")
        check(len(re.findall(r"event=voicemail_deleted", log)) == 2, "one line per deletion, no more")
        check(TOKEN not in log and csrf not in log, "neither token reached the log")
        h.stop_daemon(d)


if __name__ == "__main__":
    run_flows({f.__name__: f for f in (voicemail_page,)})
