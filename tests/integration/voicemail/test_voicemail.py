#!/usr/bin/env python3
"""The answering machine (extensions[].voicemail, routing.inbound[].voicemail), its menu (*97)
and message waiting (RFC 3842), end to end: sipp plays the provider (an IP-authenticated
trunk) and the phones, RTP endpoints of the test's own receive what b2bua plays and send tones
and RFC 4733 events (voicemail_support.Rtp), baresip plays a real caller; messages are checked
in the database (voice_messages) and as WAV files.

  no_answer_leaves_message         the provider calls the DID, 10 rings (180 only), is
                                   cancelled after its voicemail.after (3 s); b2bua answers the
                                   provider (PCMU, telephone-event, ptime 20) and plays the
                                   built-in greeting and the 1 kHz beep (packet count, pacing,
                                   payload type), records 3 s of a 440 Hz tone: one row of
                                   3000 +-200 ms, the WAV (8 kHz mono 16-bit) at ~440 Hz, the
                                   record's notes, the log; the provider sees nothing of the LAN
  baresip_leaves_message           baresip (11, PCMA) calls 10 (voicemail.always) with a
                                   speech-like WAV (aufile); the stored message matches the part
                                   of the WAV baresip sent after the beep (normalized
                                   cross-correlation >= 0.8 at the best lag, length within
                                   100 ms of what was left of the WAV)
  hangup_in_greeting_no_message    the caller hangs up in the greeting: no row, no file,
                                   voice_result=no_message, event=no_message
  max_length_cuts                  max_message 5, the caller talks for 8 s: a 5 s message
                                   (+-200 ms) and b2bua's BYE
  mailbox_full                     max_messages 1: a first call leaves a message; the second
                                   hears "mailbox full" (~4 s of RTP) and gets b2bua's BYE; still
                                   one row, voice_result=full, event=voicemail_full
  mailbox_full_lan_caller          the same full mailbox, called by LAN phone 11: "this mailbox is
                                   full" as early media (183, the prompt's audio), then 486; never
                                   answered, voice_result=full
  storage_full                     the messages' folder is a 128 KiB tmpfs of the daemon's own (a
                                   nearly full flash; 64 KiB stay for the database): a caller
                                   talking 6 s leaves a message cut at ~4.1 s (the free space);
                                   the next caller hears "mailbox full", event=voicemail_full
                                   reason="no space left on the flash"; one file, no partial one
  storage_read_only                the folder is a read-only tmpfs (a flash the kernel remounted
                                   read-only after errors): the caller hears "mailbox full" before
                                   saying anything; event=voicemail_full says "Read-only file
                                   system"; no row
  menu_rfc4733                     two messages (two calls at once); a phone of 10 SUBSCRIBEd
                                   (message-summary); 10 dials *97 and keys RFC 4733 events: the
                                   first message plays to its end (heard), 6 plays the next (heard),
                                   7 deletes it, # says goodbye and b2bua hangs up; the played
                                   messages carry the callers' tones; NOTIFYs 0/0, 1/0, 2/0, 1/1,
                                   0/2, 0/1
  menu_sip_info                    the same menu keyed by SIP INFO (application/dtmf-relay): '#'
                                   during the summary ends the call within 3 s
  subscribe_refused_from_stranger  SUBSCRIBE message-summary for 10 from a port no phone
                                   registered from: 403 (event=subscribe_refused); from 11's
                                   registered port: 403; a wrong Event: 489; from 10's own: 200
                                   and a NOTIFY "Messages-Waiting: no"
  bad_greeting                     10's greeting a text file, 11's a zero-length file: each
                                   logged event=greeting_unusable with the file and the reason;
                                   calls to both are answered with the built-in greeting
  folder_setting                   the top-level voicemail section (folder relative to the
                                   config, prompts): the message lands in that folder
  skip_greeting_with_hash          '#' (RFC 4733) in the greeting: it stops, the beep plays, the
                                   message that follows is stored
  menu_pin                         11 dials *97*10# (PIN 4711): a wrong PIN is refused
                                   (event=wrong_pin, no digits logged), the right one opens the
                                   empty mailbox: "no new messages", goodbye, BYE
  mwi_unsolicited_notify           voicemail.notify: a registered phone that never subscribed gets
                                   a message-summary NOTIFY when it registers (0/0) and when a
                                   message is stored (1/0)
  mwi_notify_on_register           voicemail.notify, a message waiting: a phone that registers
                                   gets one NOTIFY 1/0 (Messages-Waiting: yes, active) and
                                   event=mwi ... reason=registered; a refresh REGISTER none; a
                                   reboot (new Call-ID) one more on a new dialog; an empty
                                   mailbox's phone 0/0, an extension without notify nothing
  mwi_notify_after_restart         a phone registered, b2bua stopped, its message marked heard in
                                   the database, b2bua started: the phone gets one NOTIFY 0/1 a
                                   few seconds later without registering again (reason=restored)
  mwi_silent_phone_at_stop         two phones of 10 SUBSCRIBEd, one then switched off (answers
                                   nothing more); b2bua stopped (SIGTERM): both get a NOTIFY
                                   Subscription-State: terminated, the other answers it; the
                                   silent one is given up before the SIP stack's shutdown: no
                                   sip_shutdown_bound_reached / agent_not_shut_down, stopping to
                                   stopped within 2.5 s, exit code 0; Subscription-State
                                   terminated;reason=probation;retry-after (subscribe again later)
  mwi_follows_reload               11 without voicemail: its phone registers, no NOTIFY; the
                                   config gives 11 voicemail.notify and is reloaded (SIGHUP); the
                                   phone back after a reboot gets its NOTIFY 0/0 (message waiting
                                   answers from the reloaded config, not the one it started with)
  mailed_message                   voicemail.smtp (plain, to an SMTP server of the test's own)
                                   and 10's voicemail.email: a 3 s message is mailed within
                                   10 s: envelope b2bua@home.test -> anna@home.test, a Subject
                                   with the caller and the length, a base64 audio/wav attachment
                                   holding exactly the stored WAV's bytes, event=mail_sent; with
                                   the server down the next message logs event=mail_failed and
                                   stays as one job in <storage dir>/mail-spool

One flow per ctest entry (run_flows)."""
import email
import email.policy
import os
import re
import sqlite3
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "calls"))
from test_tones import check_prompt_early, phone_refused  # noqa: E402
from voicemail_support import (DID, DID2, FAR, Baresip, MwiPhone, Setup, SmtpSink, check_message, check_played,  # noqa: E402
                               check_voice_answer, first_line, g711_decode, greeting_seconds, header, log_lines,
                               notes_of, phone_calls, prompt_seconds, provider_call, read_wav, sine, speechlike,
                               align, write_wav, zero_crossing_hz, spurt_ends, wrap, send, reply, sdp, sdp_body)
from harness import check, check_sipp, running, run_flows, sipp_trace, wait_until  # noqa: E402
import scenarios as sc  # noqa: E402

TONE_S = 3.0


def received(s, run, method=None):
    return s.h.messages(run, method=method)


