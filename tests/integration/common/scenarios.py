"""sipp scenarios as templates: a phone on the LAN side and a provider on the WAN side, for the
call, status, trunk and NAT lab tests. Each returns the XML text; the test writes it to its
temp dir (Harness.write_scenario, or sipp_bg with the text). Mostly XML text, hence the
length: every scenario a test uses is here, so sipp flows are found in one place.

b2bua wants the digest `uri` to be the Request-URI (RFC 2617 3.2.2.5); sipp's [authentication]
puts sip:<remote_ip>:<remote_port> there unless given -auth_uri, one per run. harness.sipp_argv
derives it from the scenario (sipp_auth_uri), so every authenticated request of one scenario
goes to one Request-URI: a phone registers in one run and calls in another."""

SDP = """v=0
o=peer 53655765 2353687637 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 8 101
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=sendrecv
"""

PCAP = "/usr/share/sip-tester/g711a.pcap"


def _wrap(name, body):
    return f'<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="{name}">\n{body}\n</scenario>\n'


def _sdp_body(sdp=SDP):
    return ("Content-Type: application/sdp\nContent-Length: [len]\n\n" + sdp)


def register(user, password):
    """A phone registers (401 challenge, then with credentials)."""
    req = """REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: <sip:{u}@[remote_ip]>;tag=[pid]reg
To: <sip:{u}@[remote_ip]>
Call-ID: [call_id]
CSeq: {cseq} REGISTER
Contact: <sip:{u}@[local_ip]:[local_port];transport=[transport]>
Max-Forwards: 70
Expires: 300
User-Agent: TestPhone/1.0
{auth}Content-Length: 0

"""
    return (f'<send retrans="500"><![CDATA[\n{req.format(u=user, cseq=1, auth="")}]]></send>\n'
            '<recv response="401" auth="true"/>\n'
            f'<send retrans="500"><![CDATA[\n{req.format(u=user, cseq=2, auth=f"[authentication username={user} password={password}]" + chr(10))}]]></send>\n'
            '<recv response="200"/>\n')


def phone_call_out(user, password, dialled, expect="200", hold_ms=2500, answer_bye=None):
    """A phone calls out: 407 challenge, then 100/180/183 optional, then `expect`. Answered,
    it hangs up after `hold_ms`; with `answer_bye` set it waits for b2bua's BYE instead and
    answers it 200 (True) or never (False)."""
    invite = """INVITE sip:{d}@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: "Phone {u}" <sip:{u}@[remote_ip]>;tag=[pid]out
To: <sip:{d}@[remote_ip]>
Call-ID: [call_id]
CSeq: {cseq} INVITE
Contact: <sip:{u}@[local_ip]:[local_port]>
Max-Forwards: 70
User-Agent: TestPhone/1.0
X-Phone-Secret: lan-only-header
{auth}""" + _sdp_body()
    # The ACK of a non-2xx final answer belongs to the INVITE transaction (RFC 3261 17.1.1.3):
    # same branch, which sipp names by message index.
    ack = """ACK sip:{d}@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[{branch}];rport
From: "Phone {u}" <sip:{u}@[remote_ip]>;tag=[pid]out
To: <sip:{d}@[remote_ip]>[peer_tag_param]
Call-ID: [call_id]
CSeq: {cseq} ACK
Max-Forwards: 70
Content-Length: 0

"""
    body = (f'<send retrans="500"><![CDATA[\n{invite.format(u=user, d=dialled, cseq=1, auth="")}]]></send>\n'
            '<recv response="100" optional="true"/>\n'
            '<recv response="407" auth="true"/>\n'
            f'<send><![CDATA[\n{ack.format(u=user, d=dialled, cseq=1, branch="branch-3")}]]></send>\n'
            f'<send retrans="500"><![CDATA[\n{invite.format(u=user, d=dialled, cseq=2, auth=f"[authentication username={user} password={password}]" + chr(10))}]]></send>\n'
            '<recv response="100" optional="true"/>\n'
            '<recv response="180" optional="true"/>\n'
            '<recv response="183" optional="true"/>\n')
    if expect != "200":
        body += (f'<recv response="{expect}"/>\n'
                 f'<send><![CDATA[\n{ack.format(u=user, d=dialled, cseq=2, branch="branch-5")}]]></send>\n')
        return _wrap("phone_call_out", body)
    bye = """BYE sip:{d}@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
From: "Phone {u}" <sip:{u}@[remote_ip]>;tag=[pid]out
To: <sip:{d}@[remote_ip]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 3 BYE
Max-Forwards: 70
Content-Length: 0

"""
    body += ('<recv response="200" rtd="true"/>\n'
             f'<send><![CDATA[\n{ack.format(u=user, d=dialled, cseq=2, branch="branch")}]]></send>\n'
             f'<nop><action><exec play_pcap_audio="{PCAP}"/></action></nop>\n')
    if answer_bye is not None:
        return _wrap("phone_call_out", body + _take_bye(answer_bye))
    body += (f'<pause milliseconds="{hold_ms}"/>\n'
             f'<send retrans="500"><![CDATA[\n{bye.format(u=user, d=dialled)}]]></send>\n'
             '<recv response="200"/>\n')
    return _wrap("phone_call_out", body)


