#include "b2bua/config/config_loader.h"

#include <arpa/inet.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "b2bua/config/json_positions.h"
#include "b2bua/config/network.h"

namespace b2bua::config {
namespace {

using nlohmann::json;

// Edit distance, for "did you mean" on unknown keys.
size_t distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string type_name(const json& j) {
  switch (j.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "an integer";
    case json::value_t::number_float: return "a number";
    case json::value_t::string: return "a string";
    case json::value_t::array: return "an array";
    case json::value_t::object: return "an object";
    default: return "an unknown type";
  }
}

bool is_ip_literal(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

bool is_wildcard(const std::string& s) { return s == "0.0.0.0" || s == "::" || s == "[::]"; }

// Walks the document: each reader checks one value's type and range, records errors with the
// value's position, and leaves the default in place when the value is missing or wrong.
class Validator {
 public:
  Validator(const JsonPositions& pos, std::vector<ConfigError>& errors) : pos_(pos), errors_(errors) {}

  void error(const std::string& path, const std::string& message, bool at_key = false) {
    TextPosition p = at_key ? pos_.key(path) : pos_.value(path);
    errors_.push_back({path, p.line, p.column, message});
  }

  // An object whose keys must all be in `allowed`; false if `j` is not an object.
  bool object(const json& j, const std::string& path, std::initializer_list<std::string_view> allowed) {
    if (!j.is_object()) {
      error(path, "expected an object, found " + type_name(j));
      return false;
    }
    for (const auto& [key, value] : j.items()) {
      if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
      std::string message = "unknown key '" + key + "'";
      std::string_view best;
      size_t best_d = SIZE_MAX;
      for (std::string_view candidate : allowed) {
        size_t d = distance(key, candidate);
        if (d < best_d) best_d = d, best = candidate;
      }
      if (!best.empty() && best_d <= std::max<size_t>(2, key.size() / 3)) {
        message += "; did you mean '" + std::string(best) + "'?";
      }
      error(JsonPositions::member(path, key), message, true);
    }
    return true;
  }

  const json* member(const json& obj, const std::string& path, const char* key, bool required) {
    if (!obj.is_object()) return nullptr;
    auto it = obj.find(key);
    if (it == obj.end()) {
      if (required) error(path, std::string("missing required key '") + key + "'");
      return nullptr;
    }
    return &*it;
  }

  bool str(const json& obj, const std::string& path, const char* key, std::string& out, bool required = false,
           bool allow_empty = false) {
    const json* v = member(obj, path, key, required);
    if (!v) return false;
    std::string p = JsonPositions::member(path, key);
    if (!v->is_string()) {
      error(p, "expected a string, found " + type_name(*v));
      return false;
    }
    out = v->get<std::string>();
    if (out.empty() && !allow_empty) {
      error(p, "must not be empty");
      return false;
    }
    return true;
  }

  // A string or null; null and absence leave `out` empty.
  bool opt_str(const json& obj, const std::string& path, const char* key, std::optional<std::string>& out) {
    const json* v = member(obj, path, key, false);
    if (!v || v->is_null()) return false;
    std::string s;
    if (!str(obj, path, key, s)) return false;
    out = s;
    return true;
  }

  template <typename Int>
  bool integer(const json& obj, const std::string& path, const char* key, Int& out, long long min, long long max,
               bool required = false) {
    const json* v = member(obj, path, key, required);
    if (!v) return false;
    std::string p = JsonPositions::member(path, key);
    if (!v->is_number_integer()) {
      error(p, "expected an integer, found " + type_name(*v));
      return false;
    }
    long long n = v->get<long long>();
    if (n < min || n > max) {
      error(p, "value " + std::to_string(n) + " out of range [" + std::to_string(min) + ", " + std::to_string(max) +
                   "]");
      return false;
    }
    out = static_cast<Int>(n);
    return true;
  }

  bool boolean(const json& obj, const std::string& path, const char* key, bool& out) {
    const json* v = member(obj, path, key, false);
    if (!v) return false;
    if (!v->is_boolean()) {
      error(JsonPositions::member(path, key), "expected true or false, found " + type_name(*v));
      return false;
    }
    out = v->get<bool>();
    return true;
  }

  // One of `choices`, as a string.
  bool choice(const json& obj, const std::string& path, const char* key, std::initializer_list<std::string_view> choices,
              std::string& out) {
    std::string s;
    if (!str(obj, path, key, s)) return false;
    if (std::find(choices.begin(), choices.end(), s) == choices.end()) {
      std::string list;
      for (std::string_view c : choices) list += (list.empty() ? "" : ", ") + std::string(c);
      error(JsonPositions::member(path, key), "'" + s + "' is not one of: " + list);
      return false;
    }
    out = s;
    return true;
  }

  // An array of strings; each element checked by `each` (which may add errors).
  template <typename Each>
  void str_array(const json& obj, const std::string& path, const char* key, bool required, Each each) {
    const json* v = member(obj, path, key, required);
    if (!v) return;
    std::string p = JsonPositions::member(path, key);
    if (!v->is_array()) {
      error(p, "expected an array, found " + type_name(*v));
      return;
    }
    for (size_t i = 0; i < v->size(); ++i) {
      std::string ep = JsonPositions::element(p, i);
      if (!(*v)[i].is_string()) {
        error(ep, "expected a string, found " + type_name((*v)[i]));
        continue;
      }
      each(ep, (*v)[i].get<std::string>());
    }
  }

  template <typename Each>
  void obj_array(const json& obj, const std::string& path, const char* key, Each each) {
    const json* v = member(obj, path, key, false);
    if (!v) return;
    std::string p = JsonPositions::member(path, key);
    if (!v->is_array()) {
      error(p, "expected an array, found " + type_name(*v));
      return;
    }
    for (size_t i = 0; i < v->size(); ++i) each(JsonPositions::element(p, i), (*v)[i]);
  }

 private:
  const JsonPositions& pos_;
  std::vector<ConfigError>& errors_;
};

bool is_number_string(const std::string& s) {
  if (s.empty()) return false;
  size_t start = s[0] == '+' ? 1 : 0;
  if (start == s.size()) return false;
  return std::all_of(s.begin() + static_cast<long>(start), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || c == '*' || c == '#'; });
}

bool is_sip_uri(const std::string& s) { return s.rfind("sip:", 0) == 0 || s.rfind("sips:", 0) == 0; }

void read_lan(Validator& v, const json& root, Config& c) {
  const json* lan = v.member(root, "", "lan", true);
  if (!lan || !v.object(*lan, "lan", {"listen", "networks", "realm", "outside"})) return;
  v.str_array(*lan, "lan", "listen", true, [&](const std::string& p, const std::string& s) {
    ListenAddress a;
    std::string why;
    if (!parse_listen_address(s, a, why)) return v.error(p, why);
    if (is_wildcard(a.host)) return v.error(p, "bind an explicit LAN address, not the wildcard");
    if (a.transport == "tls") return v.error(p, "TLS towards phones is not supported yet; use udp or tcp");
    // One LAN agent binds one address:port (UDP and TCP on it); more would need a second agent.
    if (!c.lan.listen.empty() && (a.host != c.lan.listen[0].host || a.port != c.lan.listen[0].port)) {
      return v.error(p, "all lan.listen entries must share one address and port (" + c.lan.listen[0].host + ":" +
                            std::to_string(c.lan.listen[0].port) + ")");
    }
    c.lan.listen.push_back(a);
  });
  if (c.lan.listen.empty() && lan->contains("listen") && lan->at("listen").is_array() && lan->at("listen").empty()) {
    v.error("lan.listen", "needs at least one address");
  }
  v.str_array(*lan, "lan", "networks", true, [&](const std::string& p, const std::string& s) {
    Network n;
    if (!parse_network(s, n)) return v.error(p, "'" + s + "' is not a network like 192.168.1.0/24");
    c.lan.networks.push_back(n);
  });
  v.str(*lan, "lan", "realm", c.lan.realm);
  std::string outside;
  if (v.choice(*lan, "lan", "outside", {"reject", "drop"}, outside)) {
    c.lan.outside = outside == "drop" ? OutsidePolicy::drop : OutsidePolicy::reject;
  }
}

void read_wan(Validator& v, const json& root, Config& c) {
  const json* wan = v.member(root, "", "wan", false);
  if (!wan || !v.object(*wan, "wan", {"address", "port", "public_address", "interface", "dscp_sip", "dscp_rtp",
                                                 "tls_port", "tls_ca_dir", "resolv_conf"})) {
    return;
  }
  if (v.str(*wan, "wan", "address", c.wan.address, true)) {
    if (is_wildcard(c.wan.address)) {
      v.error("wan.address", "bind an explicit WAN address, not the wildcard: on a router MASQUERADE would remap "
                             "the source port of a wildcard-bound socket");
    } else if (!is_ip_literal(c.wan.address)) {
      v.error("wan.address", "'" + c.wan.address + "' is not an IP address");
    }
  }
  v.integer(*wan, "wan", "port", c.wan.port, 1, 65535);
  if (v.opt_str(*wan, "wan", "public_address", c.wan.public_address) && !is_ip_literal(*c.wan.public_address)) {
    v.error("wan.public_address", "'" + *c.wan.public_address + "' is not an IP address");
  }
  v.opt_str(*wan, "wan", "interface", c.wan.interface);
  v.integer(*wan, "wan", "dscp_sip", c.wan.dscp_sip, -1, 63);
  v.integer(*wan, "wan", "dscp_rtp", c.wan.dscp_rtp, -1, 63);
  v.integer(*wan, "wan", "tls_port", c.wan.tls_port, 1, 65535);
  v.str(*wan, "wan", "tls_ca_dir", c.wan.tls_ca_dir);
  v.str(*wan, "wan", "resolv_conf", c.wan.resolv_conf);
}

void read_registrar(Validator& v, const json& root, Config& c) {
  const json* r = v.member(root, "", "registrar", false);
  if (!r || !v.object(*r, "registrar", {"min_expires", "max_expires", "default_expires", "qualify_interval",
                                        "nonce_lifetime", "block_after_failures", "block_window", "block_duration", "sha256"})) {
    return;
  }
  auto& g = c.registrar;
  v.integer(*r, "registrar", "min_expires", g.min_expires, 10, 86400);
  v.integer(*r, "registrar", "max_expires", g.max_expires, 10, 604800);
  v.integer(*r, "registrar", "default_expires", g.default_expires, 10, 604800);
  v.integer(*r, "registrar", "qualify_interval", g.qualify_interval, 0, 3600);
  v.integer(*r, "registrar", "nonce_lifetime", g.nonce_lifetime, 10, 86400);
  v.integer(*r, "registrar", "block_after_failures", g.block_after_failures, 1, 1000);
  v.integer(*r, "registrar", "block_window", g.block_window, 1, 86400);
  v.integer(*r, "registrar", "block_duration", g.block_duration, 0, 604800);
  v.boolean(*r, "registrar", "sha256", g.sha256);
  if (g.min_expires > g.max_expires) v.error("registrar.min_expires", "is larger than registrar.max_expires");
  if (g.default_expires < g.min_expires || g.default_expires > g.max_expires) {
    v.error("registrar.default_expires", "must lie between min_expires and max_expires");
  }
}

void read_extensions(Validator& v, const json& root, Config& c) {
  std::map<std::string, std::string> seen;  // number -> path of first
  v.obj_array(root, "", "extensions", [&](const std::string& p, const json& e) {
    if (!v.object(e, p, {"number", "name", "password", "ha1", "outbound", "max_calls", "outgoing_number", "clir"})) {
      return;
    }
    Extension x;
    if (v.str(e, p, "number", x.number, true)) {
      if (!std::all_of(x.number.begin(), x.number.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
        v.error(JsonPositions::member(p, "number"), "extension numbers are digits only");
      } else if (auto [it, fresh] = seen.emplace(x.number, p); !fresh) {
        v.error(JsonPositions::member(p, "number"), "duplicate extension number '" + x.number + "' (first at " +
                                                        it->second + ")");
      }
    }
    v.str(e, p, "name", x.name, false, true);
    v.opt_str(e, p, "password", x.password);
    v.opt_str(e, p, "ha1", x.ha1);
    if (x.password && x.ha1) v.error(p, "give either 'password' or 'ha1', not both");
    if (!x.password && !x.ha1) v.error(p, "needs a 'password' or an 'ha1'");
    if (x.ha1 && (x.ha1->size() != 32 || !std::all_of(x.ha1->begin(), x.ha1->end(), [](char ch) {
                    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
                  }))) {
      v.error(JsonPositions::member(p, "ha1"), "must be 32 hex digits: MD5(number:realm:password)");
    }
    v.boolean(e, p, "outbound", x.outbound);
    v.integer(e, p, "max_calls", x.max_calls, 0, 10000);
    if (v.opt_str(e, p, "outgoing_number", x.outgoing_number) && !is_number_string(*x.outgoing_number)) {
      v.error(JsonPositions::member(p, "outgoing_number"), "expected a phone number like +4930123456");
    }
    v.boolean(e, p, "clir", x.clir);
    c.extensions.push_back(std::move(x));
  });
}

void read_trunks(Validator& v, const json& root, Config& c) {
  std::map<std::string, std::string> names, numbers;
  v.obj_array(root, "", "trunks", [&](const std::string& p, const json& t) {
    if (!v.object(t, p, {"name", "enabled", "registrar", "outbound_proxy", "domain", "transport", "username",
                         "auth_username", "password", "expires", "register", "keepalive", "numbers",
                         "allowed_sources", "retry", "backup_servers"})) {
      return;
    }
    Trunk x;
    if (v.str(t, p, "name", x.name, true)) {
      bool plain = std::all_of(x.name.begin(), x.name.end(),
                               [](char ch) { return std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_'; });
      if (!plain) v.error(JsonPositions::member(p, "name"), "use letters, digits, '-' and '_' only");
      if (auto [it, fresh] = names.emplace(x.name, p); !fresh) {
        v.error(JsonPositions::member(p, "name"), "duplicate trunk name '" + x.name + "' (first at " + it->second + ")");
      }
    }
    v.boolean(t, p, "enabled", x.enabled);
    if (v.str(t, p, "registrar", x.registrar, true) && !is_sip_uri(x.registrar)) {
      v.error(JsonPositions::member(p, "registrar"), "expected a SIP URI like sip:sip.example.net");
    }
    if (v.opt_str(t, p, "outbound_proxy", x.outbound_proxy) && !is_sip_uri(*x.outbound_proxy)) {
      v.error(JsonPositions::member(p, "outbound_proxy"), "expected a SIP URI like sip:proxy.example.net:5060");
    }
    v.str_array(t, p, "backup_servers", false, [&](const std::string& ep, const std::string& s) {
      if (!is_sip_uri(s)) return v.error(ep, "expected a SIP URI like sip:sip2.example.net:5060");
      x.backup_servers.push_back(s);
    });
    v.opt_str(t, p, "domain", x.domain);
    std::string transport;
    if (v.choice(t, p, "transport", {"udp", "tcp", "tls"}, transport)) {
      x.transport = transport == "tcp" ? Transport::tcp : transport == "tls" ? Transport::tls : Transport::udp;
    }
    v.str(t, p, "username", x.username, true);
    v.opt_str(t, p, "auth_username", x.auth_username);
    v.str(t, p, "password", x.password, false, true);
    v.integer(t, p, "expires", x.expires, 60, 86400);
    v.boolean(t, p, "register", x.register_enabled);
    if (const json* k = v.member(t, p, "keepalive", false)) {
      std::string kp = JsonPositions::member(p, "keepalive");
      if (v.object(*k, kp, {"method", "interval"})) {
        std::string method;
        if (v.choice(*k, kp, "method", {"crlf", "options", "off"}, method)) {
          x.keepalive.method = method == "options" ? KeepaliveMethod::options
                               : method == "off"   ? KeepaliveMethod::off
                                                   : KeepaliveMethod::crlf;
        }
        v.integer(*k, kp, "interval", x.keepalive.interval, 5, 3600);
      }
    }
    v.str_array(t, p, "numbers", false, [&](const std::string& ep, const std::string& s) {
      if (!is_number_string(s)) return v.error(ep, "expected a phone number like +4930123456");
      if (auto [it, fresh] = numbers.emplace(s, ep); !fresh) {
        return v.error(ep, "number '" + s + "' already belongs to " + it->second);
      }
      x.numbers.push_back(s);
    });
    v.str_array(t, p, "allowed_sources", false, [&](const std::string& ep, const std::string& s) {
      Network n;
      if (!parse_network(s, n)) return v.error(ep, "'" + s + "' is not a network like 198.51.100.0/24");
      x.allowed_sources.push_back(n);
    });
    if (const json* r = v.member(t, p, "retry", false)) {
      std::string rp = JsonPositions::member(p, "retry");
      if (v.object(*r, rp, {"auth_failed", "max_backoff"})) {
        v.integer(*r, rp, "auth_failed", x.retry_auth_failed, 30, 86400);
        v.integer(*r, rp, "max_backoff", x.retry_max_backoff, 10, 86400);
      }
    }
    c.trunks.push_back(std::move(x));
  });
}

void read_routing(Validator& v, const json& root, Config& c) {
  const json* r = v.member(root, "", "routing", false);
  if (!r || !v.object(*r, "routing", {"inbound", "outbound", "emergency"})) return;
  std::set<std::string> dids;
  v.obj_array(*r, "routing", "inbound", [&](const std::string& p, const json& e) {
    if (!v.object(e, p, {"number", "ring", "timeout", "fallback"})) return;
    InboundRoute x;
    if (v.str(e, p, "number", x.number, true) && !dids.insert(x.number).second) {
      v.error(JsonPositions::member(p, "number"), "a route for '" + x.number + "' already exists");
    }
    v.str_array(e, p, "ring", true, [&](const std::string&, const std::string& s) { x.ring.push_back(s); });
    v.integer(e, p, "timeout", x.timeout, 5, 600);
    v.opt_str(e, p, "fallback", x.fallback);
    c.routing.inbound.push_back(std::move(x));
  });
  v.obj_array(*r, "routing", "outbound", [&](const std::string& p, const json& e) {
    if (!v.object(e, p, {"prefix", "trunk", "strip", "add"})) return;
    OutboundRoute x;
    v.str(e, p, "prefix", x.prefix, false, true);
    v.str(e, p, "trunk", x.trunk, true);
    v.integer(e, p, "strip", x.strip, 0, 32);
    v.str(e, p, "add", x.add, false, true);
    c.routing.outbound.push_back(std::move(x));
  });
  v.str_array(*r, "routing", "emergency", false, [&](const std::string& p, const std::string& s) {
    if (!is_number_string(s)) return v.error(p, "expected a number like 112");
    c.routing.emergency.push_back(s);
  });
}

void read_media(Validator& v, const json& root, Config& c) {
  const json* m = v.member(root, "", "media", false);
  if (!m || !v.object(*m, "media", {"ports", "timeout", "hold_timeout", "workers"})) return;
  if (const json* ports = v.member(*m, "media", "ports", false)) {
    if (!ports->is_array() || ports->size() != 2 || !(*ports)[0].is_number_integer() ||
        !(*ports)[1].is_number_integer()) {
      v.error("media.ports", "expected [first, last], two port numbers");
    } else {
      long long lo = (*ports)[0].get<long long>(), hi = (*ports)[1].get<long long>();
      if (lo < 1024 || hi > 65535 || lo >= hi) {
        v.error("media.ports", "expected 1024 <= first < last <= 65535");
      } else if (hi - lo + 1 < 4) {
        v.error("media.ports", "the range holds fewer than two RTP/RTCP port pairs");
      } else {
        c.media.port_min = static_cast<uint16_t>(lo);
        c.media.port_max = static_cast<uint16_t>(hi);
      }
    }
  }
  v.integer(*m, "media", "timeout", c.media.timeout, 5, 86400);
  v.integer(*m, "media", "hold_timeout", c.media.hold_timeout, 5, 86400);
  v.integer(*m, "media", "workers", c.media.workers, 0, 256);
}

void read_small_sections(Validator& v, const json& root, Config& c, const std::string& config_dir) {
  if (const json* k = v.member(root, "", "calls", false); k && v.object(*k, "calls", {"max_concurrent", "direct_media_internal"})) {
    v.integer(*k, "calls", "max_concurrent", c.calls.max_concurrent, 1, 100000);
    v.boolean(*k, "calls", "direct_media_internal", c.calls.direct_media_internal);
  }
  c.storage.path = "/var/lib/b2bua/b2bua.db";
  if (const json* s = v.member(root, "", "storage", false); s && v.object(*s, "storage", {"path"})) {
    v.str(*s, "storage", "path", c.storage.path);
  }
  // Relative to the config file, so the shipped default runs from a checkout without root.
  std::filesystem::path sp(c.storage.path);
  if (sp.is_relative()) c.storage.path = (std::filesystem::path(config_dir) / sp).lexically_normal().string();

  if (const json* s = v.member(root, "", "status", false); s && v.object(*s, "status", {"listen", "allow_remote", "token"})) {
    v.str(*s, "status", "listen", c.status.listen);
    v.boolean(*s, "status", "allow_remote", c.status.allow_remote);
    v.opt_str(*s, "status", "token", c.status.token);
  }
  std::string host;
  uint16_t port = 0;
  if (!split_host_port(c.status.listen, host, port) || !is_ip_literal(host)) {
    v.error("status.listen", "expected address:port like 127.0.0.1:8088");
  } else if (!is_loopback(host)) {
    if (!c.status.allow_remote) {
      v.error("status.listen", "'" + host + "' is not a loopback address; set status.allow_remote to true to expose "
                                            "the status endpoint (then status.token is required)");
    } else if (!c.status.token || c.status.token->size() < 16) {
      v.error("status.token", "a status endpoint on a non-loopback address needs a token of at least 16 characters");
    }
  }
  if (const json* l = v.member(root, "", "log", false); l && v.object(*l, "log", {"level"})) {
    std::string level;
    if (v.choice(*l, "log", "level", {"debug", "info", "warn", "error"}, level)) {
      c.log.level = level == "debug" ? LogLevel::debug
                    : level == "warn" ? LogLevel::warn
                    : level == "error" ? LogLevel::error
                                       : LogLevel::info;
    }
  }
}

// Relations between sections: every name a section refers to must exist.
void cross_check(Validator& v, Config& c) {
  for (size_t i = 0; i < c.routing.outbound.size(); ++i) {
    const auto& r = c.routing.outbound[i];
    if (!r.trunk.empty() && !c.find_trunk(r.trunk)) {
      v.error("routing.outbound[" + std::to_string(i) + "].trunk", "route to unknown trunk '" + r.trunk + "'");
    }
  }
  for (size_t i = 0; i < c.routing.inbound.size(); ++i) {
    const auto& r = c.routing.inbound[i];
    std::string p = "routing.inbound[" + std::to_string(i) + "]";
    for (size_t j = 0; j < r.ring.size(); ++j) {
      if (!c.find_extension(r.ring[j])) {
        v.error(p + ".ring[" + std::to_string(j) + "]", "unknown extension '" + r.ring[j] + "'");
      }
    }
    if (r.fallback && !c.find_extension(*r.fallback)) {
      v.error(p + ".fallback", "unknown extension '" + *r.fallback + "'");
    }
  }
  bool trunk_enabled = std::any_of(c.trunks.begin(), c.trunks.end(), [](const Trunk& t) { return t.enabled; });
  if (trunk_enabled && c.wan.address.empty()) {
    v.error("wan", "an enabled trunk needs wan.address (the address trunk sockets bind to)");
  }
  if (c.any_tls_trunk()) {
    // Checked here rather than at the first handshake: sofia would start without a CA store
    // and every TLS registration would then fail as "certificate not trusted".
    std::error_code ec;
    if (!std::filesystem::is_directory(c.wan.tls_ca_dir, ec)) {
      v.error("wan.tls_ca_dir", "'" + c.wan.tls_ca_dir + "' is not a directory; TLS trunks verify the provider's "
                                "certificate against the CAs there (install ca-certificates for /etc/ssl/certs)");
    }
  }
  for (size_t i = 0; i < c.trunks.size(); ++i) {
    if (c.trunks[i].enabled && c.trunks[i].register_enabled && c.trunks[i].password.empty()) {
      v.error("trunks[" + std::to_string(i) + "].password", "a registering trunk needs a password");
    }
  }
  for (const auto& l : c.lan.listen) {
    if (!c.wan.address.empty() && l.host == c.wan.address && l.port == c.wan.port) {
      v.error("wan.port", "the WAN agent would share " + l.host + ":" + std::to_string(l.port) +
                              " with lan.listen; use another port or address");
    }
  }
}

bool holds_secrets(const Config& c) {
  return !c.trunks.empty() || c.status.token ||
         std::any_of(c.extensions.begin(), c.extensions.end(), [](const Extension& e) { return e.password || e.ha1; });
}

}  // namespace

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
  if (v.object(root, "", {"lan", "wan", "registrar", "extensions", "trunks", "routing", "media", "calls", "storage",
                          "status", "log"})) {
    std::string dir = std::filesystem::path(path).parent_path().string();
    if (dir.empty()) dir = ".";
    read_lan(v, root, *config);
    read_wan(v, root, *config);
    read_registrar(v, root, *config);
    read_extensions(v, root, *config);
    read_trunks(v, root, *config);
    read_routing(v, root, *config);
    read_media(v, root, *config);
    read_small_sections(v, root, *config, dir);
    cross_check(v, *config);
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