def wait_rows(s, n, timeout=8):
    rows = wait_until(lambda: (lambda r: r if len(r) == n else None)(s.messages()), timeout)
    return rows if rows is not None else s.messages()


def check_greeting(s, peer, pt=0, what="greeting and beep"):
    """Waits for the built-in greeting and the beep (one spurt), checks them; returns them."""
    greet = greeting_seconds()
    played = peer.wait_quiet(int(greet / 0.02 * 0.85), quiet=0.3, timeout=greet + 8)
    check_played(played, greet, pt, what)
    samples = [x for p in played[-20:-1] for x in g711_decode(pt, p.payload)]
    freq = zero_crossing_hz(samples)
    check(950 <= freq <= 1050, f"  {what}: ends with the 1 kHz beep ({freq:.0f} Hz in its last 380 ms)")
    speech = [x for p in played[:int(prompt_seconds('greeting') / 0.02) - 5] for x in g711_decode(pt, p.payload)]
    level = sum(abs(x) for x in speech) / max(1, len(speech))
    check(level > 200, f"  {what}: the greeting is not silence (mean level {level:.0f})")
    return played


def talk(s, seconds, freq, name, caller, what, cut=False):
    """The provider's `caller` reaches the machine (sipp run `name`), hears the greeting and the
    beep, talks `seconds` of `freq` Hz and hangs up 2.5 s later; with `cut`, b2bua is the one
    to hang up, at the message's maximum length (sipp takes the BYE)."""
    peer = s.rtp()
    greet = greeting_seconds()
    end = ("take_bye", 25000) if cut else ("bye", int((greet + seconds + 2.5) * 1000))
    p = s.provider(name, provider_call(peer.port, end, caller=caller))
    s.aim(peer, name)
    check_greeting(s, peer)
    peer.send_audio(sine(freq, seconds), wait=not cut)
    s.h.finish(p, f"  {what}")


def leave_message(s, seconds=1.5, freq=440, name="caller", caller=FAR, what="a caller"):
    """The provider's `caller` reaches the machine (sipp run `name`), hears the greeting and the
    beep, talks `seconds` of `freq` Hz and hangs up 2.5 s later; returns the rows once the
    message is stored (one row more than before)."""
    before = len(s.messages())
    talk(s, seconds, freq, name, caller, f"{what}: left a message")
    rows = wait_rows(s, before + 1)
    check(len(rows) == before + 1, f"  {what}: the message stored ({len(rows)} rows, {before + 1} expected)")
    return rows


def lan_leaks(s, text, phone_runs=()):
    leaks = ["test.arpa", "TestPhone", f":{s.lan_port}"] + [f":{p}" for p in s.phones.values()]
    for run in phone_runs:
        for m in s.h.messages(run) + s.h.messages(run, received=False):
            cid = header(m, "Call-ID")
            if cid:
                leaks.append(cid)
    return [leak for leak in leaks if leak in text]


# --- flows -------------------------------------------------------------------------------------------

def no_answer_leaves_message(binary):
    with running("vm-no-answer", binary, Setup, voicemail={"10": {"after": 3}}, register=("10",)) as s:
        h = s.h
        phone = s.phone("phone10", sc.phone_ring_only(), "10")
        time.sleep(0.3)
        peer = s.rtp()
        greet = greeting_seconds()
        provider = s.provider("provider", provider_call(peer.port, ("bye", int((greet + TONE_S + 3) * 1000))))
        h.finish(phone, "  phone 10: rang (180), was cancelled (200, 487, ACK)", timeout=15)
        msgs = sipp_trace(h.sipp_messages("phone10"))
        inv = next(m for m in msgs if m.received and m.method == "INVITE")
        cancel = next(m for m in msgs if m.received and m.method == "CANCEL")
        check(2.5 <= cancel.time - inv.time <= 4.0,
              f"  10 cancelled after voicemail.after 3 s ({cancel.time - inv.time:.2f} s)")
        answer = s.aim(peer, "provider")
        check_voice_answer(answer, 0, "b2bua's answer to the provider")
        played = check_greeting(s, peer)
        check(all(src == (peer.destination[0], peer.destination[1]) for src in peer.sources),
              f"  the greeting came from the port in b2bua's SDP ({peer.sources} / {peer.destination})")
        check(played[0].wall - cancel.time < 2.0, "  the greeting started right after the answer")
        peer.send_audio(sine(440, TONE_S), wait=True)
        h.finish(provider, "  provider: answered by the machine, hung up after its message")
        rows = wait_rows(s, 1)
        check(len(rows) == 1, f"  one row in voice_messages ({len(rows)})")
        samples = check_message(s, rows[0], "10", FAR, TONE_S, 200, "the message")
        freq = zero_crossing_hz(samples)
        check(430 <= freq <= 450, f"  the message is the caller's 440 Hz tone ({freq:.1f} Hz by zero crossings)")
        level = sum(abs(x) for x in samples) / max(1, len(samples))
        check(4000 <= level <= 6200, f"  at the level sent (mean |x| {level:.0f}; a 8000 peak sine has 5093)")
        row = s.record()
        check(tuple(row[:6]) == ("inbound", "10", "provider", FAR, 200, "caller"),
              f"  record {tuple(row[:6])}")
        check({"voicemail=no_answer:10", "voice_result=message"} <= set(notes_of(row)), f"  notes '{row[-1]}'")
        check(re.search(r"component=calls event=answered call=\d+ extension=10 trunk=provider media=voice",
                        s.daemon.output()), "  logged: calls event=answered media=voice")
        check(len(log_lines(s, "answered")) == 1 and "mailbox=10" in log_lines(s, "answered")[0],
              f"  logged: voicemail event=answered mailbox=10 {log_lines(s, 'answered')}")
        stored = log_lines(s, "voicemail_stored")
        check(len(stored) == 1 and f"caller={FAR}" in stored[0] and f"duration_ms={rows[0][5]}" in stored[0],
              f"  logged: event=voicemail_stored with the caller and duration {stored}")
        to_provider = "\n".join(received(s, "provider"))
        found = lan_leaks(s, to_provider, ["phone10"])
        check(not found, f"  the provider sees nothing of the LAN ({found})")


