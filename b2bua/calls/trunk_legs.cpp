// Calls through trunks: the B leg towards a provider (its own Call-ID, tags, our Contact and the
// identity we decide; nothing of the phone's crosses), and the hunt over a route's trunks
// (routing.outbound[].trunk as a list; every trunk for an emergency number). A trunk whose
// registration has lapsed is passed over while another is registered; a trunk that fails for
// itself (no answer in time, 408, 5xx, a transport error, our credentials refused, no progress
// past 100 Trying within kTrunkProgressMs) hands the call to the next one; an answer about the callee (busy, not found, declined) ends the hunt,
// since another provider would only ring the same busy line.
#include <algorithm>
#include <utility>

#include "b2bua/calls/call_manager.h"
#include "b2bua/calls/routing.h"
#include "b2bua/common/clock.h"
#include "b2bua/common/log.h"
#include "b2bua/common/phone_number.h"

namespace b2bua::calls {
namespace {

// A provider that took the INVITE (100 Trying) and then says nothing: an overloaded or half-dead
// switch. The phone would show "calling" until its user gives up, and no timer of SIP ends an
// INVITE client transaction once a provisional came (RFC 3261 17.1.1.2). Real call setups send
// 180 or 183 within a few seconds, international ones within ten; past that, while another trunk
// is left, the next one takes the call. With no trunk left the call waits as before: a late 180
// is better than no call.
constexpr unsigned kTrunkProgressMs = 10000;

}  // namespace

bool fails_for_trunk(int status) {
  // 401/407 reach here only after our own answer was refused: the account, not the callee.
  return status == 408 || status == 401 || status == 407 || (status >= 500 && status < 600);
}

std::vector<const config::Trunk*> CallManager::trunks_to_try(const std::vector<const config::Trunk*>& route) const {
  std::vector<const config::Trunk*> registered;
  for (const config::Trunk* trunk : route) {
    auto r = trunks_ ? trunks_->route(*trunk) : std::nullopt;
    if (r && r->registered) registered.push_back(trunk);
  }
  // None registered: the first is tried anyway. A lapsed registration (our uplink was down a
  // moment) does not mean the provider refuses calls, and an answer is better than a guess.
  if (registered.empty() && !route.empty()) registered.push_back(route.front());
  return registered;
}

std::optional<TrunkHunt> CallManager::hunt_as(const config::Config& c, const config::Extension& from,
                                             const std::string& number, const std::string& original_caller,
                                             const char*& refused) {
  OutboundRoute route = route_outbound(c, number);
  refused = !from.outbound && !route.emergency ? "extension may not call out"
            : route.denied                     ? "deny rule"
            : route.trunks.empty()             ? "no outbound route"
            : !from.allows(route.destination)  ? "destination class not allowed"
            : !context_.wan                    ? "no WAN side"
                                               : nullptr;
  if (!refused && !route.emergency) {
    auto verdict = outbound_limits_.admit(from, active_calls_out(from.number), c.limits.cooldown_s, clock::unix_s());
    if (verdict.kind != OutboundLimits::Verdict::ok) refused = "extension limits";
  }
  if (refused) return std::nullopt;
  return TrunkHunt{.caller = &from, .withheld = from.clir, .number = route.number,
                   .left = trunks_to_try(route.trunks), .original_caller = original_caller};
}

bool CallManager::open_trunk_leg(Call& call) {
  if (!call.hunt || !context_.wan || !trunks_) return false;
  TrunkHunt& hunt = *call.hunt;
  while (!hunt.left.empty()) {
    const config::Trunk& trunk = *hunt.left.front();
    hunt.left.erase(hunt.left.begin());
    auto route = trunks_->route(trunk);
    if (!route) continue;
    call.record.trunk = trunk.name;
    const std::string& domain = route->domain;
    std::string identity = "<sip:" + presented_identity(call, hunt, trunk) + "@" + domain + ">";
    std::string ruri = "sip:" + hunt.number + "@" + domain;
    std::string to = "<" + ruri + ">";
    std::string from = hunt.withheld ? "\"Anonymous\" <sip:anonymous@anonymous.invalid>" : identity;
    // Only what we decide crosses to the provider: our identity for the trunk, CLIR as
    // RFC 3323/3325 ask; none of the phone's headers.
    std::string headers = "P-Asserted-Identity: " + identity;
    if (hunt.withheld) headers += "\r\nPrivacy: id";
    nua_handle_t* nh = nua_handle(context_.wan->nua(), nullptr, NUTAG_URL(ruri.c_str()), SIPTAG_TO_STR(to.c_str()),
                                  SIPTAG_FROM_STR(from.c_str()), TAG_END());
    if (!nh) continue;
    auto leg = std::make_unique<Leg>(call, false, *context_.wan, nh, route->media_address);
    leg->trunk = &trunk;
    leg->contact = route->contact;
    leg->proxy = route->proxy;
    leg->headers = headers;
    leg->request_uri = ruri;
    call.b.push_back(std::move(leg));
    return true;
  }
  return false;
}

std::string CallManager::presented_identity(const Call& call, const TrunkHunt& hunt, const config::Trunk& trunk) const {
  if (!hunt.original_caller.empty() && trunk.forward_caller_id == config::Trunk::ForwardCallerId::caller) {
    return hunt.original_caller;
  }
  const std::string* wanted = hunt.caller && hunt.caller->outgoing_number ? &*hunt.caller->outgoing_number : nullptr;
  if (!wanted) return trunk.username;
  // A provider presents (or replaces) a number it did not assign to this account; only one of
  // the trunk's own numbers is ours to present there.
  if (std::any_of(trunk.numbers.begin(), trunk.numbers.end(),
                  [&](const std::string& n) { return number::same_number(n, *wanted); })) {
    return *wanted;
  }
  B2BUA_LOG(info, "calls", "outgoing_number_not_allowed",
            {{"call", call.id}, {"extension", hunt.caller->number}, {"trunk", trunk.name}, {"number", *wanted}});
  return trunk.username;
}

void Call::watch_progress(Leg& leg) {
  if (!hunt || hunt->left.empty()) return;
  if (!progress_timer_) progress_timer_ = std::make_unique<sip::Timer>(manager.context().root);
  progress_leg_ = &leg;
  progress_timer_->start(kTrunkProgressMs, [this] {
    Leg* quiet = std::exchange(progress_leg_, nullptr);
    if (!quiet || winner || ending_ || quiet->final_status || quiet->cancelled || quiet->terminated) return;
    B2BUA_LOG(warn, "calls", "trunk_no_progress",
              {{"call", id}, {"trunk", quiet->trunk->name}, {"after_ms", kTrunkProgressMs}});
    // The leg is cancelled (its 487 then changes nothing) and the call goes on as after a 408.
    end_leg(*quiet, nullptr);
    fail_over(*quiet, 408);
  });
}

void Call::progress_seen(Leg& leg, int status) {
  // A challenge is no progress: the INVITE is sent again with our credentials, still watched.
  if (status <= 100 || status == 401 || status == 407 || &leg != progress_leg_) return;
  progress_leg_ = nullptr;
  if (progress_timer_) progress_timer_->cancel();
}

bool Call::fail_over(Leg& leg, int status) {
  if (!leg.trunk || !hunt || hunt->left.empty() || !fails_for_trunk(status) || a->answered) return false;
  record.note("failover", leg.trunk->name + ":" + std::to_string(status));
  size_t first_new = b.size();
  if (!manager.open_trunk_leg(*this)) return false;
  B2BUA_LOG(info, "calls", "trunk_failover",
            {{"call", id}, {"from", leg.trunk->name}, {"status", status}, {"to", record.trunk}});
  invite_legs(first_new);
  return true;
}

}  // namespace b2bua::calls
