// A call to a feature code (feature_codes.h) that changed a setting: answered 200 with every
// offered stream declined (there is nothing to hear until announcements exist), then ended
// with BYE once the phone has ACKed, so the phone shows the code was taken. A code that changes
// nothing never gets here: it is refused with a final answer at admission.
//
// Threads: SIP thread only. Owned by CallManager; `done` is called once, from a nua callback,
// when the dialog is over (the owner destroys it on a later turn of the loop).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "b2bua/sip/sip_agent.h"
#include "b2bua/sip/timer.h"
#include "media/sdp_rewrite.h"

namespace b2bua::calls {

class ConfirmationCall final : public sip::HandleOwner {
 public:
  // Takes `nh` (an INVITE not yet answered) and answers it at once.
  ConfirmationCall(su_root_t* root, nua_handle_t* nh, const std::string& offer, std::function<void()> done);
  ~ConfirmationCall();
  ConfirmationCall(const ConfirmationCall&) = delete;
  ConfirmationCall& operator=(const ConfirmationCall&) = delete;

  void on_nua_event(const sip::NuaEvent& ev) override;

 private:
  nua_handle_t* nh_;
  media::SdpOrigin origin_;
  std::function<void()> done_;
  sip::Timer bye_;  // the BYE goes a moment after the ACK, so the phone shows "connected"
  bool over_ = false;
};

}  // namespace b2bua::calls
