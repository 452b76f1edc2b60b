#!/usr/bin/env python3
"""The status endpoint against a running daemon: GET /status, /metrics and /, `b2bua status`
(table and --json), the token, and the listen-address rules. Ports 18100-18105 and 18140-18159
(media) on 127.0.0.1."""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
sys.path.insert(0, HERE)
from harness import Harness, check, wait_until  # noqa: E402
from sip_register import register  # noqa: E402
from status_http import get, get_json  # noqa: E402

LAN_PORT = 18100
WAN_PORT = 18101
STATUS_PORT = 18102
PHONE_PORT = 18106
TOKEN = "integration-token-7f3a9c"
SECRETS = ["pw-ten-Qx19", "pw-eleven-Rt28", "trunk-secret-Lm47", TOKEN]


def config(status=None, trunk_port=18103):
    return {
        "lan": {"listen": [f"udp:127.0.0.1:{LAN_PORT}"], "networks": ["127.0.0.0/8"]},
        "wan": {"address": "127.0.0.1", "port": WAN_PORT},
        "extensions": [{"number": "10", "name": "Kitchen", "password": "pw-ten-Qx19"},
                       {"number": "11", "name": "Office", "password": "pw-eleven-Rt28"}],
        # Nothing answers on trunk_port: the trunk stays unregistered, which is what we show.
        "trunks": [{"name": "provider", "registrar": f"sip:127.0.0.1:{trunk_port}", "username": "4930123456",
                    "password": "trunk-secret-Lm47", "numbers": ["+4930123456"]}],
        "routing": {"outbound": [{"prefix": "", "trunk": "provider"}]},
        "media": {"ports": [18140, 18159]},
        "status": status or {"listen": f"127.0.0.1:{STATUS_PORT}"},
    }


def run(argv, timeout=30):
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)


def no_secret(text, where):
    leaked = [s for s in SECRETS if s in text]
    check(not leaked, f"{where} shows no password or token")


