// What each extension's phone changed with feature codes (feature_codes.h), laid over the
// config: the config gives the starting state of forwarding, do-not-disturb and call waiting,
// a phone's own change wins until the phone changes it back (or forget() drops it).
//
// Kept in memory for the routing decisions of every call, and in storage (table
// extension_settings) so a restart or a reload keeps what the users set. Storage writes are
// queued: apply() never waits on the disk.
//
// Stored keys, one row per (extension, key), values as text:
//   forward.always, forward.busy, forward.no_answer, forward.unregistered
//                              the target number; "" = switched off by the phone, which wins
//                              over a target the config names
//   forward.no_answer_after    seconds, 5..300
//   dnd, call_waiting          "1" on, "0" off
// A value that does not read back as valid (a hand-edited database, a key from a newer build)
// is ignored: the config's value applies.
//
// Thread safety: SIP thread only (construction included); the store is only used through its
// queued writes and one read at construction.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "b2bua/calls/feature_codes.h"
#include "b2bua/config/config.h"
#include "storage/store.h"

namespace b2bua::calls {

class ExtensionSettings {
 public:
  struct Effective {
    config::Forwarding forward;
    bool dnd = false;
    bool call_waiting = true;
    bool operator==(const Effective&) const = default;
  };

  // Loads every stored setting once (a synchronous read: call at start, not per call); throws
  // storage::StorageError when that read fails. `store` null: settings live in memory only and
  // are lost on restart. The store must outlive this object.
  explicit ExtensionSettings(storage::Store* store);

  // The config's values for `extension` with what its phone stored laid over them.
  Effective effective(const config::Extension& extension) const;

  // Records what `extension`'s phone dialled: updates memory at once and queues the write.
  // Returns false, changing nothing, for codes that are no setting (the pickups) and for a
  // forward to the extension itself (it would ring itself again and again).
  // forward_set no_answer with seconds > 0 also stores forward.no_answer_after;
  // forward_clear stores "" (off by the phone), not a deletion, so it also overrides the config.
  bool apply(const std::string& extension, const FeatureCode& code);

  // Drops everything `extension`'s phone set: the config's values apply again.
  void forget(const std::string& extension);

  // For the status output, keyed by extension number, one entry per configured extension:
  //   { "10": { "forward": { "always": "11" | null, "busy": .., "no_answer": ..,
  //                          "unregistered": .., "no_answer_after": 20 },
  //             "dnd": false, "call_waiting": true,
  //             "set_by_phone": ["dnd", "forward.busy"] } }     keys the phone set, sorted
  nlohmann::json describe(const config::Config& config) const;

 private:
  void store_setting(const std::string& extension, const std::string& key, const std::string& value);

  storage::Store* store_;
  // extension -> key -> value, as stored (unknown keys included: they are only ignored).
  std::map<std::string, std::map<std::string, std::string>> stored_;
};

}  // namespace b2bua::calls
