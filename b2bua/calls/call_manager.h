// The calls feature: admits new INVITEs on both agents (admission.cpp: authentication,
// routing, limits, identity), creates the Call with its legs, feeds relay events to calls
// (call_manager.cpp), writes a call record when a call ends, however it ends (call_record.cpp),
// and describes the calls for the status snapshot (call_status.cpp).
#pragma once

#include <map>
#include <memory>
#include <unordered_map>

#include "b2bua/calls/call.h"
#include "b2bua/calls/extension_settings.h"
#include "b2bua/calls/feature_call.h"
#include "b2bua/calls/forwarding.h"
#include "b2bua/calls/outbound_limits.h"
#include "b2bua/calls/record_budget.h"
#include "b2bua/plane/feature.h"
#include "b2bua/registrar/digest_auth.h"
#include "b2bua/registrar/phones.h"
#include "b2bua/trunk/trunk_routes.h"
#include "b2bua/voicemail/mail_queue.h"
#include "b2bua/voicemail/mailbox.h"
#include "b2bua/voicemail/message_waiting.h"
#include "b2bua/voicemail/prompt_book.h"

namespace b2bua::calls {

class CallManager final : public plane::Feature, public media::MediaEvents {
 public:
  // `trunks` is null without a WAN side.
  CallManager(const plane::PlaneContext& context, config::Snapshot config, registrar::Phones& phones,
              const trunk::TrunkRoutes* trunks);
  ~CallManager() override;

  const char* name() const override { return "calls"; }
  void apply_config(const config::Config& before, config::Snapshot now) override;
  void shutdown(std::function<void()> done) override;
  void describe(nlohmann::json& status) const override;

  // Relay events, already on the SIP thread.
  void on_latched(media::SessionId id, int leg, const media::Endpoint& peer) override;
  void on_media_timeout(media::SessionId id) override;
  void on_released(media::SessionId id, const std::array<media::LegStats, 2>& stats) override;
  void on_one_way_audio(media::SessionId id, int silent, const std::array<media::LegStats, 2>& stats) override;
  // call_voicemail.cpp: a voice session's key press, finished prompt or ended recording.
  void on_voice(media::SessionId id, media::VoiceEvent event) override;

  // An INVITE on the WAN agent that the trunk gate matched to `trunk`.
  void on_trunk_invite(const sip::NuaEvent& ev, const config::Trunk& trunk);

  // For Call.
  // Opens one B leg per binding of `extensions` that Phones says to ring, on the LAN agent, and
  // logs the bindings it could not ring; false (and a log line saying why) if none.
  bool fork_to_phones(Call& call, const std::vector<std::string>& extensions, const std::string& from_number,
                      const std::string& from_display);
  // forward.cpp. Rings `extension` for `call`, or follows its forwarding to further extensions
  // or out through a trunk; false once the call was ended with a final answer instead.
  bool deliver(Call& call, std::string extension);
  // Rings the members of a ring group that take calls now: do-not-disturb and busy members are
  // left out, one forwarding every call to another extension rings that one instead (forwards
  // out through a trunk, and the other rules, apply when a number rings one extension alone).
  bool ring_group(Call& call, const std::vector<std::string>& members);
  // The phones rung did not answer in time or were all busy: the call follows `forward`.
  bool forward_after_ringing(Call& call, const Call::Forward& forward, const char* condition);
  // Adds the B leg towards the next trunk of call.hunt that can be used; false when none is left.
  bool open_trunk_leg(Call& call);
  // trunk_legs.cpp. The hunt for a call out to `number` that `from` places, or for a call it
  // forwards or transfers there: nullopt, with `refused` naming why, when its outbound
  // permission, its destination classes, a deny rule or its limits do not allow it, as for a
  // number it dialled. `original_caller` as in TrunkHunt.
  std::optional<TrunkHunt> hunt_as(const config::Config& c, const config::Extension& from, const std::string& number,
                                   const std::string& original_caller, const char*& refused);
  const plane::PlaneContext& context() const { return context_; }
  // call_voicemail.cpp: the answering machines' message store and announcements; ready when
  // both could be set up (a store, a media plane, the built-in prompts).
  bool voicemail_ready() const { return mailboxes_ && prompts_.usable() && context_.media; }
  voicemail::Mailboxes& mailboxes() { return *mailboxes_; }
  voicemail::Mailboxes* mailboxes_or_null() const { return mailboxes_.get(); }
  const voicemail::PromptBook& prompts() const { return prompts_; }
  // Mails a stored message to the mailbox's address (voicemail.email), if it has one.
  void mail_message(const config::Voicemail& box, const storage::VoiceMessageRow& row);
  void session_allocated(media::SessionId session, Call& call) { by_session_[session] = call.id; }
  void call_finished(Call& call);
  size_t active_calls() const;
  size_t active_calls_of(const std::string& extension) const;
  // Calls out through trunks `extension` placed that are in progress (emergency calls aside).
  size_t active_calls_out(const std::string& extension) const;

