"""Registrar benchmark driver (run.sh calls it): the same sipp REGISTER load (challenge +
digest-authenticated REGISTER per registration, many distinct users) against b2bua and against
Kamailio 5.6 as the anchor, in one run. Prints a markdown table.

Per server: fill (every user registers once; RSS before/after gives memory per binding), then
rate steps until a step fails a transaction or falls below 90 % of its target rate.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "integration", "common"))
from harness import Harness  # noqa: E402


def rss_kib(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                total += int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
        except (OSError, AttributeError):
            pass
    return total


def children_of(pid):
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def run_sipp(workdir, port, sipp_port, users_csv, rate, count, name):
    argv = ["sipp", f"127.0.0.1:{port}", "-sf", os.path.join(HERE, "bench_register.xml"), "-inf", users_csv,
            "-i", "127.0.0.1", "-p", str(sipp_port[0]), "-mp", str(sipp_port[1]), "-r", str(rate), "-m", str(count), "-l", str(max(rate * 4, 100)),
            "-nostdin", "-timeout", f"{int(count / rate) + 20}s", "-max_socket", "1024", "-trace_stat", "-stf",
            os.path.join(workdir, f"{name}.csv")]
    start = time.monotonic()
    p = subprocess.run(argv, capture_output=True, text=True, cwd=workdir, timeout=count / rate + 40)
    elapsed = time.monotonic() - start
    out = p.stdout + p.stderr
    ok = re.search(r"Successful call\s+\|\s+\d+\s+\|\s+(\d+)", out)
    failed = re.search(r"Failed call\s+\|\s+\d+\s+\|\s+(\d+)", out)
    return {
        "ok": int(ok.group(1)) if ok else 0,
        "failed": int(failed.group(1)) if failed else count,
        "elapsed": elapsed,
        "rc": p.returncode,
    }


def start_b2bua(h, port, users):
    return h.start_daemon({
        # One sipp on one address is the whole load: no flood limit (sip/flood_guard.h).
        "lan": {"listen": [f"udp:127.0.0.1:{port}"], "networks": ["127.0.0.0/8"], "realm": "bench.arpa",
                "flood_per_source": 0, "flood_total": 0},
        "registrar": {"min_expires": 60, "max_expires": 3600, "qualify_interval": 0,
                      "block_after_failures": 1000},
        "extensions": [{"number": u, "password": p} for u, p in users],
        "log": {"level": "info"},
    })


def start_kamailio(h, port, users, children):
    dbdir = h.path("kamdb")
    os.makedirs(dbdir)
    with open(os.path.join(dbdir, "version"), "w") as f:
        f.write("table_name(string) table_version(int)\nsubscriber:7\n")
    with open(os.path.join(dbdir, "subscriber"), "w") as f:
        f.write("id(int,auto) username(string) domain(string) password(string) ha1(string) ha1b(string)\n")
        for i, (u, p) in enumerate(users, 1):
            f.write(f"{i}:{u}:127.0.0.1:{p}:x:x\n")  # ha1 columns unused (calculate_ha1)
    with open(os.path.join(HERE, "kamailio.cfg")) as f:
        text = f.read()
    text = (text.replace("@PORT@", str(port)).replace("@DBDIR@", dbdir)
            .replace("@CHILDREN@", str(children)).replace("@SECRET@", os.urandom(12).hex()))
    cfg = h.path("kamailio.cfg")
    with open(cfg, "w") as f:
        f.write(text)
    k = h.start_kamailio(cfg, port, ["-m", "256", "-M", "16", "-P", h.path("kamailio.pid")], cwd=h.dir)
    time.sleep(1.5)  # its workers fork after the socket is bound; their memory counts too
    return k, [k.pid] + children_of(k.pid)


def measure(name, port, sipp_port, pids, workdir, csvs, n_users, rates, step_seconds, settle_s):
    """Memory: the first half of the users registers, then (after `settle_s`, so that the
    transactions of that half are gone and their memory is free for reuse) the second half;
    the RSS growth of the second half divided by its bindings is the cost of a binding."""
    row = {"server": name}
    half = n_users // 2
    first = run_sipp(workdir, port, sipp_port, csvs["a"], min(rates[-1], 1000), half, f"{name}-fill-a")
    time.sleep(settle_s)
    before = rss_kib(pids)
    second = run_sipp(workdir, port, sipp_port, csvs["b"], min(rates[-1], 1000), n_users - half, f"{name}-fill-b")
    time.sleep(1.0)
    after = rss_kib(pids)
    row["fill_failed"] = first["failed"] + second["failed"]
    row["bytes_per_binding"] = (after - before) * 1024 / max(second["ok"], 1)
    row["rss_mib"] = after / 1024
    best = None
    steps = []
    for rate in rates:
        r = run_sipp(workdir, port, sipp_port, csvs["all"], rate, int(rate * step_seconds), f"{name}-{rate}")
        achieved = r["ok"] / r["elapsed"]
        steps.append((rate, achieved, r["failed"]))
        if r["failed"] > 0 or achieved < 0.9 * rate:
            break
        best = (rate, achieved)
    row["steps"] = steps
    row["best"] = best
    return row


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--b2bua", required=True)
    ap.add_argument("--short", action="store_true")
    ap.add_argument("--kamailio-children", type=int, default=1)
    ap.add_argument("--keep", action="store_true", help="keep the work folder (logs, sipp stats)")
    args = ap.parse_args()

    n_users = 1000 if args.short else 10000
    rates = [250, 500, 1000] if args.short else [250, 500, 1000, 1500, 2000, 3000, 4000, 5000, 6000]
    step_seconds = 4 if args.short else 10

    with Harness("registrar-bench", args.b2bua) as h:
        workdir = h.dir
        users = [(str(100000 + i), f"pw{i:06d}x") for i in range(n_users)]
        half = n_users // 2
        csvs = {}
        for key, subset in (("all", users), ("a", users[:half]), ("b", users[half:])):
            csvs[key] = os.path.join(workdir, f"users-{key}.csv")
            with open(csvs[key], "w") as f:
                f.write("SEQUENTIAL\n")
                for u, p in subset:
                    f.write(f"{u};{p};[authentication username={u} password={p}]\n")
        settle_s = 0 if args.short else 34  # > 64*T1: sofia's Timer J frees the first half's transactions
        b2bua_port, kamailio_port, sipp_port = h.port(), h.port(), (h.port(), h.port(4)[0])

        rows = []
        d = start_b2bua(h, b2bua_port, users)
        rows.append(measure("b2bua", b2bua_port, sipp_port, [d.pid], workdir, csvs, n_users, rates, step_seconds,
                            settle_s))
        d.stop()
        k, pids = start_kamailio(h, kamailio_port, users, args.kamailio_children)
        rows.append(measure("kamailio", kamailio_port, sipp_port, pids, workdir, csvs, n_users, rates, step_seconds,
                            settle_s))
        k.stop()

    print(f"users: {n_users}; one registration = REGISTER + 401 + authenticated REGISTER + 200; "
          f"steps of {step_seconds} s; kamailio children={args.kamailio_children}; "
          f"memory settle {settle_s} s (0: the figure includes live transactions)")
    print()
    print("| server | fill failed | RSS after fill MiB | bytes/binding (RSS delta) | steps (target/s: achieved/s, failed) | sustained registrations/s, 0 failed | REGISTER requests/s |")
    print("|---|---:|---:|---:|---|---:|---:|")
    for r in rows:
        steps = "; ".join(f"{t}: {a:.0f}, {f}" for t, a, f in r["steps"])
        best = r["best"]
        print(f"| {r['server']} | {r['fill_failed']} | {r['rss_mib']:.1f} | {r['bytes_per_binding']:.0f} | {steps} | "
              f"{best[1]:.0f} (target {best[0]})" if best else f"| {r['server']} | {r['fill_failed']} | {r['rss_mib']:.1f} | "
              f"{r['bytes_per_binding']:.0f} | {steps} | none | - |", end="")
        print(f" | {2 * best[1]:.0f} |" if best else "")
    b, k = rows[0]["best"], rows[1]["best"]
    if b and k:
        print()
        print(f"ratio b2bua/kamailio sustained registrations/s: {b[1] / k[1]:.2f}")
    ok = rows[0]["fill_failed"] == 0 and rows[0]["best"] is not None
    if ok and not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print(f"kept {workdir}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
