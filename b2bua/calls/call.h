// One call: the caller's dialog (leg A) and the dialogs we opened for it (B legs: one towards a
// trunk, or one per ringing phone contact), joined by relay sessions. Only numbers, display
// names and SDP (rewritten) cross from one dialog to the other.
//
// The call is cut by SIP operation, one file each: call.cpp (lifetime, event dispatch, dialog
// state), call_connect.cpp (INVITE out, challenges, provisional responses, ring timeout),
// call_accept.cpp (the 2xx and its ACK), call_modify.cpp (re-INVITE), call_update.cpp (UPDATE),
// call_info.cpp (INFO), call_transfer.cpp (REFER: blind and attended transfer),
// call_transfer_out.cpp (transfer to an outside number), call_close.cpp (CANCEL, BYE,
// failures) and call_media.cpp (SDP between the legs); trunk_legs.cpp opens legs towards
// providers and fails over between them, forward.cpp (CallManager) follows forwarding.
#pragma once

#include <array>
#include <functional>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "b2bua/calls/leg.h"
#include "b2bua/config/config.h"
#include "b2bua/sip/timer.h"
#include "media/media_plane.h"
#include "media/tones.h"

namespace b2bua::voicemail {
class VoiceApp;
class VoiceIo;
}  // namespace b2bua::voicemail

namespace b2bua::calls {

class CallManager;

// A call out through trunks: who is calling (identity and CLIR), the number the provider is
// asked to call, and the trunks still to try when the current one fails (trunk_legs.cpp).
struct TrunkHunt {
  const config::Extension* caller = nullptr;  // from the call's config snapshot
  bool withheld = false;                      // CLIR: Privacy: id, anonymous From
  std::string number;
  std::vector<const config::Trunk*> left;
  // A forwarded call's original caller: presented on trunks that allow it
  // (trunks[].forward_caller_id), else the forwarding extension's identity; empty for none.
  std::string original_caller;
};

// The Reason of a CANCEL to phones that rang for a call answered elsewhere (RFC 3326): by
// another fork, a pickup or a transfer target. Phones then log no missed call.
inline constexpr const char* kCompletedElsewhere = "SIP;cause=200;text=\"Call completed elsewhere\"";

// A trunk's own failure (timeout, 5xx, our credentials refused), not the callee's answer.
bool fails_for_trunk(int status);

enum class Direction { outbound, inbound, internal };
const char* direction_name(Direction d);

// What the call record says about a call attempt, filled in as the call goes, or at once for
// an attempt refused at admission (call_record.cpp turns either into a row).
struct CallRecord {
  Direction direction = Direction::outbound;
  std::string extension{}, trunk{}, remote_number{};
  int64_t start_ms = 0, answer_ms = 0, end_ms = 0;
  int final_code = 0;
  std::string hangup_by{};  // caller | callee | system
  // What happened besides the plain call, as space-separated key=value words in order:
  // blocked=global_number, forwarded=busy:11, failover=provider:503, transferred=11, loop=3.
  std::string notes{};
  void note(const std::string& key, const std::string& value) {
    notes += (notes.empty() ? "" : " ") + key + "=" + value;
  }
};

class Call {
 public:
  Call(CallManager& manager, uint64_t id, Direction direction, config::Snapshot config);
  ~Call();

  // Leg A arrived and was admitted; the B legs to open are already in `b`.
  void start(const sip::NuaEvent& invite);
  void on_event(Leg& leg, const sip::NuaEvent& ev);
  // Ends every leg (BYE, CANCEL or a final answer as each state needs); `code` for leg A if it
  // is still unanswered.
  void hang_up(int code, const char* phrase, const char* by);
  // Ends the call now, whatever its dialogs still wait for (a BYE's answer, a CANCEL's 487, a
  // recording being stored): their handles go at once. `why` is logged (event=forced_end).
  void give_up(const char* why);
  void on_media_timeout();
  // call_one_way.cpp: the relay hears one side of `session` but not the `silent` one (0: A's
  // side): said once per call, with what is known, in the log, the record and the metrics.
  // Returns the network of the silent side ("lan" or "wan"), or nullptr when not reported.
  const char* on_one_way_audio(media::SessionId session, int silent, const std::array<media::LegStats, 2>& stats);
  std::string one_way;  // "wan:nothing_arrives" once reported, for the status
  // call_one_way.cpp: the relay took `peer` as side `leg`'s media source; said once per side
  // when it is not the address that side's SDP named (a media server other than the
  // signalling's, a NAT that changed the port): the relay follows it, and the log says so.
  void on_latched(media::SessionId session, int leg, const media::Endpoint& peer);
  bool finished() const { return finished_; }
  Direction direction() const { return record.direction; }

