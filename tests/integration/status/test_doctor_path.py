#!/usr/bin/env python3
"""`b2bua doctor` on the way to the provider and to the phones, against real peers:

  doctor_provider_503       two sipp providers answer REGISTER with 503 Service Unavailable,
                            one with Retry-After: 30 and a Warning: the doctor says "the provider
                            of trunk busy answered 503 Service Unavailable (Retry-After 30)" and
                            "... trunk down answered 503 Service Unavailable", shows the request
                            line, the status line and the Warning, and never "does not answer"
  doctor_dns_srv_and_rtt    dnsmasq on loopback answers the SRV query of provider.test with two
                            targets; the first is silent, the second (sipp) registers the trunk
                            and answers the keep-alive's OPTIONS; a phone registers: all good,
                            and the doctor shows the SRV answer, the servers in the order tried
                            with each outcome, and the OPTIONS round trip; the keep-alive asks
                            only the live server, the failback probe the silent one, and a stop
                            while that probe is in flight is clean and quick (no
                            agent_not_shut_down, no LeakSanitizer report)
  doctor_phone_wrong_password  a phone registers with a wrong password: extension 10's last
                            failure is a problem naming the phone's address and port, the time,
                            "the password did not match"; neither password appears
  doctor_one_way_audio      the provider calls the DID, phone 10 answers and never sends RTP (the
                            calls tests' one-way flow): after the call, the doctor warns of
                            one-way audio from the phone in that call, with the likely cause
  doctor_nat_by_interface   wan.interface is lo; the provider names 127.0.0.1:<wan port> in Via
                            received/rport: b2bua is reached directly, judged by lo's own
                            addresses (not by wan.address), which the evidence lists
  doctor_phone_second_nat   a phone registers from 127.0.0.1:<port> naming 127.0.0.99:5060 in its
                            Contact: the doctor says it is behind another NAT, with both addresses

One flow per ctest entry (run_flows)."""
import json
import os
import re
import socket
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
sys.path.insert(0, os.path.join(HERE, "..", "trunk"))
from harness import Harness, check, run_flows, wait_until  # noqa: E402
from provider import recv, respond, start_dnsmasq, start_provider  # noqa: E402
from sip_client import Client, register  # noqa: E402
from status_http import get_json  # noqa: E402

PHONE_PASSWORD = "pw-kitchen-Jk55"
WRONG_PASSWORD = "not-the-password-Qm31"
TRUNK_PASSWORD = "trunk-Secret-Lp90"


def doctor(binary, cfg, *args):
    return subprocess.run([binary, "doctor", "--config", cfg, *args], capture_output=True, text=True, timeout=30)


def show(r):
    """The run as the test log keeps it (the README's examples are copied from such runs)."""
    print(f"--- b2bua doctor (exit {r.returncode})\n{r.stdout}{r.stderr}---", flush=True)


def findings(binary, cfg):
    r = doctor(binary, cfg, "--json")
    return r.returncode, {f["id"]: f for f in json.loads(r.stdout)}


def base_config(lan, wan, status, **changes):
    cfg = {
        "lan": {"listen": [f"udp:127.0.0.1:{lan}"], "networks": ["127.0.0.0/8"]},
        "wan": {"address": "127.0.0.1", "port": wan},
        # No qualify: the test's phones are one-shot clients that answer no OPTIONS.
        "registrar": {"qualify_interval": 0},
        "extensions": [{"number": "10", "name": "Kitchen", "password": PHONE_PASSWORD}],
        "status": {"listen": f"127.0.0.1:{status}"},
    }
    cfg.update(changes)
    return cfg


def trunk(name, registrar, **changes):
    t = {"name": name, "registrar": registrar, "username": "4930123456", "password": TRUNK_PASSWORD,
         "keepalive": {"method": "off"}, "binding_check": 0}
    t.update(changes)
    return t