def baresip_leaves_message(binary):
    with running("vm-baresip", binary, Setup, voicemail={"10": {"always": True, "silence": 2}},
                 register=("10",)) as s:
        h = s.h
        greet = greeting_seconds()
        source = speechlike(greet + 5.0)
        wav = h.path("caller.wav")
        write_wav(wav, source)
        phone = Baresip(s, "11", wav, codec="PCMA")
        phone.command("dial", "10")
        phone.wait_event("CALL_ESTABLISHED", timeout=10)
        s.daemon.wait_log(r"component=voicemail event=answered call=\d+ mailbox=10", timeout=5)
        check(wait_until(lambda: phone.events("CALL_CLOSED"), greet + 15), "  the call ended (baresip or b2bua hung up)")
        rows = wait_rows(s, 1)
        check(len(rows) == 1, f"  one row in voice_messages ({len(rows)})")
        _, box, number, *_ = rows[0]
        check(box == "10" and number == "11", f"  mailbox 10, caller 11 ({box}, {number})")
        path = os.path.join(s.folder(), rows[0][7])
        rate, channels, width, rec = read_wav(path)
        check((rate, channels, width) == (8000, 1, 2), "  the WAV is 8 kHz mono 16-bit")
        lag, corr = align(rec, source)
        print(f"  recording {len(rec) / 8:.0f} ms starts at {lag / 8:.0f} ms of the source "
              f"(greeting+beep {greet * 1000:.0f} ms), correlation {corr:.3f}", flush=True)
        check(corr >= 0.8, f"  the message is what baresip sent: normalized cross-correlation {corr:.3f} >= 0.8")
        check(greet - 0.5 <= lag / 8000 <= greet + 1.5,
              f"  it starts where the beep ended ({lag / 8000:.2f} s into the source; greeting+beep {greet:.2f} s)")
        # baresip sends G.711 silence between the end of its file and its BYE (~0.8 s): that is
        # recorded too (shorter than the 2 s silence that would end the message), so the
        # length compared is up to the last sound, and what follows must be silence.
        left = (len(source) - lag) / 8
        sound = max((i for i, x in enumerate(rec) if abs(x) > 64), default=-1) + 1
        check(abs(sound / 8 - left) <= 100,
              f"  its sound lasts {sound / 8:.0f} ms: what baresip sent of its file after the beep ({left:.0f} ms) "
              "+-100 ms")
        tail = rec[sound:]
        check(all(abs(x) <= 16 for x in tail) and len(tail) < 2 * 8000,
              f"  then {len(tail) / 8:.0f} ms of baresip's silence until its BYE (< the 2 s that would end it)")
        row = s.record()
        check({"voicemail=always:10", "voice_result=message"} <= set(notes_of(row)), f"  notes '{row[-1]}'")


def hangup_in_greeting_no_message(binary):
    with running("vm-hangup-greeting", binary, Setup, voicemail={"10": {"always": True}},
                 register=("10",)) as s:
        h = s.h
        peer = s.rtp()
        provider = s.provider("provider", provider_call(peer.port, ("bye", 2000)))
        s.aim(peer, "provider")
        h.finish(provider, "  provider: answered, hung up 2 s into the greeting")
        s.daemon.wait_log(r"component=voicemail event=no_message call=\d+ mailbox=10 reason=hung_up_in_greeting",
                          timeout=5)
        time.sleep(0.5)
        got = peer.packets()
        check(0 < len(got) < int(2.5 / 0.02), f"  the greeting was cut at the hang-up ({len(got)} packets)")
        check(s.messages() == [], f"  no row in voice_messages ({s.messages()})")
        folder = h.path("voicemail")  # the default: next to the database
        files = [os.path.join(d, f) for d, _, fs in os.walk(folder) for f in fs]
        check(not files, f"  no file under {folder} ({files})")
        row = s.record()
        check(tuple(row[:6]) == ("inbound", "10", "provider", FAR, 200, "caller"), f"  record {tuple(row[:6])}")
        check({"voicemail=always:10", "voice_result=no_message"} <= set(notes_of(row)), f"  notes '{row[-1]}'")
        check(not log_lines(s, "voicemail_stored"), "  nothing stored")


def max_length_cuts(binary):
    with running("vm-max-length", binary, Setup, voicemail={"10": {"always": True, "max_message": 5}},
                 register=("10",)) as s:
        h = s.h
        peer = s.rtp()
        provider = s.provider("provider", provider_call(peer.port, ("take_bye", 25000)))
        s.aim(peer, "provider")
        check_greeting(s, peer)
        started = time.monotonic()
        peer.send_audio(sine(440, 8.0))
        h.finish(provider, "  provider: b2bua hung up while its caller still talked")
        bye_after = time.monotonic() - started
        check(4.5 <= bye_after <= 6.5, f"  the BYE came at the maximum length ({bye_after:.2f} s into the message)")
        check(peer.sent < 8.0 / 0.02, f"  before the caller was done ({peer.sent} of 400 packets sent)")
        rows = wait_rows(s, 1)
        check(len(rows) == 1, f"  one row in voice_messages ({len(rows)})")
        samples = check_message(s, rows[0], "10", FAR, 5.0, 200, "the message")
        check(430 <= zero_crossing_hz(samples) <= 450, "  the caller's tone")
        row = s.record()
        check(row[5] == "callee", f"  ended by the machine (hangup_by {row[5]})")
        check({"voicemail=always:10", "voice_result=message"} <= set(notes_of(row)), f"  notes '{row[-1]}'")


def hear_full(s, stored=1):
    """A second provider caller is answered, hears "mailbox full" and is hung up on; the
    `stored` messages before stay the only ones."""
    second = s.rtp()
    p2 = s.provider("provider2", provider_call(second.port, ("take_bye", 15000), caller="+4989333444"))
    answer = s.aim(second, "provider2")
    check_voice_answer(answer, 0, "the second call")
    s.h.finish(p2, "  second caller: answered, told, hung up on by b2bua")
    played = second.wait_quiet(1, quiet=0.2, timeout=3)
    check_played(played, prompt_seconds("mailbox_full"), 0, "\"mailbox full\"")
    check(len(s.messages()) == stored, f"  still {stored} rows ({len(s.messages())})")


def mailbox_full(binary):
    with running("vm-full", binary, Setup, voicemail={"10": {"always": True, "max_messages": 1}},
                 register=("10",)) as s:
        leave_message(s, name="provider1", what="first caller")
        hear_full(s)
        full = log_lines(s, "voicemail_full")
        check(len(full) == 1 and "mailbox=10" in full[0] and "max_messages=1" in full[0], f"  logged {full}")
        rows = s.h.call_records(2, columns="direction, extension, trunk, remote_number, final_code, hangup_by, "
                                "answer_ms, notes")
        check("voice_result=message" in notes_of(rows[0]), f"  first call: voice_result=message ('{rows[0][-1]}')")
        check("voice_result=full" in notes_of(rows[1]) and rows[1][5] == "callee",
              f"  second call: voice_result=full, ended by b2bua ('{rows[1][-1]}', {rows[1][5]})")


def mailbox_full_lan_caller(binary):
    with running("vm-full-lan", binary, Setup, voicemail={"10": {"always": True, "max_messages": 1}},
                 register=("10",)) as s:
        leave_message(s, name="provider1", what="first caller")
        what = "LAN caller, mailbox full"
        peer = s.rtp()
        xml = phone_refused("11", "10", peer.port, "486", "0 101")
        r = s.h.sipp(s.h.write_scenario("lan11", xml), s.lan, s.h.port(), name="lan11", timeout=30)
        check_sipp(r, f"{what}: phone 11 calling 10 ends with 486")
        check_prompt_early(s.h, "lan11", peer, 486, "mailbox_full", what)
        check(len(s.messages()) == 1, f"  {what}: still one message ({len(s.messages())})")
        rows = s.h.call_records(2, columns="direction, extension, trunk, remote_number, final_code, hangup_by, "
                                "answer_ms, notes")
        d, ext, _trunk, _number, final, _by, answer_ms, _notes = rows[1]
        words = notes_of(rows[1])
        check(d == "internal" and final == 486 and not answer_ms, f"  {what}: record internal, 486, never "
              f"answered ({d}, {final}, {answer_ms})")
        check("voicemail=always:10" in words and "voice_result=full" in words,
              f"  {what}: notes voicemail=always:10 voice_result=full ({rows[1][-1]!r})")


