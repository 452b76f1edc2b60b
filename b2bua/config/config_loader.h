// Reading the config file: JSON with comments, validated against the schema, every problem
// reported at once with its JSON path and line:column.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "b2bua/config/config.h"

namespace b2bua::config {

struct ConfigError {
  std::string path;  // "trunks[0].keepalive.interval"; empty for file-level problems
  int line = 0;      // 1-based; 0 when unknown (e.g. the file cannot be read)
  int column = 0;
  std::string message;
  std::string to_string(const std::string& file) const;  // "file:3:5: trunks[0].x: message"
};

struct LoadResult {
  std::shared_ptr<const Config> config;  // null when there are errors
  std::vector<ConfigError> errors;
  std::vector<std::string> warnings;     // e.g. a world-readable file holding passwords
  bool ok() const { return config != nullptr; }
};

// True when the file carries a password, HA1 or token: then only b2bua's user may read it.
bool holds_secrets(const Config& config);

// Why `secret` would be guessed first ("is shorter than 10 characters"), or "" when it would not;
// `name` is what it must not equal (an extension's number, a trunk's username), `name_is` says
// what that is in the reason.
std::string weak_secret(const std::string& secret, const std::string& name,
                        const char* name_is = "the extension's own number");

// Reads and validates `path`. Never throws for bad input.
LoadResult load_config_file(const std::string& path);

// Validates `text` as if it had been read from `path` (relative paths resolve against it).
LoadResult load_config_text(const std::string& text, const std::string& path);

}  // namespace b2bua::config