def _take_bye(answer):
    """The far end's BYE, answered 200, or (answer=False) taken and never answered: a peer gone
    silent (its network down) keeps the BYE waiting for its transaction timeout."""
    if not answer:
        return '<recv request="BYE"/>\n<pause milliseconds="30000"/>\n'
    return ('<recv request="BYE"/>\n'
            '<send><![CDATA[\nSIP/2.0 200 OK\n[last_Via:]\n[last_From:]\n[last_To:]\n'
            '[last_Call-ID:]\n[last_CSeq:]\nContent-Length: 0\n\n]]></send>\n')


def _uas_answer(ring_ms, answer=True, status="200", check_reason=False, answer_bye=True):
    """Receives an INVITE and answers it (180 after nothing, then `status` after ring_ms), or
    rings until CANCEL (answer=False); the BYE that ends the call is answered unless answer_bye
    is False."""
    hdr = """[last_Via:]
[last_From:]
[last_To:];tag=[pid]uas
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:[local_ip]:[local_port]>
"""
    keep_cseq = ('  <action><ereg regexp="[0-9]+" search_in="hdr" header="CSeq:" assign_to="cs"/></action>\n'
                 if not answer else "")
    body = ('<recv request="INVITE" crlf="true">\n' + keep_cseq + '</recv>\n'
            f'<send><![CDATA[\nSIP/2.0 180 Ringing\n{hdr}Content-Length: 0\n\n]]></send>\n')
    if not answer:
        reason = ('  <action><ereg regexp="cause=200" search_in="hdr" header="Reason:" check_it="true" assign_to="r"/></action>\n'
                  if check_reason else "")
        seen = "X-Reason-Seen: [$r]\n" if check_reason else ""  # sipp wants every variable used
        body += (f'<recv request="CANCEL">\n{reason}</recv>\n'
                 f'<send><![CDATA[\nSIP/2.0 200 OK\n{hdr}{seen}Content-Length: 0\n\n]]></send>\n'
                 '<send><![CDATA[\nSIP/2.0 487 Request Terminated\n[last_Via:]\n[last_From:]\n'
                 '[last_To:];tag=[pid]uas\n[last_Call-ID:]\nCSeq: [$cs] INVITE\nContent-Length: 0\n\n]]></send>\n'
                 '<recv request="ACK"/>\n')
        return body
    body += f'<pause milliseconds="{ring_ms}"/>\n'
    if status != "200":
        body += (f'<send><![CDATA[\nSIP/2.0 {status} Busy Here\n{hdr}Content-Length: 0\n\n]]></send>\n'
                 '<recv request="ACK"/>\n')
        return body
    body += (f'<send retrans="500"><![CDATA[\nSIP/2.0 200 OK\n{hdr}' + _sdp_body() + ']]></send>\n'
             '<recv request="ACK" crlf="true"/>\n'
             f'<nop><action><exec play_pcap_audio="{PCAP}"/></action></nop>\n' + _take_bye(answer_bye))
    return body


