#include "b2bua/config/config_loader.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <tuple>
#include <nlohmann/json.hpp>
#include <sstream>

#include "b2bua/config/config_sections.h"
#include "b2bua/config/json_positions.h"
#include "b2bua/config/validator.h"

namespace b2bua::config {
using nlohmann::json;

bool holds_secrets(const Config& c) {
  return !c.trunks.empty() || c.status.token ||
         std::any_of(c.extensions.begin(), c.extensions.end(), [](const Extension& e) { return e.password || e.ha1; });
}

std::string ConfigError::to_string(const std::string& file) const {
  std::ostringstream out;
  out << file;
  if (line > 0) out << ':' << line << ':' << column;
  out << ": ";
  if (!path.empty()) out << path << ": ";
  out << message;
  return out.str();
}

LoadResult load_config_text(const std::string& text, const std::string& path) {
  LoadResult result;
  json root;
  try {
    root = json::parse(text, nullptr, true, /*ignore_comments=*/true);
  } catch (const json::parse_error& e) {
    // nlohmann reports a byte offset; turn it into line:column like every other error.
    size_t offset = std::min(e.byte, text.size());
    int line = 1, column = 1;
    for (size_t i = 0; i + 1 < offset; ++i) {
      if (text[i] == '\n') ++line, column = 1;
      else ++column;
    }
    std::string what = e.what();
    auto cut = what.find("syntax error");
    result.errors.push_back({"", line, column, cut == std::string::npos ? what : what.substr(cut)});
    return result;
  }

  JsonPositions positions(text);
  Validator v(positions, result.errors);
  for (const auto& dup : positions.duplicate_keys()) v.error(dup, "key given twice; the second would win", true);

  auto config = std::make_shared<Config>();
  config->source_path = path;
  if (v.object(root, "", {"lan", "wan", "registrar", "limits", "extensions", "trunks", "routing", "media", "calls",
                          "storage", "status", "log", "voicemail"})) {
    std::string dir = std::filesystem::path(path).parent_path().string();
    if (dir.empty()) dir = ".";
    read_sections(v, root, *config, dir);
  }
  std::stable_sort(result.errors.begin(), result.errors.end(), [](const ConfigError& a, const ConfigError& b) {
    return std::tie(a.line, a.column) < std::tie(b.line, b.column);
  });
  if (result.errors.empty()) {
    if (holds_secrets(*config)) {
      struct stat st{};
      if (::stat(path.c_str(), &st) == 0 && (st.st_mode & S_IROTH)) {
        result.warnings.push_back(path + " holds passwords and is readable by every user; chmod 640 it");
      }
    }
    result.config = std::move(config);
  }
  return result;
}

LoadResult load_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    LoadResult result;
    result.errors.push_back({"", 0, 0, std::string("cannot read: ") + std::strerror(errno)});
    return result;
  }
  std::stringstream buf;
  buf << in.rdbuf();
  return load_config_text(buf.str(), path);
}

}  // namespace b2bua::config