def tiny_folder_setup(h, mount_options, **kw):
    """Setup whose messages' folder is a small tmpfs mounted in a mount namespace of the
    daemon's own (unshare, then the daemon exec'd in the same process): nothing is mounted
    where the host or another test could see it, and it goes with the daemon."""
    if os.geteuid() != 0:
        print("SKIP: mounting a small tmpfs for the daemon needs root")
        sys.exit(77)
    folder = h.path("vmtiny")
    os.makedirs(folder)
    prefix = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
              f'mount -t tmpfs -o {mount_options},mode=0755 b2bua-test-flash "$0" && exec "$@"', folder]
    setup = Setup(h, daemon_prefix=prefix, top={"folder": folder}, **kw)
    setup.tiny = folder
    return setup


def storage_full(binary):
    # 128 KiB of flash, of which b2bua keeps 64 KiB for the database: about 4.1 s of message.
    with running("vm-storage-full", binary, tiny_folder_setup, mount_options="size=128k",
                 voicemail={"10": {"always": True}}, register=("10",)) as s:
        # The daemon's own view of the folder (its mount namespace), through /proc.
        seen = f"/proc/{s.daemon.pid}/root{s.tiny}"
        talk(s, 6, 440, "first", FAR, "a caller talked 6 s into a 128 KiB folder; b2bua hung up", cut=True)
        rows = wait_rows(s, 1)
        check(len(rows) == 1, f"  one row in voice_messages ({len(rows)})")
        answered = s.daemon.wait_log(r"component=voicemail event=answered call=\d+ mailbox=10 max_ms=(\d+)")
        max_ms = int(answered.group(1))
        check(3800 <= max_ms <= 4100, f"  the recording was sized to the free flash: max_ms={max_ms} (3800-4100)")
        duration = rows[0][5]
        check(abs(duration - max_ms) <= 100 and os.path.isfile(os.path.join(seen, rows[0][7])),
              f"  a {duration} ms message stored, cut where the flash ends ({rows[0][7]})")
        hear_full(s)
        full = log_lines(s, "voicemail_full")
        check(full and 'reason="no space left on the flash"' in full[-1], f"  logged why: {full}")
        row = s.h.call_records(2, columns="direction, extension, trunk, remote_number, final_code, hangup_by, "
                               "answer_ms, notes")[1]
        check("voice_result=full" in notes_of(row), f"  second call: voice_result=full ('{row[-1]}')")
        files = sorted(f for d, _, fs in os.walk(seen) for f in fs)
        check(len(files) == 1, f"  one file on the flash, nothing partial ({files})")


def storage_read_only(binary):
    with running("vm-storage-ro", binary, tiny_folder_setup, mount_options="ro,size=32k",
                 voicemail={"10": {"always": True}}, register=("10",)) as s:
        hear_full(s, stored=0)
        full = log_lines(s, "voicemail_full")
        check(full and "Read-only file system" in full[-1], f"  event=voicemail_full says why: {full}")
        row = s.record()
        check(tuple(row[:6]) == ("inbound", "10", "provider", "+4989333444", 200, "callee") and
              {"voicemail=always:10", "voice_result=full"} <= set(notes_of(row)),
              f"  the call ended as a full mailbox's: {tuple(row[:6])} '{row[-1]}'")
        check(s.daemon.running(), "  the daemon still runs")


def leave_two_messages(s):
    """Two callers at once leave 1.5 s of 440 Hz and of 660 Hz."""
    greet = greeting_seconds()
    runs = []
    for n, (caller, freq) in enumerate((("+4930111", 440), ("+4930222", 660))):
        peer = s.rtp()
        p = s.provider(f"caller{n}", provider_call(peer.port, ("bye", int((greet + 1.5 + 2.5) * 1000)), caller=caller))
        runs.append((p, peer, freq))
        time.sleep(0.3)  # one call answered before the other: the menu's "oldest first" is then known
    for p, peer, freq in runs:
        s.aim(peer, p.name)
    for p, peer, freq in runs:
        check_greeting(s, peer)
        peer.send_audio(sine(freq, 1.5))
    for p, peer, freq in runs:
        s.h.finish(p, f"  {p.name}: left a message")
    rows = wait_rows(s, 2)
    check(len(rows) == 2, f"  two messages stored ({len(rows)})")
    return rows


def tone_windows(packets, freq, pt=0):
    """How many 0.5 s windows of what was played carry `freq` (+-15 Hz) loudly."""
    audio = [x for p in packets for x in g711_decode(pt, p.payload)]
    n = 0
    for i in range(0, len(audio) - 4000, 4000):
        w = audio[i:i + 4000]
        if sum(abs(x) for x in w) / 4000 > 2000 and abs(zero_crossing_hz(w) - freq) <= 15:
            n += 1
    return n


def heard_count(s):
    return sum(r[8] for r in s.messages())