def provider_answer(ring_ms=300, status="200", answer_bye=True):
    return _wrap("provider_answer", _uas_answer(ring_ms, status=status, answer_bye=answer_bye))


def phone_register(user, password):
    return _wrap("phone_register", register(user, password))


# sipp maps messages to calls by Call-ID, so a phone that registered cannot also take a new
# INVITE in the same run: the test registers first, then runs these on the same port.
def phone_answer(ring_ms=800):
    return _wrap("phone_answer", _uas_answer(ring_ms))


def phone_ring_until_cancel():
    return _wrap("phone_ring", _uas_answer(0, answer=False, check_reason=True))


# ---------------------------------------------------------------------------------------------
# Call events: early media, provider challenge, CANCEL, BYE from the callee, hold/resume, INFO,
# no answer. Built from small pieces so a flow reads as the list of what each side does.

TRUNK_USER = "4930123456"


def sdp(direction="sendrecv", version=2353687637):
    """Our peers' SDP with another direction attribute (hold: sendonly/recvonly/inactive) and
    o= version (RFC 3264 section 8: a changed offer carries a higher version)."""
    return SDP.replace("a=sendrecv", f"a={direction}").replace("2353687637", str(version))


def _log_var(var):
    # sipp refuses a variable that is set but never read; logging it reads it.
    return f'<nop hide="true"><action><log message="{var}=[${var}]"/></action></nop>\n'


class Dialog:
    """The headers of one side of a dialog for requests it sends inside it."""

    def __init__(self, ruri, from_hdr, to_hdr, contact):
        self.ruri, self.from_hdr, self.to_hdr, self.contact = ruri, from_hdr, to_hdr, contact

    def request(self, method, cseq, body="Content-Length: 0\n\n", branch="[branch]", headers="", initial=False):
        """initial: a request before the dialog exists (the INVITE, its CANCEL): no To tag, even
        when a 407 already gave sipp one."""
        to_hdr = self.to_hdr.replace("[peer_tag_param]", "") if initial else self.to_hdr
        return f"""{method} {self.ruri} SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch={branch};rport
From: {self.from_hdr}
To: {to_hdr}
Call-ID: [call_id]
CSeq: {cseq} {method}
Contact: {self.contact}
Max-Forwards: 70
{headers}{body}"""

    def reinvite(self, cseq, direction, version):
        """Sends a re-INVITE offering `direction`, takes the 200 and ACKs it."""
        return (f'<send retrans="500"><![CDATA[\n{self.request("INVITE", cseq, _sdp_body(sdp(direction, version)))}]]></send>\n'
                '<recv response="100" optional="true"/>\n'
                '<recv response="200"/>\n'
                f'<send><![CDATA[\n{self.request("ACK", cseq)}]]></send>\n')

    def update(self, cseq, direction=None, version=0):
        """Sends UPDATE (RFC 3311) offering `direction`, or without SDP when None; takes the 200."""
        body = _sdp_body(sdp(direction, version)) if direction else "Content-Length: 0\n\n"
        return (f'<send retrans="500"><![CDATA[\n{self.request("UPDATE", cseq, body)}]]></send>\n'
                '<recv response="200"/>\n')

    def info_dtmf(self, cseq, digit="5"):
        """SIP INFO dtmf as many phones send it (application/dtmf-relay)."""
        body = f"Content-Type: application/dtmf-relay\nContent-Length: [len]\n\nSignal={digit}\nDuration=160\n"
        return (f'<send retrans="500"><![CDATA[\n{self.request("INFO", cseq, body)}]]></send>\n'
                '<recv response="200"/>\n')

    def bye(self, cseq):
        return (f'<send retrans="500"><![CDATA[\n{self.request("BYE", cseq)}]]></send>\n'
                '<recv response="200"/>\n')


