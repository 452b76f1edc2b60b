"""Registrar benchmark driver (run.sh calls it): the same sipp REGISTER load (challenge +
digest-authenticated REGISTER per registration, many distinct users) against b2bua and against
Kamailio 5.6 as the anchor, in one run. Prints a markdown table.

Per server (fresh process): a paced run at 1000 registrations/s (60 s, 10 s in --short) whose peak
RSS is the memory figure under load; a fill (every user registers once; RSS before/after gives
memory per binding; full mode only); then rate steps, each repeated, until a step fails a
transaction or its median falls below 90 % of its target rate. Each step also reads the
server's utime+stime (all its processes), so CPU per registration is known even when the shared
machine's load moves the rates.

Fairness: the server runs alone on one CPU (taskset, --server-cpu), every sipp on the other
(--load-cpu); the load is split over --sipps sipp processes (one sipp is single-threaded and
is itself the limit near the top steps), each with its own users and an equal share of the rate.
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "integration", "common"))
from harness import Harness, udp_bound, wait_until  # noqa: E402


def rss_kib(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                total += int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
        except (OSError, AttributeError):
            pass
    return total


def cpu_ticks(pids):
    """utime + stime of `pids` in clock ticks."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total


TICK_US = 1e6 / os.sysconf("SC_CLK_TCK")


def hwm_kib(pid):
    """Peak RSS (VmHWM) of one process."""
    try:
        with open(f"/proc/{pid}/status") as f:
            return int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1))
    except (OSError, AttributeError):
        return 0


def children_of(pid):
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def sipp_argv(workdir, port, sipp_port, users_csv, rate, count, name, cpu):
    argv = ["taskset", "-c", str(cpu)] if cpu is not None else []
    argv += ["sipp", f"127.0.0.1:{port}", "-sf", os.path.join(HERE, "bench_register.xml"), "-inf", users_csv,
            "-i", "127.0.0.1", "-p", str(sipp_port[0]), "-mp", str(sipp_port[1]), "-r", str(rate), "-m", str(count), "-l", str(max(rate * 4, 100)),
            "-nostdin", "-trace_err", "-timeout", f"{int(count / rate) + 20}s", "-max_socket", "1024", "-trace_stat", "-stf",
            os.path.join(workdir, f"{name}.csv")]
    return argv