def main():
    binary = sys.argv[1]
    with Harness("status", binary) as h:
        # --- listen-address rules (config errors, reported before anything binds)
        remote = h.write_config(config({"listen": f"0.0.0.0:{STATUS_PORT}"}), name="remote.jsonc")
        r = run([binary, "check-config", remote])
        check(r.returncode == 1 and "status.listen" in r.stdout and "allow_remote" in r.stdout,
              "non-loopback status.listen without allow_remote is a config error")
        d = h.start_daemon(remote, name="remote", wait=False)
        d.proc.wait(15)
        check(d.proc.returncode == 1 and "status.allow_remote" in d.output(),
              "daemon refuses to start on it, exit code 1, naming status.allow_remote")
        weak = h.write_config(config({"listen": f"0.0.0.0:{STATUS_PORT}", "allow_remote": True, "token": "short"}),
                              name="weak.jsonc")
        r = run([binary, "check-config", weak])
        check(r.returncode == 1 and "status.token" in r.stdout and "16 characters" in r.stdout,
              "allow_remote needs a token of at least 16 characters")

        # --- a running daemon, no token
        cfg = h.write_config(config())
        d = h.start_daemon(cfg)
        check(register(LAN_PORT, "10", "pw-ten-Qx19", PHONE_PORT, user_agent="endpoint-phone") == 200,
              "a phone registers as extension 10")
        status = get_json(STATUS_PORT)
        check(status.get("version") and status.get("pid") == d.pid, "/status has the version and the daemon's pid")
        check(isinstance(status.get("uptime_s"), int), "/status has the uptime")
        check([t["name"] for t in status["trunks"]] == ["provider"], "/status lists the configured trunk")
        check(status["trunks"][0]["registrar"] == "sip:127.0.0.1:18103", "trunk entry has its registrar")
        check(status["trunks"][0].get("state") in ("registering", "backoff"),
              f"the trunk reports its live state ({status['trunks'][0].get('state')})")
        check([e["number"] for e in status["extensions"]] == ["10", "11"], "/status lists the extensions")
        ext10 = status["extensions"][0]
        check(ext10["name"] == "Kitchen" and [b["contact"] for b in ext10.get("bindings", [])] ==
              [f"sip:10@127.0.0.1:{PHONE_PORT}"], "extension 10 shows its binding")
        check(status["extensions"][1].get("bindings") == [], "extension 11 has no binding")
        check(status.get("recent_calls") == [], "/status has the (empty) call records")
        no_secret(json.dumps(status), "/status")

        code, headers, metrics = get(STATUS_PORT, "/metrics")
        check(code == 200 and headers["content-type"].startswith("text/plain; version=0.0.4"),
              "/metrics answers in the Prometheus text format")
        check("# TYPE b2bua_info gauge" in metrics and 'b2bua_info{version="' in metrics, "/metrics has b2bua_info")
        check("b2bua_trunks_configured 1" in metrics and "b2bua_extensions_configured 2" in metrics,
              "/metrics counts the configured trunks and extensions")
        check('b2bua_bindings{extension="10"} 1' in metrics and 'b2bua_bindings{extension="11"} 0' in metrics,
              "/metrics counts bindings per extension")
        check('b2bua_trunk_registered{trunk="provider"} 0' in metrics, "/metrics says the trunk is not registered")
        check("b2bua_active_calls 0" in metrics, "/metrics has the active calls")
        no_secret(metrics, "/metrics")

        code, headers, page = get(STATUS_PORT, "/")
        check(code == 200 and headers["content-type"].startswith("text/html") and "<title>b2bua status</title>" in page,
              "/ serves the status page")
        check("default-src 'none'" in headers.get("content-security-policy", ""),
              "the page is served with a CSP that forbids external assets")
        check(get(STATUS_PORT, "/nope")[0] == 404, "unknown paths get 404")

        r = run([binary, "status", "--config", cfg])
        check(r.returncode == 0, f"b2bua status exits 0 ({r.stderr.strip()})")
        for needle in ("TRUNKS", "provider", "PHONES", "Kitchen", "Office", f"sip:10@127.0.0.1:{PHONE_PORT}",
                       "endpoint-phone", "not registered", "ACTIVE CALLS", "RECENT CALLS"):
            check(needle in r.stdout, f"b2bua status shows {needle}")
        no_secret(r.stdout, "b2bua status")
        r = run([binary, "status", "--config", cfg, "--json"])
        check(r.returncode == 0 and json.loads(r.stdout)["extensions"][1]["name"] == "Office",
              "b2bua status --json prints the snapshot")
        check(d.stop() == 0, "daemon stops cleanly with the status endpoint running")

        r = run([binary, "status", "--config", cfg])
        check(r.returncode == 1 and "is the daemon running?" in r.stderr, "b2bua status says when nothing answers")

        # --- with a token
        tok_cfg = h.write_config(config({"listen": f"127.0.0.1:{STATUS_PORT}", "token": TOKEN}), name="token.jsonc")
        d = h.start_daemon(tok_cfg, name="token")
        code, headers, body = get(STATUS_PORT, "/status")
        check(code == 401 and headers.get("www-authenticate", "").startswith("Bearer"), "/status without token: 401")
        check(get(STATUS_PORT, "/metrics")[0] == 401, "/metrics without token: 401")
        check(get(STATUS_PORT, "/status", token="wrong-token-wrong-token")[0] == 401, "wrong token: 401")
        check(get(STATUS_PORT, "/status", token=TOKEN)[0] == 200, "right token: 200")
        check(get(STATUS_PORT, "/metrics", token=TOKEN)[0] == 200, "right token on /metrics: 200")
        no_secret(body, "the 401 answer")
        d.wait_log(r"event=unauthorized .*reason=\"no token\"")
        check(TOKEN not in d.output(), "the token is never logged")
        r = run([binary, "status", "--config", tok_cfg])
        check(r.returncode == 0 and "Kitchen" in r.stdout, "b2bua status sends the token from the config")

        # SIGHUP with a new token: applies without a restart.
        new_token = "rotated-token-0a1b2c3d"
        with open(tok_cfg, "w") as f:
            json.dump(config({"listen": f"127.0.0.1:{STATUS_PORT}", "token": new_token}), f)
        mark = d.log_size()
        d.signal(1)
        d.wait_log(r"event=config_applied", after=mark)
        check(wait_until(lambda: get(STATUS_PORT, "/status", token=new_token)[0] == 200, 5),
              "reload applies the new token")
        check(get(STATUS_PORT, "/status", token=TOKEN)[0] == 401, "the old token no longer works")

        # --- the status port taken: the daemon says so and exits 1
        d2 = h.start_daemon(h.write_config(dict(config(), lan={"listen": ["udp:127.0.0.1:18104"],
                                                                "networks": ["127.0.0.0/8"]},
                                                wan={"address": "127.0.0.1", "port": 18105},
                                                status={"listen": f"127.0.0.1:{STATUS_PORT}"},
                                                storage={"path": "second.db"}), name="busy.jsonc"),
                            name="busy", wait=False)
        d2.proc.wait(20)
        check(d2.proc.returncode == 1 and "status.listen 127.0.0.1:18102: cannot bind" in d2.output(),
              "a taken status port stops the start with exit code 1 and names the address")
        check(d.stop() == 0, "daemon with token stops cleanly")
    print("PASS")


if __name__ == "__main__":
    main()
