// Call pickup: a phone dials **EXT or *8# (feature_codes.h) while a call rings elsewhere, and
// the call is answered on that phone: it becomes the call's answering leg on the phones' side of
// the relay, the phones that were ringing are cancelled with Reason "Call completed elsewhere"
// (RFC 3326), and the caller gets its 200. Two offers meet here (the caller's INVITE and the
// picking phone's), so each is answered with the other one narrowed to the formats it offered
// (media::narrow_to_offer, RFC 3264 6.1). Calls the relay does not carry (direct media), or
// whose caller made no offer (delayed offer), are not picked up.
#include "b2bua/calls/call.h"
#include "b2bua/calls/call_manager.h"
#include "b2bua/common/clock.h"
#include "b2bua/common/log.h"

namespace b2bua::calls {
namespace {

size_t m_lines(const std::string& sdp) {
  auto inspected = media::inspect_sdp(sdp);
  auto* streams = std::get_if<std::vector<media::SdpStream>>(&inspected);
  return streams ? streams->size() : 0;
}

}  // namespace

bool Call::ringing_at(const std::string& extension) const {
  if (winner || ending_ || finished_ || transfer_) return false;
  for (const auto& leg : b) {
    if (leg->extension == extension && !leg->transfer_target && !leg->cancelled && leg->final_status == 0) return true;
  }
  return false;
}

bool Call::pick_up(const sip::NuaEvent& invite, const std::string& extension, const std::string& lan_ip) {
  std::string offer = sdp_of(invite.sip);
  if (direct_media || !a_offered_ || offer.empty() || m_lines(offer) != m_lines(a_offer_)) return false;
  auto for_a = media::narrow_to_offer(offer, a_offer_);
  auto for_phone = media::narrow_to_offer(a_offer_, offer);
  if (!std::holds_alternative<std::string>(for_a) || !std::holds_alternative<std::string>(for_phone)) return false;
  b.push_back(std::make_unique<Leg>(*this, false, *manager.context().lan, invite.nh, lan_ip));
  Leg& picker = *b.back();
  picker.extension = extension;
  picker.invited = true;
  std::optional<std::string> to_a = bridge_sdp(picker, *a, std::get<std::string>(for_a), false);
  std::optional<std::string> to_phone = active_offer_for_side(std::get<std::string>(for_phone), picker);
  if (!to_a || !to_phone) {
    picker.respond(488, "Not Acceptable Here");
    picker.terminated = true;
    return true;
  }
  winner = &picker;
  picker.answered = true;
  picker.last_sdp = *to_phone;
  record.answer_ms = clock::unix_ms();
  record.note("picked_up", extension);
  if (direction() == Direction::inbound) record.extension = extension;
  if (ring_timer_) ring_timer_->cancel();
  for (auto& leg : b) {
    if (leg.get() != &picker) end_leg(*leg, kCompletedElsewhere);
  }
  B2BUA_LOG(info, "calls", "picked_up", {{"call", id}, {"ext", extension}});
  picker.respond(SIP_200_OK, to_phone);
  a->answered = true;
  a->last_sdp = *to_a;
  record.final_code = 200;
  a->respond(SIP_200_OK, to_a);
  return true;
}

}  // namespace b2bua::calls