def phone_dialog(user, dialled):
    return Dialog(f"sip:{dialled}@[remote_ip]:[remote_port]", f'"Phone {user}" <sip:{user}@[remote_ip]>;tag=[pid]out',
                  f"<sip:{dialled}@[remote_ip]>[peer_tag_param]", f"<sip:{user}@[local_ip]:[local_port]>")


def _reply(status, body="Content-Length: 0\n\n", to_tag=""):
    return (f"SIP/2.0 {status}\n[last_Via:]\n[last_From:]\n[last_To:]{to_tag}\n[last_Call-ID:]\n[last_CSeq:]\n"
            f"Contact: <sip:[local_ip]:[local_port]>\n{body}")


def recv_reinvite(n, offered, answered, version):
    """Takes a re-INVITE whose SDP must say a=`offered` and answers a=`answered`."""
    var = f"offer{n}"
    return (f'<recv request="INVITE">\n  <action><ereg regexp="a={offered}" search_in="body" check_it="true" '
            f'assign_to="{var}"/></action>\n</recv>\n' + _log_var(var) +
            f'<send retrans="500"><![CDATA[\n{_reply("200 OK", _sdp_body(sdp(answered, version)))}]]></send>\n'
            '<recv request="ACK"/>\n')


def recv_update(n, offered, answered, version):
    """Takes an UPDATE whose SDP must say a=`offered` and answers 200 with a=`answered`."""
    var = f"update{n}"
    return (f'<recv request="UPDATE">\n  <action><ereg regexp="a={offered}" search_in="body" check_it="true" '
            f'assign_to="{var}"/></action>\n</recv>\n' + _log_var(var) +
            f'<send><![CDATA[\n{_reply("200 OK", _sdp_body(sdp(answered, version)))}]]></send>\n')


def hold_by_update_from(dialog, first_cseq):
    """UPDATE without SDP (a session refresh: answered where it arrives), then UPDATE a=sendonly
    (hold), then UPDATE a=sendrecv (resume)."""
    return (dialog.update(first_cseq) + dialog.update(first_cseq + 1, "sendonly", 2353687638) +
            '<pause milliseconds="300"/>\n' + dialog.update(first_cseq + 2, "sendrecv", 2353687639))


def hold_by_update_taken():
    """The other side of hold_by_update_from: only the two offers arrive, answered recvonly, then sendrecv."""
    return recv_update(1, "sendonly", "recvonly", 2353687638) + recv_update(2, "sendrecv", "sendrecv", 2353687639)


def hold_and_resume_from(dialog, first_cseq):
    """re-INVITE a=sendonly (hold), then a=sendrecv (resume)."""
    return (dialog.reinvite(first_cseq, "sendonly", 2353687638) + '<pause milliseconds="300"/>\n' +
            dialog.reinvite(first_cseq + 1, "sendrecv", 2353687639))


def hold_and_resume_taken():
    """The other side of hold_and_resume_from: answers recvonly, then sendrecv."""
    return recv_reinvite(1, "sendonly", "recvonly", 2353687638) + recv_reinvite(2, "sendrecv", "sendrecv", 2353687639)


def recv_info_dtmf(digit="5"):
    return ('<recv request="INFO">\n  <action>\n'
            '    <ereg regexp="application/dtmf-relay" search_in="hdr" header="Content-Type:" check_it="true" assign_to="ct"/>\n'
            f'    <ereg regexp="Signal=[ ]*{digit}" search_in="body" check_it="true" assign_to="signal"/>\n'
            '  </action>\n</recv>\n' + _log_var("ct") + _log_var("signal") +
            f'<send><![CDATA[\n{_reply("200 OK")}]]></send>\n')


