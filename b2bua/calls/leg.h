// One SIP dialog of a call (RFC 3261 12): the caller's (leg A) or one we opened for it (a B
// leg). Each leg is its own nua handle with its own Call-ID, tags, Via and Contact; nothing of
// one leg's headers is copied to another.
#pragma once

#include <optional>
#include <string>

#include "b2bua/config/config.h"
#include "b2bua/sip/sip_agent.h"
#include "b2bua/trunk/provider_auth.h"
#include "media/sdp_rewrite.h"

namespace b2bua::calls {

class Call;

class Leg final : public sip::HandleOwner {
 public:
  Leg(Call& call, bool is_a, sip::SipAgent& agent, nua_handle_t* nh, std::string sdp_address);
  ~Leg();
  Leg(const Leg&) = delete;
  Leg& operator=(const Leg&) = delete;

  void on_nua_event(const sip::NuaEvent& ev) override;
  // The leg of ours whose dialog on `nua` a Replaces names (RFC 3891), or null: another
  // dialog's, none, or one that is no call leg.
  static Leg* by_replaces(nua_t* nua, const sip_replaces_t* replaces);

  // Answers the INVITE (or re-INVITE) this leg received. A 1xx/2xx carries our Contact (the
  // dialog's remote target, RFC 3261 12.1.1) and `sdp` when given.
  void respond(int status, const char* phrase, const std::optional<std::string>& sdp = std::nullopt);
  // ACKs the 2xx this leg received, with `sdp` when the 2xx carried an offer (RFC 3264 5).
  void ack(const std::optional<std::string>& sdp = std::nullopt);
  // `phrase` copied into the handle's memory. nua_respond() keeps the pointer, not a copy,
  // until the stack has built the response; a phrase from an event dies with the event when
  // the callback returns.
  const char* lasting(const char* phrase) const;
  // Gives a dialog that has not ended up: its handle goes now, with any request it still waits
  // for (nua no longer waits for the answer), and the leg counts as ended.
  void abandon();

  Call* call;                     // the call it belongs to (an attended transfer moves a leg)
  bool is_a;                      // faces the relay's side A (a transfer target may take A's place)
  sip::SipAgent& agent;
  nua_handle_t* nh;
  const std::string sdp_address;  // what SDP we send on this leg names as our media address
  std::string extension;          // for phone legs: which extension this contact belongs to
  const config::Trunk* trunk = nullptr;  // for legs towards a provider (from the call's config)
  media::SdpOrigin origin;        // our o= on this leg (RFC 3264 version per sender)
  int state = 0;                  // nua_callstate_*
  bool terminated = false;
  bool invited = false;           // B: our INVITE went out (a refused offer ends a call before)
  bool transfer_target = false;   // rung for a blind transfer, not yet part of the call
  Leg* replacing = nullptr;       // a phone's INVITE with Replaces for that leg, not yet answered
  bool answered = false;          // a 2xx was sent (A) or received (B)
  bool cancelled = false;         // we sent CANCEL (B)
  int final_status = 0;           // final response received on a B leg
  bool auth_tried = false;        // we answered the provider's 401/407 once already
  trunk::ProviderAuth auth;       // our own answer to it, for the re-sent INVITE
  std::string last_sdp;           // the SDP we last sent on this leg (re-INVITE without offer)
  bool ack_with_sdp = false;      // our refresh re-INVITE got an offer in the 2xx
  // How a B leg's INVITE goes out (set by CallManager before Call::start).
  std::string contact;            // our Contact on this leg (B: in the INVITE, A: in responses);
                                  // empty: the agent's own
  std::string proxy;              // next hop: a trunk's proxy, or the flow a phone registered on
  std::string headers;            // extra headers we deliberately set (P-Asserted-Identity, Privacy)
  std::string request_uri;        // B legs: the INVITE's Request-URI (a phone's registered Contact,
                                  // or number@domain at a trunk, which our digest answer names)

 private:
  void release_handle();
};

}  // namespace b2bua::calls