def menu_rfc4733(binary):
    with running("vm-menu", binary, Setup, voicemail={"10": {"always": True}}) as s:
        h = s.h
        mwi = MwiPhone(s, "10")
        check(mwi.subscribe() == 200, "  10's phone subscribed to message-summary (200)")
        check(wait_until(lambda: mwi.summaries(), 3) == [(0, 0)], f"  first NOTIFY: 0/0 {mwi.summaries()}")
        rows = leave_two_messages(s)
        check(wait_until(lambda: len(mwi.summaries()) >= 3, 5) and mwi.summaries()[:3] == [(0, 0), (1, 0), (2, 0)],
              f"  NOTIFYs as they came: 1/0, 2/0 {mwi.summaries()}")
        peer = s.rtp()
        phone = s.phone("menu10", phone_calls("10", "*97", peer.port, take_bye_ms=60000))
        answer = s.aim(peer, "menu10")
        check_voice_answer(answer, 0, "the menu's answer")
        s.daemon.wait_log(r"component=voicemail event=menu call=\d+ mailbox=10 pin=no", timeout=3)
        check(wait_until(lambda: heard_count(s) == 1, 25), f"  the first message played to its end: heard "
              f"({s.messages()})")
        oldest = min(rows, key=lambda r: (r[4], r[0]))
        first_heard = next(r for r in s.messages() if r[8])
        check(first_heard[0] == oldest[0], f"  the oldest first (id {first_heard[0]}; oldest {oldest[0]})")
        check(wait_until(lambda: mwi.summaries()[-1:] == [(1, 1)], 3), f"  NOTIFY 1/1 {mwi.summaries()}")
        peer.send_event("6", 101)
        check(wait_until(lambda: heard_count(s) == 2, 20), f"  6: the next message played to its end ({s.messages()})")
        check(wait_until(lambda: mwi.summaries()[-1:] == [(0, 2)], 3), f"  NOTIFY 0/2 {mwi.summaries()}")
        time.sleep(0.5)
        peer.send_event("7", 101)
        check(wait_until(lambda: len(s.messages()) == 1, 5), f"  7: the message deleted ({s.messages()})")
        kept = s.messages()[0]
        check(kept[0] == oldest[0] and kept[8] == 1, f"  the first message is kept, heard ({kept})")
        deleted = next(r for r in rows if r[0] != kept[0])
        check(not os.path.exists(os.path.join(s.folder(), deleted[7])), f"  its file is gone ({deleted[7]})")
        check(wait_until(lambda: mwi.summaries()[-1:] == [(0, 1)], 3), f"  NOTIFY 0/1 {mwi.summaries()}")
        time.sleep(1.0)
        peer.send_event("#", 101)
        h.finish(phone, "  #: goodbye, and b2bua hung up", timeout=15)
        played = peer.packets()
        check(tone_windows(played, 440) >= 2 and tone_windows(played, 660) >= 2,
              f"  both messages were played back (0.5 s windows at 440 Hz: {tone_windows(played, 440)}, "
              f"at 660 Hz: {tone_windows(played, 660)})")
        check(len(log_lines(s, "message_deleted")) == 1, f"  logged event=message_deleted {log_lines(s, 'message_deleted')}")
        sums = mwi.summaries()
        check(sums == [(0, 0), (1, 0), (2, 0), (1, 1), (0, 2), (0, 1)],
              f"  NOTIFYs 0/0, 1/0, 2/0, 1/1, 0/2, 0/1 ({sums})")
        bodies = mwi.bodies()
        check(all(re.search(r"^Message-Account: sip:10@test\.arpa\r?$", b, re.M) for b in bodies) and
              all(("Messages-Waiting: yes" in b) == (n > 0) for b, (n, _) in zip(bodies, sums)),
              f"  each body: Messages-Waiting yes only with new messages, Message-Account sip:10@test.arpa ({bodies[-1]!r})")
        row = s.h.call_records(3, columns="direction, extension, remote_number, final_code, hangup_by, notes")[-1]
        check(row[2] == "*97" and row[3] == 200 and "voicemail_menu=10" in (row[-1] or "").split(),
              f"  the menu call's record {row}")


def menu_sip_info(binary):
    with running("vm-menu-info", binary, Setup, voicemail={"10": {"always": True}}) as s:
        h = s.h
        leave_message(s)
        menu_peer = s.rtp()
        d = sc.phone_dialog("10", "*97")
        auth = f"[authentication username=10 password=pw-ten]\n"
        offer = sdp_body(sdp(menu_peer.port))
        info = ("Content-Type: application/dtmf-relay\nContent-Length: [len]\n\nSignal=#\nDuration=160\n")
        xml = (send(d.request("INVITE", 1, offer, initial=True)) +
               '<recv response="100" optional="true"/>\n<recv response="407" auth="true"/>\n' +
               send(d.request("ACK", 1, branch="[branch-3]"), retrans=False) +
               send(d.request("INVITE", 2, offer, headers=auth, initial=True)) +
               '<recv response="100" optional="true"/>\n<recv response="180" optional="true"/>\n'
               '<recv response="200"/>\n' + send(d.request("ACK", 2), retrans=False) +
               '<pause milliseconds="1000"/>\n' + send(d.request("INFO", 3, info)) +
               '<recv response="200"/>\n<recv request="BYE" timeout="5000" ontimeout="hangup"/>\n' +
               send(reply("200 OK"), retrans=False) + '<nop next="end"/>\n<label id="hangup"/>\n' + d.bye(4) +
               '<label id="end"/>\n')
        phone = s.phone("info10", wrap("menu_info", xml))
        s.aim(menu_peer, "info10")
        h.finish(phone, "  the phone's run: INFO answered 200, then a BYE (b2bua's, or its own after 5 s)",
                 timeout=40)
        msgs = sipp_trace(h.sipp_messages("info10"))
        sent_info = next(m for m in msgs if not m.received and m.method == "INFO")
        bye = next((m for m in msgs if m.received and m.method == "BYE"), None)
        check(bye is not None and bye.time - sent_info.time <= 3.0,
              "  '#' by INFO ended the menu: b2bua's BYE within 3 s of the INFO (goodbye is 0.7 s; unheeded, "
              "the summary, the message and three menus come first) "
              f"({'none within 5 s: the phone hung up' if bye is None else f'{bye.time - sent_info.time:.1f} s'})")


def subscribe_refused_from_stranger(binary):
    with running("vm-subscribe", binary, Setup, voicemail={"10": {}}) as s:
        stranger = MwiPhone(s, "10", register=False)
        check(stranger.subscribe() == 403, "  SUBSCRIBE from a port no phone of 10 registered from: 403")
        line = s.daemon.wait_log(r"component=voicemail event=subscribe_refused mailbox=10 "
                                 rf"source=127\.0\.0\.1:{stranger.port} reason=not_from_a_registered_phone", timeout=3)
        check(line, f"  logged ({line.group(0)})")
        eleven = MwiPhone(s, "11")
        check(eleven.subscribe("10") == 403, "  from 11's registered port for mailbox 10: 403")
        ten = MwiPhone(s, "10")
        r = ten._request("SUBSCRIBE", f"sip:10@127.0.0.1:{s.lan_port}", "<sip:10@127.0.0.1>",
                         ["Event: presence", "Expires: 600"])
        check(r is not None and int(r.split()[1]) == 489, f"  Event: presence: 489 ({first_line(r or '-')})")
        check(ten.subscribe() == 200, "  from 10's own registered port: 200")
        check(wait_until(lambda: ten.summaries(), 3) == [(0, 0)], f"  and a NOTIFY 0/0 ({ten.summaries()})")
        check("Messages-Waiting: no" in ten.bodies()[0], f"  Messages-Waiting: no ({ten.bodies()[0]!r})")
        check(not stranger.notifies and not eleven.notifies, "  no NOTIFY to the refused")
        refused = [x for x in log_lines(s, "subscribe_refused") if "reason=not_from_a_registered_phone" in x]
        check(len(refused) == 2 and len(log_lines(s, "subscribed")) == 1,
              f"  two refusals (not from a registered phone of 10) and one subscription logged {refused}")


