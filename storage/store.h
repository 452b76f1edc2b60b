// The storage seam: what the signalling plane persists and reads back.
//
// Five small repositories (registrar bindings, trunk state, call detail records, settings phones
// changed with feature codes, answering-machine messages) over one SQLite database in WAL mode.
// Callers on the SIP thread never wait on the disk: writes are queued to the storage thread and
// return at once; `flush()` blocks until everything queued before it is committed. Reads are
// synchronous and see every write queued before them. The one exception is
// VoiceMessageRepository, whose every call waits for its commit (the reason is beside it).
//
// Thread safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace b2bua::storage {

// Opening failed (unreadable, corrupted, newer schema than we know): the message names the
// database path and SQLite's own words. The daemon refuses to start on it. Also thrown by a read
// that fails, and by flush() when a queued write failed since the previous flush.
class StorageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One registered contact of an extension (RFC 3261 section 10.3), with the flow it came on.
struct BindingRow {
  std::string aor;            // extension number, e.g. "10"
  std::string contact;        // the Contact URI as the phone sent it
  std::string call_id;        // of the REGISTER that created/refreshed it (ordering rules)
  uint32_t cseq = 0;
  int64_t expires_at = 0;     // unix seconds
  double q = 1.0;             // RFC 3261 q-value, 0..1
  std::string transport;      // "udp" | "tcp" | "tls": the flow we reach the phone on
  std::string source;         // "ip:port" the REGISTER arrived from (RFC 3581 flow address)
  std::string user_agent;
  std::string instance;       // +sip.instance, empty if none
  // The last qualify OPTIONS was answered (column `reachable`). Only what the status shows:
  // a binding is rung whatever this says.
  bool answering_options = true;
  int64_t updated_at = 0;     // unix seconds
};

// What we know of a trunk across restarts.
struct TrunkStateRow {
  std::string trunk;           // trunk name from config
  std::string public_address;  // "ip:port" learned from Via received/rport, empty if none
  int64_t registered_until = 0;
  int last_status = 0;         // last final response code to REGISTER
  int64_t updated_at = 0;
};

// One finished call, answered or not.
struct CallRecordRow {
  int64_t id = 0;                  // assigned by the database on insert
  std::string call_id;             // our own id of the call (not a SIP Call-ID)
  std::string direction;           // "outbound" | "inbound" | "internal"
  std::string extension;
  std::string trunk;
  std::string remote_number;
  int64_t start_ms = 0;            // unix milliseconds
  int64_t answer_ms = 0;           // 0 if never answered
  int64_t end_ms = 0;
  int final_code = 0;
  std::string hangup_by;           // "caller" | "callee" | "system"
  std::string media_stats_json;    // per-leg RTP counters from the relay, as JSON
  // What routing decided on the way, as space-separated key=value words, e.g.
  // "blocked=global_number forwarded=busy:11 failover=main:503"; "" when nothing happened.
  std::string notes;
};

// One setting an extension's phone changed with a feature code (b2bua/calls/feature_codes.h),
// e.g. extension "10", key "forward.busy", value "11". Keyed by (extension, key).
struct ExtensionSettingRow {
  std::string extension;
  std::string key;
  std::string value;
  int64_t updated_at = 0;  // unix seconds
};

// One message left on an answering machine. The audio is a WAV file under the storage folder;
// the row is written only after the file is complete, so a row always has its file.
struct VoiceMessageRow {
  int64_t id = 0;              // assigned on insert
  std::string mailbox;         // extension number, e.g. "10"
  std::string caller_number;   // "" when withheld
  std::string caller_name;
  int64_t received_ms = 0;     // unix milliseconds
  int duration_ms = 0;
  int64_t size_bytes = 0;      // of the file
  std::string file;            // path relative to the voicemail folder, e.g. "10/1733512345123-42.wav"
  bool heard = false;
};

class BindingRepository {
 public:
  virtual ~BindingRepository() = default;
  // Insert or replace the row keyed by (aor, contact).
  virtual void save(const BindingRow& row) = 0;
  virtual void remove(const std::string& aor, const std::string& contact) = 0;
  virtual void remove_all(const std::string& aor) = 0;
  // Rows with expires_at > now; expired rows are deleted on the way.
  virtual std::vector<BindingRow> load_unexpired(int64_t now) = 0;
};

class TrunkStateRepository {
 public:
  virtual ~TrunkStateRepository() = default;
  virtual void save(const TrunkStateRow& row) = 0;
  virtual std::optional<TrunkStateRow> load(const std::string& trunk) = 0;
  virtual std::vector<TrunkStateRow> load_all() = 0;
};

class CallRecordRepository {
 public:
  virtual ~CallRecordRepository() = default;
  virtual void insert(const CallRecordRow& row) = 0;
  // Newest first.
  virtual std::vector<CallRecordRow> recent(size_t limit) = 0;
  // Deletes every row but the newest `keep_newest`, and rows that ended before
  // `ended_before_ms` (0: no age limit). Queued like insert().
  virtual void prune(size_t keep_newest, int64_t ended_before_ms) = 0;
};

class ExtensionSettingRepository {
 public:
  virtual ~ExtensionSettingRepository() = default;
  // Insert or replace the row keyed by (extension, key).
  virtual void save(const ExtensionSettingRow& row) = 0;
  virtual void remove(const std::string& extension, const std::string& key) = 0;
  // Every row, ordered by extension then key.
  virtual std::vector<ExtensionSettingRow> load_all() = 0;
};

// Synchronous, unlike the others: each call returns once its transaction is committed, and a
// failure is thrown at the call (not at some later flush()). Every row is paired with a file the
// mailbox writes or deletes right around the call, so the caller must know the row's fate before
// touching the file: insert() needs the id and a durable row before the caller may say "message
// saved" (and a failed insert must delete the file it just wrote); remove() must be committed
// before the file goes, so a listing never offers a message whose audio is gone. The cost is one
// fsync per message left, heard or deleted, a handful a day, next to the WAV file's own fsync.
class VoiceMessageRepository {
 public:
  virtual ~VoiceMessageRepository() = default;
  // Returns the id the database assigned; the row's own id is ignored.
  virtual int64_t insert(const VoiceMessageRow& row) = 0;
  // One mailbox's messages, oldest first (by received_ms, then id).
  virtual std::vector<VoiceMessageRow> list(const std::string& mailbox) = 0;
  virtual std::optional<VoiceMessageRow> find(int64_t id) = 0;
  // Absent ids are ignored.
  virtual void set_heard(int64_t id, bool heard) = 0;
  virtual void remove(int64_t id) = 0;
  // Every mailbox, ordered by mailbox then oldest first: for the start-up check of rows
  // against files.
  virtual std::vector<VoiceMessageRow> list_all() = 0;
};

class Store {
 public:
  virtual ~Store() = default;
  virtual BindingRepository& bindings() = 0;
  virtual TrunkStateRepository& trunk_states() = 0;
  virtual CallRecordRepository& call_records() = 0;
  virtual ExtensionSettingRepository& extension_settings() = 0;
  virtual VoiceMessageRepository& voice_messages() = 0;
  // Blocks until every write queued before this call is committed to disk. Throws StorageError
  // if any queued write failed since the previous flush (the others are committed regardless).
  virtual void flush() = 0;
};

// Opens (creating if missing) the SQLite database at `path`, runs forward migrations and starts
// the storage thread. Throws StorageError with the path and SQLite's message.
std::unique_ptr<Store> open_sqlite_store(const std::string& path);

// In-memory store for tests of code that only needs the repository interfaces.
std::unique_ptr<Store> open_memory_store();

}  // namespace b2bua::storage
