// What a voice session (media::MediaPlane::allocate_voice) reports to the calls: key presses,
// prompts played, recordings ended. Voice sessions serve features where b2bua itself answers
// (voicemail, menus); none of them is wired to calls yet, so the news has no taker.
#include "b2bua/calls/call_manager.h"

namespace b2bua::calls {

void CallManager::on_voice(media::SessionId id, media::VoiceEvent event) {
  (void)id;
  (void)event;
}

}  // namespace b2bua::calls
