// Where each value of a JSON-with-comments text sits, so config errors can name line:column.
//
// nlohmann::json (3.11) does the real parsing but keeps no positions; this second, tiny pass
// walks the same (already known to be valid) text and records the start of every key and value
// under the path the validator uses: "trunks[0].keepalive.interval".
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace b2bua::config {

struct TextPosition {
  int line = 0;
  int column = 0;
};

class JsonPositions {
 public:
  // `text` must be syntactically valid JSON with // and /* */ comments.
  explicit JsonPositions(std::string_view text);

  // Start of the value at `path` (the whole document for ""); {0,0} if unknown.
  TextPosition value(const std::string& path) const;
  // Start of the key of the member at `path`; falls back to the value's position.
  TextPosition key(const std::string& path) const;
  // Object members whose key appeared more than once (JSON allows it, we do not).
  const std::vector<std::string>& duplicate_keys() const { return duplicates_; }

  static std::string member(const std::string& parent, std::string_view key);
  static std::string element(const std::string& parent, size_t index);

 private:
  TextPosition at(size_t offset) const;
  void skip_blank();
  // Inside an object or array: onto the next item; false at `close` or at the end of the text.
  bool next_item(char close);
  void parse_value(const std::string& path);
  std::string parse_string();

  std::string_view text_;
  size_t pos_ = 0;
  std::vector<size_t> line_starts_;
  std::unordered_map<std::string, size_t> values_;
  std::unordered_map<std::string, size_t> keys_;
  std::vector<std::string> duplicates_;
};

}  // namespace b2bua::config
