#!/usr/bin/env python3
"""The status endpoint against a running daemon: GET /status, /metrics and /, `b2bua status`
(table and --json), the token, and the listen-address rules. One flow per ctest entry
(run_flows)."""
import json
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from harness import Harness, check, run_flows, wait_until  # noqa: E402
from sip_client import register  # noqa: E402
from status_http import get, get_json  # noqa: E402

TOKEN = "integration-token-7f3a9c"
SECRETS = ["pw-ten-Qx19", "pw-eleven-Rt28", "trunk-secret-Lm47", TOKEN]


class Setup:
    def __init__(self, h):
        self.h = h
        self.lan, self.wan, self.status, self.trunk, self.phone = h.port(5)
        self.listen = f"127.0.0.1:{self.status}"

    def config(self, status=None, **changes):
        cfg = {
            "lan": {"listen": [f"udp:127.0.0.1:{self.lan}"], "networks": ["127.0.0.0/8"]},
            "wan": {"address": "127.0.0.1", "port": self.wan},
            "extensions": [{"number": "10", "name": "Kitchen", "password": "pw-ten-Qx19"},
                           {"number": "11", "name": "Office", "password": "pw-eleven-Rt28"}],
            # Nothing answers on the trunk's port: the trunk stays unregistered, which is what we show.
            "trunks": [{"name": "provider", "registrar": f"sip:127.0.0.1:{self.trunk}", "username": "4930123456",
                        "password": "trunk-secret-Lm47", "numbers": ["+4930123456"]}],
            "routing": {"outbound": [{"prefix": "", "trunk": "provider"}]},
            "status": status or {"listen": self.listen},
        }
        cfg.update(changes)
        return cfg


def run(argv, timeout=30):
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)


def no_secret(text, where):
    leaked = [s for s in SECRETS if s in text]
    check(not leaked, f"{where} shows no password or token")


def listen_rules(binary):
    """Listen-address rules: config errors, reported before anything binds."""
    with Harness("status-listen", binary) as h:
        s = Setup(h)
        remote = h.write_config(s.config({"listen": f"0.0.0.0:{s.status}"}), name="remote.jsonc")
        r = run([binary, "check-config", remote])
        check(r.returncode == 1 and "status.listen" in r.stdout and "allow_remote" in r.stdout,
              "non-loopback status.listen without allow_remote is a config error")
        d = h.start_daemon(remote, name="remote", wait=False)
        check(d.wait(15) == 1 and "status.allow_remote" in d.output(),
              "daemon refuses to start on it, exit code 1, naming status.allow_remote")
        weak = h.write_config(s.config({"listen": f"0.0.0.0:{s.status}", "allow_remote": True, "token": "short"}),
                              name="weak.jsonc")
        r = run([binary, "check-config", weak])
        check(r.returncode == 1 and "status.token" in r.stdout and "16 characters" in r.stdout,
              "allow_remote needs a token of at least 16 characters")