  // True when the caller and every phone being rung can reach each other's media without us:
  // all in lan.networks, each sending from the address its Contact names (no NAT between it
  // and us). `caller_source` is the INVITE's source address.
  bool phones_reach_each_other(const std::string& caller_source, const sip_contact_t* caller_contact) const;

  CallManager& manager;
  const uint64_t id;
  config::Snapshot config;  // the config the call started with
  std::unique_ptr<Leg> a;
  std::vector<std::unique_ptr<Leg>> b;
  Leg* winner = nullptr;  // the B leg that answered
  CallRecord record;

  // Relay sessions, one per m-line (none for a disabled stream); session leg 0 faces A, leg 1
  // faces the B side.
  using Sessions = std::vector<std::optional<media::Allocation>>;
  Sessions streams;
  std::string a_bind_ip, b_bind_ip;
  // SDP passes between the phones unchanged and no relay session is allocated
  // (calls.direct_media_internal, decided at admission).
  bool direct_media = false;

  bool emergency = false;
  int max_duration_s = 0;         // an answered call is hung up after this (0: no limit)
  int ring_timeout_s = 0;         // unanswered forks give up after this (0: no limit of ours)
  std::optional<std::string> fallback;  // extension rung when the forks give up (inbound)
  std::string presented_number, presented_display;  // who the phones are told is calling
  std::optional<TrunkHunt> hunt;  // calls through trunks
  // Forwarding still to follow while phones ring (forward.cpp): on no answer within
  // ring_timeout_s, and when every phone rung answers busy. `from` is the forwarding extension.
  struct Forward {
    std::string from, target;
  };
  std::optional<Forward> on_no_answer, on_busy;
  std::vector<std::string> path;  // extensions the call was delivered to, in order (loops)

  // call_pickup.cpp. A phone of `extension` is being rung for this unanswered call.
  bool ringing_at(const std::string& extension) const;
  // The phone whose INVITE is `invite` (a pickup code) answers this call in place of the
  // ringing phones; false, touching nothing, when the call cannot be picked up (the INVITE is
  // still to be answered by the caller of this).
  bool pick_up(const sip::NuaEvent& invite, const std::string& extension, const std::string& lan_ip);

  // call_replace.cpp. The phone whose INVITE is `invite` takes the place of `old` (a phone
  // leg of this answered call, of the same extension): the other party is re-INVITEd with the
  // phone's offer, and when it answers, the phone gets the 200 and `old` a BYE. False, touching
  // nothing, when the call is busy with another change (the INVITE is still to be answered).
  bool replace(Leg& old, const sip::NuaEvent& invite, const std::string& extension, const std::string& lan_ip);