OPTIONAL = ' optional="true"'
PHONE_HEADERS = "User-Agent: TestPhone/1.0\nX-Phone-Secret: lan-only-header\n"


def _phone_invites(d, user, password):
    """INVITE, 407 from b2bua, ACK (message index 3: same branch as index 0), INVITE with
    credentials (index 4)."""
    auth = f"[authentication username={user} password={password}]\n"
    return (f'<send retrans="500"><![CDATA[\n{d.request("INVITE", 1, _sdp_body(), headers=PHONE_HEADERS, initial=True)}]]></send>\n'
            '<recv response="100" optional="true"/>\n'
            '<recv response="407" auth="true"/>\n'
            f'<send><![CDATA[\n{d.request("ACK", 1, branch="[branch-3]")}]]></send>\n'
            f'<send retrans="500"><![CDATA[\n{d.request("INVITE", 2, _sdp_body(), headers=PHONE_HEADERS + auth, initial=True)}]]></send>\n')


def phone_call(user, password, dialled, during_factory=None, hangup="caller", early="optional", hold_ms=1200,
               play=True):
    """An answered outbound (or internal) call from a phone: 407, authenticated INVITE, 18x,
    200/ACK, RTP, then whatever `during_factory(dialog, next_cseq)` returns (it returns the XML
    and the next free CSeq), then the phone hangs up (BYE) or takes the callee's BYE."""
    d = phone_dialog(user, dialled)
    body = (_phone_invites(d, user, password) +
            '<recv response="100" optional="true"/>\n'
            '<recv response="180" optional="true"/>\n'
            f'<recv response="183"{OPTIONAL if early == "optional" else ""}/>\n'
            '<recv response="200" rtd="true"/>\n'
            f'<send><![CDATA[\n{d.request("ACK", 2)}]]></send>\n')
    if play:
        body += f'<nop><action><exec play_pcap_audio="{PCAP}"/></action></nop>\n'
    if hangup == "caller":
        body += f'<pause milliseconds="{hold_ms}"/>\n'  # sipp aborts on a request that arrives in a pause
    cseq = 3
    if during_factory:
        xml, cseq = during_factory(d, cseq)
        body += xml
    if hangup == "caller":
        body += d.bye(cseq)
    else:
        body += '<recv request="BYE"/>\n' f'<send><![CDATA[\n{_reply("200 OK")}]]></send>\n'
    return _wrap("phone_call", body)


def phone_cancel(user, password, dialled, ring_ms=800):
    """The phone gives up while the far end rings: CANCEL (same branch as the INVITE, RFC 3261
    9.1), 200 for the CANCEL, 487 for the INVITE, ACK."""
    d = phone_dialog(user, dialled)
    # Message indexes: 0 INVITE, 1 100, 2 407, 3 ACK, 4 INVITE, 5 100, 6 180, 7 pause, 8 CANCEL.
    body = (_phone_invites(d, user, password) +
            '<recv response="100" optional="true"/>\n'
            '<recv response="180"/>\n'
            f'<pause milliseconds="{ring_ms}"/>\n'
            f'<send retrans="500"><![CDATA[\n{d.request("CANCEL", 2, branch="[branch-4]", initial=True)}]]></send>\n'
            '<recv response="200" optional="true"/>\n'
            '<recv response="487"/>\n'
            f'<send><![CDATA[\n{d.request("ACK", 2, branch="[branch-7]")}]]></send>\n')
    return _wrap("phone_cancel", body)


def _recv_with(request, actions, attributes=""):
    inner = f"  <action>\n{actions}  </action>\n" if actions else ""
    return f'<recv request="{request}"{attributes}>\n{inner}</recv>\n'