 private:
  // admission.cpp
  void on_lan_invite(const sip::NuaEvent& ev);
  // feature_dial.cpp: `caller` dialled a feature code (`dialled` percent-decoded).
  void on_feature_code(const sip::NuaEvent& ev, const config::Extension& caller, const std::string& dialled);
  // The voicemail code: `caller`'s phone hears the menu of `target`'s mailbox (its own when
  // empty), answered by a call of its own (call_voicemail.cpp).
  void listen_to_mailbox(const sip::NuaEvent& ev, const config::Extension& caller, const std::string& target);
  // The pickup codes: `caller`'s phone answers a call ringing elsewhere (call_pickup.cpp).
  void pick_up(const sip::NuaEvent& ev, const config::Extension& caller, const FeatureCode& code);
  // call_replace.cpp: an INVITE with Replaces (RFC 3891) from `caller`'s phone.
  void on_replaces(const sip::NuaEvent& ev, const config::Extension& caller);
  // An extension calls a number that routing sends to a trunk.
  void call_out(const sip::NuaEvent& ev, const config::Extension& caller, CallRecord& attempt);
  bool authenticate(const sip::NuaEvent& ev, const std::string& source_ip, const config::Extension*& caller);
  // Rejects (503 global, 486 per extension) and returns true when the call would exceed a limit.
  bool over_limit(const sip::NuaEvent& ev, const config::Extension* caller, CallRecord& attempt);
  // What the caller may not dial (a class outside its allow list, a deny rule, not a number):
  // 403 or 404 with one warning per attempt, naming the class and the number; with `announce`,
  // the phone hears the announcement first (refuse_audibly).
  void refuse_destination(const sip::NuaEvent& ev, int status, const char* phrase, const char* reason,
                          const char* destination, CallRecord& attempt, bool announce = true);
  // A LAN phone's call that our own rules refuse before any call exists: with tones on and an
  // offer from the phone, a call is made only to tell it why (`tell`: Call::refuse_with_tone or
  // refuse_with_announcement, call_tone.cpp) and ends with `status` and a record as any call;
  // otherwise reject(). `phrase` must outlive the call (a literal).
  void refuse_audibly(const sip::NuaEvent& ev, int status, const char* phrase, const char* why, CallRecord& attempt,
                      const std::function<bool(Call&)>& tell);
  // refuse_audibly with the built-in "blocked" announcement; the record notes refused=`why`.
  void refuse_with_announcement(const sip::NuaEvent& ev, int status, const char* phrase, const char* why,
                                CallRecord& attempt);
  // Rejects (403) and returns true when the caller's limits on calls out (OutboundLimits) refuse
  // this one; crossing a limit is warned about once.
  bool outbound_blocked(const sip::NuaEvent& ev, const config::Extension& caller, CallRecord& attempt);
  // No binding to ring (fork_to_phones logged why): 480 to the caller and the call ends.
  void nobody_to_ring(Call& call);
  // Refuses an INVITE with a final answer. An `attempt` past authentication or the trunk gate
  // still gets a call record (failed calls are records too); one before it does not, so a
  // scanner cannot fill the disk.
  void reject(const sip::NuaEvent& ev, int status, const char* phrase, const char* why,
              const char* extra_header = nullptr, CallRecord* attempt = nullptr);
  // forward.cpp: `ext`'s answering machine (or the number's) takes the call now instead of
  // what `d` says: true when it does (or will, once the call starts).
  bool machine_answers(Call& call, const config::Extension& ext, const Delivery& d);
  // forward.cpp: out through a trunk as a call `from` placed (its permissions and limits).
  bool forward_out(Call& call, const config::Extension& from, const std::string& number);

