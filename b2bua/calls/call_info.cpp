// INFO within a call (RFC 6086), e.g. application/dtmf-relay: answered 200 on the leg it came
// on and sent on the other dialog with the same body. Before the call is answered there is no
// other dialog yet; a fork that lost has none. A call that b2bua itself answered (an answering
// machine, the voicemail menu) takes a key sent as INFO as a key press.
#include "b2bua/calls/call.h"

#include <strings.h>

#include <cctype>
#include <optional>
#include <string_view>

namespace b2bua::calls {

namespace {

bool same_type(std::string_view type, std::string_view want) {
  return type.size() == want.size() && strncasecmp(type.data(), want.data(), want.size()) == 0;
}

// The key an INFO carries: application/dtmf-relay (what phones send) or application/dtmf.
std::optional<char> dtmf_of_info(const sip_t* sip) {
  if (!sip || !sip->sip_content_type || !sip->sip_content_type->c_type || !sip->sip_payload) return std::nullopt;
  std::string_view type = sip->sip_content_type->c_type;
  std::string_view body(sip->sip_payload->pl_data, sip->sip_payload->pl_len);
  if (same_type(type, "application/dtmf-relay")) {
    // "Signal=5\r\nDuration=160\r\n" (the de-facto format phones send)
    const size_t at = body.find("Signal=");
    if (at == std::string_view::npos) return std::nullopt;
    body.remove_prefix(at + 7);
  } else if (!same_type(type, "application/dtmf")) {
    return std::nullopt;
  }
  while (!body.empty() && body.front() == ' ') body.remove_prefix(1);
  if (body.empty()) return std::nullopt;
  const char key = static_cast<char>(std::toupper(static_cast<unsigned char>(body.front())));
  if ((key >= '0' && key <= '9') || key == '*' || key == '#' || (key >= 'A' && key <= 'D')) return key;
  return std::nullopt;
}

}  // namespace

void Call::relay_info(Leg& from, const sip::NuaEvent& ev) {
  // INFO is an application method (CallManager), so nua leaves the answer to us.
  nua_respond(from.nh, SIP_200_OK, NUTAG_WITH_THIS(ev.nua), TAG_END());
  if (machine_) {
    // b2bua is the far end: a key sent as INFO is a key press like an RFC 4733 one.
    if (auto key = dtmf_of_info(ev.sip)) {
      media::VoiceEvent press;
      press.kind = media::VoiceEvent::Kind::dtmf;
      press.digit = *key;
      on_voice(std::move(press));
    }
    return;
  }
  Leg* to = &from == a.get() || &from == winner ? other_party(from) : nullptr;
  if (!to || !ev.sip) return;
  nua_info(to->nh, TAG_IF(ev.sip->sip_content_type, SIPTAG_CONTENT_TYPE(ev.sip->sip_content_type)),
           TAG_IF(ev.sip->sip_payload, SIPTAG_PAYLOAD(ev.sip->sip_payload)), TAG_END());
}

}  // namespace b2bua::calls