  // call_voicemail.cpp. The mailbox whose answering machine takes the call when the phones rung
  // do not answer in time, are all busy, or none is registered: the extension's own no-answer
  // rule or the inbound route's (routing.inbound[].voicemail).
  std::optional<std::string> voicemail_box;
  bool voicemail_on_busy = false;  // ... also when every phone rung is busy
  // The caller is answered by `mailbox`'s answering machine instead of ringing on; before the
  // call started (admission) it happens in start(). False when it cannot (no answering
  // machine there, an offer without G.711, no relay ports): the caller is still to be answered.
  bool to_voicemail(const std::string& mailbox, const char* condition);
  // The caller (a phone that dialled the voicemail code) is answered by the voicemail menu of
  // `mailbox`, asking for its PIN first when `pin_first`.
  void to_menu(const std::string& mailbox, bool pin_first);
  // A voice session event (a digit, a prompt played, a recording) of this call's machine.
  void on_voice(media::VoiceEvent event);
  bool answered_by_machine() const { return machine_ != nullptr; }
  // call_tone.cpp. A LAN phone's call that b2bua refuses (busy, no way out) hears why first: the
  // country's busy or congestion tone as early media (183), then `code`. False when it cannot
  // (a provider's call, a tone-less config, no offer, no relay ports): the caller is still to
  // be answered. Before the call started (admission) it happens in start().
  bool refuse_with_tone(int code, const char* phrase, media::Tone tone);
  // The same with the built-in announcement `prompt` (media/prompts), for refusals a tone does
  // not explain (a blocked number, a full mailbox). `note` ("refused=deny_rule") goes into the
  // record, and `outcome` as its voice_result.
  bool refuse_with_announcement(int code, const char* phrase, const char* prompt, std::string note,
                                const char* outcome = "announcement");
  // The SDP body of `sip` ("" without one, or with another content type).
  static std::string sdp_of(const sip_t* sip);

  // call_media.cpp: the B side's relay sockets move to `ip` (a call forwarded from phones to a
  // provider); the sessions are allocated again by the next offer.
  void rebind_b_side(const std::string& ip);
  // For CallManager when it added B legs (forwarding after ringing): invites them and times them.
  bool invite_new_legs(size_t first);

 private:
  // call.cpp
  void on_state(Leg& leg, const sip::NuaEvent& ev);
  void on_invite_response(Leg& leg, const sip::NuaEvent& ev);
  void check_finished();

  // call_connect.cpp
  bool invite_legs(size_t first);
  // Sends (or, with our own answer to the provider's challenge in leg.auth, re-sends) the
  // INVITE of a B leg.
  void send_invite(Leg& leg, const std::optional<std::string>& offer);
  // The provider challenged leg's INVITE: true when answered (by sofia, or by us where sofia
  // cannot: mixed SHA-256 + MD5 challenges, SHA-256 alone).
  bool answer_challenge(Leg& leg, int status, const sip::NuaEvent& ev);
  void on_b_response(Leg& leg, const sip::NuaEvent& ev);
  void on_provisional(Leg& leg, const sip::NuaEvent& ev);
  void on_ring_timeout();
  void start_ring_timer();

  // call_accept.cpp
  void on_b_answered(Leg& leg, const sip::NuaEvent& ev);
  void answer_a(int status, const char* phrase, const sip_t* sip_with_sdp, Leg& from);
  void on_a_ack(const sip::NuaEvent& ev);
  void ack_2xx(Leg& leg);

  // call_modify.cpp
  void on_reinvite(Leg& from, const sip::NuaEvent& ev);
  // The far side answered a re-INVITE we bridged from `from`; bring the answer back.
  void complete_reinvite(Leg& from, Leg& answering, const sip::NuaEvent& ev);
  void on_refresh_answered(Leg& leg, const sip::NuaEvent& ev);
  using Remotes = std::vector<std::array<std::optional<media::RemoteMedia>, 2>>;
  void restore_remotes(const Remotes& before);

  // call_info.cpp
  void relay_info(Leg& from, const sip::NuaEvent& ev);

  // call_replace.cpp: the other party answered; `phone` takes its place in the call.
  void replaced(Leg& phone);

  // call_update.cpp
  void on_update(Leg& from, const sip::NuaEvent& ev);
  void on_update_response(Leg& answering, const sip::NuaEvent& ev);

