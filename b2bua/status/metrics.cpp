#include "b2bua/status/metrics.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <tuple>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

namespace b2bua::status {
namespace {

using nlohmann::json;

struct Sample {
  std::string labels;  // already rendered: {trunk="provider"} or empty
  double value;
};

// One metric family: HELP and TYPE once, then its samples; nothing at all without samples.
class Family {
 public:
  Family(std::string name, const char* type, const char* help) : name_(std::move(name)), type_(type), help_(help) {}

  void add(double value, const std::string& labels = {}) { samples_.push_back({labels, value}); }

  void write(std::string& out) const {
    if (samples_.empty()) return;
    out += "# HELP " + name_ + " " + help_ + "\n";
    out += "# TYPE " + name_ + " " + type_ + "\n";
    for (const auto& s : samples_) out += name_ + s.labels + " " + number(s.value) + "\n";
  }

 private:
  static std::string number(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return buf;
  }

  std::string name_;
  const char* type_;
  const char* help_;
  std::vector<Sample> samples_;
};

// Exposition format: label values escape backslash, double quote and newline.
std::string escape_label(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string labels(std::initializer_list<std::pair<const char*, std::string>> pairs) {
  std::string out;
  for (const auto& [key, value] : pairs) {
    out += (out.empty() ? "{" : ",") + std::string(key) + "=\"" + escape_label(value) + "\"";
  }
  return out.empty() ? out : out + "}";
}

std::string label(const char* key, const std::string& value) { return labels({{key, value}}); }

const json* member(const json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  // The object itself, not json::find: GCC's -Wnull-dereference cannot see through the
  // latter's iterator once this is inlined.
  const auto& object = j.get_ref<const json::object_t&>();
  auto it = object.find(key);
  return it == object.end() || it->second.is_null() ? nullptr : &it->second;
}

bool number_at(const json& j, const char* key, double& out) {
  const json* v = member(j, key);
  if (!v || !v->is_number()) return false;
  out = v->get<double>();
  return true;
}

std::string text_at(const json& j, const char* key) {
  const json* v = member(j, key);
  if (!v) return {};
  return v->is_string() ? v->get<std::string>() : v->dump();
}

const json& array_at(const json& j, const char* key) {
  static const json empty = json::array();
  const json* v = member(j, key);
  return v && v->is_array() ? *v : empty;
}

// One sample per numeric member of status[part][key] (an object), labelled `label_key`=member.
// One sample per member of part[key], labelled with the member's name (and `also`, if named).
void add_labelled(Family& f, const json* part, const char* key, const char* label_key,
                  std::pair<const char*, std::string> also = {}) {
  const json* by = part ? member(*part, key) : nullptr;
  if (!by || !by->is_object()) return;
  for (const auto& [name, n] : by->items()) {
    if (!n.is_number()) continue;
    f.add(n.get<double>(), also.first ? labels({also, {label_key, name}}) : label(label_key, name));
  }
}

void add_trunks(const json& status, std::vector<Family>& out) {
  Family configured("b2bua_trunks_configured", "gauge", "Trunks in the config, enabled or not.");
  Family enabled("b2bua_trunk_enabled", "gauge", "1 when the trunk is enabled in the config.");
  Family registered("b2bua_trunk_registered", "gauge", "1 while the trunk's registration is active.");
  Family registered_count("b2bua_trunks_registered", "gauge", "Trunks whose registration is active.");
  Family last_status("b2bua_trunk_last_status", "gauge", "Last final SIP response code to the trunk's REGISTER.");
  Family rtt("b2bua_trunk_keepalive_rtt_seconds", "gauge", "Round-trip time of the trunk's last keep-alive.");
  Family interval("b2bua_trunk_keepalive_interval_seconds", "gauge", "Keep-alive interval the trunk uses now.");
  Family lifetime("b2bua_trunk_nat_lifetime_seconds", "gauge",
                  "UDP mapping lifetime of the NAT, measured by STUN (keep-alive \"auto\").");
  const json& trunks = array_at(status, "trunks");
  if (member(status, "trunks")) configured.add(static_cast<double>(trunks.size()));
  double registered_total = 0;
  bool any_state = false;
  for (const auto& t : trunks) {
    std::string l = label("trunk", text_at(t, "name"));
    if (const json* e = member(t, "enabled"); e && e->is_boolean()) enabled.add(e->get<bool>() ? 1 : 0, l);
    if (const json* s = member(t, "state"); s && s->is_string()) {
      any_state = true;
      bool up = s->get<std::string>() == "registered";
      registered.add(up ? 1 : 0, l);
      registered_total += up ? 1 : 0;
    }
    double v = 0;
    if (number_at(t, "last_status", v)) last_status.add(v, l);
    if (number_at(t, "keepalive_rtt_ms", v)) rtt.add(v / 1000.0, l);
    if (number_at(t, "keepalive_interval_s", v)) interval.add(v, l);
    if (number_at(t, "nat_lifetime_s", v)) lifetime.add(v, l);
  }
  if (any_state) registered_count.add(registered_total);
  for (auto* f : {&configured, &enabled, &registered, &registered_count, &last_status, &rtt, &interval, &lifetime}) {
    out.push_back(std::move(*f));
  }
}

void add_extensions(const json& status, std::vector<Family>& out) {
  Family configured("b2bua_extensions_configured", "gauge", "Extensions in the config.");
  Family bindings("b2bua_bindings", "gauge", "Registered contacts (bindings) of the extension.");
  Family answering("b2bua_bindings_answering_options", "gauge",
                   "Bindings of the extension that answered the last qualify OPTIONS (the others are rung too).");
  Family blocked("b2bua_extension_blocked", "gauge", "1 while a crossed limit blocks the extension's calls out.");
  Family hits("b2bua_extension_limit_hits_total", "counter",
              "Times the extension crossed a limit on calls out (each time blocking them), since start.");
  const json& extensions = array_at(status, "extensions");
  if (member(status, "extensions")) configured.add(static_cast<double>(extensions.size()));
  for (const auto& e : extensions) {
    if (const json* limits = member(e, "limits")) {
      const json* b = member(*limits, "blocked");
      if (b && b->is_boolean()) blocked.add(b->get<bool>() ? 1 : 0, label("extension", text_at(e, "number")));
      const json* by = member(*limits, "hits");
      if (by && by->is_object()) {
        for (const auto& [limit, n] : by->items()) {
          if (n.is_number()) hits.add(n.get<double>(), labels({{"extension", text_at(e, "number")}, {"limit", limit}}));
        }
      }
    }
    const json* b = member(e, "bindings");
    if (!b || !b->is_array()) continue;
    std::string l = label("extension", text_at(e, "number"));
    bindings.add(static_cast<double>(b->size()), l);
    double answered = 0;
    for (const auto& binding : *b) {
      const json* r = member(binding, "answering_options");
      if (!r || (r->is_boolean() && r->get<bool>())) answered += 1;
    }
    answering.add(answered, l);
  }
  for (auto* f : {&configured, &bindings, &answering, &blocked, &hits}) out.push_back(std::move(*f));
}

void add_calls(const json& status, std::vector<Family>& out) {
  Family active("b2bua_active_calls", "gauge", "Calls in progress.");
  if (const json* calls = member(status, "calls"); calls && calls->is_array()) active.add(static_cast<double>(calls->size()));
  out.push_back(std::move(active));

  Family total("b2bua_calls_total", "counter", "Finished calls since start, by final SIP response code.");
  add_labelled(total, member(status, "call_totals"), "by_final_code", "code");
  out.push_back(std::move(total));

  Family blocked("b2bua_calls_blocked_total", "counter",
                 "Inbound calls refused by routing.block or a DID's block list since start, by reason.");
  add_labelled(blocked, member(status, "call_totals"), "blocked_by_reason", "reason");
  out.push_back(std::move(blocked));

  Family one_way("b2bua_calls_one_way_audio_total", "counter",
                 "Calls where one side's audio flowed and the other's never came or stopped, since start, by the "
                 "silent side's network.");
  add_labelled(one_way, member(status, "call_totals"), "one_way_audio_by_side", "side");
  out.push_back(std::move(one_way));

  Family suppressed("b2bua_call_records_suppressed_total", "counter",
                    "Refused attempts left without a call record (more than one a second).");
  double suppressed_n = 0;
  if (const json* totals = member(status, "call_totals");
      totals && number_at(*totals, "records_suppressed", suppressed_n)) {
    suppressed.add(suppressed_n);
  }
  out.push_back(std::move(suppressed));

  // Until a call counter exists this is what storage knows; a gauge, since records roll off.
  Family recent("b2bua_recent_call_records", "gauge", "Call records among the newest kept for /status, by final SIP response code.");
  if (const json* records = member(status, "recent_calls"); records && records->is_array()) {
    std::map<int, int> by_code;
    for (const auto& r : *records) {
      double code = 0;
      if (number_at(r, "final_code", code)) ++by_code[static_cast<int>(code)];
    }
    for (const auto& [code, n] : by_code) recent.add(n, label("code", std::to_string(code)));
  }
  out.push_back(std::move(recent));
}

// Numbers a part of the snapshot reports as they are: one family and one sample per row.
struct PlainSample {
  const char* part;        // top-level key of the part; "" for the snapshot itself
  const char* key;         // member of the part
  const char* name;        // metric family
  const char* type;
  const char* help;
};

constexpr PlainSample kPlainSamples[] = {
    {"", "wan_requests_rejected", "b2bua_wan_requests_rejected_total", "counter",
     "Requests on the WAN side from no configured trunk that reached the SIP stack, since start."},
    {"", "wan_packets_dropped", "b2bua_wan_packets_dropped_total", "counter",
     "Datagrams to the WAN SIP port the kernel dropped (not from a trunk's server, or a full queue), since start."},
    {"relay", "sessions", "b2bua_relay_sessions", "gauge", "Relay sessions open (media of calls through b2bua)."},
    {"lan_flood", "sources_blocked_total", "b2bua_lan_flood_sources_blocked_total", "counter",
     "LAN addresses dropped for a minute for sending more than lan.flood_per_source requests a second."},
    {"lan_flood", "sources_blocked_now", "b2bua_lan_flood_sources_blocked", "gauge", "LAN addresses dropped right now."},
    {"lan_flood", "shields_total", "b2bua_lan_flood_shields_total", "counter",
     "Times more than lan.flood_total requests a second came in and only registered phones were let in."},
    {"registrar", "auth_failures_total", "b2bua_auth_failures_total", "counter",
     "Failed digest authentications since start."},
    {"registrar", "blocks_total", "b2bua_auth_blocks_total", "counter",
     "Source addresses blocked after repeated failures, since start."},
    {"registrar", "blocked_now", "b2bua_auth_blocked_sources", "gauge", "Source addresses blocked right now."},
    {"registrar", "locks_total", "b2bua_auth_extension_locks_total", "counter",
     "Extensions locked after failures from many addresses, since start."},
    {"registrar", "locked_now", "b2bua_auth_locked_extensions", "gauge",
     "Extensions locked right now (new logins refused, registered phones go on)."},
};

void add_plain_samples(const json& status, std::vector<Family>& out) {
  for (const auto& p : kPlainSamples) {
    Family& f = out.emplace_back(p.name, p.type, p.help);
    double v = 0;
    const json* part = *p.part ? member(status, p.part) : &status;
    if (part && number_at(*part, p.key, v)) f.add(v);
  }
}

// The relay's totals (snapshot.h, add_relay_totals): a direction names the network the packet
// came in from and the one it left towards, e.g. lan_to_wan for a phone talking to a provider.
void add_relay(const json& status, std::vector<Family>& out) {
  const json* relay = member(status, "relay");
  Family packets("b2bua_relay_packets_total", "counter", "RTP/RTCP packets relayed since start, by direction.");
  Family bytes("b2bua_relay_bytes_total", "counter", "UDP payload bytes relayed since start, by direction.");
  Family dropped("b2bua_relay_dropped_total", "counter", "Packets the relay received and did not relay, since start, by reason.");
  add_labelled(packets, relay, "packets", "direction");
  add_labelled(bytes, relay, "bytes", "direction");
  add_labelled(dropped, relay, "dropped", "reason");
  for (auto* f : {&packets, &bytes, &dropped}) out.push_back(std::move(*f));
}

// Connections peers hold to our TCP/TLS ports, per side, and the ones the daemon ended
// (sip/connection_warden.h: silent, idle, per_source, total).
void add_connections(const json& status, std::vector<Family>& out) {
  Family open("b2bua_sip_connections", "gauge", "TCP/TLS connections peers hold to our SIP ports, by side.");
  Family closed("b2bua_sip_connections_closed_total", "counter",
                "Connections the daemon ended since start, by side and reason.");
  const json* sides = member(status, "sip_connections");
  for (const char* side : {"lan", "wan"}) {
    const json* c = sides ? member(*sides, side) : nullptr;
    if (!c) continue;
    if (double n = 0; number_at(*c, "open", n)) open.add(n, label("side", side));
    add_labelled(closed, c, "closed", "reason", {"side", side});
  }
  out.push_back(std::move(open));
  out.push_back(std::move(closed));
}

}  // namespace

std::string render_metrics(const json& status) {
  std::vector<Family> families;
  Family info("b2bua_info", "gauge", "Always 1; the version is in the label.");
  if (member(status, "version")) info.add(1, label("version", text_at(status, "version")));
  families.push_back(std::move(info));
  for (auto [key, name, help] : {std::tuple{"started_at", "b2bua_start_time_seconds", "Start time of the daemon, unix seconds."},
                                  std::tuple{"uptime_s", "b2bua_uptime_seconds", "Seconds since the daemon started."}}) {
    Family f(name, "gauge", help);
    if (double v = 0; number_at(status, key, v)) f.add(v);
    families.push_back(std::move(f));
  }
  add_trunks(status, families);
  add_extensions(status, families);
  add_calls(status, families);
  add_relay(status, families);
  add_connections(status, families);
  add_plain_samples(status, families);

  std::string out;
  for (const auto& f : families) f.write(out);
  return out;
}

}  // namespace b2bua::status
