// Transfer to an outside number. The REFER's target is called through the outbound routing as a
// call the transferor's extension places (on_refer checked its permission, destination classes
// and limits), from our identity on the trunk: the provider sees a new call of ours, never
// anything of the LAN. The target is offered relay sessions of its own, whose transferor side is
// on the WAN, while the transferred party stays on the old ones (held); only when the target
// answers does the call move over to them (adopt_sessions) and the transferred party get its
// re-INVITE. If the target fails, nothing of the call changed: the transferor takes it back, or
// is rung again (call_transfer.cpp).
//
// The same move serves an attended transfer whose consulted party is outside: the transferor's
// side of the relay goes to the WAN before the consulted party is re-INVITEd onto it.
#include "b2bua/calls/call.h"
#include "b2bua/calls/call_manager.h"
#include "b2bua/common/log.h"

namespace b2bua::calls {

std::string Call::transferred_caller(const Leg& other) const {
  if (!other.trunk) return {};  // a phone's number means nothing outside
  const std::string& number = &other == a.get() ? presented_number : record.remote_number;
  return number == "anonymous" ? std::string() : number;
}

bool Call::ring_outside_target(TrunkHunt out) {
  Leg& from = *transfer_->transferor;
  const size_t side = from.is_a ? 0 : 1;
  // The call's record keeps naming the trunk it came in or went out on (an internal call takes
  // the target's); the target's trunk is in the log line below.
  const std::string kept_trunk = record.trunk;
  hunt = std::move(out);
  if (!manager.open_trunk_leg(*this)) return false;
  Leg& target = *b.back();
  if (!kept_trunk.empty()) record.trunk = kept_trunk;
  target.is_a = from.is_a;
  target.transfer_target = true;
  std::optional<Sessions> sessions = sessions_with_side_on_wan(side, from.last_sdp);
  if (!sessions) {
    end_leg(target, nullptr);
    return false;
  }
  transfer_->sessions = std::move(*sessions);
  std::optional<std::string> offer = active_offer_for_side(from.last_sdp, target, &transfer_->sessions);
  if (!offer) {
    end_leg(target, nullptr);
    return false;
  }
  B2BUA_LOG(info, "calls", "transfer_outside",
            {{"call", id}, {"from", from.extension}, {"to", hunt->number}, {"trunk", target.trunk->name}});
  target.last_sdp = *offer;
  send_invite(target, offer);
  start_transfer_timer();
  return true;
}

bool Call::move_side_to_wan(Leg& side_of, const std::string& sdp) {
  const size_t side = side_of.is_a ? 0 : 1;
  std::optional<Sessions> next = sessions_with_side_on_wan(side, sdp);
  if (!next) return false;
  adopt_sessions(std::move(*next), side);
  return true;
}

}  // namespace b2bua::calls
