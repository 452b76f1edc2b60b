// Opening the database file: directory creation, integrity check, pragmas, migrations. Shared by
// the store and by tools that need a connection configured exactly like the daemon's.
#pragma once

#include <string>

#include "storage/sqlite_handle.h"

namespace b2bua::storage {

// `path` may be ":memory:". Throws StorageError naming the path and SQLite's message when the
// file is unreadable, corrupted, not ours, or from a newer schema.
Connection open_database(const std::string& path);

}  // namespace b2bua::storage
