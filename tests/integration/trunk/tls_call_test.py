"""Calls over a TLS trunk: kamailio (kamailio-provider.cfg with TLS and record-routing) is the
provider, a sipp far end sits behind it on UDP, a sipp phone on the LAN side.

  outbound  phone 10 dials 0301234567: the INVITE leaves over the trunk's TLS connection
            (certificate checked against provider.test), kamailio relays it to the far end,
            the answer, the phone's BYE and the RTP both ways go through;
  inbound   the far end calls the trunk's number: kamailio sends the INVITE over our own TLS
            connection (the Contact names its port), phone 10 answers, the far end hangs up.
Both calls are recorded. Ports 16280-16299, relay 16500-16559 and sipp media 16600-16639 on
127.0.0.1."""
import json
import os
import re
import sys
import time

from provider import USER, PASSWORD
from stream_transport_test import make_certificates
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "calls"))
from harness import Harness, check, wait_port_free, wait_until  # noqa: E402
import scenarios  # noqa: E402

KAMAILIO, KAMAILIO_TLS, WAN, WAN_TLS, LAN, DNS, FAR, PHONE, PHONE_OUT = range(16280, 16289)
HERE = os.path.dirname(os.path.abspath(__file__))


def write(h, name, xml):
    path = h.path(name + ".xml")
    with open(path, "w") as f:
        f.write(xml)
    return path


def sipp_bg(h, name, xml, target, port, media_port):
    argv = ["sipp", target, "-sf", write(h, name, xml), "-i", "127.0.0.1", "-p", str(port), "-nostdin", "-m", "1",
            "-timeout", "30s", "-timeout_error", "-trace_msg", "-message_file", h.path(f"{name}.messages"),
            "-trace_err", "-error_file", h.path(f"{name}.errors"), "-mp", str(media_port)]
    return h.spawn(argv, name)


def finished(p, what):
    try:
        p.proc.wait(40)
    except Exception:
        p.kill9()
    err = p.log_path.replace(".log", ".errors")
    out = p.output() + (open(err, errors="replace").read() if os.path.exists(err) else "")
    check(p.proc.returncode == 0, f"{what} (sipp exit {p.proc.returncode})\n{out[-1500:] if p.proc.returncode else ''}")


def config(h):
    return {
        "lan": {"listen": [f"udp:127.0.0.1:{LAN}"], "networks": ["127.0.0.0/8"], "realm": "test.arpa"},
        "wan": {"address": "127.0.0.1", "port": WAN, "tls_port": WAN_TLS, "tls_ca_dir": h.path("trusted"),
                "resolv_conf": h.path("resolv.conf"), "dscp_sip": -1},
        "registrar": {"qualify_interval": 0},
        "extensions": [{"number": "10", "password": "pw-ten"}],
        "trunks": [{"name": "prov", "registrar": f"sip:provider.test:{KAMAILIO_TLS}", "transport": "tls",
                    "username": USER, "password": PASSWORD, "expires": 60, "numbers": [USER],
                    "keepalive": {"method": "crlf", "interval": 20}}],
        "routing": {"inbound": [{"number": USER, "ring": ["10"], "timeout": 20}],
                    "outbound": [{"prefix": "0", "trunk": "prov"}]},
        "media": {"ports": [16500, 16559], "timeout": 30},
        "status": {"listen": f"127.0.0.1:{LAN + 100}"},
        "log": {"level": "debug"},
    }


def call_records(h, n):
    def enough():
        rows = h.db_rows("SELECT direction, extension, trunk, remote_number, final_code, hangup_by, media_stats_json "
                         "FROM call_records ORDER BY id")
        return rows if len(rows) >= n else None
    rows = wait_until(enough, 8)
    check(rows is not None, f"{n} call records written")
    return rows