def doctor_provider_503(binary):
    with Harness("doctor-503", binary) as h:
        lan, wan, status, busy_port, down_port = h.port(5)
        busy = start_provider(h, [recv(), respond(503, "Service Unavailable",
                                                  ["Retry-After: 30", 'Warning: 399 provider.test "maintenance"'])],
                              busy_port, name="busy")
        down = start_provider(h, [recv(), respond(503, "Service Unavailable")], down_port, name="down")
        cfg = h.write_config(base_config(lan, wan, status, trunks=[trunk("busy", f"sip:127.0.0.1:{busy_port}"),
                                                                   trunk("down", f"sip:127.0.0.1:{down_port}")]))
        d = h.start_daemon(cfg)
        check(wait_until(lambda: all(t.get("state") == "backoff" for t in get_json(status)["trunks"]), 10),
              "both trunks back off after the 503", json.dumps(get_json(status)["trunks"]))
        h.finish(busy, "provider busy answered 503 with Retry-After")
        h.finish(down, "provider down answered 503")
        r = doctor(binary, cfg)
        show(r)
        check(r.returncode == 2, f"b2bua doctor exits 2 ({r.returncode})", r.stdout + r.stderr)
        check("the provider of trunk busy answered 503 Service Unavailable (Retry-After 30)" in r.stdout,
              "trunk busy: the provider answered 503 with its Retry-After")
        check("the provider of trunk down answered 503 Service Unavailable\n" in r.stdout,
              "trunk down: the provider answered 503, no Retry-After")
        check("does not answer" not in r.stdout, "a 503 is never called silence")
        check(f"REGISTER sip:127.0.0.1:{busy_port} SIP/2.0 -> SIP/2.0 503 Service Unavailable; Retry-After: 30; "
              f'Warning: 399 provider.test "maintenance"; sent to 127.0.0.1:{busy_port}' in r.stdout,
              "the evidence is the request line, the status line, Retry-After and Warning")
        code, f = findings(binary, cfg)
        check(f["trunk.busy.registration"]["verdict"] == "problem" and code == 2, "--json: a problem, exit 2")
        last = get_json(status)["trunks"]
        busy_t = next(t for t in last if t["name"] == "busy")
        check(busy_t["last_failure"]["retry_after"] == 30 and busy_t["last_failure"]["answered"] is True,
              f"GET /status keeps the exchange: {busy_t['last_failure']}")
        h.stop_daemon(d)


# The registrar that is first in the SRV answer never answers; the second registers us and
# answers every OPTIONS of the keep-alive (on the registration's Call-ID).
REGISTRAR_AND_OPTIONS = ['<label id="loop"/>\n<recv request="REGISTER" optional="true" next="reg"/>\n'
                         '<recv request="OPTIONS"/>\n'
                         '<send next="loop"><![CDATA[\nSIP/2.0 200 OK\n[last_Via:]\n[last_From:]\n'
                         '[last_To:];tag=prov[call_number]\n[last_Call-ID:]\n[last_CSeq:]\nContent-Length: 0\n\n]]></send>\n'
                         '<label id="reg"/>\n'
                         '<send next="loop"><![CDATA[\nSIP/2.0 200 OK\n[last_Via:]\n[last_From:]\n'
                         '[last_To:];tag=prov[call_number]\n[last_Call-ID:]\n[last_CSeq:]\n[last_Contact:]\n[last_Expires:]\n'
                         'Content-Length: 0\n\n]]></send>\n']


