#!/usr/bin/env python3
"""Idle footprint: b2bua with 2 trunks and 10 registered phones, against kamailio (Debian 5.6)
as a registrar with the same 10 phones, one worker, in the same run.

  bench_status.py [--short] path/to/b2bua

Reports resident memory (RSS; for kamailio summed over its processes, and PSS, which counts
shared memory once), threads/processes and the binary size (as built and stripped). The goal
from the design is under 8 MB RSS idle. --short settles for 1 s instead of 10 s (the ctest
entry); a full run writes status-footprint.json into the current folder.
"""
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "integration", "common"))
from harness import Harness, fail, wait_until  # noqa: E402
from sip_client import register  # noqa: E402
from status_http import get_json  # noqa: E402

EXTENSIONS = [str(n) for n in range(10, 20)]
MB = 1024 * 1024


class Ports:
    def __init__(self, h):
        self.lan, self.wan, self.status, self.kamailio = h.port(4)
        self.trunks = h.port(2)  # nothing answers there
        self.b2bua_phones = h.port(len(EXTENSIONS))
        self.kamailio_phones = h.port(len(EXTENSIONS))


def b2bua_config(p):
    return {
        "lan": {"listen": [f"udp:127.0.0.1:{p.lan}"], "networks": ["127.0.0.0/8"]},
        "wan": {"address": "127.0.0.1", "port": p.wan},
        "extensions": [{"number": n, "name": f"Phone {n}", "password": f"pw-{n}"} for n in EXTENSIONS],
        "trunks": [{"name": f"provider{i}", "registrar": f"sip:127.0.0.1:{port}", "username": f"49301234{i}",
                    "password": f"trunk-pw-{i}", "numbers": [f"+49301234{i}"]} for i, port in enumerate(p.trunks)],
        "routing": {"outbound": [{"prefix": "", "trunk": "provider0"}]},
        "status": {"listen": f"127.0.0.1:{p.status}"},
        "log": {"level": "info"},
    }


def memory(pid):
    """(rss, pss, anonymous) bytes and thread count of one process. Anonymous memory is what the
    process allocated itself; the rest of RSS is mostly shared library text."""
    fields = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            parts = line.split()
            if parts[0] in ("Rss:", "Pss:", "Anonymous:"):
                fields[parts[0]] = int(parts[1]) * 1024
    with open(f"/proc/{pid}/status") as f:
        threads = next(int(l.split()[1]) for l in f if l.startswith("Threads:"))
    return fields["Rss:"], fields["Pss:"], fields["Anonymous:"], threads


def descendants(pid):
    """pid and every process below it (kamailio forks its workers)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return out


def stripped_size(binary, work):
    copy = os.path.join(work, "b2bua.stripped")
    if not shutil.which("strip"):
        return None
    subprocess.run(["strip", "-o", copy, binary], check=True, timeout=60)
    return os.path.getsize(copy)


def measure_b2bua(h, p, settle):
    d = h.start_daemon(b2bua_config(p))
    codes = [register(p.lan, n, f"pw-{n}", port, user_agent="bench-phone")
             for n, port in zip(EXTENSIONS, p.b2bua_phones)]
    if codes != [200] * len(EXTENSIONS):
        fail(f"b2bua: not every phone registered: {codes}")
    status = get_json(p.status)
    bindings = sum(len(e.get("bindings", [])) for e in status["extensions"])
    trunk_states = [t.get("state", "not reported") for t in status["trunks"]]
    time.sleep(settle)
    rss, pss, anon, threads = memory(d.pid)
    d.stop()
    return {"rss": rss, "pss": pss, "anon": anon, "threads": threads, "bindings": bindings, "trunks": len(status["trunks"]),
            "trunk_states": trunk_states}


def measure_kamailio(h, p, settle):
    if not shutil.which("kamailio"):
        return None
    with open(os.path.join(HERE, "kamailio-registrar.cfg")) as f:
        cfg = f.read().replace("KAMAILIO_PORT", str(p.kamailio))
    path = h.path("kamailio.cfg")
    with open(path, "w") as f:
        f.write(cfg)
    version = subprocess.run(["kamailio", "-v"], capture_output=True, text=True).stdout.split("\n")[0]
    # Default memory sizes: what the footprint is measured with.
    k = h.start_kamailio(path, p.kamailio, ["-w", h.dir])
    if not wait_until(lambda: len(descendants(k.pid)) > 1, 10):
        fail(f"kamailio did not fork its workers:\n{k.output()[-2000:]}")
    codes = []
    for n, port in zip(EXTENSIONS, p.kamailio_phones):
        codes.append(register(p.kamailio, n, f"pw-{n}", port, user_agent="bench-phone"))
    if codes != [200] * len(EXTENSIONS):
        fail(f"kamailio: not every phone registered: {codes}\n{k.output()[-2000:]}")
    time.sleep(settle)
    procs = descendants(k.pid)
    per = [memory(p) for p in procs]
    k.stop()
    return {"version": version, "processes": len(procs), "rss_main": per[0][0], "rss_sum": sum(m[0] for m in per),
            "pss_sum": sum(m[1] for m in per), "anon_sum": sum(m[2] for m in per)}


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    short = "--short" in sys.argv
    if not args:
        print(__doc__)
        sys.exit(2)
    binary = os.path.abspath(args[0])
    settle = 1 if short else 10
    with Harness("bench-status", binary) as h:
        p = Ports(h)
        b = measure_b2bua(h, p, settle)
        k = measure_kamailio(h, p, settle)
        size = os.path.getsize(binary)
        stripped = stripped_size(binary, h.dir)

    print(f"idle footprint after {settle} s ({'short' if short else 'full'} run)")
    print(f"  b2bua    RSS {b['rss'] / MB:6.2f} MB  PSS {b['pss'] / MB:6.2f} MB  anon {b['anon'] / MB:5.2f} MB  "
          f"{b['threads']} threads, "
          f"{b['bindings']} bindings, {b['trunks']} trunks ({', '.join(b['trunk_states'])})")
    if k:
        print(f"  kamailio RSS {k['rss_sum'] / MB:6.2f} MB  PSS {k['pss_sum'] / MB:6.2f} MB  anon {k['anon_sum'] / MB:5.2f} MB  "
              f"{k['processes']} processes "
              f"(main {k['rss_main'] / MB:.2f} MB RSS), 10 bindings; {k['version']}")
        print(f"  ratio    RSS {b['rss'] / k['rss_sum']:.2f}  PSS {b['pss'] / k['pss_sum']:.2f}  "
              f"anon {b['anon'] / k['anon_sum']:.2f}  (b2bua / kamailio)")
    else:
        print("  kamailio not installed: no anchor")
    print(f"  binary   {size / MB:.2f} MB as built" + (f", {stripped / MB:.2f} MB stripped" if stripped else ""))
    goal = 8 * MB
    print(f"  goal     RSS < 8 MB: {'met' if b['rss'] < goal else 'missed'} "
          f"(RSS counts shared library text in full; see README.md)")
    if b["bindings"] != len(EXTENSIONS):
        fail(f"/status shows {b['bindings']} bindings, expected {len(EXTENSIONS)}")
    if not short:
        with open(os.path.join(os.getcwd(), "status-footprint.json"), "w") as f:
            json.dump({"b2bua": b, "kamailio": k, "binary": size, "stripped": stripped}, f, indent=1)
    print("PASS")


if __name__ == "__main__":
    main()
