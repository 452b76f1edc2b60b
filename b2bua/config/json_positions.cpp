#include "b2bua/config/json_positions.h"

#include <algorithm>
#include <unordered_set>

namespace b2bua::config {

JsonPositions::JsonPositions(std::string_view text) : text_(text) {
  line_starts_.push_back(0);
  for (size_t i = 0; i < text_.size(); ++i) {
    if (text_[i] == '\n') line_starts_.push_back(i + 1);
  }
  parse_value("");
}

std::string JsonPositions::member(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

std::string JsonPositions::element(const std::string& parent, size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

TextPosition JsonPositions::at(size_t offset) const {
  auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
  size_t line = static_cast<size_t>(it - line_starts_.begin());  // 1-based
  return {static_cast<int>(line), static_cast<int>(offset - line_starts_[line - 1] + 1)};
}

TextPosition JsonPositions::value(const std::string& path) const {
  auto it = values_.find(path);
  return it == values_.end() ? TextPosition{} : at(it->second);
}

TextPosition JsonPositions::key(const std::string& path) const {
  auto it = keys_.find(path);
  return it == keys_.end() ? value(path) : at(it->second);
}

void JsonPositions::skip_blank() {
  while (pos_ < text_.size()) {
    char c = text_[pos_];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      ++pos_;
    } else if (c == '/' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '/') {
      while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
    } else if (c == '/' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '*') {
      size_t end = text_.find("*/", pos_ + 2);
      pos_ = end == std::string_view::npos ? text_.size() : end + 2;
    } else {
      return;
    }
  }
}

std::string JsonPositions::parse_string() {
  std::string out;
  ++pos_;  // opening quote
  while (pos_ < text_.size() && text_[pos_] != '"') {
    if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) {
      // Keys in our schema are plain ASCII; keep escapes verbatim enough to stay unique.
      out += text_[pos_ + 1];
      pos_ += 2;
      continue;
    }
    out += text_[pos_++];
  }
  ++pos_;  // closing quote
  return out;
}

bool JsonPositions::next_item(char close) {
  for (;;) {
    skip_blank();
    if (pos_ >= text_.size() || text_[pos_] == close) return false;
    if (text_[pos_] != ',') return true;
    ++pos_;
  }
}

void JsonPositions::parse_value(const std::string& path) {
  skip_blank();
  if (pos_ >= text_.size()) return;
  values_.emplace(path, pos_);
  char c = text_[pos_];
  if (c == '{') {
    ++pos_;
    std::unordered_set<std::string> seen;
    while (next_item('}')) {
      size_t key_at = pos_;
      std::string key = parse_string();
      std::string child = member(path, key);
      if (!seen.insert(key).second) {
        duplicates_.push_back(child);
        keys_[child] = key_at;  // point at the repeated one, it is the one that wins
      } else {
        keys_.emplace(child, key_at);
      }
      skip_blank();
      if (pos_ < text_.size() && text_[pos_] == ':') ++pos_;
      values_.erase(child);  // a repeated key's value replaces the first one
      parse_value(child);
    }
    ++pos_;
  } else if (c == '[') {
    ++pos_;
    size_t index = 0;
    while (next_item(']')) parse_value(element(path, index++));
    ++pos_;
  } else if (c == '"') {
    parse_string();
  } else {
    while (pos_ < text_.size() && std::string_view(",]} \t\r\n/").find(text_[pos_]) == std::string_view::npos) {
      ++pos_;
    }
  }
}

}  // namespace b2bua::config
