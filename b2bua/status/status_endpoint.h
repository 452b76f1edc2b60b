// Wires the status server (status_server.h) to the daemon's parts: snapshots come from the SIP
// thread (configured view + every feature's describe) and call records from storage.
#pragma once

#include <memory>

#include "b2bua/config/config.h"
#include "b2bua/status/status_server.h"

namespace b2bua::sip {
class SipThread;
}
namespace b2bua::storage {
class Store;
}
namespace b2bua::daemon {
class SignallingPlane;
}

namespace b2bua::status {

// Binds status.listen; throws std::runtime_error when it cannot. `plane` is read on the SIP
// thread only, and may be null there once the plane is gone (the snapshot then has no live part).
std::unique_ptr<StatusServer> start_status_endpoint(const config::Config& config, sip::SipThread& sip,
                                                    const std::unique_ptr<daemon::SignallingPlane>& plane,
                                                    storage::Store& store);

}  // namespace b2bua::status
