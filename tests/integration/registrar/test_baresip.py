#!/usr/bin/env python3
"""A real softphone: baresip (Debian), headless with a generated config, registers (digest),
refreshes and unregisters on exit; the test reads the bindings from the database and the log."""
import os
import re

from registrar_common import bindings, config, wait_bindings
from harness import Harness, check, run_flows, wait_until


def baresip_config(directory, registrar_port, phone_port):
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "config"), "w") as f:
        # No audio device: a codec is all baresip needs to start; account.so reads "accounts".
        f.write(f"poll_method epoll\nsip_listen 127.0.0.1:{phone_port}\n"
                "module_path /usr/lib/baresip/modules\nmodule g711.so\nmodule_app account.so\n")
    with open(os.path.join(directory, "accounts"), "w") as f:
        f.write(f"<sip:10@127.0.0.1:{registrar_port};transport=udp>;auth_pass=secret10;regint=10\n")


def baresip(binary):
    with Harness("registrar-baresip", binary) as h:
        port = h.port()
        phone_port = h.port(2)[0]  # baresip's TLS transport takes the port above its SIP port
        d = h.start_daemon(config(port, min_expires=10))
        d.wait_log(r"component=registrar event=started")
        cfg = h.path("baresip")
        baresip_config(cfg, port, phone_port)
        phone = h.spawn(["baresip", "-f", cfg], "baresip")

        d.wait_log(rf"event=binding_added ext=10 contact=127.0.0.1:{phone_port} flow=udp:127.0.0.1:{phone_port} "
                   r'user_agent="baresip [^"]*" expires=10', timeout=10)
        phone.wait_log(r"200 OK \(\) \[1 binding\]", timeout=5)
        rows = wait_bindings(h, "10", lambda rows: len(rows) == 1)
        check(len(rows) == 1 and rows[0][4] == f"127.0.0.1:{phone_port}", f"baresip's binding in the database: {rows}")
        first_expiry = rows[0][2]

        d.wait_log(rf"event=binding_refreshed ext=10 contact=127.0.0.1:{phone_port}", timeout=15)
        check(wait_until(lambda: bindings(h, "10") and bindings(h, "10")[0][2] > first_expiry, 5),
              "the refresh moved the expiry forward")

        phone.stop()
        d.wait_log(rf"event=binding_removed ext=10 contact=127.0.0.1:{phone_port}", timeout=5)
        check(wait_until(lambda: not bindings(h, "10"), 5), "baresip's un-REGISTER on exit removed the binding")
        check(len(re.findall(r"event=auth_failed", d.output())) == 0, "baresip never failed authentication")
        h.stop_daemon(d)


if __name__ == "__main__":
    run_flows({"baresip": baresip})