  // call_transfer.cpp
  void on_refer(Leg& from, const sip::NuaEvent& ev);
  void refuse_refer(Leg& from, const sip::NuaEvent& ev, int status, const char* phrase, const char* why);
  bool ring_transfer_target(const std::string& extension);
  // REFER with Replaces (RFC 3891): the transferor consulted someone in another call of ours.
  void attended_transfer(Leg& from, const sip::NuaEvent& ev, const sip_refer_to_t& refer_to);
  // `mine` (of this call) and `theirs` (of `other`) trade places, sides and roles.
  void swap_legs(Leg& mine, Call& other, Leg& theirs);
  void on_transfer_response(Leg& leg, const sip::NuaEvent& ev);
  void transfer_answered(Leg& target, const sip::NuaEvent& ev);
  void transfer_failed(int status, const char* phrase);
  void notify_transferor(const std::string& frag, bool final);
  // The transferor's dialog ended while its transfer goes on: true when `leg` is that one.
  bool transferor_left(Leg& leg);
  // `sdp` (what we sent the leg being replaced) for `to` on the same relay side, off hold; on
  // `sessions` in place of the call's streams when given.
  std::optional<std::string> active_offer_for_side(const std::string& sdp, Leg& to, const Sessions* sessions = nullptr);
  // The transfer targets rung give up after a while (the transfer then fails).
  void start_transfer_timer();
  // call_transfer_out.cpp. Transfer to an outside number, placed through `out` as a call of the
  // transferor's extension.
  bool ring_outside_target(TrunkHunt out);
  // The number an outside target is told is calling: the transferred party's, if it came from
  // a provider (trunks[].forward_caller_id decides), never a LAN extension's.
  std::string transferred_caller(const Leg& other) const;
  // The transferor's side of the relay moves to the WAN for the consulted party of an attended
  // transfer that is outside: false when the relay has no ports.
  bool move_side_to_wan(Leg& side_of, const std::string& sdp);
  Leg* other_party(const Leg& leg) const;
  // `newcomer` (a B leg of this call) takes the role of `leaving` (leg A or the winner), which
  // stays among the B legs until its dialog ends.
  void take_place(Leg& leaving, Leg& newcomer);

  // call_media.cpp. Sessions for the m-lines of `sdp` that the call relays now, with the
  // session leg on `moved` side (0: A, 1: B) bound to our WAN address and the other side as it
  // is; nullopt (nothing kept) when the relay has no ports left.
  std::optional<Sessions> sessions_with_side_on_wan(size_t moved, const std::string& sdp);
  // The call's media goes over `next` (from sessions_with_side_on_wan): the staying side's
  // remote addresses carry over, the old sessions are released (their counters do not reach the
  // record) and `moved`'s bind address becomes the WAN's. The staying party must then be
  // re-INVITEd: its ports changed.
  void adopt_sessions(Sessions next, size_t moved);
  // The leg that makes the call on relay side `side` (0: A's): leg A or the winner, or null.
  Leg* on_side(size_t side) const;
  // What the relay was told of side `side`'s media in `session` (its SDP), or null.
  const media::RemoteMedia* remote_of(media::SessionId session, size_t side) const;
  void release_sessions(Sessions& sessions);
  // The network `leg` faces, and whether the media address its SDP names is where its packets
  // come from (MediaPlane's RemoteMedia::sdp_names_source).
  media::Side side_of(const Leg& leg) const;
  bool sdp_names_source(const Leg& from, const media::RemoteMedia& remote) const;

  // trunk_legs.cpp: the trunk B `leg` failed with `status`; true when the next trunk was invited.
  bool fail_over(Leg& leg, int status);
  // A trunk leg of a hunt with trunks left: no progress (18x or a final answer) in time passes
  // the call on; any response past 100 on `leg` ends the watch.
  void watch_progress(Leg& leg);
  void progress_seen(Leg& leg, int status);

  // call_close.cpp
  void on_cancel();
  // The answered call reached max_duration_s: both legs get BYE.
  void on_max_duration();
  void on_bye(Leg& leg);
  void b_failed(Leg& leg, int status, const char* phrase);
  void end_leg(Leg& leg, const char* reason_header);
  // The call is over for `by` (first one wins): the other legs are ended by the caller.
  void ending(const char* by);