def run_load(load, rate, count, name, csv_key="all", watch=None):
    """`count` registrations at `rate`/s split over the load's sipp processes, each with its own
    users and source port; `watch` (if given) is called every 0.2 s while they run.
    Returns ok, failed, elapsed (the slowest sipp's) and the server's CPU in clock ticks."""
    n = len(load["csvs"][csv_key])
    procs = []
    cpu0 = cpu_ticks(load["pids"])
    start = time.monotonic()
    for i in range(n):
        argv = sipp_argv(load["workdir"], load["port"], load["sipp_ports"][i], load["csvs"][csv_key][i], max(rate // n, 1),
                         count // n, f"{name}-{i}", load["cpu"])
        procs.append(subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                      cwd=load["workdir"]))
    deadline = start + count / rate + 40
    while any(p.poll() is None for p in procs) and time.monotonic() < deadline:
        if watch:
            watch()
        time.sleep(0.2)
    elapsed = time.monotonic() - start
    cpu = cpu_ticks(load["pids"]) - cpu0
    ok = failed = 0
    for p in procs:
        if p.poll() is None:
            p.kill()
        out = p.communicate()[0]
        m_ok = re.search(r"Successful call\s+\|\s+\d+\s+\|\s+(\d+)", out)
        m_failed = re.search(r"Failed call\s+\|\s+\d+\s+\|\s+(\d+)", out)
        ok += int(m_ok.group(1)) if m_ok else 0
        failed += int(m_failed.group(1)) if m_failed else count // n
    return {"ok": ok, "failed": failed, "elapsed": elapsed, "cpu_ticks": cpu}


def pinned(cpu):
    return ["taskset", "-c", str(cpu)] if cpu is not None else []


def start_b2bua(h, port, users, cpu, name="b2bua"):
    """A fresh daemon with a database of its own (`name`.db) and its log in `name`.log."""
    d = h.start_daemon({
        # One sipp per address is the whole load: no flood limit (sip/flood_guard.h).
        "lan": {"listen": [f"udp:127.0.0.1:{port}"], "networks": ["127.0.0.0/8"], "realm": "bench.arpa",
                "flood_per_source": 0, "flood_total": 0},
        "registrar": {"min_expires": 60, "max_expires": 3600, "qualify_interval": 0,
                      "block_after_failures": 1000},
        "extensions": [{"number": u, "password": p} for u, p in users],
        "log": {"level": "info"},
        "storage": {"path": f"{name}.db"},
    }, name=name, prefix=pinned(cpu))
    return d, [d.pid]


def start_kamailio(h, port, users, children, cpu):
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
    # taskset execs kamailio, whose workers inherit the CPU.
    k = h.spawn([*pinned(cpu), "kamailio", "-f", cfg, "-DD", "-E", "-Y", h.dir, "-m", "256", "-M", "16",
                 "-P", h.path("kamailio.pid")], "kamailio", cwd=h.dir)
    if not wait_until(lambda: not k.running() or udp_bound(port), 10) or not k.running():
        raise RuntimeError(f"kamailio did not start on UDP {port}:\n{k.output()[-2000:]}")
    time.sleep(1.5)  # its workers fork after the socket is bound; their memory counts too
    return k, [k.pid] + children_of(k.pid)


def step_figures(runs, rate):
    """A step's repeats: median achieved/s, failed in all, median CPU us per registration."""
    achieved = statistics.median(r["ok"] / r["elapsed"] for r in runs)
    failed = sum(r["failed"] for r in runs)
    cpu_us = statistics.median(r["cpu_ticks"] * TICK_US / max(r["ok"], 1) for r in runs)
    return {"rate": rate, "achieved": achieved, "failed": failed, "cpu_us": cpu_us,
            "achieved_all": [r["ok"] / r["elapsed"] for r in runs]}


def measure(name, load, n_users, args, settle_s):
    row = {"server": name}
    pids = load["pids"]
    # Peak RSS under a steady 1000/s, first, on the fresh process (the fill and the steps would
    # otherwise have set the high-water mark).
    peak = [rss_kib(pids)]
    row["rss_idle_mib"] = peak[0] / 1024
    paced = run_load(load, 1000, 1000 * args.rss_seconds, f"{name}-paced", watch=lambda: peak.append(rss_kib(pids)))
    time.sleep(1.0)
    peak.append(rss_kib(pids))
    row["paced_failed"] = paced["failed"]
    row["paced_cpu_us"] = paced["cpu_ticks"] * TICK_US / max(paced["ok"], 1)
    # One process: its kernel high-water mark; several (kamailio): the sampled sum.
    row["rss_peak_mib"] = max(max(peak), hwm_kib(pids[0]) if len(pids) == 1 else 0) / 1024
    row["bytes_per_binding"] = None  # binding_memory(), on a process of its own (full mode)
    steps = []
    best = None
    for rate in args.rates:
        runs = [run_load(load, rate, int(rate * args.step_seconds), f"{name}-{rate}-{i}") for i in range(args.repeats)]
        st = step_figures(runs, rate)
        steps.append(st)
        if st["failed"] > 0 or st["achieved"] < 0.9 * rate:
            break
        best = st
    row["steps"] = steps
    row["best"] = best
    return row


def binding_memory(load, n_users, settle_s):
    """The first half of the users registers, then (after `settle_s`, so that the transactions
    of that half are gone) the second half; the RSS growth from before the second half to
    `settle_s` after it, divided by its bindings, is the cost of a binding."""
    pids = load["pids"]
    first = run_load(load, 1000, n_users // 2, "fill-a", csv_key="a")
    time.sleep(settle_s)
    before = rss_kib(pids)
    second = run_load(load, 1000, n_users - n_users // 2, "fill-b", csv_key="b")
    # Both readings without live transactions: the daemon returns freed heap pages to the
    # kernel every 10 s, so the second half's transactions would otherwise count as bindings.
    time.sleep(settle_s)
    after = rss_kib(pids)
    return first["failed"] + second["failed"], (after - before) * 1024 / max(second["ok"], 1)


def write_users(workdir, key, users, parts):
    """`parts` injection files of `users` (one per sipp)."""
    paths = []
    for i in range(parts):
        path = os.path.join(workdir, f"users-{key}-{i}.csv")
        with open(path, "w") as f:
            f.write("SEQUENTIAL\n")
            for u, p in users[i::parts]:
                f.write(f"{u};{p};[authentication username={u} password={p}]\n")
        paths.append(path)
    return paths


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--b2bua", required=True)
    ap.add_argument("--short", action="store_true")
    ap.add_argument("--kamailio-children", type=int, default=1)
    ap.add_argument("--sipps", type=int, default=2, help="sipp processes sharing the load")
    ap.add_argument("--server-cpu", default="0", help="CPU of the server under test ('' for none)")
    ap.add_argument("--load-cpu", default="1", help="CPU of the sipp processes ('' for none)")
    ap.add_argument("--repeats", type=int, default=0, help="repeats per rate step (median taken)")
    ap.add_argument("--only", choices=["b2bua", "kamailio"], help="measure one server")
    ap.add_argument("--keep", action="store_true", help="keep the work folder (logs, sipp stats)")
    args = ap.parse_args()
    if (os.cpu_count() or 1) < 2:
        args.server_cpu = args.load_cpu = ""
    server_cpu = args.server_cpu if args.server_cpu != "" else None
    load_cpu = args.load_cpu if args.load_cpu != "" else None

    n_users = 1000 if args.short else 10000
    args.rates = [1000, 2000, 4000] if args.short else [2000, 3000, 4000, 5000, 6000, 8000, 10000]
    args.step_seconds = 2 if args.short else 6
    args.repeats = args.repeats or (1 if args.short else 3)
    args.rss_seconds = 5 if args.short else 60
    settle_s = 34  # > 64*T1 of the servers' UDP transactions: the first half's are gone

    with Harness("registrar-bench", args.b2bua) as h:
        workdir = h.dir
        users = [(str(100000 + i), f"pw{i:06d}x") for i in range(n_users)]
        half = n_users // 2
        csvs = {"all": write_users(workdir, "all", users, args.sipps),
                "a": write_users(workdir, "a", users[:half], args.sipps),
                "b": write_users(workdir, "b", users[half:], args.sipps)}
        b2bua_port, kamailio_port = h.port(), h.port()
        sipp_ports = [(h.port(), h.port(4)[0]) for _ in range(args.sipps)]

        def load_of(port, pids):
            return {"workdir": workdir, "port": port, "sipp_ports": sipp_ports, "csvs": csvs, "pids": pids,
                    "cpu": load_cpu}

        rows = []
        if args.only != "kamailio":
            d, pids = start_b2bua(h, b2bua_port, users, server_cpu)
            rows.append(measure("b2bua", load_of(b2bua_port, pids), n_users, args, settle_s))
            d.stop()
            if not args.short:
                d, pids = start_b2bua(h, b2bua_port, users, server_cpu, name="b2bua-fill")
                rows[-1]["fill_failed"], rows[-1]["bytes_per_binding"] = binding_memory(
                    load_of(b2bua_port, pids), n_users, settle_s)
                d.stop()
        if args.only != "b2bua":
            k, pids = start_kamailio(h, kamailio_port, users, args.kamailio_children, server_cpu)
            rows.append(measure("kamailio", load_of(kamailio_port, pids), n_users, args, settle_s))
            k.stop()
            if not args.short:
                shutil.rmtree(h.path("kamdb"))
                k, pids = start_kamailio(h, kamailio_port, users, args.kamailio_children, server_cpu)
                rows[-1]["fill_failed"], rows[-1]["bytes_per_binding"] = binding_memory(
                    load_of(kamailio_port, pids), n_users, settle_s)
                k.stop()

    print(f"users: {n_users}; one registration = REGISTER + 401 + authenticated REGISTER + 200; "
          f"server on CPU {server_cpu}, {args.sipps} sipp on CPU {load_cpu}; steps of {args.step_seconds} s, "
          f"{args.repeats} repeat(s), medians; kamailio children={args.kamailio_children}; "
          f"paced run 1000/s for {args.rss_seconds} s")
    print()
    print("| server | paced 1000/s: failed, peak RSS MiB (idle before) | CPU us/registration at 1000/s | "
          "bytes/binding | steps (target/s: median achieved/s, failed, CPU us/registration) | "
          "sustained registrations/s, 0 failed | REGISTER requests/s |")
    print("|---|---|---:|---:|---|---:|---:|")
    for r in rows:
        steps = "; ".join(f"{st['rate']}: {st['achieved']:.0f}, {st['failed']}, {st['cpu_us']:.0f}" for st in r["steps"])
        best = r["best"]
        bpb = f"{r['bytes_per_binding']:.0f}" if r["bytes_per_binding"] is not None else "-"
        held = f"{best['achieved']:.0f} (target {best['rate']})" if best else "none"
        requests = f"{2 * best['achieved']:.0f}" if best else "-"
        print(f"| {r['server']} | {r['paced_failed']}, {r['rss_peak_mib']:.1f} ({r['rss_idle_mib']:.1f}) | "
              f"{r['paced_cpu_us']:.0f} | {bpb} | {steps} | {held} | {requests} |")
    if len(rows) == 2 and rows[0]["best"] and rows[1]["best"]:
        print()
        print(f"ratio b2bua/kamailio sustained registrations/s: {rows[0]['best']['achieved'] / rows[1]['best']['achieved']:.2f}")
    for r in rows:
        print(f"{r['server']} step repeats (achieved/s): " +
              "; ".join(f"{st['rate']}: " + ", ".join(f"{a:.0f}" for a in st["achieved_all"]) for st in r["steps"]))
    b = rows[0] if rows and rows[0]["server"] == "b2bua" else None
    ok = b is None or (b["paced_failed"] == 0 and b.get("fill_failed", 0) == 0 and b["best"] is not None)
    if ok and not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print(f"kept {workdir}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
