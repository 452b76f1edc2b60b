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
//     way, without ever subscribing).
//
// Threads: SIP thread only.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "b2bua/config/config.h"
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

  void apply(config::Snapshot config) { config_ = std::move(config); }
  // The counts of `mailbox` changed (a message stored, heard or deleted).
  void changed(const std::string& mailbox);
  size_t subscriptions() const;

 private:
  struct Dialog;
  void on_subscribe(const sip::NuaEvent& ev);
  void notify(Dialog& d, const std::string& body);
  void drop(Dialog* d);
  std::string body_for(const std::string& mailbox, const MessageCounts& counts) const;

  sip::SipAgent& lan_;
  registrar::Phones& phones_;
  Mailboxes& boxes_;
  config::Snapshot config_;
  std::vector<std::unique_ptr<Dialog>> dialogs_;
  std::vector<std::unique_ptr<Dialog>> dead_;
  sip::Timer reaper_;
};

}  // namespace b2bua::voicemail
