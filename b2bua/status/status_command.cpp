#include "b2bua/status/status_command.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <vector>

#include "b2bua/common/clock.h"
#include "b2bua/config/config_loader.h"
#include "b2bua/config/host_port.h"
#include "b2bua/status/http_get.h"
#include "b2bua/status/snapshot.h"
#include "b2bua/status/snapshot_reader.h"

namespace b2bua::status {
namespace {

using nlohmann::json;

// Column-aligned text: widths from the widest cell; an empty table prints its placeholder.
class Table {
 public:
  explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }

  std::string render(const std::string& empty_text) const {
    if (rows_.empty()) return "  " + empty_text + "\n";
    std::vector<size_t> width(headers_.size());
    for (size_t i = 0; i < headers_.size(); ++i) width[i] = headers_[i].size();
    for (const auto& r : rows_) {
      for (size_t i = 0; i < r.size() && i < width.size(); ++i) width[i] = std::max(width[i], r[i].size());
    }
    std::string out;
    auto line = [&](const std::vector<std::string>& cells) {
      std::string l = " ";
      for (size_t i = 0; i < width.size(); ++i) {
        std::string cell = i < cells.size() ? cells[i] : "";
        l += " " + cell + (i + 1 < width.size() ? std::string(width[i] - cell.size() + 1, ' ') : "");
      }
      while (!l.empty() && l.back() == ' ') l.pop_back();
      out += l + "\n";
    };
    line(headers_);
    for (const auto& r : rows_) line(r);
    return out;
  }

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

std::string duration(int64_t seconds) {
  if (seconds < 0) return "";
  int64_t d = seconds / 86400, h = seconds % 86400 / 3600, m = seconds % 3600 / 60, s = seconds % 60;
  if (d) return std::to_string(d) + "d " + std::to_string(h) + "h";
  if (h) return std::to_string(h) + "h " + std::to_string(m) + "m";
  if (m) return std::to_string(m) + "m " + std::to_string(s) + "s";
  return std::to_string(s) + "s";
}

std::string until(int64_t unix_s, int64_t now_ms) { return unix_s ? "in " + duration(unix_s - now_ms / 1000) : ""; }

std::string local_time(int64_t ms) { return time_text(ms / 1000, false); }

std::string joined(const json& values) {
  std::string out;
  if (!values.is_array()) return out;
  for (const auto& v : values) {
    if (!out.empty()) out += ",";
    out += v.is_string() ? v.get<std::string>() : v.dump();
  }
  return out;
}

std::string trunk_state(const json& t) {
  if (text(t, "enabled") == "false") return "disabled";
  std::string s = text(t, "state");
  return s.empty() ? "configured" : s;
}

std::string render_trunks(const json& status, int64_t now_ms) {
  Table t({"NAME", "STATE", "REGISTRAR", "USER", "NUMBERS", "REGISTERED", "PUBLIC ADDRESS", "LAST", "RTT"});
  for (const auto& trunk : list(status, "trunks")) {
    std::string rtt = text(trunk, "keepalive_rtt_ms");
    std::string transport = text(trunk, "transport");
    std::string registrar = text(trunk, "registrar") + (transport.empty() || transport == "udp" ? "" : " (" + transport + ")");
    t.add({text(trunk, "name"), trunk_state(trunk), registrar, text(trunk, "username"),
           joined(list(trunk, "numbers")), until(number(trunk, "registered_until"), now_ms),
           text(trunk, "public_address"), text(trunk, "last_status"), rtt.empty() ? "" : rtt + " ms"});
  }
  return "TRUNKS\n" + t.render("(none configured)");
}

// A binding that ignores qualify is still registered and still rung: said so, not "unreachable".
const char* binding_state(const json& b) {
  return text(b, "answering_options") == "false" ? "not answering OPTIONS" : "registered";
}

std::string render_phones(const json& status, int64_t now_ms) {
  Table t({"EXT", "NAME", "STATE", "CONTACT", "FROM", "PHONE", "EXPIRES"});
  for (const auto& ext : list(status, "extensions")) {
    const json& bindings = list(ext, "bindings");
    if (bindings.empty()) {
      t.add({text(ext, "number"), text(ext, "name"), ext.contains("bindings") ? "not registered" : "configured"});
    }
    for (const auto& b : bindings) {
      std::string from = text(b, "transport");
      if (!text(b, "source").empty()) from += (from.empty() ? "" : " ") + text(b, "source");
      t.add({text(ext, "number"), text(ext, "name"), binding_state(b),
             text(b, "contact"), from, text(b, "user_agent"), until(number(b, "expires_at"), now_ms)});
    }
  }
  return "PHONES\n" + t.render("(no extensions configured)");
}

// Password guessing: addresses ignored now, and extensions whose new logins are refused (their
// registered phones go on working).
std::string render_guard(const json& status, int64_t now_ms) {
  auto r = status.find("registrar");
  if (r == status.end() || !r->is_object()) return "PASSWORD GUARD\n  (not reported by this version)\n";
  Table t({"LOCKED EXT", "UNTIL", "SOURCES", "FAILURES"});
  for (const auto& l : list(*r, "locked_extensions")) {
    t.add({text(l, "ext"), until(number(l, "until"), now_ms), text(l, "sources"), text(l, "failures")});
  }
  return "PASSWORD GUARD\n  blocked sources " + std::to_string(number(*r, "blocked_now")) + "  failed logins " +
         std::to_string(number(*r, "auth_failures_total")) + "\n" + t.render("(no extension locked)");
}

// Extensions whose calls out a crossed limit blocks, or that crossed one since start: the first
// sign of guessed credentials at work.
std::string render_limits(const json& status, int64_t now_ms) {
  Table t({"EXT", "NAME", "BLOCKED BY", "UNTIL", "CALLS LAST HOUR", "HITS"});
  for (const auto& ext : list(status, "extensions")) {
    if (!ext.is_object() || !ext.contains("limits") || !ext["limits"].is_object()) continue;
    const json& l = ext["limits"];
    std::string hits;  // "calls_per_hour 2,concurrent_external 1": the limits crossed since start
    if (l.contains("hits") && l["hits"].is_object()) {
      for (const auto& [limit, n] : l["hits"].items()) {
        if (n.is_number() && n.get<int64_t>() > 0) hits += (hits.empty() ? "" : ",") + limit + " " + n.dump();
      }
    }
    bool blocked = text(l, "blocked") == "true";
    if (!blocked && hits.empty()) continue;
    std::string ends;
    if (blocked) ends = number(l, "blocked_until") ? until(number(l, "blocked_until"), now_ms) : "reload";
    t.add({text(ext, "number"), text(ext, "name"), blocked ? text(l, "blocked_by") : "", ends,
           text(l, "calls_last_hour"), hits});
  }
  return "CALL LIMITS\n" + t.render("(no extension blocked or over a limit)");
}

// Forwarding, do-not-disturb and call waiting: only extensions where one is on, or that a
// phone changed (a user who dialled #21# wants to see it took).
std::string render_features(const json& status) {
  Table t({"EXT", "NAME", "FORWARD", "DND", "CALL WAITING", "SET BY PHONE"});
  for (const auto& ext : list(status, "extensions")) {
    if (!ext.is_object() || !ext.contains("features") || !ext["features"].is_object()) continue;
    const json& f = ext["features"];
    std::string forward;
    if (f.contains("forward") && f["forward"].is_object()) {
      for (const char* kind : {"always", "busy", "no_answer", "unregistered"}) {
        const json& target = f["forward"].value(kind, json());
        if (!target.is_string()) continue;
        forward += (forward.empty() ? "" : ", ") + std::string(kind) + " > " + target.get<std::string>();
        if (std::string(kind) == "no_answer") forward += " after " + text(f["forward"], "no_answer_after") + "s";
      }
    }
    std::string by_phone;
    for (const auto& key : list(f, "set_by_phone")) by_phone += (by_phone.empty() ? "" : ",") + key.get<std::string>();
    bool dnd = text(f, "dnd") == "true", waiting = text(f, "call_waiting") != "false";
    if (forward.empty() && !dnd && waiting && by_phone.empty()) continue;
    t.add({text(ext, "number"), text(ext, "name"), forward, dnd ? "on" : "off", waiting ? "on" : "off", by_phone});
  }
  return "FORWARDING AND DO-NOT-DISTURB\n" + t.render("(no extension forwards, rejects or changed a setting)");
}

std::string render_calls(const json& status) {
  if (!status.contains("calls")) return "ACTIVE CALLS\n  (not reported by this version)\n";
  Table t({"DIRECTION", "EXT", "TRUNK", "NUMBER", "STATE", "DURATION", "RELAY PORTS"});
  for (const auto& c : list(status, "calls")) {
    std::string ports;
    for (const auto& p : list(c, "relay_ports")) {
      ports += (ports.empty() ? "" : ",") + text(p, "a") + "/" + text(p, "b");
    }
    t.add({text(c, "direction"), text(c, "extension"), text(c, "trunk"), text(c, "remote_number"), text(c, "state"),
           c.contains("duration_s") ? duration(number(c, "duration_s")) : "", ports});
  }
  return "ACTIVE CALLS\n" + t.render("(none)");
}

// The relay since the daemon started: what it carried each way and what it dropped, by reason.
std::string render_relay(const json& status) {
  if (!status.contains("relay") || !status["relay"].is_object()) return "RELAY\n  (not reported by this version)\n";
  const json& relay = status["relay"];
  auto counts = [&](const char* key) {
    std::string line = std::string("\n  ") + key;
    if (!relay.contains(key) || !relay[key].is_object()) return line + "  (not reported)";
    for (auto it = relay[key].begin(); it != relay[key].end(); ++it) {
      line += "  " + it.key() + " " + std::to_string(number(relay[key], it.key().c_str()));
    }
    return line;
  };
  return "RELAY\n  sessions " + text(relay, "sessions") + counts("packets") + counts("dropped") + "\n";
}

// The relay's counters of a finished call, one "received/lost/jitter" per leg: how it sounded.
std::string media_summary(const json& media) {
  if (!media.is_object()) return {};
  std::string packets, lost, jitter;
  for (const auto& [leg, c] : media.items()) {
    if (!c.is_object()) continue;
    auto sep = [](std::string& s) { s += s.empty() ? "" : "/"; };
    sep(packets), sep(lost), sep(jitter);
    packets += std::to_string(number(c, "packets"));
    lost += std::to_string(number(c, "lost"));
    char j[32];
    std::snprintf(j, sizeof j, "%.1f", c.contains("jitter_ms") && c["jitter_ms"].is_number() ? c["jitter_ms"].get<double>() : 0.0);
    jitter += j;
  }
  if (packets.empty()) return {};
  return packets + " pkts, " + lost + " lost, " + jitter + " ms jitter";
}

std::string render_recent(const json& status) {
  Table t({"START", "DIRECTION", "EXT", "TRUNK", "NUMBER", "CODE", "TALK", "ENDED BY", "MEDIA"});
  for (const auto& r : list(status, "recent_calls")) {
    int64_t answer = number(r, "answer_ms");
    t.add({local_time(number(r, "start_ms")), text(r, "direction"), text(r, "extension"), text(r, "trunk"),
           text(r, "remote_number"), text(r, "final_code"), answer ? duration((number(r, "end_ms") - answer) / 1000) : "",
           text(r, "hangup_by"), media_summary(r.is_object() && r.contains("media") ? r["media"] : json())});
  }
  std::string error = text(status, "recent_calls_error");
  return "RECENT CALLS\n" + t.render(error.empty() ? "(none)" : "(unavailable: " + error + ")");
}

}  // namespace

std::string render_status_text(const json& status, int64_t now_ms) {
  std::string out = "b2bua " + text(status, "version") + "  pid " + text(status, "pid") + "  up " +
                    duration(number(status, "uptime_s")) + "\n\n";
  out += render_trunks(status, now_ms) + "\n";
  out += render_phones(status, now_ms) + "\n";
  out += render_features(status) + "\n";
  out += render_limits(status, now_ms) + "\n";
  out += render_guard(status, now_ms) + "\n";
  out += render_calls(status) + "\n";
  out += render_relay(status) + "\n";
  out += render_recent(status);
  return out;
}

std::optional<json> ask_daemon(const std::string& config_path, const std::string& command, FILE* err) {
  auto loaded = config::load_config_file(config_path);
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors) std::fprintf(err, "%s\n", e.to_string(config_path).c_str());
    std::fprintf(err, "b2bua %s: %s is not a valid config (see b2bua check-config)\n", command.c_str(), config_path.c_str());
    return std::nullopt;
  }
  const auto& s = loaded.config->status;
  // Validated by the loader.
  config::HostPort listen = config::parse_host_port(s.listen).value_or(config::HostPort{});
  // A wildcard listen accepts on loopback too.
  if (listen.host == "0.0.0.0") listen.host = "127.0.0.1";
  if (listen.host == "::") listen.host = "::1";

  HttpResponse r = http_get(listen.host, listen.port, "/status", s.token);
  if (r.code == 0) {
    std::fprintf(err, "b2bua %s: %s (status.listen %s; is the daemon running?)\n", command.c_str(), r.error.c_str(),
                 s.listen.c_str());
    return std::nullopt;
  }
  if (r.code != 200) {
    std::fprintf(err, "b2bua %s: %s answered %d: %s", command.c_str(), s.listen.c_str(), r.code, r.body.c_str());
    return std::nullopt;
  }
  auto status = json::parse(r.body, nullptr, false);
  if (status.is_discarded() || !status.is_object()) {
    std::fprintf(err, "b2bua %s: %s did not answer with a JSON object\n", command.c_str(), s.listen.c_str());
    return std::nullopt;
  }
  return status;
}

int run_status_command(const std::string& config_path, bool raw_json, FILE* out, FILE* err) {
  auto status = ask_daemon(config_path, "status", err);
  if (!status) return 1;
  if (raw_json) {
    std::fputs(to_json_text(*status).c_str(), out);
  } else {
    int64_t now_ms = number(*status, "generated_at");
    if (now_ms == 0) now_ms = clock::unix_ms();
    std::fputs(render_status_text(*status, now_ms).c_str(), out);
  }
  return 0;
}

}  // namespace b2bua::status
