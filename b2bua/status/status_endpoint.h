// Wires the status server (status_server.h) to its sources: the live part of a snapshot comes
// from the SIP thread (whatever the caller's `describe_live` adds), call records and the voice
// messages' list from storage, a message's file and its removal from the SIP thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>

#include "b2bua/config/config.h"
#include "b2bua/status/status_server.h"

namespace b2bua::sip {
class SipThread;
}
namespace b2bua::storage {
class Store;
}

namespace b2bua::status {

// Fills in the live part of a snapshot (features, relay totals); called on the SIP thread
// only. While the signalling plane is being rebuilt it adds what is still running.
using DescribeLive = std::function<void(nlohmann::json& status)>;

// What the page's voicemail part does on the SIP thread (StatusSources::message_path,
// remove_message). Left empty, the /voicemail paths answer 404.
struct VoicemailActions {
  std::function<std::optional<std::string>(int64_t id)> message_path;
  std::function<bool(int64_t id)> remove_message;
};

// Binds status.listen; throws std::runtime_error when it cannot.
std::unique_ptr<StatusServer> start_status_endpoint(const config::Config& config, sip::SipThread& sip,
                                                    DescribeLive describe_live, storage::Store& store,
                                                    VoicemailActions voicemail = {});

}  // namespace b2bua::status
