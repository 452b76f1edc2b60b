#include "b2bua/calls/feature_call.h"

#include <utility>

namespace b2bua::calls {
namespace {

// For an INVITE without an offer (RFC 3264 delayed offer) our 200 must carry one: a single
// audio stream, disabled (port 0), so the phone's answer in the ACK opens nothing.
constexpr const char* kDisabledOffer =
    "v=0\r\no=b2bua 1 1 IN IP4 0.0.0.0\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 0 RTP/AVP 0\r\n";

}  // namespace

ConfirmationCall::ConfirmationCall(su_root_t* root, nua_handle_t* nh, const std::string& offer,
                                   std::function<void()> done)
    : nh_(nh), done_(std::move(done)), bye_(root) {
  nua_handle_bind(nh_, this);
  std::string sdp = kDisabledOffer;
  if (!offer.empty()) {
    auto answer = media::declining_answer(offer, origin_);
    if (auto* text = std::get_if<std::string>(&answer)) sdp = *text;
  }
  nua_respond(nh_, SIP_200_OK, SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(sdp.c_str()),
              TAG_END());
}

ConfirmationCall::~ConfirmationCall() {
  nua_handle_bind(nh_, nullptr);
  nua_handle_destroy(nh_);
}

void ConfirmationCall::on_nua_event(const sip::NuaEvent& ev) {
  if (ev.event == nua_i_update || ev.event == nua_i_info) {
    // Nothing to change in a call that only confirms a code.
    nua_respond(nh_, SIP_200_OK, NUTAG_WITH_THIS(ev.nua), TAG_END());
    return;
  }
  if (ev.event != nua_i_state || over_) return;
  int state = 0;
  tl_gets(ev.tags, NUTAG_CALLSTATE_REF(state), TAG_END());
  if (state == nua_callstate_ready) {
    bye_.start(300, [this] { nua_bye(nh_, TAG_END()); });
  } else if (state == nua_callstate_terminated) {
    over_ = true;
    bye_.cancel();
    std::exchange(done_, nullptr)();
  }
}

}  // namespace b2bua::calls