with Harness("trunk-tls-call") as h:
    for port in (KAMAILIO, KAMAILIO_TLS, DNS, FAR):
        check(wait_port_free(port), f"port {port} is free")
    make_certificates(h)
    dns = h.spawn(["dnsmasq", "-k", "--no-resolv", "--no-hosts", f"--port={DNS}", "--listen-address=127.0.0.1",
                   "--bind-interfaces", "--user=root", "--group=root", "--pid-file=",
                   "--host-record=provider.test,127.0.0.1", "--local-ttl=60", "--log-facility=-"], "dnsmasq")
    dns.wait_log(r"started, version", timeout=5)
    with open(h.path("resolv.conf"), "w") as f:
        f.write(f"nameserver 127.0.0.1\nport {DNS}\n")
    k = h.spawn(["kamailio", "-DD", "-E", "-f", os.path.join(HERE, "kamailio-provider.cfg"), "-Y", h.dir,
                 "-m", "32", "-M", "8", "-l", f"udp:127.0.0.1:{KAMAILIO}", "-l", f"tls:127.0.0.1:{KAMAILIO_TLS}",
                 "-A", "WITH_TLS", "-A", f'TLS_CERT="{h.path("srv.pem")}"', "-A", f'TLS_KEY="{h.path("srv.key")}"',
                 "-A", f'FAR_END="sip:127.0.0.1:{FAR}"'], "kamailio")
    k.wait_log(r"INFO: <core> \[main.c:\d+\]: main\(\): processes \(at least\)|ready|listening on", timeout=10)

    d = h.start_daemon(config(h))
    d.wait_log(r"event=contact_updated trunk=prov from=127\.0\.0\.1:%d to=127\.0\.0\.1:(\d+)" % WAN_TLS, timeout=10)
    port = int(re.search(r"event=contact_updated trunk=prov .* to=127\.0\.0\.1:(\d+)", d.output()).group(1))
    k.wait_log(r"saved sip:%s@provider\.test contact=<sip:b2t[0-9a-f]{12}@127\.0\.0\.1:%d;transport=tls>"
               % (USER, port), timeout=10)
    check(True, f"trunk registered over TLS (Contact at our connection's port {port})")

    # Outbound over TLS.
    far = sipp_bg(h, "far_answer", scenarios.provider_answer(), f"127.0.0.1:{KAMAILIO}", FAR, 16600)
    time.sleep(0.3)
    phone = h.sipp(write(h, "out", scenarios.phone_call_out("10", "pw-ten", "0301234567")), f"127.0.0.1:{LAN}",
                   PHONE_OUT, extra=["-m", "1", "-mp", "16610"], name="out")
    check(phone.returncode == 0, f"outbound call answered and hung up by the phone\n{phone.output[-1500:]}")
    finished(far, "far end got INVITE, ACK and BYE through kamailio")
    check(re.search(r"request INVITE from 127\.0\.0\.1:%d ruri=sip:0301234567@provider\.test" % port, k.output()),
          "the INVITE reached kamailio over the trunk's TLS connection")

    # Inbound over our TLS connection.
    r = h.sipp(write(h, "reg10", scenarios.phone_register("10", "pw-ten")), f"127.0.0.1:{LAN}", PHONE,
               extra=["-m", "1"], name="reg10")
    check(r.returncode == 0, f"phone 10 registered\n{r.output[-800:]}")
    phone = sipp_bg(h, "phone10", scenarios.phone_answer(), f"127.0.0.1:{LAN}", PHONE, 16620)
    time.sleep(0.3)
    far = h.sipp(write(h, "in", scenarios.provider_call_in(USER)), f"127.0.0.1:{KAMAILIO}", FAR,
                 extra=["-m", "1", "-mp", "16630"], name="in")
    check(far.returncode == 0, f"inbound call answered, far end hung up\n{far.output[-1500:]}")
    finished(phone, "phone 10 answered the inbound call")
    check(re.search(r"relaying INVITE to sip:b2t[0-9a-f]{12}@127\.0\.0\.1:%d;transport=tls" % port, k.output()),
          "kamailio sent the INVITE to the Contact on our TLS connection")

    rows = call_records(h, 2)
    for row, want in zip(rows, (("outbound", "10", "prov", "0301234567", 200), ("inbound", "10", "prov", None, 200))):
        check(row[0:3] == want[0:3] and row[4] == 200, f"call record {row[:6]}")
        stats = json.loads(row[6])
        check(stats["a"]["packets"] > 0 and stats["b"]["packets"] > 0,
              f"{row[0]}: RTP relayed both ways {stats['a']['packets']}/{stats['b']['packets']}")
    check(not re.search(r"level=(error|warn) component=(sip|trunk)", d.output()), "no TLS or trunk warnings")
    check(d.stop() == 0, "daemon exits cleanly")
    print("PASS")
