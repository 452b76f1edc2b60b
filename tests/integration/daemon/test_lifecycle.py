#!/usr/bin/env python3
"""The daemon's life: check-config, start, SIGHUP reload (good and broken file), unusable
database, orderly SIGTERM. Ports 17060-17079 on 127.0.0.1."""
import os
import re
import socket
import subprocess
import sys
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from harness import Harness, check, fail  # noqa: E402

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
LAN_PORT = 17060
WAN_PORT = 17061


def config(level="info"):
    return {
        "lan": {"listen": [f"udp:127.0.0.1:{LAN_PORT}"], "networks": ["127.0.0.0/8"]},
        "wan": {"address": "127.0.0.1", "port": WAN_PORT},
        "extensions": [{"number": "10", "password": "pw-ten"}],
        "media": {"ports": [17100, 17199]},
        "status": {"listen": "127.0.0.1:17070"},
        "log": {"level": level},
    }


def options_ping(port, timeout=2.0):
    """Sends one OPTIONS and returns the status line of the answer (or None)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.settimeout(timeout)
    lport = s.getsockname()[1]
    branch = "z9hG4bK" + uuid.uuid4().hex[:12]
    msg = (f"OPTIONS sip:127.0.0.1:{port} SIP/2.0\r\n"
           f"Via: SIP/2.0/UDP 127.0.0.1:{lport};branch={branch};rport\r\n"
           "Max-Forwards: 70\r\n"
           f"From: <sip:probe@127.0.0.1>;tag={uuid.uuid4().hex[:8]}\r\n"
           f"To: <sip:127.0.0.1:{port}>\r\n"
           f"Call-ID: {uuid.uuid4().hex}\r\n"
           "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
    s.sendto(msg.encode(), ("127.0.0.1", port))
    try:
        data, _ = s.recvfrom(65535)
        return data.decode(errors="replace").split("\r\n", 1)[0]
    except socket.timeout:
        return None
    finally:
        s.close()


def run(argv):
    return subprocess.run(argv, capture_output=True, text=True, timeout=30)


def main():
    binary = sys.argv[1]
    with Harness("daemon", binary) as h:
        r = run([binary, "--version"])
        check(r.returncode == 0 and re.match(r"b2bua \d+\.\d+\.\d+", r.stdout), "--version prints the version")

        r = run([binary, "check-config", os.path.join(SRC, "etc", "b2bua.jsonc")])
        check(r.returncode == 0 and "OK" in r.stdout, "shipped default config passes check-config")

        bad = h.path("bad.jsonc")
        with open(bad, "w") as f:
            f.write('{\n  "lan": { "listen": ["udp:127.0.0.1:5060"], "networks": ["127.0.0.0/8"], "relam": "x" },\n'
                    '  "media": { "timeout": "60" }\n}\n')
        r = run([binary, "check-config", bad])
        check(r.returncode == 1, "check-config exits non-zero on a broken file")
        check(f"{bad}:2:" in r.stdout and "lan.relam" in r.stdout and "did you mean 'realm'" in r.stdout,
              "unknown key reported with line and suggestion")
        check(f"{bad}:3:" in r.stdout and "media.timeout" in r.stdout and "2 errors" in r.stdout,
              "every error reported at once")

        cfg_path = h.write_config(config())
        d = h.start_daemon(cfg_path)
        check(options_ping(LAN_PORT) == "SIP/2.0 200 OK", "LAN agent answers OPTIONS")
        check(options_ping(WAN_PORT) is not None, "WAN agent answers")

        # A valid reload is applied.
        mark = d.log_size()
        h.write_config(config(level="debug"))
        d.signal(1)  # SIGHUP
        d.wait_log(r"event=config_applied", after=mark)

        # A broken file is rejected and the running config stays.
        mark = d.log_size()
        with open(cfg_path, "w") as f:
            f.write('{ "lan": { "listen": ["udp:127.0.0.1:%d"], "networks": ["127.0.0.0/8"] }, "media": { "ports": 5 } }'
                    % LAN_PORT)
        d.signal(1)
        d.wait_log(r"event=reload_rejected", after=mark)
        tail = d.output()[mark:]
        check("media.ports" in tail and ":1:" in tail, "reload errors logged with path and position")
        check("event=config_applied" not in tail, "broken reload not applied")
        check(d.running() and options_ping(LAN_PORT) == "SIP/2.0 200 OK", "daemon keeps serving after a bad reload")

        start = time.monotonic()
        code = d.stop(timeout=10)
        elapsed = time.monotonic() - start
        check(code == 0, f"SIGTERM exits 0 (got {code})")
        check(elapsed < 5, f"orderly stop within 5 s ({elapsed:.2f} s)")
        check("event=stopped" in d.output(), "stop logged")

        # An unusable database stops the start with a clear message, never an empty state.
        garbage = h.path("garbage.db")
        with open(garbage, "wb") as f:
            f.write(os.urandom(8192))
        c = config()
        c["storage"] = {"path": garbage}
        d2 = h.start_daemon(h.write_config(c, "garbage.jsonc"), name="garbage", wait=False)
        try:
            d2.proc.wait(15)
        except subprocess.TimeoutExpired:
            fail("daemon kept running on a corrupted database")
        out = d2.output()
        check(d2.proc.returncode == 1, "corrupted database: exit code 1")
        check("database unusable" in out and garbage in out, "corrupted database: path named in the error")
    print("daemon lifecycle: all checks passed")


if __name__ == "__main__":
    main()
