#include "storage/store.h"

namespace b2bua::storage {

// The same code as on disk, over SQLite's private in-memory database: tests get the real
// semantics (upsert keys, expiry, ordering, the queue) with nothing to clean up.
std::unique_ptr<Store> open_memory_store() { return open_sqlite_store(":memory:"); }

}  // namespace b2bua::storage
