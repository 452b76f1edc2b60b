#include "b2bua/voicemail/message_waiting.h"

#include <algorithm>
#include <utility>

#include "b2bua/common/log.h"
#include "b2bua/registrar/binding_table.h"

namespace b2bua::voicemail {
namespace {

constexpr const char* kEvent = "message-summary";

// voicemail.notify: every phone of the mailbox hears its counts, subscribed or not.
bool notifies_unsolicited(const config::Extension& ext) { return ext.voicemail.enabled && ext.voicemail.notify; }
constexpr const char* kContentType = "application/simple-message-summary";
constexpr int kUnsolicitedExpires = 3600;  // what an unsolicited NOTIFY claims; sent again on every change
// The restored bindings are told after the start's own work, by when a phone that restarted with
// the router (a power cut) has registered anew and been told as registered, once; then one
// every 20 ms (50 a second).
constexpr unsigned kRestoredDelayMs = 3000;
constexpr unsigned kRestoredPaceMs = 20;
// The end of a subscription at b2bua's stop: b2bua is usually back within seconds (a restart, an
// upgrade), so the phone is asked to subscribe again a little later (RFC 6665 4.1.3), not to
// give up (noresource) nor to retry at once (deactivated) into a daemon still down.
constexpr const char* kStoppedState = "terminated;reason=probation;retry-after=30";

// "sip:192.168.1.20:5062;transport=udp" -> "192.168.1.20:5062"
std::string host_port_of(const std::string& flow_uri) {
  std::string s = flow_uri.rfind("sip:", 0) == 0 ? flow_uri.substr(4) : flow_uri;
  return s.substr(0, s.find(';'));
}

std::string user_of(const url_t* url) { return url && url->url_user ? url->url_user : ""; }

}  // namespace

std::string message_summary(const MessageCounts& counts, const std::string& account) {
  return std::string("Messages-Waiting: ") + (counts.new_messages > 0 ? "yes" : "no") + "\r\nMessage-Account: " +
         account + "\r\nVoice-Message: " + std::to_string(counts.new_messages) + "/" +
         std::to_string(counts.old_messages) + "\r\n";
}

struct MessageWaiting::Dialog final : sip::HandleOwner {
  Dialog(MessageWaiting& o, nua_handle_t* h, std::string box, bool u) : owner(o), nh(h), mailbox(std::move(box)), unsolicited(u) {}
  ~Dialog() {
    if (nh) {
      nua_handle_bind(nh, nullptr);
      nua_handle_destroy(nh);
    }
  }
  void on_nua_event(const sip::NuaEvent& ev) override {
    int substate = -1;
    tl_gets(ev.tags, NUTAG_SUBSTATE_REF(substate), TAG_END());
    // A NOTIFY refused, or the answer to our terminating one, ends the dialog too.
    const bool notify_ended = ev.event == nua_r_notify && (ev.status >= 300 || (ev.status >= 200 &&
                                                                                substate == nua_substate_terminated));
    const bool ended = (ev.event == nua_i_subscribe && substate == nua_substate_terminated) || notify_ended ||
                       ev.event == nua_i_terminated;
    if (ended) owner.drop(this);
  }
  MessageWaiting& owner;
  nua_handle_t* nh;
  std::string mailbox;
  bool unsolicited;
  std::string contact;  // unsolicited: the phone's registered Contact
  std::string flow;     // unsolicited: where it is sent (the binding's flow)
};

MessageWaiting::MessageWaiting(sip::SipAgent& lan, registrar::Phones& phones, Mailboxes& boxes, config::Snapshot config)
    : lan_(lan),
      phones_(phones),
      boxes_(boxes),
      extensions_(std::move(config)),
      reaper_(lan.root()),
      restore_pace_(lan.root()),
      shutdown_bound_(lan.root()) {
  nua_set_params(lan_.nua(), NUTAG_ALLOW("SUBSCRIBE"), NUTAG_ALLOW_EVENTS(kEvent), TAG_END());
  lan_.on_request(nua_i_subscribe, [this](const sip::NuaEvent& ev) { on_subscribe(ev); });
  phones_.on_new_binding([this](const registrar::PhoneTarget& phone) { announce(phone, "registered"); });
}

MessageWaiting::~MessageWaiting() {
  phones_.on_new_binding(nullptr);
  lan_.on_request(nua_i_subscribe, nullptr);
}

size_t MessageWaiting::subscriptions() const {
  return static_cast<size_t>(std::count_if(dialogs_.begin(), dialogs_.end(), [](const auto& d) { return !d->unsolicited; }));
}

std::string MessageWaiting::body_for(const std::string& mailbox, const MessageCounts& counts) const {
  return message_summary(counts, "sip:" + mailbox + "@" + extensions_.config().lan.realm);
}

void MessageWaiting::on_subscribe(const sip::NuaEvent& ev) {
  const sip_t* sip = ev.sip;
  const std::string event = sip && sip->sip_event && sip->sip_event->o_type ? sip->sip_event->o_type : "";
  std::string mailbox = user_of(sip && sip->sip_request ? sip->sip_request->rq_url : nullptr);
  const config::Extension* ext = extensions_.find(mailbox);
  std::string ip, transport;
  uint16_t port = 0;
  sip::request_source(ev.nua, ip, port, transport);
  const std::string source = (ip.find(':') != std::string::npos ? "[" + ip + "]" : ip) + ":" + std::to_string(port);
  auto refuse = [&](int status, const char* phrase, const char* why) {
    B2BUA_LOG(info, "voicemail", "subscribe_refused", {{"mailbox", mailbox}, {"source", source}, {"reason", why}});
    nua_respond(ev.nh, status, phrase, NUTAG_WITH_THIS(ev.nua), TAG_END());
    nua_handle_destroy(ev.nh);
  };
  if (stopping_) return refuse(503, "Service Unavailable", "stopping");
  if (event != kEvent) return refuse(489, "Bad Event", "event");
  if (!ext || !ext->voicemail.enabled) return refuse(404, "Not Found", "no mailbox");
  const registrar::RingTargets phones = phones_.ring_targets(mailbox);
  const bool from_phone = std::any_of(phones.ring.begin(), phones.ring.end(), [&](const registrar::PhoneTarget& t) {
    return host_port_of(t.flow_uri) == source;
  });
  if (!from_phone) return refuse(403, "Forbidden", "not_from_a_registered_phone");
  auto d = std::make_unique<Dialog>(*this, ev.nh, mailbox, false);
  nua_handle_bind(ev.nh, d.get());
  nua_respond(ev.nh, SIP_200_OK, NUTAG_WITH_THIS(ev.nua), TAG_END());
  B2BUA_LOG(info, "voicemail", "subscribed", {{"mailbox", mailbox}, {"source", source}});
  notify(*d, body_for(mailbox, boxes_.counts(mailbox)));
  dialogs_.push_back(std::move(d));
}

void MessageWaiting::notify(Dialog& d, const std::string& body) {
  if (d.unsolicited) {
    const std::string state = "active;expires=" + std::to_string(kUnsolicitedExpires);
    nua_notify(d.nh, NUTAG_URL(d.contact.c_str()), NUTAG_NEWSUB(1), SIPTAG_EVENT_STR(kEvent),
               SIPTAG_SUBSCRIPTION_STATE_STR(state.c_str()), SIPTAG_CONTENT_TYPE_STR(kContentType),
               SIPTAG_PAYLOAD_STR(body.c_str()), TAG_END());
    return;
  }
  nua_notify(d.nh, NUTAG_SUBSTATE(nua_substate_active), SIPTAG_EVENT_STR(kEvent), SIPTAG_CONTENT_TYPE_STR(kContentType),
             SIPTAG_PAYLOAD_STR(body.c_str()), TAG_END());
}

void MessageWaiting::drop(Dialog* d) {
  auto it = std::find_if(dialogs_.begin(), dialogs_.end(), [d](const auto& p) { return p.get() == d; });
  if (it == dialogs_.end()) return;
  // Destroyed on a later turn: this runs inside the handle's own callback.
  dead_.push_back(std::move(*it));
  dialogs_.erase(it);
  if (!reaper_.armed()) {
    reaper_.start(0, [this] {
      dead_.clear();
      if (stopping_ && dialogs_.empty()) finish_shutdown();
    });
  }
}

void MessageWaiting::shutdown(unsigned give_up_ms, std::function<void()> done) {
  stopping_ = true;
  shutdown_done_ = std::move(done);
  restore_pace_.cancel();
  restored_.clear();
  B2BUA_LOG(info, "voicemail", "mwi_stopping", {{"dialogs", dialogs_.size()}});
  if (dialogs_.empty()) return finish_shutdown();
  for (auto& d : dialogs_) {
    nua_notify(d->nh, NUTAG_SUBSTATE(nua_substate_terminated), SIPTAG_SUBSCRIPTION_STATE_STR(kStoppedState),
               SIPTAG_EVENT_STR(kEvent), TAG_END());
  }
  shutdown_bound_.start(give_up_ms, [this] {
    B2BUA_LOG(info, "voicemail", "mwi_given_up", {{"dialogs", dialogs_.size()}});
    finish_shutdown();
  });
}

void MessageWaiting::finish_shutdown() {
  // Not inside a handle's callback: from the timers, or from shutdown() itself.
  shutdown_bound_.cancel();
  reaper_.cancel();
  dialogs_.clear();
  dead_.clear();
  if (shutdown_done_) std::exchange(shutdown_done_, nullptr)();
}

bool MessageWaiting::notifies(const std::string& mailbox) const {
  const config::Extension* ext = extensions_.find(mailbox);
  return ext && notifies_unsolicited(*ext);
}

std::vector<std::unique_ptr<MessageWaiting::Dialog>>::iterator MessageWaiting::find_unsolicited(const std::string& mailbox,
                                                                                                const std::string& contact) {
  return std::find_if(dialogs_.begin(), dialogs_.end(),
                      [&](const auto& d) { return d->unsolicited && d->mailbox == mailbox && d->contact == contact; });
}

MessageWaiting::Dialog& MessageWaiting::unsolicited(const std::string& mailbox, const registrar::PhoneTarget& phone,
                                                    bool fresh) {
  auto it = find_unsolicited(mailbox, phone.contact);
  if (it != dialogs_.end() && !fresh && (*it)->flow == phone.flow_uri) return **it;
  // Never inside the old dialog's own callback here: it goes at once, so its final NOTIFY
  // (sofia ends an active notifier usage with one) leaves before the new dialog's first.
  if (it != dialogs_.end()) dialogs_.erase(it);
  const std::string to = "<sip:" + mailbox + "@" + extensions_.config().lan.realm + ">";
  auto d = std::make_unique<Dialog>(*this, nullptr, mailbox, true);
  d->nh = nua_handle(lan_.nua(), d.get(), SIPTAG_TO_STR(to.c_str()), NUTAG_PROXY(phone.flow_uri.c_str()), TAG_END());
  d->contact = phone.contact;
  d->flow = phone.flow_uri;
  return *dialogs_.emplace_back(std::move(d));
}

void MessageWaiting::changed(const std::string& mailbox) {
  if (stopping_) return;  // a message left by a call hung up at the stop: its dialogs are ending
  const MessageCounts counts = boxes_.counts(mailbox);
  const std::string body = body_for(mailbox, counts);
  size_t sent = 0;
  for (auto& d : dialogs_) {
    if (d->mailbox != mailbox || d->unsolicited) continue;
    notify(*d, body);
    ++sent;
  }
  if (notifies(mailbox)) {
    for (const auto& phone : phones_.ring_targets(mailbox).ring) {
      notify(unsolicited(mailbox, phone, false), body);
      ++sent;
    }
  }
  B2BUA_LOG(info, "voicemail", "mwi", {{"mailbox", mailbox}, {"new", counts.new_messages}, {"old", counts.old_messages},
                                       {"notified", sent}, {"reason", "changed"}});
}

void MessageWaiting::announce(const registrar::PhoneTarget& phone, const char* reason) {
  const std::string& mailbox = phone.extension;
  if (stopping_ || !notifies(mailbox)) return;
  // Dialogs towards contacts no longer bound (gone, or replaced by this one) go now, rather than
  // pile up over the phones' reboots.
  const auto bound = phones_.ring_targets(mailbox).ring;
  std::erase_if(dialogs_, [&](const auto& d) {
    return d->unsolicited && d->mailbox == mailbox &&
           std::none_of(bound.begin(), bound.end(), [&](const auto& p) { return p.contact == d->contact; });
  });
  const MessageCounts counts = boxes_.counts(mailbox);
  notify(unsolicited(mailbox, phone, true), body_for(mailbox, counts));
  B2BUA_LOG(info, "voicemail", "mwi", {{"mailbox", mailbox}, {"new", counts.new_messages}, {"old", counts.old_messages},
                                       {"notified", 1}, {"reason", reason},
                                       {"contact", registrar::contact_host_port(phone.contact)}});
}

void MessageWaiting::announce_restored() {
  restore_pace_.start(kRestoredDelayMs, [this] {
    restored_.clear();
    // The extension in hand, not looked up again by its number: that walk over every
    // extension for each one stalled the SIP thread for seconds at 10,000 extensions.
    for (const auto& ext : extensions_.config().extensions) {
      if (!notifies_unsolicited(ext)) continue;
      for (auto& phone : phones_.ring_targets(ext.number).ring) {
        // Told since start already: it registered anew, or the counts changed.
        if (find_unsolicited(ext.number, phone.contact) == dialogs_.end()) restored_.push_back(std::move(phone));
      }
    }
    announce_next_restored();
  });
}

void MessageWaiting::announce_next_restored() {
  while (!restored_.empty()) {
    registrar::PhoneTarget queued = std::move(restored_.front());
    restored_.pop_front();
    // Its turn may come after it expired, moved or was told by a REGISTER or a change.
    if (find_unsolicited(queued.extension, queued.contact) != dialogs_.end()) continue;
    const auto phones = phones_.ring_targets(queued.extension).ring;
    auto now = std::find_if(phones.begin(), phones.end(), [&](const auto& p) { return p.contact == queued.contact; });
    if (now == phones.end()) continue;
    announce(*now, "restored");
    break;
  }
  if (!restored_.empty()) restore_pace_.start(kRestoredPaceMs, [this] { announce_next_restored(); });
}

}  // namespace b2bua::voicemail