def bad_greeting(binary):
    files = {"not-a-wav.txt": b"Hello, this is not audio at all.\n", "empty.wav": b""}
    routes = [{"number": DID, "ring": ["10"], "timeout": 20}, {"number": DID2, "ring": ["11"], "timeout": 20}]
    with running("vm-bad-greeting", binary, Setup, files=files, routes=routes,
                 voicemail={"10": {"always": True, "greeting": "not-a-wav.txt"},
                            "11": {"always": True, "greeting": "empty.wav"}}) as s:
        h = s.h
        for box, name, reason in (("10", "not-a-wav.txt", r"not a WAV file"), ("11", "empty.wav", "zero-length file")):
            path = re.escape(h.path(name))
            line = s.daemon.wait_log(rf"level=error component=voicemail event=greeting_unusable mailbox={box} "
                                     rf"file={path} error=\"{path}: {reason}[^\"]*\" using=built-in", timeout=3)
            check(line, f"  {box}'s greeting unusable, said with the file and why ({line.group(0)})")
        greet = greeting_seconds()
        runs = []
        for n, did in enumerate((DID, DID2)):
            peer = s.rtp()
            runs.append((s.provider(f"caller{n}", provider_call(peer.port, ("bye", int((greet + 1.5) * 1000)),
                                                                did=did)), peer))
        for p, peer in runs:
            s.aim(peer, p.name)
        for p, peer in runs:
            check_greeting(s, peer, what=f"{p.name}: the built-in greeting and the beep")
        for p, peer in runs:
            h.finish(p, f"  {p.name}: answered by the machine")
        boxes = sorted(re.findall(r"component=voicemail event=answered call=\d+ mailbox=(\d+)", s.daemon.output()))
        check(boxes == ["10", "11"], f"  both machines answered {boxes}")


def folder_setting(binary):
    """The top-level voicemail section: messages go to voicemail.folder (relative to the
    config's folder), prompts come from voicemail.prompts."""
    prompts = os.path.normpath(os.path.join(HERE, "..", "..", "..", "media", "prompts"))
    with running("vm-folder", binary, Setup, voicemail={"10": {"always": True}},
                 top={"folder": "messages-here", "prompts": prompts}) as s:
        h = s.h
        rows = leave_message(s)
        check_message(s, rows[0], "10", FAR, 1.5, 200, "the message", folder="messages-here")
        check(not os.path.exists(h.path("voicemail")), "  nothing in the default folder")


def skip_greeting_with_hash(binary):
    """'#' (RFC 4733) during the greeting skips to the beep: the greeting stops, the beep plays,
    and what follows is recorded."""
    with running("vm-skip", binary, Setup, voicemail={"10": {"always": True}}, register=("10",)) as s:
        h = s.h
        peer = s.rtp()
        p = s.provider("caller", provider_call(peer.port, ("bye", 6000)))
        s.aim(peer, "caller")
        check(wait_until(lambda: peer.count() >= 50, 5), "  the greeting plays")
        peer.send_event("#", 101)
        pressed = peer.count()
        played = peer.wait_quiet(pressed + 10, quiet=0.3, timeout=5)
        ends = spurt_ends(played, gap=0.1)
        check(len(played) < int(prompt_seconds("greeting") / 0.02) - 50,
              f"  the greeting stopped at the key ({len(played)} packets in all, {pressed} when it was pressed)")
        beep = [x for q in played[-19:-1] for x in g711_decode(0, q.payload)]
        freq = zero_crossing_hz(beep)
        check(950 <= freq <= 1050, f"  then the beep ({freq:.0f} Hz at the end; spurts end at {ends})")
        peer.send_audio(sine(440, 2.0), wait=True)
        h.finish(p, "  the caller left a message and hung up")
        rows = wait_rows(s, 1)
        check(len(rows) == 1, f"  one row ({len(rows)})")
        samples = check_message(s, rows[0], "10", FAR, 2.0, 200, "the message")
        check(430 <= zero_crossing_hz(samples) <= 450, "  the caller's tone")


def menu_pin(binary):
    """11 dials *97*10# for 10's mailbox (pin 4711): a wrong PIN is refused (event=wrong_pin,
    no digits in the log), the right one opens it; empty: "no new messages", goodbye, BYE."""
    with running("vm-pin", binary, Setup, voicemail={"10": {"pin": "4711"}}) as s:
        h = s.h
        peer = s.rtp()
        phone = s.phone("pin11", phone_calls("11", "*97*10#", peer.port, take_bye_ms=30000))
        s.aim(peer, "pin11")
        s.daemon.wait_log(r"component=voicemail event=menu call=\d+ mailbox=10 pin=asked", timeout=3)
        time.sleep(1.0)
        for key in "1234#":
            peer.send_event(key, 101)
            time.sleep(0.1)
        line = s.daemon.wait_log(r"level=warn component=voicemail event=wrong_pin call=\d+ mailbox=10 try=1", timeout=3)
        check("1234" not in line.string[line.start():line.string.find("\n", line.start())],
              f"  a wrong PIN refused, its digits not logged ({line.group(0)})")
        time.sleep(0.5)
        for key in "4711#":
            peer.send_event(key, 101)
            time.sleep(0.1)
        opened = time.monotonic()
        h.finish(phone, "  the right PIN: the mailbox said it is empty, goodbye, b2bua hung up", timeout=20)
        took = time.monotonic() - opened
        want = prompt_seconds("no_new_messages") + prompt_seconds("goodbye")
        check(took <= want + 2.5, f"  BYE {took:.1f} s after the PIN (\"no new messages\", \"goodbye\": {want:.1f} s)")
        check(len(log_lines(s, "wrong_pin")) == 1, f"  one wrong PIN logged {log_lines(s, 'wrong_pin')}")


def mwi_unsolicited_notify(binary):
    """voicemail.notify: a registered phone that never subscribed gets a message-summary NOTIFY
    when it registers (0/0) and when a message is stored (1/0)."""
    with running("vm-mwi-notify", binary, Setup, voicemail={"10": {"always": True, "notify": True}}) as s:
        phone = MwiPhone(s, "10")
        check(wait_until(lambda: phone.summaries() == [(0, 0)], 3), f"  0/0 when it registered ({phone.summaries()})")
        leave_message(s)
        check(wait_until(lambda: phone.summaries() == [(0, 0), (1, 0)], 5),
              f"  the phone got an unsolicited NOTIFY 1/0 ({phone.summaries()})")
        n = phone.notifies[-1]
        check(re.search(r"^(Event|o):\s*message-summary\s*$", n, re.M | re.I) and
              re.search(r"^(Content-Type|c):\s*application/simple-message-summary", n, re.M | re.I),
              "  Event: message-summary, Content-Type: application/simple-message-summary")
        check("Messages-Waiting: yes" in phone.bodies()[-1], f"  Messages-Waiting: yes ({phone.bodies()[-1]!r})")
        mwi = log_lines(s, "mwi")
        check(mwi and "new=1 old=0 notified=1 reason=changed" in mwi[-1],
              f"  logged event=mwi ... notified=1 reason=changed {mwi}")


def summary_of(notify):
    m = re.search(r"^Voice-Message:\s*(\d+)/(\d+)", notify, re.M | re.I)
    return (int(m.group(1)), int(m.group(2))) if m else None


def substate_of(notify):
    m = re.search(r"^(?:Subscription-State|u):\s*([a-z]+)", notify, re.M | re.I)
    return m.group(1).lower() if m else None


def call_id_of(notify):
    return header(notify, "Call-ID") or header(notify, "i")