  // trunk_legs.cpp. The number the provider is told is calling: the caller's outgoing_number
  // where it is one of the trunk's numbers, else the trunk's account.
  std::string presented_identity(const Call& call, const TrunkHunt& hunt, const config::Trunk& trunk) const;
  // Of a route's trunks, the registered ones in order (or the first when none is).
  std::vector<const config::Trunk*> trunks_to_try(const std::vector<const config::Trunk*>& route) const;

  // call_manager.cpp
  Call& create(Direction direction, const sip::NuaEvent& ev, sip::SipAgent& a_agent, const std::string& a_sdp_addr);
  void reap();

  // call_record.cpp. `serial` numbers calls and refused attempts alike; `stats` are the relay
  // counters per session leg summed over the call's sessions, null when nothing was relayed.
  void write_record(const CallRecord& record, uint64_t serial, bool refused,
                    const std::array<media::LegStats, 2>* stats);
  void write_record(const Call& call, const std::array<media::LegStats, 2>* stats) {
    write_record(call.record, call.id, false, stats);
  }

  plane::PlaneContext context_;
  config::Snapshot config_;  // the running one; calls keep theirs
  registrar::Phones& phones_;
  const trunk::TrunkRoutes* trunks_;
  registrar::DigestAuth auth_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::unique_ptr<Call>> calls_;
  std::unordered_map<media::SessionId, uint64_t> by_session_;
  // Finished calls wait here for their relay counters (on_released) before the record is written.
  struct Pending {
    std::unique_ptr<Call> call;
    size_t sessions_left;
    std::array<media::LegStats, 2> stats{};
  };
  std::map<uint64_t, Pending> pending_;
  std::vector<std::unique_ptr<Call>> dead_;
  sip::Timer reaper_;
  sip::Timer stats_bound_;
  sip::Timer shutdown_bound_;  // the far ends' answers to our hang-ups at shutdown
  std::function<void()> shutdown_done_;
  std::map<int, uint64_t> final_codes_;  // for metrics
  std::map<std::string, uint64_t> blocked_callers_;  // for metrics, by BlockVerdict::reason
  std::map<std::string, uint64_t> one_way_calls_;    // for metrics, by the silent side's network
  // call_record.cpp: the table is pruned every so many records, and records of refused attempts
  // are rate-limited, so neither time nor a flood fills a router's RAM-backed /var.
  bool refused_record_allowed(int64_t now_ms);
  void prune_records();
  unsigned records_since_prune_ = 0;
  RecordBudget refused_records_{60, 1};
  OutboundLimits outbound_limits_;
  ExtensionSettings settings_;  // what phones set with feature codes, over the config
  // call_voicemail.cpp: set up at start and on reload (the folder or prompts may change).
  void setup_voicemail();
  std::unique_ptr<voicemail::Mailboxes> mailboxes_;
  std::string mailboxes_folder_;
  voicemail::PromptBook prompts_;
  std::unique_ptr<voicemail::MessageWaiting> mwi_;  // after mailboxes_: it holds a reference
  std::unique_ptr<voicemail::MailQueue> mail_;
  std::map<uint64_t, std::unique_ptr<ConfirmationCall>> confirmations_;
  std::vector<std::unique_ptr<ConfirmationCall>> dead_confirmations_;
  uint64_t next_confirmation_ = 1;
  // The serial reject() gives the next refused attempt's record, so that a warning logged
  // before the refusal names the same attempt.
  uint64_t next_refusal_serial() const { return next_id_; }
};

}  // namespace b2bua::calls