def doctor_dns_srv_and_rtt(binary):
    with Harness("doctor-dns", binary) as h:
        lan, wan, status, dns_port, silent_port, live_port, phone = h.port(7)
        start_dnsmasq(h, dns_port, "--local-ttl=30",
                      f"--srv-host=_sip._udp.provider.test,sip1.provider.test,{silent_port},10,0",
                      f"--srv-host=_sip._udp.provider.test,sip2.provider.test,{live_port},20,0",
                      "--host-record=sip1.provider.test,127.0.0.1", "--host-record=sip2.provider.test,127.0.0.1")
        # Takes the REGISTERs and never answers (no ICMP error to fail fast on).
        silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        silent.bind(("127.0.0.1", silent_port))
        live = start_provider(h, REGISTRAR_AND_OPTIONS, live_port, name="live", timeout=60)
        cfg = base_config(lan, wan, status,
                          trunks=[trunk("provider", "sip:provider.test", keepalive={"method": "options", "interval": 5})])
        cfg["wan"]["resolv_conf"] = h.path("resolv.conf")
        cfg["log"] = {"level": "debug"}  # which server the keep-alive and the failback probe ask
        cfg = h.write_config(cfg)
        d = h.start_daemon(cfg)
        check(wait_until(lambda: get_json(status)["trunks"][0].get("state") == "registered", 20),
              "the trunk registers at the second SRV target after the first stayed silent")
        check(wait_until(lambda: isinstance(get_json(status)["trunks"][0].get("keepalive_rtt_ms"), (int, float)), 12),
              "the keep-alive's OPTIONS round trip is in /status")
        t = get_json(status)["trunks"][0]
        print(f"trunk in /status: servers={t['servers']} dns={t['dns']!r} attempts={t['attempts']} "
              f"keepalive_rtt_ms={t['keepalive_rtt_ms']}", flush=True)
        check(register(lan, "10", PHONE_PASSWORD, phone, user_agent="Yealink SIP-T46U") == 200,
              "a phone registers as extension 10")
        r = doctor(binary, cfg)
        show(r)
        check(r.returncode == 0 and r.stdout.startswith("All good"), f"a healthy box: exit 0 ({r.returncode})",
              r.stdout)
        check(f"trunk provider tries, in this order: 127.0.0.1:{silent_port}, 127.0.0.1:{live_port}" in r.stdout,
              "the servers in the SRV order")
        check(f"SRV _sip._udp.provider.test: sip1.provider.test:{silent_port}, sip2.provider.test:{live_port}; "
              "sip1.provider.test: 127.0.0.1; sip2.provider.test: 127.0.0.1" in r.stdout, "the DNS answers")
        check(re.search(rf"127\.0\.0\.1:{silent_port} no answer \(408 Request Timeout\), "
                        rf"127\.0\.0\.1:{live_port} 200 OK", r.stdout) is not None,
              "the REGISTERs so far: the silent server, then the one that answered")
        m = re.search(rf"the provider's server 127\.0\.0\.1:{live_port} answers OPTIONS in (\d+\.\d) ms", r.stdout)
        check(m is not None, "the OPTIONS round trip is shown")
        check(f"the last REGISTER of trunk provider that failed (REGISTER sip:provider.test SIP/2.0 -> no response: "
              f"408 Request Timeout; sent to 127.0.0.1:{silent_port}" in r.stdout,
              "the failed exchange with the silent server stays as history")
        # The keep-alive rides on the registration's handle (its Call-ID) to the server we are
        # registered with; only the failback probe (a Call-ID of its own) asks the preferred,
        # silent one. Stopped while such a probe is in flight, the daemon must not wait out its
        # transaction (8 s) past the 4 s bound: a clean stop, the WAN stack shut down, no leak.
        silent.setblocking(False)
        heard = drain(silent)

        def probe_arrives():
            fresh = drain(silent)
            heard.extend(fresh)
            return any(m.startswith("OPTIONS ") for m in fresh)
        check(wait_until(probe_arrives, 8), "a failback probe (OPTIONS) reaches the silent preferred server")
        took = h.stop_daemon_timed(d)  # within that probe's 4 s bound: it is still in flight
        out = d.output()
        check(took < 4.0, f"the daemon stopped within 4 s ({took:.3f} s)")
        check(re.search(rf"event=keepalive_started trunk=provider server=127\.0\.0\.1:{live_port}\b", out) and
              re.search(rf"event=failback_probe_started trunk=provider server=127\.0\.0\.1:{silent_port}\b", out),
              "the keep-alive goes to the server registered with, the failback probe to the preferred one")
        live.stop()
        silent.close()
        registration = call_id(h.messages("live", method="REGISTER")[0])
        check(any(call_id(m) == registration for m in h.messages("live", method="OPTIONS")),
              "the live server answered the keep-alive's OPTIONS in the registration's Call-ID")
        probes = [m for m in heard if m.startswith("OPTIONS ")]
        check(probes and all(call_id(m) != registration for m in probes),
              f"no keep-alive OPTIONS reached the silent server ({len(probes)} failback probes there)")


def drain(sock):
    """The datagrams waiting on a non-blocking socket, as text."""
    out = []
    while True:
        try:
            out.append(sock.recv(65535).decode(errors="replace"))
        except BlockingIOError:
            return out


def call_id(message):
    m = re.search(r"^(?:Call-ID|i):\s*(\S+)", message, re.M | re.I)
    return m.group(1) if m else None


def doctor_phone_wrong_password(binary):
    with Harness("doctor-phone-password", binary) as h:
        lan, wan, status, phone = h.port(4)
        cfg = h.write_config(base_config(lan, wan, status))
        d = h.start_daemon(cfg)
        check(register(lan, "10", WRONG_PASSWORD, phone, user_agent="kitchen-phone") == 403,
              "the phone's REGISTER with a wrong password is refused (403)")
        r = doctor(binary, cfg)
        show(r)
        check(r.returncode == 2, f"b2bua doctor exits 2 ({r.returncode})", r.stdout + r.stderr)
        check("a phone at 127.0.0.1 cannot log in on extension 10: the password did not match (digest mismatch)"
              in r.stdout, "the last failure of extension 10 is the wrong password")
        check(re.search(rf"evidence: REGISTER from 127\.0\.0\.1:{phone} at \d{{4}}-\d\d-\d\d \d\d:\d\d UTC as user "
                        r'"10": wrong_password', r.stdout) is not None, "with the phone's address, port and the time")
        check("exactly as in the config" in r.stdout, "the action says to enter the password on the phone")
        code, f = findings(binary, cfg)
        check(f["extension.10.last_failure"]["verdict"] == "problem", "--json: extension.10.last_failure is a problem")
        for where, text in (("b2bua doctor", r.stdout + r.stderr), ("/status", json.dumps(get_json(status)))):
            check(WRONG_PASSWORD not in text and PHONE_PASSWORD not in text, f"{where} shows no password")
        check(register(lan, "10", PHONE_PASSWORD, phone, user_agent="kitchen-phone") == 200,
              "the phone registers with the right password")
        _, f = findings(binary, cfg)
        check(f["extension.10.last_failure"]["verdict"] == "ok", "then the failure is history (ok)")
        h.stop_daemon(d)