def mwi_notify_on_register(binary):
    """voicemail.notify: a phone that registers a new binding is told the counts at once (1/0,
    Messages-Waiting: yes), once: a refresh of the binding tells it nothing; the same phone
    back after a reboot (new Call-ID) is told again. An empty mailbox's phone gets 0/0 (lamp
    off); an extension without notify gets nothing."""
    voicemail = {"10": {"always": True, "notify": True}, "11": {"notify": True}, "12": {}}
    with running("vm-mwi-register", binary, Setup, voicemail=voicemail) as s:
        leave_message(s)
        phone = MwiPhone(s, "10")
        check(wait_until(lambda: phone.count() >= 1, 3) and phone.summaries() == [(1, 0)],
              f"  one NOTIFY 1/0 right after the REGISTER ({phone.summaries()})")
        n = phone.notifies[0]
        check(re.search(r"^(Event|o):\s*message-summary\s*$", n, re.M | re.I) and substate_of(n) == "active",
              f"  Event: message-summary, Subscription-State: active ({substate_of(n)})")
        check("Messages-Waiting: yes" in phone.bodies()[0], f"  Messages-Waiting: yes ({phone.bodies()[0]!r})")
        line = [x for x in log_lines(s, "mwi") if "reason=registered" in x]
        check(len(line) == 1 and "mailbox=10 new=1 old=0 notified=1" in line[0] and
              f"contact=127.0.0.1:{phone.port}" in line[0], f"  logged event=mwi ... reason=registered {line}")

        phone.register()  # a refresh: same Call-ID, next CSeq
        time.sleep(1.5)
        check(phone.summaries() == [(1, 0)], f"  no NOTIFY for a refresh of the binding ({phone.summaries()})")
        check(len([x for x in log_lines(s, "mwi") if "reason=registered" in x]) == 1, "  nothing logged for it")

        before = phone.count()
        phone.reboot()
        check(wait_until(lambda: any(substate_of(x) == "active" for x in phone.since(before)), 3),
              f"  after a reboot (new Call-ID) a new NOTIFY ({[substate_of(x) for x in phone.since(before)]})")
        fresh = [x for x in phone.since(before) if substate_of(x) == "active"]
        check(len(fresh) == 1 and summary_of(fresh[0]) == (1, 0) and
              call_id_of(fresh[0]) != call_id_of(phone.notifies[0]),
              f"  one, 1/0, on a new dialog ({[summary_of(x) for x in fresh]})")

        empty = MwiPhone(s, "11")
        check(wait_until(lambda: empty.count() >= 1, 3) and empty.summaries() == [(0, 0)],
              f"  11's phone (empty mailbox): 0/0 ({empty.summaries()})")
        check("Messages-Waiting: no" in empty.bodies()[0], f"  Messages-Waiting: no ({empty.bodies()[0]!r})")
        quiet = MwiPhone(s, "12")
        time.sleep(1.0)
        check(quiet.count() == 0, f"  12 (no notify) gets no NOTIFY ({quiet.summaries()})")


def mwi_notify_after_restart(binary):
    """voicemail.notify: a phone registered before a restart, whose mailbox changed while b2bua
    was down (its message heard), is told the counts (0/1) a few seconds after the start,
    without registering again; event=mwi ... reason=restored."""
    with running("vm-mwi-restart", binary, Setup, voicemail={"10": {"always": True, "notify": True}}) as s:
        phone = MwiPhone(s, "10")
        leave_message(s)
        check(wait_until(lambda: phone.summaries()[-1:] == [(1, 0)], 5), f"  1/0 before the restart ({phone.summaries()})")
        s.h.stop_daemon(s.daemon)
        time.sleep(0.3)  # whatever the daemon sent on its way out has reached the phone's reader
        con = sqlite3.connect(s.h.path("b2bua.db"), timeout=5)
        with con:
            con.execute("UPDATE voice_messages SET heard = 1")
        con.close()
        before = phone.count()
        started = time.monotonic()
        s.daemon = s.h.start_daemon(s.h.path("b2bua.jsonc"), name="b2bua-restarted")
        s.daemon.wait_log(r"component=registrar event=started bindings_restored=1")
        check(wait_until(lambda: phone.count() > before, 10), "  a NOTIFY after the restart, without a REGISTER")
        took = time.monotonic() - started
        time.sleep(1.0)
        after = phone.since(before)
        check(len(after) == 1 and summary_of(after[0]) == (0, 1) and substate_of(after[0]) == "active",
              f"  one NOTIFY, 0/1, active ({[(summary_of(x), substate_of(x)) for x in after]})")
        check("Messages-Waiting: no" in after[0], "  Messages-Waiting: no")
        check(2 <= took <= 8, f"  a few seconds after the start ({took:.1f} s)")
        line = log_lines(s, "mwi")
        check(len(line) == 1 and "mailbox=10 new=0 old=1 notified=1 reason=restored" in line[0],
              f"  logged event=mwi ... reason=restored {line}")


def mwi_silent_phone_at_stop(binary):
    """A subscribed phone switched off (it answers nothing, as at home) must not hold b2bua's
    stop: its subscription's end (a NOTIFY terminated, RFC 6665 4.2.2) is given up within the
    features' exchange time, before the LAN stack's shutdown, which would wait for it to the
    transaction timeout; a phone that answers still gets its terminating NOTIFY."""
    with running("vm-mwi-stop", binary, Setup, voicemail={"10": {}}) as s:
        on, off = MwiPhone(s, "10"), MwiPhone(s, "10")
        check(on.subscribe() == 200 and off.subscribe() == 200, "  two phones of 10 subscribed (200)")
        check(wait_until(lambda: on.summaries() == [(0, 0)] and off.summaries() == [(0, 0)], 3),
              f"  each answered its first NOTIFY 0/0 ({on.summaries()}, {off.summaries()})")
        off.silent = True
        before_on, before_off = on.count(), off.count()
        started = time.monotonic()
        gap = s.h.stop_daemon_timed(s.daemon)
        took = time.monotonic() - started
        time.sleep(0.3)  # whatever the daemon sent on its way out has reached the phones' readers
        out = s.daemon.output()
        ended_on = [x for x in on.since(before_on) if substate_of(x) == "terminated"]
        ended_off = [x for x in off.since(before_off) if substate_of(x) == "terminated"]
        check(len(ended_on) >= 1, f"  the answering phone got a NOTIFY terminated ({[substate_of(x) for x in on.since(before_on)]})")
        check(len(ended_off) >= 1, f"  so did the silent one ({[substate_of(x) for x in off.since(before_off)]})")
        state = header(ended_on[0], "Subscription-State") or header(ended_on[0], "u")
        check(re.search(r"reason=probation\b", state or "") and re.search(r"retry-after=\d+", state or ""),
              f"  Subscription-State asks to subscribe again later (RFC 6665 4.1.3): {state}")
        check(re.search(r"component=voicemail event=mwi_stopping dialogs=2\b", out) and
              re.search(r"component=voicemail event=mwi_given_up dialogs=1\b", out),
              "  logged event=mwi_stopping dialogs=2, then event=mwi_given_up dialogs=1 (the answered one ended)")
        check(gap <= 2.5, f"  stopping to stopped {gap:.2f} s (SIGTERM to exit {took:.2f} s)")
        print(f"  figures: stopping to stopped {gap:.3f} s, SIGTERM to exit {took:.2f} s, "
              f"NOTIFY terminated to the silent phone {len(ended_off)} times")