def provider_uas(challenge=None, early_media_ms=0, ring_ms=300, during="", hangup="caller", hold_ms=1200):
    """The provider takes an INVITE. challenge: "407" or "401" first (or "mixed": a 401 with a
    SHA-256 and an MD5 challenge, as RFC 8760 providers send), then wants credentials for the
    trunk user in the next INVITE; early_media_ms: 183 with SDP and RTP before the 200;
    hangup: "caller" waits for BYE, "callee" sends BYE after hold_ms."""
    actions = ('    <ereg regexp=".*" search_in="hdr" header="From:" assign_to="caller_from"/>\n'
               '    <ereg regexp=".*" search_in="hdr" header="To:" assign_to="caller_to"/>\n') if hangup == "callee" else ""
    if challenge:
        proxy = challenge == "407"
        status = "407 Proxy Authentication Required" if proxy else "401 Unauthorized"
        ask = ("Proxy-Authenticate: Digest realm=\"provider.test\", nonce=\"[pid]0ce407\", algorithm=MD5, qop=\"auth\""
               if proxy else "WWW-Authenticate: Digest realm=\"provider.test\", nonce=\"[pid]0ce401\", algorithm=MD5")
        if challenge == "mixed":
            ask = ("WWW-Authenticate: Digest realm=\"provider.test\", nonce=\"[pid]0ce256\", algorithm=SHA-256, "
                   "qop=\"auth\"\n" + ask + ", qop=\"auth\"")
        answer_hdr = "Proxy-Authorization:" if proxy else "Authorization:"
        actions += (f'    <ereg regexp="^ *Digest .*username=&quot;{TRUNK_USER}&quot;" search_in="hdr" '
                    f'header="{answer_hdr}" check_it="true" assign_to="credentials"/>\n')
        # The digest itself is checked by the test against the trunk password (sipp's
        # verifyauth knows neither Proxy-Authorization nor qop).
        body = ('<recv request="INVITE" crlf="true"/>\n'
                f'<send><![CDATA[\n{_reply(status, ask + chr(10) + "Content-Length: 0" + chr(10) + chr(10), ";tag=[pid]uas")}]]></send>\n'
                '<recv request="ACK"/>\n' +
                _recv_with("INVITE", actions, ' crlf="true" rrs="true"') + _log_var("credentials"))
    else:
        body = _recv_with("INVITE", actions, ' crlf="true" rrs="true"')
    if early_media_ms:
        body += (f'<send><![CDATA[\n{_reply("183 Session Progress", _sdp_body(), ";tag=[pid]uas")}]]></send>\n'
                 f'<nop><action><exec play_pcap_audio="{PCAP}"/></action></nop>\n'
                 f'<pause milliseconds="{early_media_ms}"/>\n')
    else:
        body += (f'<send><![CDATA[\n{_reply("180 Ringing", to_tag=";tag=[pid]uas")}]]></send>\n'
                 f'<pause milliseconds="{ring_ms}"/>\n')
    body += (f'<send retrans="500"><![CDATA[\n{_reply("200 OK", _sdp_body(), ";tag=[pid]uas")}]]></send>\n'
             '<recv request="ACK" crlf="true"/>\n')
    if not early_media_ms:
        body += f'<nop><action><exec play_pcap_audio="{PCAP}"/></action></nop>\n'
    body += during
    if hangup == "caller":
        body += '<recv request="BYE"/>\n' f'<send><![CDATA[\n{_reply("200 OK")}]]></send>\n'
    else:
        d = Dialog("[next_url]", "[$caller_to];tag=[pid]uas", "[$caller_from]", "<sip:[local_ip]:[local_port]>")
        body += f'<pause milliseconds="{hold_ms}"/>\n' + d.bye(1)
    return _wrap("provider_uas", body)


