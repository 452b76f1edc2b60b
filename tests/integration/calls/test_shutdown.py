#!/usr/bin/env python3
"""Calls at shutdown (SIGTERM): an answered call, sipp as the phone (extension 10) and as the
provider (an IP-authenticated trunk), 10 -> 0301234 -> provider. b2bua hangs every call up
with BYE on both sides; a far end that never answers its BYE (its network down) would keep
the call's dialog, and with it the SIP stack's shutdown, waiting for the transaction timeout:

  shutdown_bye_answered             both answer the BYE: the call ends by itself, the daemon stops at once
  shutdown_bye_unanswered_provider  the provider takes the BYE and never answers it
  shutdown_bye_unanswered_both      neither the phone nor the provider answers its BYE

Every flow: both sides got their BYE, the call's record is written (hangup_by=system),
event=stopped comes within the daemon's bound (3 s) with no event=shutdown_bound_reached,
event=sip_shutdown_bound_reached or event=agent_not_shut_down, exit code 0. One flow per ctest
entry (run_flows)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from harness import Harness, check, fail, run_flows, udp_bound, wait_until  # noqa: E402
import scenarios  # noqa: E402

# The daemon's bound on the features' stop at SIGTERM; the agents' shutdown follows it.
STOP_BOUND_S = 3.0


def start_daemon(h, lan_port, wan_port, provider_port):
    return h.start_daemon({
        "lan": {"listen": [f"udp:127.0.0.1:{lan_port}"], "networks": ["127.0.0.0/8"], "realm": "test.arpa"},
        "wan": {"address": "127.0.0.1", "port": wan_port},
        "registrar": {"qualify_interval": 0},
        "extensions": [{"number": "10", "password": "pw-ten"}],
        "trunks": [{"name": "prov", "registrar": f"sip:127.0.0.1:{provider_port}", "username": "4930123456",
                    "register": False, "keepalive": {"method": "off"}}],
        "routing": {"outbound": [{"prefix": "0", "trunk": "prov"}]},
        "media": {"ports": list(h.ports.span(20)), "timeout": 30},
        "log": {"level": "debug"},
    })


def call_then_stop(name, binary, phone_answers, provider_answers):
    with Harness(f"calls-shutdown-{name}", binary) as h:
        lan_port, wan_port, provider_port, phone_port = h.port(4)
        provider = h.sipp_bg(scenarios.provider_answer(answer_bye=provider_answers), None, provider_port,
                             name="provider", timeout=40)
        if not wait_until(lambda: udp_bound(provider_port) or not provider.running(), 10) or not provider.running():
            fail(f"sipp provider did not start on {provider_port}:\n{h.sipp_output(provider)[-2000:]}")
        d = start_daemon(h, lan_port, wan_port, provider_port)
        phone = h.sipp_bg(scenarios.phone_call_out("10", "pw-ten", "0301234", answer_bye=phone_answers),
                          f"127.0.0.1:{lan_port}", phone_port, name="phone", timeout=40)
        d.wait_log(r"component=calls event=answered", timeout=10)
        check(wait_until(lambda: h.messages("provider", method="ACK"), 5), "the provider got the ACK: the call is up")

        took = h.stop_daemon_timed(d)
        check(took < STOP_BOUND_S, f"stopped {took:.2f} s after SIGTERM (under the {STOP_BOUND_S:.0f} s bound)")
        if phone_answers and provider_answers:
            check(took < 1.0, f"both BYEs answered: stopped at once ({took:.2f} s)")
        check(h.messages("provider", method="BYE"), "the provider got b2bua's BYE")
        check(h.messages("phone", method="BYE"), "the phone got b2bua's BYE")
        rows = h.db_rows("SELECT hangup_by FROM call_records")
        check(rows == [("system",)], f"the call's record written, hung up by the system: {rows}")


def shutdown_bye_answered(binary):
    call_then_stop("answered", binary, phone_answers=True, provider_answers=True)


def shutdown_bye_unanswered_provider(binary):
    call_then_stop("unanswered-provider", binary, phone_answers=True, provider_answers=False)


def shutdown_bye_unanswered_both(binary):
    call_then_stop("unanswered-both", binary, phone_answers=False, provider_answers=False)


if __name__ == "__main__":
    run_flows({"shutdown_bye_answered": shutdown_bye_answered,
               "shutdown_bye_unanswered_provider": shutdown_bye_unanswered_provider,
               "shutdown_bye_unanswered_both": shutdown_bye_unanswered_both})
