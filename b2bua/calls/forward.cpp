// Following forwarding (forwarding.h) for a call: through further extensions (each one's own
// rules apply in turn, up to kMaxForwardHops), or out through a trunk as a call the forwarding
// extension placed: its outbound permission, its allowed destination classes and its limits
// decide, and the provider is told the original caller's number only where the trunk allows it
// (trunks[].forward_caller_id), never anything of the LAN.
#include <algorithm>

#include "b2bua/calls/call_manager.h"
#include "b2bua/calls/forwarding.h"
#include "b2bua/common/log.h"

namespace b2bua::calls {
namespace {

std::string joined(const std::vector<std::string>& path, const std::string& last) {
  std::string out;
  for (const auto& p : path) out += p + ">";
  return out + last;
}

}  // namespace

bool CallManager::deliver(Call& call, std::string extension) {
  for (;;) {
    const config::Extension* ext = call.config->find_extension(extension);
    if (!ext) {
      nobody_to_ring(call);
      return false;
    }
    if (std::find(call.path.begin(), call.path.end(), extension) != call.path.end() ||
        call.path.size() >= kMaxForwardHops) {
      std::string path = joined(call.path, extension);
      B2BUA_LOG(warn, "calls", "forward_loop", {{"call", call.id}, {"path", path}, {"hops", call.path.size()}});
      call.record.note("loop", path);
      call.hang_up(482, "Loop Detected", "system");
      return false;
    }
    call.path.push_back(extension);
    ExtensionSettings::Effective settings = settings_.effective(*ext);
    registrar::RingTargets targets = phones_.ring_targets(extension);
    ExtensionNow now{.registered = !targets.ring.empty() || !targets.skipped.empty(),
                     .active_calls = active_calls_of(extension)};
    Delivery d = deliver_to(*ext, settings, now);
    if (machine_answers(call, *ext, d)) return true;
    if (d.kind == Delivery::refuse) {
      if (std::string_view(d.condition) == "unregistered") {
        B2BUA_LOG(info, "calls", "nobody_registered", {{"call", call.id}, {"extensions", extension}});
      } else {
        B2BUA_LOG(info, "calls", "extension_unavailable",
                  {{"call", call.id}, {"ext", extension}, {"reason", d.condition}, {"status", d.code}});
      }
      call.record.note("unavailable", std::string(d.condition) + ":" + extension);
      if (call.record.extension.empty()) call.record.extension = extension;  // whose call it was
      if (d.code == 486 && call.refuse_with_tone(486, "Busy Here", media::Tone::busy)) return true;
      call.hang_up(d.code, sip_status_phrase(d.code), d.code == 480 ? "system" : "callee");
      return false;
    }
    if (d.kind == Delivery::forward) {
      call.record.note("forwarded", std::string(d.condition) + ":" + extension + ">" + d.target);
      B2BUA_LOG(info, "calls", "forwarded",
                {{"call", call.id}, {"ext", extension}, {"condition", d.condition}, {"to", d.target}});
      if (call.config->find_extension(d.target)) {
        extension = d.target;
        continue;
      }
      return forward_out(call, *ext, d.target);
    }
    if (!fork_to_phones(call, {extension}, call.presented_number, call.presented_display)) {
      nobody_to_ring(call);
      return false;
    }
    call.on_no_answer.reset();
    call.on_busy.reset();
    if (settings.forward.no_answer) {
      call.on_no_answer = Call::Forward{extension, *settings.forward.no_answer};
      call.ring_timeout_s = settings.forward.no_answer_after;
    } else if (ext->voicemail.enabled) {
      // The extension's own answering machine, after its own ringing time.
      call.voicemail_box = extension;
      call.voicemail_on_busy = ext->voicemail.on_busy;
      call.ring_timeout_s = ext->voicemail.after;
    }
    if (settings.forward.busy) call.on_busy = Call::Forward{extension, *settings.forward.busy};
    return true;
  }
}

bool CallManager::machine_answers(Call& call, const config::Extension& ext, const Delivery& d) {
  if (d.kind == Delivery::forward) return false;  // forwarding decides first
  const config::Voicemail& vm = ext.voicemail;
  const std::string_view condition = d.condition;
  if (vm.enabled) {
    // "always" answers at once whether or not a phone could ring.
    const bool at_once = vm.always || (d.kind == Delivery::ring && vm.after == 0);
    const bool takes = at_once || (d.kind == Delivery::refuse && (condition == "unregistered" ? vm.on_unregistered : vm.on_busy));
    if (takes && call.to_voicemail(ext.number, at_once ? "always" : d.condition)) return true;
    if (d.kind == Delivery::ring) return false;
  }
  // The number's own mailbox (routing.inbound[].voicemail) when the extension has none.
  return d.kind == Delivery::refuse && call.voicemail_box && (condition == "unregistered" || call.voicemail_on_busy) &&
         call.to_voicemail(*call.voicemail_box, d.condition);
}

bool CallManager::ring_group(Call& call, const std::vector<std::string>& members) {
  std::vector<std::string> ring;
  for (const auto& member : members) {
    const config::Extension* ext = call.config->find_extension(member);
    if (!ext) continue;
    ExtensionSettings::Effective settings = settings_.effective(*ext);
    std::string rung = member;
    if (settings.forward.always && call.config->find_extension(*settings.forward.always)) {
      rung = *settings.forward.always;
      call.record.note("forwarded", "always:" + member + ">" + rung);
    } else if (settings.forward.always) {
      // Said, not dropped quietly: a group call has one relay side, on the LAN, so it cannot
      // also leave through a trunk; the member rings as if it forwarded nothing.
      B2BUA_LOG(info, "calls", "forward_skipped",
                {{"call", call.id}, {"ext", member}, {"to", *settings.forward.always}, {"reason", "ring_group"}});
    }
    bool unavailable = settings.dnd || is_busy(*ext, settings, ExtensionNow{.active_calls = active_calls_of(member)});
    if (rung == member && unavailable) {
      B2BUA_LOG(info, "calls", "member_skipped", {{"call", call.id}, {"ext", member}, {"reason", settings.dnd ? "dnd" : "busy"}});
      continue;
    }
    if (std::find(ring.begin(), ring.end(), rung) == ring.end()) ring.push_back(rung);
  }
  if (ring.empty()) {
    if (call.voicemail_box && call.to_voicemail(*call.voicemail_box, "busy")) return true;
    call.record.note("unavailable", "busy:group");
    call.hang_up(486, "Busy Here", "callee");
    return false;
  }
  if (!fork_to_phones(call, ring, call.presented_number, call.presented_display)) {
    nobody_to_ring(call);
    return false;
  }
  return true;
}

bool CallManager::forward_out(Call& call, const config::Extension& from, const std::string& number) {
  bool anonymous = call.presented_number.empty() || call.presented_number == "anonymous";
  const char* refused = nullptr;
  std::optional<TrunkHunt> hunt =
      hunt_as(*call.config, from, number, anonymous ? std::string() : call.presented_number, refused);
  if (!hunt) {
    // The caller hears that the extension cannot be reached; the admin reads why.
    B2BUA_LOG(warn, "calls", "forward_refused",
              {{"call", call.id}, {"ext", from.number}, {"to", number}, {"reason", refused}});
    call.record.note("forward_refused", from.number);
    call.hang_up(480, "Temporarily Unavailable", "system");
    return false;
  }
  call.hunt = std::move(hunt);
  // The B side now faces a provider: its relay sockets move to the WAN address.
  call.rebind_b_side(call.config->wan.address);
  if (!open_trunk_leg(call)) {
    if (call.refuse_with_tone(503, "Service Unavailable", media::Tone::congestion)) return true;
    call.hang_up(503, "Service Unavailable", "system");
    return false;
  }
  return true;
}

bool CallManager::forward_after_ringing(Call& call, const Call::Forward& forward, const char* condition) {
  const config::Extension* from = call.config->find_extension(forward.from);
  if (!from) return false;
  call.record.note("forwarded", std::string(condition) + ":" + forward.from + ">" + forward.target);
  B2BUA_LOG(info, "calls", "forwarded",
            {{"call", call.id}, {"ext", forward.from}, {"condition", condition}, {"to", forward.target}});
  call.on_no_answer.reset();
  call.on_busy.reset();
  if (call.config->find_extension(forward.target)) return deliver(call, forward.target);
  return forward_out(call, *from, forward.target);
}

}  // namespace b2bua::calls