  // call_media.cpp
  // SDP from `from` for the other side; allocates relay sessions on the first offer. Returns
  // nullopt (after logging) when the SDP is unusable or the relay has no ports left.
  std::optional<std::string> bridge_sdp(Leg& from, Leg& to, const std::string& sdp, bool is_offer);
  // An answer to `offer` on leg `to` that declines every stream; nullopt if `offer` is unusable.
  std::optional<std::string> declining_answer(Leg& to, const std::string& offer);
  // The ACK the winner's 2xx still waits for (delayed offer) when the call ends before the
  // caller's ACK brought the answer: sent now, declining every stream.
  void ack_waiting_winner();

  // call_tone.cpp: a LAN caller not yet answered, tones on, a relay to play from.
  bool can_refuse_audibly() const;
  bool refuse_with(media::AudioPtr audio, std::string note, const char* outcome, int code, const char* phrase);

  // call_voicemail.cpp
  struct Machine;
  std::unique_ptr<Machine> machine_;
  // Makes the voice application once the caller is answered.
  using AppMaker = std::function<std::unique_ptr<voicemail::VoiceApp>(voicemail::VoiceIo&)>;
  struct MachineStart {
    AppMaker make;
    std::string note;  // for the record: "voicemail=busy:10"
    int refuse_code = 0;  // early media (183), then this final answer (call_tone.cpp)
    const char* refuse_phrase = nullptr;
  };
  std::optional<MachineStart> machine_at_start_;
  // Answers the caller with a voice session whose far end is the application `make` returns.
  // With `refuse_code`, the caller gets the voice as early media (183) and then that final
  // answer, instead of a 200.
  bool answer_by_machine(const AppMaker& make, const std::string& note, const std::string& extension,
                         int refuse_code = 0, const char* refuse_phrase = nullptr);
  // The machine still owes the call something (a recording to store): the call is not over.
  bool machine_busy();

  bool started_ = false;
  bool finished_ = false;
  bool ending_ = false;
  bool a_offered_ = false;          // leg A's INVITE carried SDP (else: delayed offer)
  std::string a_offer_;             // that SDP, for legs opened later (fallback)
  bool fallback_used_ = false;
  bool b_ack_waits_for_a_ = false;  // B's 2xx carried an offer (we sent none): ACK needs A's answer
  std::string b_offer_;             // that offer, to decline if the call ends before A's ACK
  Leg* reinvite_from_ = nullptr;    // leg whose re-INVITE is being bridged (A or the winner)
  Remotes remotes_;                 // what the relay was last told, per stream and side
  std::array<bool, 2> latched_elsewhere_{};  // on_latched said so for that side already
  Remotes remotes_before_reinvite_; // to go back to when a bridged re-INVITE fails
  // A blind transfer under way (call_transfer.cpp, call_transfer_out.cpp).
  struct Transfer {
    Leg* transferor = nullptr;
    std::string target;          // the extension rung, or the outside number
    std::string event;           // "refer;id=N": the implied subscription's Event (RFC 3515)
    bool ringing = false, notified_final = false, transferor_gone = false, recalled = false;
    Leg* answered_by = nullptr;
    // An outside target's relay sessions (its side on the WAN): the call's once it answers.
    Sessions sessions;
  };
  std::optional<Transfer> transfer_;
  bool transfer_reinvite_ = false;  // the re-INVITE to the other party after a transfer
  bool attended_reinvite_ = false;  // the re-INVITE to the consulted party moved into this call
  bool ports_moved_ = false;        // adopt_sessions gave the staying party new relay ports
  Leg* update_from_ = nullptr;      // leg whose UPDATE with an offer is being bridged
  nua_saved_event_t update_saved_[1] = {};  // that UPDATE, answered when the far side answers
  Remotes remotes_before_update_;
  std::unique_ptr<sip::Timer> transfer_timer_;
  std::unique_ptr<sip::Timer> progress_timer_;
  Leg* progress_leg_ = nullptr;     // the trunk leg progress_timer_ watches
  std::unique_ptr<sip::Timer> ring_timer_;
  std::unique_ptr<sip::Timer> end_bound_;
  std::unique_ptr<sip::Timer> duration_limit_;
};

}  // namespace b2bua::calls
