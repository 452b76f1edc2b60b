// A call answered by an answering machine (b2bua/voicemail/answering_machine.h): when the
// phones rung do not answer in time, are busy or none is registered, and no forward rule
// covers that (forwarding decides first), or at once with voicemail.always.
//
// The phones stop ringing (CANCEL), the relay sessions go, and the caller gets a 200 whose
// SDP names a voice session: b2bua itself is the far end (MediaPlane::allocate_voice). The
// call is over when the caller's dialog is and the machine has stored what it recorded; the
// record says voicemail=<mailbox>:<outcome>.
#include "b2bua/calls/call_machine.h"
#include "b2bua/calls/call_manager.h"

#include <ctime>
#include <filesystem>
#include "b2bua/common/clock.h"
#include "b2bua/common/log.h"
#include "b2bua/voicemail/answering_machine.h"
#include "b2bua/voicemail/voicemail_menu.h"

namespace b2bua::calls {

void Call::Machine::play(media::AudioPtr audio, uint32_t tag) {
  if (!audio) {
    // A prompt that could not be loaded is skipped, as if it had been played.
    app->on_played(tag);
    return;
  }
  call.manager.context().media->play(session, std::move(audio), tag);
}
void Call::Machine::stop_playing() { call.manager.context().media->stop_playing(session); }
void Call::Machine::record(const media::RecordSpec& spec) { call.manager.context().media->record(session, spec); }
void Call::Machine::stop_recording() { call.manager.context().media->stop_recording(session); }
void Call::Machine::hang_up() {
  if (refuse_code && !call.a->answered) {
    // Early media over: the final answer the tone announced (as without the tone: a busy
    // callee's answer, or the system's).
    call.ending(refuse_code == 486 ? "callee" : "system");
    call.record.final_code = refuse_code;
    call.a->respond(refuse_code, refuse_phrase);
    return;
  }
  call.ending("callee");
  call.end_leg(*call.a, nullptr);
}

bool Call::to_voicemail(const std::string& mailbox, const char* condition) {
  const config::Extension* box = config->find_extension(mailbox);
  if (!box || !box->voicemail.enabled) return false;
  if (!manager.voicemail_ready()) {
    // Said at each call, not only once at start: the caller got 480 instead of the machine.
    B2BUA_LOG(warn, "voicemail", "not_answered",
              {{"call", id}, {"mailbox", mailbox}, {"reason", "voicemail unavailable: prompts or message store missing"}});
    return false;
  }
  const bool withheld = presented_number.empty() || presented_number == "anonymous";
  voicemail::AnsweringMachine::Caller caller{withheld ? std::string() : presented_number, presented_display};
  CallManager& m = manager;
  const uint64_t call_id = id;
  const config::Voicemail settings = box->voicemail;
  AppMaker make = [&m, mailbox, settings, caller, call_id](voicemail::VoiceIo& io) {
    return std::make_unique<voicemail::AnsweringMachine>(
        io, m.mailboxes(), m.prompts(), mailbox, settings, caller, call_id,
        [&m, settings](const storage::VoiceMessageRow& row) { m.mail_message(settings, row); });
  };
  std::string note = "voicemail=" + std::string(condition) + ":" + mailbox;
  if (!started_ && record.extension.empty()) record.extension = mailbox;
  // A LAN phone hears that the mailbox is full as early media, then busy (call_tone.cpp),
  // instead of an answer that only says so.
  if (can_refuse_audibly() && !voicemail::AnsweringMachine::recordable_ms(manager.mailboxes(), mailbox, settings) &&
      refuse_with_announcement(486, "Busy Here", "mailbox_full", note, "full")) {
    return true;
  }
  if (!started_) {
    machine_at_start_ = MachineStart{std::move(make), std::move(note)};
    return true;
  }
  return answer_by_machine(make, note, mailbox);
}

void Call::to_menu(const std::string& mailbox, bool pin_first) {
  CallManager& m = manager;
  const uint64_t call_id = id;
  const config::Extension* box = config->find_extension(mailbox);
  const std::string pin = box && box->voicemail.pin ? *box->voicemail.pin : std::string();
  machine_at_start_ = MachineStart{[&m, mailbox, pin, pin_first, call_id](voicemail::VoiceIo& io) {
                                     return std::make_unique<voicemail::VoicemailMenu>(
                                         io, m.mailboxes(), m.prompts(), mailbox, pin_first ? pin : std::string(), call_id);
                                   },
                                   "voicemail_menu=" + mailbox};
}

bool Call::answer_by_machine(const AppMaker& make, const std::string& note, const std::string& extension,
                             int refuse_code, const char* refuse_phrase) {
  media::MediaPlane* relay = manager.context().media;
  if (!relay || machine_ || ending_ || a->answered) return false;
  if (!a_offered_) {
    // The caller's INVITE had no SDP: our offer would go in the 200 and the answer in the
    // ACK; not done for a voice application, the caller is refused instead.
    B2BUA_LOG(warn, "voicemail", "not_answered", {{"call", id}, {"extension", extension}, {"reason", "no_offer"}});
    return false;
  }
  auto allocated = relay->allocate_voice(media::LegSpec{a_bind_ip, side_of(*a)});
  if (auto* failure = std::get_if<media::AllocationError>(&allocated)) {
    B2BUA_LOG(error, "calls", "relay_unavailable", {{"call", id}, {"reason", failure->reason}});
    return false;
  }
  const media::Allocation voice = std::get<media::Allocation>(allocated);
  media::LegPorts ours = voice.legs[0];
  // What the caller's side knows us by: behind a NAT, a provider's caller must send to our
  // public address, never to the address the socket is bound to in the LAN.
  ours.ip = a->sdp_address;
  auto answer = media::voice_answer(a_offer_, ours, a->origin);
  if (auto* e = std::get_if<media::SdpError>(&answer)) {
    B2BUA_LOG(warn, "voicemail", "not_answered", {{"call", id}, {"extension", extension}, {"reason", e->reason}});
    relay->release(voice.id);
    return false;
  }
  auto& va = std::get<media::VoiceAnswer>(answer);

  // The phones stop ringing; what was bridged towards them goes.
  if (ring_timer_) ring_timer_->cancel();
  for (auto& leg : b) end_leg(*leg, nullptr);
  release_sessions(streams);
  remotes_.clear();
  streams.push_back(voice);
  manager.session_allocated(voice.id, *this);
  va.remote.sdp_names_source = sdp_names_source(*a, va.remote);
  relay->set_voice_format(voice.id, va.format);
  relay->set_remote(voice.id, 0, va.remote);

  const size_t eq = note.find('=');
  record.note(note.substr(0, eq), note.substr(eq + 1));
  if (record.extension.empty()) record.extension = extension;
  a->last_sdp = va.sdp;
  if (refuse_code) {
    a->respond(183, "Session Progress", va.sdp);
  } else {
    record.answer_ms = clock::unix_ms();
    record.final_code = 200;
    a->answered = true;
    a->respond(200, "OK", va.sdp);
    B2BUA_LOG(info, "calls", "answered", {{"call", id}, {"extension", extension}, {"trunk", record.trunk}, {"media", "voice"}});
  }

  machine_ = std::make_unique<Machine>(*this, voice.id);
  machine_->refuse_code = refuse_code;
  machine_->refuse_phrase = refuse_phrase;
  machine_->app = make(*machine_);
  machine_->app->start();
  return true;
}

void Call::on_voice(media::VoiceEvent event) {
  if (!machine_) return;
  auto& app = *machine_->app;
  switch (event.kind) {
    case media::VoiceEvent::Kind::dtmf: app.on_dtmf(event.digit); break;
    case media::VoiceEvent::Kind::played: app.on_played(event.tag); break;
    case media::VoiceEvent::Kind::recorded: app.on_recorded(std::move(event.recording)); break;
  }
  check_finished();
}

bool Call::machine_busy() {
  if (!machine_) return false;
  if (!machine_->caller_gone) {
    machine_->caller_gone = true;
    machine_->app->on_caller_gone();
  }
  if (!machine_->app->done()) return true;
  if (!machine_->outcome_noted) {
    machine_->outcome_noted = true;
    record.note("voice_result", machine_->app->outcome());
  }
  return false;
}

}  // namespace b2bua::calls

