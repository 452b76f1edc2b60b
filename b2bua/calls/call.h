// One call: the caller's dialog (leg A) and the dialogs we opened for it (B legs: one towards a
// trunk, or one per ringing phone contact), joined by relay sessions. Nothing of one dialog's
// headers is copied to the other: each leg is a fresh nua handle with its own Call-ID, tags,
// Via and Contact; only numbers, display names and SDP (rewritten) cross.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "b2bua/config/config.h"
#include "b2bua/sip/sip_agent.h"
#include "b2bua/sip/timer.h"
#include "media/media_plane.h"
#include "media/sdp_rewrite.h"

namespace b2bua::calls {

class Call;
class CallManager;

enum class Direction { outbound, inbound, internal };
const char* direction_name(Direction d);

// One SIP dialog of a call. Owns its nua handle.
class Leg final : public sip::HandleOwner {
 public:
  Leg(Call& call, bool is_a, sip::SipAgent& agent, nua_handle_t* nh, std::string sdp_address);
  ~Leg();
  Leg(const Leg&) = delete;
  Leg& operator=(const Leg&) = delete;

  void on_nua_event(const sip::NuaEvent& ev) override;

  Call& call;
  const bool is_a;
  sip::SipAgent& agent;
  nua_handle_t* nh;
  const std::string sdp_address;  // what SDP we send on this leg names as our media address
  std::string extension;          // for phone legs: which extension this contact belongs to
  media::SdpOrigin origin;        // our o= on this leg (RFC 3264 version per sender)
  int state = 0;                  // nua_callstate_*
  bool terminated = false;
  bool answered = false;          // a 2xx was sent (A) or received (B)
  bool cancelled = false;         // we sent CANCEL (B)
  int final_status = 0;           // final response received on a B leg
  bool auth_tried = false;        // we answered the provider's 401/407 once already
  std::string last_sdp;           // the SDP we last sent on this leg (re-INVITE without offer)
  bool ack_with_sdp = false;      // our refresh re-INVITE got an offer in the 2xx
  // How a B leg's INVITE goes out (set by CallManager before Call::start).
  std::string contact;            // our Contact on this leg (B: in the INVITE, A: in responses);
                                  // empty: the agent's own
  std::string proxy;              // next hop: a trunk's proxy, or a phone's flow
  std::string headers;            // extra headers we deliberately set (P-Asserted-Identity, Privacy)
  std::string request_uri;        // B legs to a trunk: for our own digest answer
};

class Call {
 public:
  Call(CallManager& manager, uint64_t id, Direction direction, config::Snapshot config);
  ~Call();

  // Leg A arrived and was admitted; `targets` are the B legs to open (already created).
  void start(const sip::NuaEvent& invite);
  void on_event(Leg& leg, const sip::NuaEvent& ev);
  // Ends every leg (BYE, CANCEL or a final answer as each state needs); `code` for leg A if it
  // is still unanswered.
  void hang_up(int code, const char* phrase, const char* by);
  void on_media_timeout();
  bool finished() const { return finished_; }

  CallManager& manager;
  const uint64_t id;
  const Direction direction;
  config::Snapshot config;  // the config the call started with
  std::unique_ptr<Leg> a;
  std::vector<std::unique_ptr<Leg>> b;
  Leg* winner = nullptr;  // the B leg that answered

  // Relay sessions, one per m-line (none for a disabled stream); session leg 0 faces A, leg 1
  // faces the B side.
  std::vector<std::optional<media::Allocation>> streams;
  std::string a_bind_ip, b_bind_ip;

  // For the call record.
  std::string extension, trunk, remote_number;
  int64_t start_ms = 0, answer_ms = 0, end_ms = 0;
  int final_code = 0;
  std::string hangup_by;
  bool emergency = false;
  int ring_timeout_s = 0;         // unanswered forks give up after this (0: no limit of ours)
  std::optional<std::string> fallback;  // extension rung when the forks give up (inbound)
  std::string presented_number, presented_display;  // who the phones are told is calling

 private:
  friend class CallManager;
  bool invite_legs(size_t first);
  // Sends (or, with our own `authorization`, re-sends) the INVITE of a B leg.
  // With our own answer, `call_id` keeps the challenged call's (RFC 3261 22.2: same Call-ID).
  void send_invite(Leg& leg, const std::optional<std::string>& offer, const std::string& authorization = "",
                   bool proxy_authorization = false, const char* call_id = nullptr);
  // The provider challenged leg's INVITE: true when answered (by sofia, or by us where sofia
  // cannot: mixed SHA-256 + MD5 challenges, SHA-256 alone).
  bool answer_challenge(Leg& leg, int status, const sip::NuaEvent& ev);
  void on_ring_timeout();
  void on_a_event(const sip::NuaEvent& ev);
  void on_b_event(Leg& leg, const sip::NuaEvent& ev);
  void on_b_response(Leg& leg, const sip::NuaEvent& ev);
  void on_state(Leg& leg, const sip::NuaEvent& ev);
  void on_reinvite(Leg& from, const sip::NuaEvent& ev);
  // The far side answered a re-INVITE we bridged from `from`; bring the answer back.
  void complete_reinvite(Leg& from, Leg& answering, const sip::NuaEvent& ev);
  using Remotes = std::vector<std::array<std::optional<media::RemoteMedia>, 2>>;
  void restore_remotes(const Remotes& before);
  void b_failed(Leg& leg, int status, const char* phrase);
  void end_leg(Leg& leg, const char* reason_header);
  void check_finished();
  void answer_a(int status, const char* phrase, const sip_t* sip_with_sdp, Leg& from);

  // SDP from `from` for the other side; allocates relay sessions on the first offer. Returns
  // nullopt (after logging) when the SDP is unusable or the relay has no ports left.
  std::optional<std::string> bridge_sdp(Leg& from, Leg& to, const std::string& sdp, bool is_offer);
  std::string sdp_of(const sip_t* sip) const;

  bool finished_ = false;
  bool ending_ = false;
  bool a_offered_ = false;          // leg A's INVITE carried SDP (else: delayed offer)
  std::string a_offer_;             // that SDP, for legs opened later (fallback)
  bool fallback_used_ = false;
  bool b_ack_waits_for_a_ = false;  // B's 2xx carried an offer (we sent none): ACK needs A's answer
  Leg* reinvite_from_ = nullptr;    // leg whose re-INVITE is being bridged
  Remotes remotes_;                 // what the relay was last told, per stream and side
  Remotes remotes_before_reinvite_; // to go back to when a bridged re-INVITE fails
  std::unique_ptr<sip::Timer> ring_timer_;
  std::unique_ptr<sip::Timer> end_bound_;
};

}  // namespace b2bua::calls
