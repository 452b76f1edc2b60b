#!/usr/bin/env python3
"""The Debian package: built with CPack from this build tree, then checked without installing
it: control data and conffiles (dpkg-deb --info), file modes (--contents), lintian (errors
fail, warnings are listed), the unit file (systemd-analyze verify, which works without systemd
as PID 1), its exposure score (systemd-analyze security --offline) and the shipped config
(b2bua check-config)."""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
from harness import check  # noqa: E402

UNIT_MUST_HAVE = [
    "Type=notify", "ExecReload=/bin/kill -HUP $MAINPID", "Restart=on-failure", "User=b2bua",
    "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "StateDirectory=b2bua",
    "AmbientCapabilities=CAP_NET_BIND_SERVICE", "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
]


def run(argv, timeout=600, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)


def verify_unit(unit_path):
    """systemd-analyze verify exits 0 even on lines it ignores: any output is a finding."""
    r = run(["systemd-analyze", "verify", "--man=no", unit_path], timeout=60)
    findings = [l for l in (r.stdout + r.stderr).splitlines() if l.strip()]
    return r.returncode, findings


def main():
    build_dir, binary = sys.argv[1], sys.argv[2]
    for tool in ("dpkg-deb", "cpack", "lintian", "systemd-analyze"):
        if not shutil.which(tool):
            print(f"SKIP: {tool} not installed (packaging/install-deps.sh --test)")
            sys.exit(77)
    work = tempfile.mkdtemp(prefix="b2bua-package-")
    try:
        r = run(["cpack", "-G", "DEB", "--config", os.path.join(build_dir, "CPackConfig.cmake"), "-B", work])
        debs = glob.glob(os.path.join(work, "b2bua_*.deb"))
        check(r.returncode == 0 and len(debs) == 1, f"cpack builds one .deb ({r.stdout[-500:]}{r.stderr[-500:]})")
        deb = debs[0]
        print(f"package: {os.path.basename(deb)}, {os.path.getsize(deb)} bytes", flush=True)

        info = run(["dpkg-deb", "--info", deb]).stdout
        check(re.search(r"^ Package: b2bua$", info, re.M), "package name b2bua")
        depends = re.search(r"^ Depends: (.*)$", info, re.M).group(1)
        for dep in ("adduser", "libsofia-sip-ua0", "libevent-2.1-7", "libsqlite3-0", "libc-ares2"):
            check(dep in depends, f"Depends names {dep}")
        recommends = re.search(r"^ Recommends: (.*)$", info, re.M)
        check(recommends and "ca-certificates" in recommends.group(1), "Recommends ca-certificates (TLS trunks)")
        conffiles = run(["dpkg-deb", "-I", deb, "conffiles"]).stdout.split()
        check(conffiles == ["/etc/b2bua/b2bua.jsonc"], f"the config is the one conffile ({conffiles})")
        postinst = run(["dpkg-deb", "-I", deb, "postinst"]).stdout
        check("adduser --system" in postinst, "postinst creates the system user")
        check("dpkg-statoverride --update --add root b2bua 0640 /etc/b2bua/b2bua.jsonc" in postinst,
              "postinst makes the config root:b2bua 0640")
        check("b2bua b2bua 0750 /var/lib/b2bua" in postinst, "postinst gives /var/lib/b2bua to the service user")
        for script in ("postinst", "prerm", "postrm"):
            text = run(["dpkg-deb", "-I", deb, script]).stdout
            path = os.path.join(work, script)
            with open(path, "w") as f:
                f.write(text)
            check(run(["sh", "-n", path]).returncode == 0, f"{script} is valid shell")

        contents = run(["dpkg-deb", "--contents", deb]).stdout
        modes = {line.split()[-1].lstrip("."): line.split()[0] for line in contents.splitlines()}
        check(modes.get("/usr/bin/b2bua") == "-rwxr-xr-x", "binary in /usr/bin")
        check(modes.get("/etc/b2bua/b2bua.jsonc") == "-rw-r-----", "config shipped with mode 0640")
        check(modes.get("/lib/systemd/system/b2bua.service") == "-rw-r--r--", "systemd unit shipped")
        check(modes.get("/var/lib/b2bua/", "").startswith("d"), "state folder /var/lib/b2bua shipped")
        check(modes.get("/usr/share/b2bua/prompts/greeting.wav") == "-rw-r--r--", "voice prompts shipped")
        check(not any(p.startswith("/usr/share/b2bua/prompts/") and not p.endswith((".wav", "/")) for p in modes),
              "only the prompts' WAV files in the prompt folder (not generate.sh)")

        root = os.path.join(work, "root")
        check(run(["dpkg-deb", "-x", deb, root]).returncode == 0, "package extracts")
        cfg = os.path.join(root, "etc", "b2bua", "b2bua.jsonc")
        with open(cfg) as f:
            cfg_text = f.read()
        check('"path": "/var/lib/b2bua/b2bua.db"' in cfg_text, "shipped config keeps its database in /var/lib/b2bua")
        r = run([os.path.join(root, "usr", "bin", "b2bua"), "check-config", cfg])
        check(r.returncode == 0 and r.stdout.startswith("OK"), f"shipped config passes check-config ({r.stdout})")
        r = run([os.path.join(root, "usr", "bin", "b2bua"), "--version"])
        check(r.returncode == 0 and r.stdout.startswith("b2bua "), "packaged (stripped) binary runs")

        unit = os.path.join(root, "lib", "systemd", "system", "b2bua.service")
        with open(unit) as f:
            unit_text = f.read()
        for line in UNIT_MUST_HAVE:
            check(re.search("^" + re.escape(line) + "$", unit_text, re.M), f"unit has {line}")
        caps = re.findall(r"^(?:Ambient)?Capabilit\w*=(.*)$", unit_text, re.M)
        check(all(c.strip() == "CAP_NET_BIND_SERVICE" for c in caps), "no capability besides CAP_NET_BIND_SERVICE")

        # verify resolves ExecStart= on this machine, where the package is not installed: point it
        # at the extracted binary, everything else stays as shipped.
        checked = os.path.join(work, "b2bua.service")
        with open(checked, "w") as f:
            f.write(unit_text.replace("/usr/bin/b2bua", os.path.join(root, "usr", "bin", "b2bua")))
        rc, findings = verify_unit(checked)
        check(rc == 0 and not findings, f"systemd-analyze verify finds nothing ({findings})")
        broken = os.path.join(work, "broken.service")
        with open(broken, "w") as f:
            f.write(unit_text.replace("Type=notify", "Type=notifyy").replace("/usr/bin/b2bua", binary))
        rc, findings = verify_unit(broken)
        check(findings, "the verify check does catch a broken unit")

        r = run(["systemd-analyze", "security", "--offline=yes", f"--root={root}", "b2bua.service"], timeout=60)
        m = re.search(r"Overall exposure level for b2bua.service: ([\d.]+)", r.stdout + r.stderr)
        check(m and float(m.group(1)) <= 2.5, f"systemd exposure level is low ({m.group(1) if m else r.stderr[-300:]})")

        r = run(["lintian", "--no-tag-display-limit", deb], timeout=300)
        tags = [l for l in r.stdout.splitlines() if re.match(r"^[EWIP]: ", l)]
        errors = [l for l in tags if l.startswith("E: ")]
        warnings = [l for l in tags if l.startswith("W: ")]
        for w in warnings:
            print(f"lintian warning: {w}", flush=True)
        check(not errors, f"lintian reports no errors ({errors})")
        print(f"lintian: {len(errors)} errors, {len(warnings)} warnings", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("PASS")


if __name__ == "__main__":
    main()