namespace b2bua::calls {

namespace {

voicemail::MailSettings mail_settings(const config::Smtp& smtp) {
  using Security = voicemail::MailSettings::Security;
  return voicemail::MailSettings{
      .server = smtp.server,
      .port = smtp.port,
      .security = smtp.security == "tls" ? Security::tls : smtp.security == "none" ? Security::none : Security::starttls,
      .user = smtp.user,
      .password = smtp.password,
      .from = smtp.from,
      .ca_file = smtp.ca_file};
}

// "12 s", "2 min 5 s"
std::string spoken_length(int ms) {
  const int s = (ms + 500) / 1000;
  return s < 60 ? std::to_string(s) + " s" : std::to_string(s / 60) + " min " + std::to_string(s % 60) + " s";
}

}  // namespace

void CallManager::mail_message(const config::Voicemail& box, const storage::VoiceMessageRow& row) {
  if (!box.email || !mail_) return;
  const std::string caller = row.caller_number.empty() ? "an unknown caller" : row.caller_number;
  const std::string named = row.caller_name.empty() ? caller : row.caller_name + " (" + caller + ")";
  const std::time_t t = static_cast<std::time_t>(row.received_ms / 1000);
  std::tm local{};
  localtime_r(&t, &local);
  char when[32], stamp[32];
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M", &local);
  std::strftime(stamp, sizeof stamp, "%Y-%m-%d-%H%M%S", &local);
  mail_->enqueue(voicemail::MailJob{
      .to = *box.email,
      .subject = "Voice message from " + caller + " (" + spoken_length(row.duration_ms) + ")",
      .text = "Mailbox " + row.mailbox + " has a new voice message.\n\nFrom: " + named + "\nReceived: " + when +
              "\nLength: " + spoken_length(row.duration_ms) + "\n\nThe message is attached as a WAV file.\n",
      .attachment_path = mailboxes_->path_of(row),
      .attachment_name = std::string("message-") + stamp + ".wav"});
}

void CallManager::setup_voicemail() {
  prompts_.load(*config_);
  if (!context_.store) return;
  if (mwi_) mwi_->apply(config_);
  if (config_->voicemail.smtp) {
    voicemail::MailSettings settings = mail_settings(*config_->voicemail.smtp);
    if (mail_) {
      mail_->apply(settings);
    } else {
      // Next to the database, not in the message folder: a spool of its own, kept across restarts.
      voicemail::MailQueueOptions options;
      options.spool_dir = std::filesystem::path(config_->storage.path).parent_path() / "mail-spool";
      try {
        mail_ = std::make_unique<voicemail::MailQueue>(options, settings);
      } catch (const std::exception& e) {
        B2BUA_LOG(error, "voicemail", "mail_unavailable", {{"error", e.what()}});
      }
    }
  } else if (mail_) {
    mail_->apply(voicemail::MailSettings{});  // waiting mail stays in the spool until a server is set
  }
  if (mailboxes_ && mailboxes_folder_ == config_->voicemail.folder) return;
  // A new folder holds the messages from now on; those in the old one stay where they are.
  const bool starting = !mailboxes_;
  mwi_.reset();
  mailboxes_folder_ = config_->voicemail.folder;
  mailboxes_ = std::make_unique<voicemail::Mailboxes>(context_.store->voice_messages(), mailboxes_folder_);
  mailboxes_->reconcile();
  mwi_ = std::make_unique<voicemail::MessageWaiting>(*context_.lan, phones_, *mailboxes_, config_);
  mailboxes_->on_change([this](const std::string& mailbox) { mwi_->changed(mailbox); });
  if (starting) mwi_->announce_restored();
}

void CallManager::on_voice(media::SessionId id, media::VoiceEvent event) {
  auto s = by_session_.find(id);
  if (s == by_session_.end()) return;
  auto c = calls_.find(s->second);
  if (c != calls_.end()) c->second->on_voice(std::move(event));
}

}  // namespace b2bua::calls
