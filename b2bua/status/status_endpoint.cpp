#include "b2bua/status/status_endpoint.h"

#include <nlohmann/json.hpp>

#include "b2bua/common/clock.h"
#include "b2bua/sip/sip_thread.h"
#include "b2bua/status/local_facts.h"
#include "b2bua/status/snapshot.h"
#include "storage/store.h"

namespace b2bua::status {

std::unique_ptr<StatusServer> start_status_endpoint(const config::Config& config, sip::SipThread& sip,
                                                    DescribeLive describe_live, storage::Store& store,
                                                    VoicemailActions voicemail) {
  StatusSettings settings;
  settings.listen = config.status.listen;
  settings.token = config.status.token;
  settings.allowed_hosts = config.status.allowed_hosts;
  StatusSources sources;
  sources.post_to_sip = [&sip](std::function<void()> fn) { sip.post(std::move(fn)); };
  sources.describe = std::move(describe_live);
  sources.records = &store.call_records();
  sources.started_at = clock::unix_s();
  sources.local_facts = [facts = std::make_shared<LocalFactsSource>(config.source_path)] { return facts->gather(); };
  if (voicemail.message_path && voicemail.remove_message) {
    sources.messages = &store.voice_messages();
    sources.message_path = std::move(voicemail.message_path);
    sources.remove_message = std::move(voicemail.remove_message);
  }
  return std::make_unique<StatusServer>(std::move(settings), std::move(sources));
}

}  // namespace b2bua::status
