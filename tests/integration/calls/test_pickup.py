#!/usr/bin/env python3
"""Call pickup: a call ringing at one phone is answered on another with a feature code (**EXT
at a named extension, *8# in the caller's ring group). The ringing phone is cancelled with
Reason cause=200 (completed elsewhere), the caller gets its 200, media flows through the relay
between the caller and the picking phone, and the record says who picked up. One flow per ctest
entry (run_flows)."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from harness import check, check_sipp, run_flows, running  # noqa: E402
import scenarios  # noqa: E402

KITCHEN = "+4930123456"  # rings 10 alone
FAMILY = "+4930123457"   # rings the group 10, 11, 12
PASSWORDS = {"10": "pw-ten", "11": "pw-eleven", "12": "pw-twelve"}


class Setup:
    """Extensions 10, 11, 12; a provider trunk without registration calling the two numbers;
    phone 10 registered (it rings until cancelled), 11 and 12 not (they only dial codes)."""

    def __init__(self, h):
        self.h = h
        self.lan_port, self.wan_port, self.provider_port = h.port(3)
        self.lan, self.wan = f"127.0.0.1:{self.lan_port}", f"127.0.0.1:{self.wan_port}"
        self.relay = h.ports.span(20)
        self.daemon = h.start_daemon({
            "lan": {"listen": [f"udp:{self.lan}"], "networks": ["127.0.0.0/8"], "realm": "test.arpa"},
            "wan": {"address": "127.0.0.1", "port": self.wan_port},
            "registrar": {"qualify_interval": 0},
            "extensions": [{"number": n, "password": p} for n, p in PASSWORDS.items()],
            "trunks": [{"name": "provider", "registrar": f"sip:127.0.0.1:{self.provider_port}",
                        "username": "4930123456", "register": False, "numbers": [KITCHEN, FAMILY],
                        "keepalive": {"method": "off"}}],
            "routing": {"inbound": [{"number": KITCHEN, "ring": ["10"], "timeout": 30},
                                    {"number": FAMILY, "ring": ["10", "11", "12"], "timeout": 30}]},
            "media": {"ports": list(self.relay), "timeout": 30},
        })
        self.phone10 = h.port()
        check_sipp(h.sipp(h.write_scenario("reg10", scenarios.phone_register("10", "pw-ten")), self.lan, self.phone10,
                          name="reg10"), "phone 10 registered")

    def stop(self):
        self.h.stop_daemon(self.daemon)

    def pickup(self, name, did, ext, code):
        """The provider calls `did`, phone 10 rings until cancelled, `ext` dials `code` and talks."""
        h = self.h
        ringing = h.sipp_bg(scenarios.phone_ring_until_cancel(), self.lan, self.phone10, name=f"{name}_ringing", timeout=30)
        time.sleep(0.3)
        caller = h.sipp_bg(scenarios.provider_call(did, hold_ms=2500), self.wan, self.provider_port,
                           name=f"{name}_provider", timeout=30, extra=["-cid_str", "provider-leg-%u-%p@%s"])
        time.sleep(1.0)
        picker = h.sipp(h.write_scenario(f"{name}_picker", scenarios.phone_call(ext, PASSWORDS[ext], code,
                                                                                hangup="callee")),
                        self.lan, h.port(), name=f"{name}_picker")
        check_sipp(picker, f"{ext} dials {code}, is answered and talks until the caller hangs up")
        h.finish(caller, "the caller's call was answered by the picking phone and hung up by the caller")
        h.finish(ringing, "phone 10 was cancelled with Reason cause=200")
        ok = [m for m in h.messages(f"{name}_picker") if m.startswith("SIP/2.0 200") and "CSeq: 2 INVITE" in m]
        check(ok and "c=IN IP4 127.0.0.1" in ok[0] and
              any(f"m=audio {p} RTP" in ok[0] for p in range(self.relay[0], self.relay[1] + 1)),
              "the picking phone's 200 points at the relay")
        seen = h.sipp_messages(f"{name}_picker")
        check("provider-leg-" not in seen and "ProviderSwitch" not in seen, "the picking phone sees nothing of the provider")
        rows = h.call_records(1, "direction, extension, final_code, answer_ms, notes")
        check(rows[-1][0] == "inbound" and rows[-1][1] == ext and rows[-1][2] == 200 and rows[-1][3] > 0 and
              f"picked_up={ext}" in rows[-1][4].split(), f"the record says {ext} picked the call up {rows[-1]}")


def pickup_directed(binary):
    """11 dials **10 while the kitchen number rings 10."""
    with running("calls-pickup", binary, Setup) as s:
        s.pickup("directed", KITCHEN, "11", "**10")


def pickup_group(binary):
    """12 dials *8# while the family number rings the group 10, 11, 12 (only 10 has a phone)."""
    with running("calls-pickup-group", binary, Setup) as s:
        s.pickup("group", FAMILY, "12", "*8%23")


def pickup_nothing_ringing(binary):
    """**10 with no call ringing at 10 gets 480, and starts no call."""
    with running("calls-pickup-none", binary, Setup) as s:
        r = s.h.sipp(s.h.write_scenario("none", scenarios.phone_call_out("11", "pw-eleven", "**10", expect="480")),
                     s.lan, s.h.port(), name="none")
        check_sipp(r, "**10 with nothing ringing: 480")


if __name__ == "__main__":
    run_flows({f.__name__: f for f in (pickup_directed, pickup_group, pickup_nothing_ringing)})