def mwi_follows_reload(binary):
    """An admin gives an extension voicemail with notify and reloads (SIGHUP): the extension's
    phone, registering anew, is told its counts without a restart of b2bua."""
    with running("vm-mwi-reload", binary, Setup, voicemail={"10": {}}) as s:
        phone = MwiPhone(s, "11")
        time.sleep(1.0)
        check(phone.count() == 0, f"  11 without voicemail: no NOTIFY on its REGISTER ({phone.summaries()})")
        eleven = next(e for e in s.config["extensions"] if e["number"] == "11")
        eleven["voicemail"] = {"notify": True}
        s.reload()
        phone.reboot()
        check(wait_until(lambda: phone.count() >= 1, 3) and phone.summaries() == [(0, 0)],
              f"  after the reload and a reboot of the phone: one NOTIFY 0/0 ({phone.summaries()})")
        line = [x for x in log_lines(s, "mwi") if "reason=registered" in x]
        check(len(line) == 1 and "mailbox=11" in line[0], f"  logged event=mwi mailbox=11 ... reason=registered {line}")


MAIL_FROM, MAIL_TO = "b2bua@home.test", "anna@home.test"


def with_smtp(h, **kw):
    """Setup with an SMTP server of the test's own as voicemail.smtp (plain, no login)."""
    smtp = SmtpSink(h.port())
    s = Setup(h, top={"smtp": {"server": "127.0.0.1", "port": smtp.port, "security": "none", "from": MAIL_FROM}},
              **kw)
    s.smtp = smtp
    s.peers.append(smtp)
    return s


def mail_log(s, event):
    """The mail queue's log lines of `event` (b2bua logs them as component=mail)."""
    return re.findall(rf"^.*component=\w+ event={event}\b.*$", s.daemon.output(), re.M)


def spool_files(s, ext):
    folder = s.h.path("mail-spool")  # next to the database
    return sorted(f for f in os.listdir(folder) if f.endswith(ext)) if os.path.isdir(folder) else []


def mailed_message(binary):
    """voicemail.smtp and extensions[].voicemail.email: a message is mailed as a WAV attachment;
    with the mail server down the next one is logged as failed and kept in the spool."""
    with running("vm-mail", binary, with_smtp, voicemail={"10": {"always": True, "email": MAIL_TO}}) as s:
        smtp = s.smtp
        rows = leave_message(s, seconds=TONE_S, what="the provider's caller")
        stored = time.monotonic()
        check_message(s, rows[0], "10", FAR, TONE_S, 200, "the message")
        check(wait_until(lambda: smtp.received(), 10), f"  a mail arrived within 10 s of the message "
              f"(sessions {smtp.sessions}; log {mail_log(s, 'mail_[a-z_]+')})")
        print(f"  the mail came {time.monotonic() - stored:.1f} s after the message was stored", flush=True)
        sent = s.daemon.wait_log(r"component=(\w+) event=mail_sent [^\n]*", timeout=5)
        time.sleep(1.0)
        mails = smtp.received()
        check(len(mails) == 1, f"  one mail ({len(mails)})")
        sender, rcpts, data = mails[0]
        check(sender == MAIL_FROM and rcpts == [MAIL_TO], f"  envelope {sender} -> {rcpts}")
        msg = email.message_from_bytes(data, policy=email.policy.default)
        subject = str(msg["Subject"])
        length = f"{(rows[0][5] + 500) // 1000} s"
        check(FAR in subject and length in subject, f"  Subject names the caller {FAR} and the length {length} "
              f"('{subject}')")
        check(str(msg["From"]) == MAIL_FROM and str(msg["To"]) == MAIL_TO, f"  From {msg['From']}, To {msg['To']}")
        wavs = [part for part in msg.walk() if part.get_content_type() == "audio/wav"]
        check(len(wavs) == 1 and wavs[0].get("Content-Transfer-Encoding", "").lower() == "base64" and
              wavs[0].get_content_disposition() == "attachment",
              f"  one base64 audio/wav attachment ({[(p.get_content_type(), p.get('Content-Transfer-Encoding')) for p in msg.walk()]})")
        with open(os.path.join(s.folder(), rows[0][7]), "rb") as f:
            wav = f.read()
        got = wavs[0].get_payload(decode=True)
        check(got == wav, f"  the attachment is the stored WAV to the byte ({len(got)} and {len(wav)} bytes, "
              f"{wavs[0].get_filename()})")
        check(f"to={MAIL_TO}" in sent.group(0), f"  logged {sent.group(0)}")
        if sent.group(1) != "voicemail":
            print(f"note: the mail queue logs as component={sent.group(1)}, not component=voicemail", flush=True)
        check(not spool_files(s, ".job"), f"  the spool is empty once sent ({spool_files(s, '')})")

        smtp.stop()
        leave_message(s, seconds=2.0, name="caller2", caller="+4989333444", what="a second caller")
        line = s.daemon.wait_log(r"component=\w+ event=mail_failed [^\n]*", timeout=10)
        check(f"to={MAIL_TO}" in line.group(0) and "attempt=1 " in line.group(0),
              f"  with the server down: logged {line.group(0)}")
        jobs = spool_files(s, ".job")
        check(len(jobs) == 1 and len(spool_files(s, ".eml")) == 1,
              f"  the job kept in the spool, one job file ({spool_files(s, '')})")
        smtp.start()
        time.sleep(1.0)
        check(len(smtp.received()) == 1 and len(mail_log(s, "mail_failed")) == 1,
              "  no new attempt before the backoff (1 min) is over")
        check(len(spool_files(s, ".job")) == 1, "  the job still waits in the spool")


FLOWS = {
    "no_answer_leaves_message": no_answer_leaves_message,
    "baresip_leaves_message": baresip_leaves_message,
    "hangup_in_greeting_no_message": hangup_in_greeting_no_message,
    "max_length_cuts": max_length_cuts,
    "mailbox_full": mailbox_full,
    "mailbox_full_lan_caller": mailbox_full_lan_caller,
    "storage_full": storage_full,
    "storage_read_only": storage_read_only,
    "menu_rfc4733": menu_rfc4733,
    "menu_sip_info": menu_sip_info,
    "subscribe_refused_from_stranger": subscribe_refused_from_stranger,
    "bad_greeting": bad_greeting,
    "folder_setting": folder_setting,
    "skip_greeting_with_hash": skip_greeting_with_hash,
    "menu_pin": menu_pin,
    "mwi_unsolicited_notify": mwi_unsolicited_notify,
    "mwi_notify_on_register": mwi_notify_on_register,
    "mwi_notify_after_restart": mwi_notify_after_restart,
    "mwi_silent_phone_at_stop": mwi_silent_phone_at_stop,
    "mwi_follows_reload": mwi_follows_reload,
    "mailed_message": mailed_message,
}

if __name__ == "__main__":
    run_flows(FLOWS)
