// Schema versions: the database records the version it is at in `schema_version`; at start we
// run, in order and inside one transaction, every migration it has not seen yet.
#pragma once

#include "storage/sqlite_handle.h"

namespace b2bua::storage {

// The version a fresh database ends at, and the newest one this build understands.
int current_schema_version();

// Brings the database to current_schema_version(). Throws StorageError (with the path) when the
// database comes from a newer build, or is some other application's SQLite file.
void migrate(Connection& connection);

}  // namespace b2bua::storage
