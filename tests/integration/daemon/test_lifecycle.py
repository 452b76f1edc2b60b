#!/usr/bin/env python3
"""The daemon's life: check-config, start, SIGHUP reload (good and broken file), unusable
database, orderly SIGTERM. One flow per ctest entry (run_flows)."""
import os
import re
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from harness import Harness, check, run_flows, udp_bound  # noqa: E402
from sip_client import status_of  # noqa: E402

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def config(lan_port, wan_port, level="info"):
    return {
        "lan": {"listen": [f"udp:127.0.0.1:{lan_port}"], "networks": ["127.0.0.0/8"]},
        "wan": {"address": "127.0.0.1", "port": wan_port},
        "extensions": [{"number": "10", "password": "pw-ten"}],
        "log": {"level": level},
    }


def options_status(port):
    """The status line of the answer to one OPTIONS (None when nothing answered)."""
    r = status_of(port)
    return r.status_line if r else None


def run(argv):
    return subprocess.run(argv, capture_output=True, text=True, timeout=30)


def check_config(binary):
    """--version, and check-config on the shipped default and on a broken file."""
    with Harness("daemon-check-config", binary) as h:
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


def tcp_listening(port):
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def wan_transports(binary):
    """The WAN side listens on what the trunks use and nothing more: UDP always, TCP only with a
    TCP trunk (a socket nobody needs is one a scanner can hold connections on)."""
    with Harness("daemon-wan-transports", binary) as h:
        lan, wan, registrar = h.port(3)
        trunk = {"name": "prov", "registrar": f"sip:127.0.0.1:{registrar}", "username": "u", "password": "pw-0123456",
                 "keepalive": {"method": "off"}}
        cfg = config(lan, wan)
        cfg["trunks"] = [trunk]
        d = h.start_daemon(cfg)
        check(udp_bound(wan), "UDP on the WAN port")
        check(not tcp_listening(wan), "no TCP on the WAN port while every trunk uses UDP")
        h.stop_daemon(d)
        cfg["trunks"] = [dict(trunk, transport="tcp")]
        d = h.start_daemon(cfg, name="tcp")
        check(tcp_listening(wan), "TCP on the WAN port with a TCP trunk")
        h.stop_daemon(d)


def reload_and_stop(binary):
    """SIGHUP with a good file and with a broken one; SIGTERM."""
    with Harness("daemon-reload", binary) as h:
        lan, wan = h.port(2)
        cfg_path = h.write_config(config(lan, wan))
        d = h.start_daemon(cfg_path)
        check(options_status(lan) == "SIP/2.0 200 OK", "LAN agent answers OPTIONS")
        # The WAN agent runs (its port is held) but answers only a trunk's servers: silence here.
        check(udp_bound(wan) and options_status(wan) is None, "WAN agent up, silent to a stranger")

        # A valid reload is applied.
        mark = d.log_size()
        h.write_config(config(lan, wan, level="debug"))
        d.signal(signal.SIGHUP)
        d.wait_log(r"event=config_applied", after=mark)

        # A broken file is rejected and the running config stays.
        mark = d.log_size()
        with open(cfg_path, "w") as f:
            f.write('{ "lan": { "listen": ["udp:127.0.0.1:%d"], "networks": ["127.0.0.0/8"] }, "media": { "ports": 5 } }'
                    % lan)
        d.signal(signal.SIGHUP)
        d.wait_log(r"event=reload_rejected", after=mark)
        tail = d.output()[mark:]
        check("media.ports" in tail and ":1:" in tail, "reload errors logged with path and position")
        check("event=config_applied" not in tail, "broken reload not applied")
        check(d.running() and options_status(lan) == "SIP/2.0 200 OK", "daemon keeps serving after a bad reload")

        start = time.monotonic()
        h.stop_daemon(d)
        elapsed = time.monotonic() - start
        check(elapsed < 5, f"orderly stop within 5 s ({elapsed:.2f} s)")
        check("event=stopped" in d.output(), "stop logged")


def corrupt_database(binary):
    """An unusable database stops the start with a clear message, never an empty state."""
    with Harness("daemon-database", binary) as h:
        garbage = h.path("garbage.db")
        with open(garbage, "wb") as f:
            f.write(os.urandom(8192))
        c = config(*h.port(2))
        c["storage"] = {"path": garbage}
        d = h.start_daemon(h.write_config(c, "garbage.jsonc"), name="garbage", wait=False)
        code = d.wait(15)
        out = d.output()
        check(code == 1, f"corrupted database: exit code 1 (got {code}; a daemon still running is killed after 15 s)")
        check("database unusable" in out and garbage in out, "corrupted database: path named in the error")


if __name__ == "__main__":
    run_flows({f.__name__: f for f in (check_config, wan_transports, reload_and_stop, corrupt_database)})
