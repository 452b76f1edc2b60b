#!/usr/bin/env python3
"""The un-REGISTER at shutdown (SIGTERM), sipp as the provider:

  shutdown_unregister_answered  the provider answers the un-REGISTER 200: event=unregistered,
                                and the daemon stops at once
  shutdown_unregister_silent    the provider answers the REGISTER, then takes the un-REGISTER
                                and never answers it (its network down, a provider that
                                stopped answering): the trunk gives the un-REGISTER up within
                                the time a feature may spend on the network at shutdown
                                (1.5 s, event=unregister_timeout), its handle is gone before
                                the SIP stacks shut down, so they shut down at once: no
                                event=sip_shutdown_bound_reached, no event=agent_not_shut_down,
                                event=stopped within the daemon's bound (3 s)."""

from provider import recv, respond, start_provider, trunk_config
from harness import Harness, check, run_flows

# The daemon's bound on the features' stop at SIGTERM; the agents' shutdown follows it.
STOP_BOUND_S = 3.0


def registered(h, steps):
    """The daemon with trunk prov at a sipp provider playing `steps` after the REGISTER it
    answers; returns (daemon, provider) once the trunk is registered."""
    lan, wan, provider_port = h.port(3)
    provider = start_provider(h, [recv(), respond(200, "OK", contact_expires=60), *steps], provider_port,
                              timeout=40)
    d = h.start_daemon(trunk_config((lan, wan), f"sip:127.0.0.1:{provider_port}"))
    d.wait_log(r"event=registered trunk=prov", timeout=10)
    return d, provider


def unregisters(h):
    """The un-REGISTERs the provider received (Expires: 0)."""
    return [m for m in h.messages("provider", method="REGISTER") if "Expires: 0" in m]


def shutdown_unregister_answered(binary):
    with Harness("trunk-shutdown-answered", binary) as h:
        d, _ = registered(h, [recv(), respond(200, "OK")])
        took = h.stop_daemon_timed(d)
        check("event=unregistered trunk=prov status=200" in d.output(), "the un-REGISTER answered: event=unregistered")
        check(len(unregisters(h)) == 1, f"the provider got one un-REGISTER ({len(unregisters(h))})")
        check(took < 1.0, f"stopped {took:.2f} s after SIGTERM (under 1 s)")


def shutdown_unregister_silent(binary):
    with Harness("trunk-shutdown-silent", binary) as h:
        d, _ = registered(h, [recv(), '<pause milliseconds="30000"/>\n'])
        took = h.stop_daemon_timed(d)
        out = d.output()
        check("event=unregister_timeout trunk=prov" in out, "the unanswered un-REGISTER given up: event=unregister_timeout")
        check("event=unregistered" not in out, "no event=unregistered without an answer")
        check(unregisters(h), "the provider got the un-REGISTER")
        check(took < STOP_BOUND_S, f"stopped {took:.2f} s after SIGTERM (under the {STOP_BOUND_S:.0f} s bound)")


if __name__ == "__main__":
    run_flows({"shutdown_unregister_answered": shutdown_unregister_answered, "shutdown_unregister_silent": shutdown_unregister_silent})
