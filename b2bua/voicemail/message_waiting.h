// Message waiting (RFC 3842): phones light their message lamp from `message-summary` NOTIFYs
// with the counts of new and heard messages (Voice-Message: new/old).
//
// Two ways, as phones differ:
//   - A phone SUBSCRIBEs (Event: message-summary) for its extension's mailbox. The
//     subscription is taken only from where one of the extension's phones registered (the
//     REGISTER's source address and port, which the registrar authenticated): anyone else on
//     the LAN gets 403, so the counts are no one else's business. The first NOTIFY goes at
//     once; sofia refreshes and ends the subscription by the rules of RFC 6665.
//   - Unsolicited, for mailboxes with voicemail.notify: every registered phone of the
//     extension gets a NOTIFY whenever the counts change (many phones light the lamp only this
//     way, without ever subscribing). Such a phone knows nothing until it is told, so it is also
//     told the counts (0/0 too: lamp off) once when it comes online:
//       - reason=registered: a REGISTER starts one of its bindings (registrar::starts_binding:
//         a contact not bound before, or a bound one under a new Call-ID, the phone rebooted).
//         Not on a refresh of the same binding: that would be a NOTIFY every re-REGISTER.
//       - reason=restored: the bindings b2bua restored from its database at start, since the
//         counts may have changed while it was down; a few seconds after start, one NOTIFY at a
//         time (a router full of phones is no burst on the SIP thread), leaving out those told
//         since start (registered, or a change).
//     Either way on a new dialog (the phone may have forgotten the old one with its reboot),
//     sent to the binding's flow.
//
// At b2bua's stop every dialog ends with a NOTIFY Subscription-State: terminated (RFC 6665
// 4.2.2) before the SIP stack's shutdown, which would otherwise send it itself and wait for
// every unanswered one to the transaction timeout: a phone switched off with its subscription
// running (common at home) held the LAN stack's stop to its bound.
//
// Threads: SIP thread only.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "b2bua/config/config.h"
#include "b2bua/config/extension_index.h"
#include "b2bua/registrar/phones.h"
#include "b2bua/sip/sip_agent.h"
#include "b2bua/sip/timer.h"
#include "b2bua/voicemail/mailbox.h"

namespace b2bua::voicemail {

// The RFC 3842 body for `counts` of the mailbox `account` (sip:10@realm).
std::string message_summary(const MessageCounts& counts, const std::string& account);

class MessageWaiting {
 public:
  MessageWaiting(sip::SipAgent& lan, registrar::Phones& phones, Mailboxes& boxes, config::Snapshot config);
  ~MessageWaiting();
  MessageWaiting(const MessageWaiting&) = delete;
  MessageWaiting& operator=(const MessageWaiting&) = delete;

  void apply(config::Snapshot config) { extensions_.rebuild(std::move(config)); }
  // The counts of `mailbox` changed (a message stored, heard or deleted).
  void changed(const std::string& mailbox);
  // At b2bua's start: the restored bindings are told their counts a few seconds from now.
  void announce_restored();
  size_t subscriptions() const;
  // b2bua stops: every dialog gets its terminating NOTIFY; those unanswered after `give_up_ms`
  // are given up and every handle destroyed before `done`. Nothing is sent after it.
  void shutdown(unsigned give_up_ms, std::function<void()> done);
  // shutdown() has finished: every dialog ended or given up (true already inside its `done`).
  bool stopped() const { return stopping_ && !shutdown_done_; }

 private:
  struct Dialog;
  void on_subscribe(const sip::NuaEvent& ev);
  // A phone came online at `phone`: one NOTIFY with the counts, on a new dialog.
  void announce(const registrar::PhoneTarget& phone, const char* reason);
  void announce_next_restored();
  bool notifies(const std::string& mailbox) const;
  // The unsolicited dialog towards `phone`: the one it has, unless `fresh` is asked for or its
  // flow changed; then a new one (the old one goes).
  Dialog& unsolicited(const std::string& mailbox, const registrar::PhoneTarget& phone, bool fresh);
  std::vector<std::unique_ptr<Dialog>>::iterator find_unsolicited(const std::string& mailbox, const std::string& contact);
  void notify(Dialog& d, const std::string& body);
  void drop(Dialog* d);
  // Shutdown: destroys what is left and calls the shutdown's `done`, once.
  void finish_shutdown();
  std::string body_for(const std::string& mailbox, const MessageCounts& counts) const;

  sip::SipAgent& lan_;
  registrar::Phones& phones_;
  Mailboxes& boxes_;
  config::ExtensionIndex extensions_;  // the current config; announce() looks up per new binding
  std::vector<std::unique_ptr<Dialog>> dialogs_;
  std::vector<std::unique_ptr<Dialog>> dead_;
  sip::Timer reaper_;
  std::deque<registrar::PhoneTarget> restored_;  // still to be told, in turn
  sip::Timer restore_pace_;
  bool stopping_ = false;
  std::function<void()> shutdown_done_;
  sip::Timer shutdown_bound_;  // the phones' answers to the terminating NOTIFYs
};

}  // namespace b2bua::voicemail
