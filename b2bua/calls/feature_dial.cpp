// A phone dials a feature code (feature_codes.h): the setting changes for the caller's own
// extension (stored, so a restart or reload keeps it), the phone hears a 200 and a BYE, and one
// log line says what changed. An unknown code gets 404 and never reaches a trunk, where a
// provider might run a service code of its own or bill it.
#include <algorithm>

#include "b2bua/calls/call_manager.h"
#include "b2bua/common/phone_number.h"
#include "b2bua/calls/feature_call.h"
#include "b2bua/common/log.h"

namespace b2bua::calls {

void CallManager::on_feature_code(const sip::NuaEvent& ev, const config::Extension& caller, const std::string& dialled) {
  std::optional<FeatureCode> code = parse_feature_code(dialled);
  if (!code) return reject(ev, 404, "Unknown Feature Code", "unknown feature code");
  if (code->kind == FeatureCode::pickup_extension || code->kind == FeatureCode::pickup_group) {
    return pick_up(ev, caller, *code);
  }
  if (code->kind == FeatureCode::voicemail) return listen_to_mailbox(ev, caller, code->target);
  if (code->kind == FeatureCode::forward_set && code->target != caller.number &&
      !number::is_dialable(code->target)) {
    return reject(ev, 484, "Address Incomplete", "forward target is not a number");
  }
  if (!settings_.apply(caller.number, *code)) {
    return reject(ev, 403, "Forbidden", "feature code refused (a forward to the extension itself)");
  }
  B2BUA_LOG(info, "calls", "feature_set", {{"ext", caller.number}, {"code", to_string(*code)}});
  std::string offer;
  if (ev.sip && ev.sip->sip_payload && ev.sip->sip_payload->pl_data) {
    offer.assign(ev.sip->sip_payload->pl_data, ev.sip->sip_payload->pl_len);
  }
  uint64_t key = next_confirmation_++;
  confirmations_[key] = std::make_unique<ConfirmationCall>(context_.root, ev.nh, offer, [this, key] {
    auto it = confirmations_.find(key);
    if (it == confirmations_.end()) return;
    dead_confirmations_.push_back(std::move(it->second));
    confirmations_.erase(it);
    reap();
  });
}

void CallManager::pick_up(const sip::NuaEvent& ev, const config::Extension& caller, const FeatureCode& code) {
  // Whose ringing may be answered: the named extension, or the caller's ring groups (the
  // other extensions of every inbound number that rings the caller).
  std::vector<std::string> at;
  if (code.kind == FeatureCode::pickup_extension) {
    at.push_back(code.target);
  } else {
    for (const auto& route : config_->routing.inbound) {
      if (std::find(route.ring.begin(), route.ring.end(), caller.number) == route.ring.end()) continue;
      for (const auto& member : route.ring) {
        if (member != caller.number) at.push_back(member);
      }
    }
  }
  for (auto& [id, call] : calls_) {
    if (call->record.extension == caller.number && call->direction() != Direction::inbound) continue;  // its own call
    for (const auto& ext : at) {
      if (!call->ringing_at(ext)) continue;
      if (call->pick_up(ev, caller.number, config_->lan.listen.front().host)) return;
      return reject(ev, 488, "Not Acceptable Here", "call cannot be picked up (media)");
    }
  }
  reject(ev, 480, "No Call To Pick Up", "no call ringing to pick up");
}

void CallManager::listen_to_mailbox(const sip::NuaEvent& ev, const config::Extension& caller, const std::string& target) {
  const std::string mailbox = target.empty() ? caller.number : target;
  const config::Extension* box = config_->find_extension(mailbox);
  if (!box || !box->voicemail.enabled) return reject(ev, 404, "No Such Mailbox", "no answering machine there");
  // Another extension's messages need its PIN; a mailbox without one is its phones' alone.
  const bool pin_first = mailbox != caller.number;
  if (pin_first && !box->voicemail.pin) return reject(ev, 403, "Mailbox Has No PIN", "mailbox of another extension without a PIN");
  if (!voicemail_ready()) return reject(ev, 503, "Service Unavailable", "voicemail is not available");
  Call& call = create(Direction::internal, ev, *context_.lan, config_->lan.listen.front().host);
  call.a->extension = caller.number;
  call.record.extension = caller.number;
  call.record.remote_number = "*97";
  call.to_menu(mailbox, pin_first);
  call.start(ev);
}

}  // namespace b2bua::calls
