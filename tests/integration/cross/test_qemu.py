#!/usr/bin/env python3
"""The daemon built for another CPU (packaging/cross-build.sh) under qemu-user on loopback: a
phone registers, calls out through an IP-authenticated provider trunk, audio is relayed both
ways and the call is recorded. BINARY is the build's qemu wrapper (BUILD_DIR/b2bua-qemu), which
execs qemu on the target's binary: the flow checks the PID it stops is qemu's, so it cannot pass
on a native daemon by mistake. Reuses the outbound call's setup and scenarios (calls/test_basic)."""
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "common"))
sys.path.insert(0, os.path.join(here, "..", "calls"))
from harness import check, check_sipp, run_flows, running  # noqa: E402
from records import Records  # noqa: E402
import scenarios  # noqa: E402
from test_basic import Setup  # noqa: E402


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def register_and_call(binary):
    """Phone 10 registers (401, then with credentials), dials 0301234567: 407, trunk, answered,
    RTP both ways through the relay, one call record."""
    with running("cross-call", binary, Setup) as s:
        h = s.h
        exe = os.readlink(f"/proc/{s.daemon.pid}/exe")
        check("qemu-" in os.path.basename(exe), f"the daemon runs under qemu-user ({exe})")
        # qemu's own resident memory (translated code, its heap) is in this figure: an upper
        # bound for the daemon, not what it holds on the target.
        print(f"idle daemon under {os.path.basename(exe)}: VmRSS {rss_kib(s.daemon.pid)} KiB")
        phone_port = h.port()
        check_sipp(s.phone("reg10", scenarios.phone_register("10", "pw-ten"), phone_port), "phone 10 registered")
        provider = s.provider("provider_answer", scenarios.provider_answer())
        check_sipp(s.phone("out", scenarios.phone_call_out("10", "pw-ten", "0301234567"), phone_port),
                   "outbound call answered and hung up by the phone")
        h.finish(provider, "provider saw INVITE/ACK/BYE")
        Records(h).answered("outbound call", "outbound", "10", "provider", "0301234567")


FLOWS = {f.__name__: f for f in (register_and_call,)}

if __name__ == "__main__":
    run_flows(FLOWS)