def endpoint(binary):
    """A running daemon without a token: /status, /metrics, /, and `b2bua status`."""
    with Harness("status-endpoint", binary) as h:
        s = Setup(h)
        cfg = h.write_config(s.config())
        d = h.start_daemon(cfg)
        check(register(s.lan, "10", "pw-ten-Qx19", s.phone, user_agent="endpoint-phone") == 200,
              "a phone registers as extension 10")
        status = get_json(s.status)
        check(status.get("version") and status.get("pid") == d.pid, "/status has the version and the daemon's pid")
        check(isinstance(status.get("uptime_s"), int), "/status has the uptime")
        check([t["name"] for t in status["trunks"]] == ["provider"], "/status lists the configured trunk")
        check(status["trunks"][0]["registrar"] == f"sip:127.0.0.1:{s.trunk}", "trunk entry has its registrar")
        check(status["trunks"][0].get("state") in ("registering", "backoff"),
              f"the trunk reports its live state ({status['trunks'][0].get('state')})")
        check([e["number"] for e in status["extensions"]] == ["10", "11"], "/status lists the extensions")
        ext10 = status["extensions"][0]
        check(ext10["name"] == "Kitchen" and [b["contact"] for b in ext10.get("bindings", [])] ==
              [f"sip:10@127.0.0.1:{s.phone}"], "extension 10 shows its binding")
        check(status["extensions"][1].get("bindings") == [], "extension 11 has no binding")
        check(status.get("recent_calls") == [], "/status has the (empty) call records")
        no_secret(json.dumps(status), "/status")

        code, headers, metrics = get(s.status, "/metrics")
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

        code, headers, page = get(s.status, "/")
        check(code == 200 and headers["content-type"].startswith("text/html") and "<title>b2bua status</title>" in page,
              "/ serves the status page")
        check("default-src 'none'" in headers.get("content-security-policy", ""),
              "the page is served with a CSP that forbids external assets")
        check(get(s.status, "/nope")[0] == 404, "unknown paths get 404")
        # DNS rebinding: a page of attacker.example whose name now points at 127.0.0.1.
        for path in ("/", "/status", "/metrics"):
            code, _, body = get(s.status, path, host_header=f"attacker.example:{s.status}")
            check(code == 403 and "status.allowed_hosts" in body, f"{path} with a foreign Host: 403 ({code})")
        d.wait_log(r"level=warn component=status event=unknown_host .*host=attacker\.example:\d+")
        check(get(s.status, "/status", host_header=f"localhost:{s.status}")[0] == 200, "Host localhost: 200")

        r = run([binary, "status", "--config", cfg])
        check(r.returncode == 0, f"b2bua status exits 0 ({r.stderr.strip()})")
        for needle in ("TRUNKS", "provider", "PHONES", "Kitchen", "Office", f"sip:10@127.0.0.1:{s.phone}",
                       "endpoint-phone", "not registered", "ACTIVE CALLS", "RECENT CALLS"):
            check(needle in r.stdout, f"b2bua status shows {needle}")
        no_secret(r.stdout, "b2bua status")
        r = run([binary, "status", "--config", cfg, "--json"])
        check(r.returncode == 0 and json.loads(r.stdout)["extensions"][1]["name"] == "Office",
              "b2bua status --json prints the snapshot")
        h.stop_daemon(d)

        r = run([binary, "status", "--config", cfg])
        check(r.returncode == 1 and "is the daemon running?" in r.stderr, "b2bua status says when nothing answers")


def token(binary):
    """With a token: required on /status and /metrics, never logged, rotated by a reload."""
    with Harness("status-token", binary) as h:
        s = Setup(h)
        tok_cfg = h.write_config(s.config({"listen": s.listen, "token": TOKEN}), name="token.jsonc")
        d = h.start_daemon(tok_cfg, name="token")
        code, headers, body = get(s.status, "/status")
        check(code == 401 and headers.get("www-authenticate", "").startswith("Bearer"), "/status without token: 401")
        check(get(s.status, "/metrics")[0] == 401, "/metrics without token: 401")
        check(get(s.status, "/status", token="wrong-token-wrong-token")[0] == 401, "wrong token: 401")
        check(get(s.status, "/status", token=TOKEN)[0] == 200, "right token: 200")
        check(get(s.status, "/metrics", token=TOKEN)[0] == 200, "right token on /metrics: 200")
        no_secret(body, "the 401 answer")
        d.wait_log(r"event=unauthorized .*reason=\"no token\"")
        check(TOKEN not in d.output(), "the token is never logged")
        r = run([binary, "status", "--config", tok_cfg])
        check(r.returncode == 0 and "Kitchen" in r.stdout, "b2bua status sends the token from the config")

        # SIGHUP with a new token: applies without a restart.
        new_token = "rotated-token-0a1b2c3d"
        h.write_config(s.config({"listen": s.listen, "token": new_token}), name="token.jsonc")
        mark = d.log_size()
        d.signal(signal.SIGHUP)
        d.wait_log(r"event=config_applied", after=mark)
        check(wait_until(lambda: get(s.status, "/status", token=new_token)[0] == 200, 5),
              "reload applies the new token")
        check(get(s.status, "/status", token=TOKEN)[0] == 401, "the old token no longer works")
        h.stop_daemon(d)


def port_taken(binary):
    """The status port taken: the daemon says so and exits 1."""
    with Harness("status-port-taken", binary) as h:
        s = Setup(h)
        d = h.start_daemon(s.config())
        other_lan, other_wan = h.port(2)
        d2 = h.start_daemon(h.write_config(s.config(lan={"listen": [f"udp:127.0.0.1:{other_lan}"],
                                                         "networks": ["127.0.0.0/8"]},
                                                    wan={"address": "127.0.0.1", "port": other_wan},
                                                    storage={"path": "second.db"}), name="busy.jsonc"),
                            name="busy", wait=False)
        check(d2.wait(20) == 1 and f"status.listen {s.listen}: cannot bind" in d2.output(),
              "a taken status port stops the start with exit code 1 and names the address")
        h.stop_daemon(d)


if __name__ == "__main__":
    run_flows({f.__name__: f for f in (listen_rules, endpoint, token, port_taken)})
