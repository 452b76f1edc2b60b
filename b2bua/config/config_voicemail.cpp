// The voicemail section (where messages and announcements live) and each extension's answering
// machine (extensions[].voicemail). A greeting's audio is checked when the machine loads it, not
// here: a file that cannot be played leaves that machine on the built-in greeting, with an error
// in the log naming the file, and the config is still good.
#include <algorithm>
#include <filesystem>
#include <string_view>
#include <nlohmann/json.hpp>

#include "b2bua/config/config_sections.h"

namespace b2bua::config {
namespace {

using json = nlohmann::json;

// One plain address: local@domain, printable ASCII, no spaces, brackets or commas (a header
// injection or a list of recipients is no address).
bool plain_address(const std::string& a) {
  const size_t at = a.find('@');
  if (at == std::string::npos || at == 0 || at + 1 >= a.size() || a.find('@', at + 1) != std::string::npos) return false;
  return std::all_of(a.begin(), a.end(), [](char ch) {
    return ch > 0x20 && ch < 0x7f && std::string_view("<>,;:\\\"()[]").find(ch) == std::string_view::npos;
  });
}

std::string absolute_from(const std::string& dir, const std::string& path) {
  std::filesystem::path p(path);
  if (p.is_relative()) p = std::filesystem::path(dir) / p;
  return p.lexically_normal().string();
}

void read_machine(Validator& v, const json& j, const std::string& p, const std::string& config_dir, Voicemail& m) {
  if (!v.object(j, p, {"enabled", "after", "on_busy", "on_unregistered", "always", "announce_only", "greeting", "pin",
                       "max_message", "silence", "max_messages", "max_total_mb", "notify", "email"})) {
    return;
  }
  m.enabled = true;  // an extension that has the object has the machine, unless it says otherwise
  v.boolean(j, p, "enabled", m.enabled);
  v.integer(j, p, "after", m.after, 0, 300);
  v.boolean(j, p, "on_busy", m.on_busy);
  v.boolean(j, p, "on_unregistered", m.on_unregistered);
  v.boolean(j, p, "always", m.always);
  v.boolean(j, p, "announce_only", m.announce_only);
  if (v.opt_str(j, p, "greeting", m.greeting)) m.greeting = absolute_from(config_dir, *m.greeting);
  if (v.opt_str(j, p, "pin", m.pin) &&
      (m.pin->size() < 4 || m.pin->size() > 12 ||
       !std::all_of(m.pin->begin(), m.pin->end(), [](char ch) { return ch >= '0' && ch <= '9'; }))) {
    v.error(JsonPositions::member(p, "pin"), "expected 4 to 12 digits (dialled on a phone's keypad)");
  }
  v.integer(j, p, "max_message", m.max_message, 5, 600);
  v.integer(j, p, "silence", m.silence, 0, 60);
  v.integer(j, p, "max_messages", m.max_messages, 1, 1000);
  v.integer(j, p, "max_total_mb", m.max_total_mb, 1, 4096);
  v.boolean(j, p, "notify", m.notify);
  if (v.opt_str(j, p, "email", m.email) && !plain_address(*m.email)) {
    v.error(JsonPositions::member(p, "email"), "expected one mail address like anna@example.org");
  }
}

void read_smtp(Validator& v, const json& j, const std::string& p, Smtp& out) {
  if (!v.object(j, p, {"server", "port", "security", "user", "password", "from", "ca_file"})) return;
  v.str(j, p, "server", out.server, true);
  v.integer(j, p, "port", out.port, 1, 65535);
  v.choice(j, p, "security", {"starttls", "tls", "none"}, out.security);
  v.str(j, p, "user", out.user);
  v.str(j, p, "password", out.password);
  if (v.str(j, p, "from", out.from, true) && !plain_address(out.from)) {
    v.error(JsonPositions::member(p, "from"), "expected one mail address like b2bua@home.example");
  }
  v.str(j, p, "ca_file", out.ca_file);
  if (!out.user.empty() && out.password.empty()) v.error(JsonPositions::member(p, "password"), "a login needs a password");
  if (!out.password.empty() && out.security == "none") {
    v.error(JsonPositions::member(p, "security"), "a password is never sent unencrypted; use starttls or tls");
  }
}

}  // namespace

void read_voicemail(Validator& v, const json& root, Config& c, const std::string& config_dir) {
  // Messages sit next to the database by default: the folder an admin already backs up, and
  // on a router the one on persistent storage.
  c.voicemail.folder = (std::filesystem::path(c.storage.path).parent_path() / "voicemail").string();
  if (const json* s = v.member(root, "", "voicemail", false); s && v.object(*s, "voicemail", {"folder", "prompts", "smtp"})) {
    if (v.str(*s, "voicemail", "folder", c.voicemail.folder)) {
      c.voicemail.folder = absolute_from(config_dir, c.voicemail.folder);
    }
    if (v.str(*s, "voicemail", "prompts", c.voicemail.prompts)) {
      c.voicemail.prompts = absolute_from(config_dir, c.voicemail.prompts);
    }
    if (const json* m = v.member(*s, "voicemail", "smtp", false); m && !m->is_null()) {
      c.voicemail.smtp.emplace();
      read_smtp(v, *m, "voicemail.smtp", *c.voicemail.smtp);
    }
  }
  const json* list = root.is_object() && root.contains("extensions") ? &root.at("extensions") : nullptr;
  if (!list || !list->is_array()) return;
  for (size_t i = 0; i < list->size(); ++i) {
    const json& e = list->at(i);
    if (!e.is_object() || !e.contains("voicemail") || !e.contains("number") || !e.at("number").is_string()) continue;
    auto ext = std::find_if(c.extensions.begin(), c.extensions.end(),
                            [&](const Extension& x) { return x.number == e.at("number").get<std::string>(); });
    if (ext == c.extensions.end()) continue;  // the extension itself is in error
    const std::string p = "extensions[" + std::to_string(i) + "].voicemail";
    read_machine(v, e.at("voicemail"), p, config_dir, ext->voicemail);
    if (ext->voicemail.email && !c.voicemail.smtp) {
      v.error(JsonPositions::member(p, "email"), "mailing messages needs a mail server in voicemail.smtp");
    }
  }
}

}  // namespace b2bua::config
