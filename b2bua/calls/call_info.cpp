// INFO within a call (RFC 6086), e.g. application/dtmf-relay: answered 200 on the leg it came
// on and sent on the other dialog with the same body. Before the call is answered there is no
// other dialog yet; a fork that lost has none.
#include "b2bua/calls/call.h"

namespace b2bua::calls {

void Call::relay_info(Leg& from, const sip::NuaEvent& ev) {
  // INFO is an application method (CallManager), so nua leaves the answer to us.
  nua_respond(from.nh, SIP_200_OK, NUTAG_WITH_THIS(ev.nua), TAG_END());
  Leg* to = &from == a.get() || &from == winner ? other_party(from) : nullptr;
  if (!to || !ev.sip) return;
  nua_info(to->nh, TAG_IF(ev.sip->sip_content_type, SIPTAG_CONTENT_TYPE(ev.sip->sip_content_type)),
           TAG_IF(ev.sip->sip_payload, SIPTAG_PAYLOAD(ev.sip->sip_payload)), TAG_END());
}

}  // namespace b2bua::calls