def phone_uas(during="", ring_ms=300, silent_to_options=False):
    """A registered phone takes a call, answers, and waits for the BYE. silent_to_options: a
    phone that takes the registrar's qualify OPTIONS and never answers them (each is a sipp call
    of its own, new Call-ID, that ends in silence); run it with a high -m: it stops itself once
    the INVITE's call is over."""
    first = '<recv request="INVITE" crlf="true"/>\n'
    if silent_to_options:
        first = ('<recv request="INVITE|OPTIONS" regexp_match="true" crlf="true">\n'
                 '  <action><ereg regexp="^OPTIONS " search_in="msg" assign_to="options"/></action>\n</recv>\n'
                 '<nop test="options" next="silent"/>\n')
    body = (first +
            f'<send><![CDATA[\n{_reply("180 Ringing", to_tag=";tag=[pid]uas")}]]></send>\n'
            f'<pause milliseconds="{ring_ms}"/>\n'
            f'<send retrans="500"><![CDATA[\n{_reply("200 OK", _sdp_body(), ";tag=[pid]uas")}]]></send>\n'
            '<recv request="ACK" crlf="true"/>\n'
            f'<nop><action><exec play_pcap_audio="{PCAP}"/></action></nop>\n' + during +
            '<recv request="BYE"/>\n' f'<send><![CDATA[\n{_reply("200 OK")}]]></send>\n')
    if silent_to_options:
        body += '<nop><action><exec int_cmd="stop_gracefully"/></action></nop>\n<label id="silent"/>\n'
    return _wrap("phone_uas", body)


def phone_ring_only():
    """A phone that rings until it is cancelled (no Reason expected)."""
    return _wrap("phone_ring_only", _uas_answer(0, answer=False))


def provider_dialog(number, caller="+4989111222", display="Far End"):
    """A provider's call to `number` from `caller` (the user part of From; "anonymous" for a
    withheld number, written as RFC 3323 says)."""
    host = "anonymous.invalid" if caller == "anonymous" else "[local_ip]"
    display = "Anonymous" if caller == "anonymous" else display
    hdr_from = f'"{display}" <sip:{caller}@{host}>;tag=[pid]far'
    return Dialog(f"sip:{number}@[remote_ip]:[remote_port]", hdr_from, f"<sip:{number}@[remote_ip]>[peer_tag_param]",
                  "<sip:[local_ip]:[local_port]>" if caller == "anonymous" else
                  f"<sip:{caller}@[local_ip]:[local_port]>")


def provider_call(number, during_factory=None, expect="200", hold_ms=1200, caller="+4989111222", display="Far End",
                  privacy=False):
    """The provider calls a DID from `caller` (Privacy: id when `privacy`). expect="200":
    answered, RTP, `during_factory(dialog, cseq)`, then the far end hangs up; otherwise the final
    failure it must get (ACKed)."""
    d = provider_dialog(number, caller, display)
    headers = "User-Agent: ProviderSwitch/9\n" + ("Privacy: id\n" if privacy else "")
    invite = d.request("INVITE", 1, _sdp_body(), headers=headers, initial=True)
    body = (f'<send retrans="500"><![CDATA[\n{invite}]]></send>\n'
            '<recv response="100" optional="true"/>\n'
            '<recv response="180" optional="true"/>\n'
            '<recv response="183" optional="true"/>\n')
    if expect != "200":
        # Message indexes: 0 INVITE, 1 100, 2 180, 3 183, 4 final, 5 ACK (same branch as 0).
        return _wrap("provider_call", body + f'<recv response="{expect}"/>\n'
                     f'<send><![CDATA[\n{d.request("ACK", 1, branch="[branch-5]")}]]></send>\n')
    body += ('<recv response="200" rtd="true"/>\n'
             f'<send><![CDATA[\n{d.request("ACK", 1)}]]></send>\n'
             f'<nop><action><exec play_pcap_audio="{PCAP}"/></action></nop>\n'
             f'<pause milliseconds="{hold_ms}"/>\n')
    cseq = 2
    if during_factory:
        xml, cseq = during_factory(d, cseq)
        body += xml
    return _wrap("provider_call", body + d.bye(cseq))