def doctor_nat_by_interface(binary):
    with Harness("doctor-nat-interface", binary) as h:
        lan, wan, status, provider_port = h.port(4)
        # Every REGISTER answered 200 with received/rport, as a provider behind which we would sit.
        answer = respond(200, "OK", contact_expires=60, nat=("127.0.0.1", wan)).replace("<send>", '<send next="loop">')
        provider = start_provider(h, ['<label id="loop"/>\n', recv(), answer], provider_port, timeout=60)
        cfg = base_config(lan, wan, status, trunks=[trunk("provider", f"sip:127.0.0.1:{provider_port}")])
        cfg["wan"]["interface"] = "lo"
        cfg = h.write_config(cfg)
        d = h.start_daemon(cfg)
        check(wait_until(lambda: get_json(status)["trunks"][0].get("public_address") == f"127.0.0.1:{wan}", 10),
              "the provider's received/rport is the learned public address")
        _, f = findings(binary, cfg)
        pub = f.get("trunk.provider.public_address", {})
        print(f"trunk.provider.public_address: {pub}", flush=True)
        check(pub.get("what") == f"b2bua is reached directly by trunk provider at 127.0.0.1:{wan}",
              "reached directly: the address is one of lo's")
        check(re.search(r"addresses of lo: [^;]*\b127\.0\.0\.1\b", pub.get("evidence", "")) is not None,
              "the evidence lists the interface's addresses")
        h.stop_daemon(d)
        provider.stop()


def doctor_phone_second_nat(binary):
    with Harness("doctor-second-nat", binary) as h:
        lan, wan, status, phone = h.port(4)
        cfg = h.write_config(base_config(lan, wan, status))
        d = h.start_daemon(cfg)
        # A router between phone and b2bua: the phone names its own address, the REGISTER
        # arrives from the router's.
        contact = "<sip:10@127.0.0.99:5060>"
        with Client(lan, phone, "10", user_agent="phone-behind-router") as c:
            first = c.register(contacts=[contact])
            check(first is not None and first.status == 401, "challenged")
            r = c.register(c.digest(first.challenge(), PHONE_PASSWORD, 1), contacts=[contact])
            check(r is not None and r.status == 200, "the phone registers naming 127.0.0.99:5060 in its Contact")
        r = doctor(binary, cfg)
        show(r)
        check(r.returncode == 1, f"b2bua doctor exits 1: a warning ({r.returncode})", r.stdout + r.stderr)
        check(f"a phone on extension 10 is behind another NAT: its REGISTER comes from 127.0.0.1:{phone} but it names "
              "127.0.0.99:5060 in its Contact" in r.stdout, "the second NAT is named with both addresses")
        h.stop_daemon(d)


def doctor_one_way_audio(binary):
    sys.path.insert(0, os.path.join(HERE, "..", "calls"))
    from harness import running
    from test_one_way_audio import call_to_silent_phone
    from test_transfer import Setup
    with running("doctor-one-way", binary, Setup, register=("10",)) as s:
        h = s.h
        phone, provider = call_to_silent_phone(s)
        s.daemon.wait_log(r"event=one_way_audio call=\d+ silent=b side=lan who=10 cause=nothing_arrives", timeout=12)
        h.finish(provider, "provider: call answered, BYE")
        h.finish(phone, "phone 10: answered without sending, got the BYE")
        cfg = h.path("b2bua.jsonc")
        check(wait_until(lambda: any(i.endswith(".one_way") for i in findings(binary, cfg)[1]), 10),
              "the finished call's one-way audio is a finding")
        r = doctor(binary, cfg)
        show(r)
        # The calls tests' short extension passwords are problems of their own (exit 2).
        one_way = [f for i, f in findings(binary, cfg)[1].items() if i.endswith(".one_way")]
        check(r.returncode >= 1 and len(one_way) == 1 and one_way[0]["verdict"] == "warning",
              f"the one-way call is one warning ({r.returncode}, {one_way})")
        check(re.search(r"one-way audio: nothing was heard from the phone \(extension 10\) in call \S+", r.stdout)
              is not None, "it names the silent side and the call")
        check("side lan, cause nothing_arrives" in r.stdout and "it sent no audio to b2bua" in r.stdout,
              "with the likely cause and what to check")


if __name__ == "__main__":
    run_flows({f.__name__: f for f in (doctor_provider_503, doctor_dns_srv_and_rtt, doctor_phone_wrong_password,
                                       doctor_nat_by_interface, doctor_phone_second_nat, doctor_one_way_audio)})
