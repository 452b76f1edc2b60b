#include "b2bua/config/config_sections.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <filesystem>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

#include "b2bua/common/destination_class.h"
#include "b2bua/common/phone_number.h"
#include "b2bua/config/config_loader.h"
#include "b2bua/config/network.h"
#include "media/tones.h"

namespace b2bua::config {
namespace {

using json = nlohmann::json;

bool is_wildcard(const std::string& s) { return s == "0.0.0.0" || s == "::" || s == "[::]"; }

bool is_number_string(const std::string& s) { return number::is_dialable(s); }

constexpr size_t kMinSecretLength = 10;

bool is_sip_uri(const std::string& s) { return s.rfind("sip:", 0) == 0 || s.rfind("sips:", 0) == 0; }

// The keys of extensions[].forward that name a target, and where each lands.
constexpr std::array<std::pair<const char*, std::optional<std::string> Forwarding::*>, 4> kForwardTargets = {{
    {"always", &Forwarding::always},
    {"busy", &Forwarding::busy},
    {"no_answer", &Forwarding::no_answer},
    {"unregistered", &Forwarding::unregistered},
}};

void read_lan(Validator& v, const json& root, Config& c) {
  const json* lan = v.member(root, "", "lan", true);
  if (!lan || !v.object(*lan, "lan", {"listen", "networks", "realm", "outside", "flood_per_source", "flood_total"})) return;
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
  v.integer(*lan, "lan", "flood_per_source", c.lan.flood_per_source, 0, 100000);
  v.integer(*lan, "lan", "flood_total", c.lan.flood_total, 0, 1000000);
}

void read_wan(Validator& v, const json& root, Config& c) {
  const json* wan = v.member(root, "", "wan", false);
  if (!wan || !v.object(*wan, "wan", {"address", "port", "public_address", "interface", "dscp_sip", "dscp_rtp",
                                                 "tls_port", "tls_ca_dir", "resolv_conf", "strangers", "stun"})) {
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
  std::string strangers;
  if (v.choice(*wan, "wan", "strangers", {"drop", "reject"}, strangers)) {
    c.wan.strangers = strangers == "reject" ? OutsidePolicy::reject : OutsidePolicy::drop;
  }
  std::optional<std::string> stun;
  if (v.opt_str(*wan, "wan", "stun", stun)) {
    // 3478: the STUN port of RFC 8489 section 9.
    c.wan.stun = parse_host_port(*stun, 3478);
    if (!c.wan.stun) v.error("wan.stun", "'" + *stun + "' is not a host:port like stun.example.net:3478");
  }
}

void read_registrar(Validator& v, const json& root, Config& c) {
  const json* r = v.member(root, "", "registrar", false);
  if (!r || !v.object(*r, "registrar", {"min_expires", "max_expires", "default_expires", "qualify_interval",
                                        "nonce_lifetime", "block_after_failures", "block_window", "block_duration",
                                        "lock_after_failures", "lock_min_sources", "lock_window", "lock_duration",
                                        "sha256"})) {
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
  v.integer(*r, "registrar", "lock_after_failures", g.lock_after_failures, 1, 1000);
  v.integer(*r, "registrar", "lock_min_sources", g.lock_min_sources, 1, 1000);
  v.integer(*r, "registrar", "lock_window", g.lock_window, 1, 86400);
  v.integer(*r, "registrar", "lock_duration", g.lock_duration, 0, 604800);
  v.boolean(*r, "registrar", "sha256", g.sha256);
  if (g.min_expires > g.max_expires) v.error("registrar.min_expires", "is larger than registrar.max_expires");
  if (g.default_expires < g.min_expires || g.default_expires > g.max_expires) {
    v.error("registrar.default_expires", "must lie between min_expires and max_expires");
  }
  // Each failure comes from one address: more addresses than failures could never lock.
  if (g.lock_min_sources > g.lock_after_failures) {
    v.error("registrar.lock_min_sources", "is larger than registrar.lock_after_failures");
  }
}

// The keys limits and extensions[].limits share; whatever is absent keeps `out`'s value.
void read_extension_limits(Validator& v, const json& obj, const std::string& path, ExtensionLimits& out) {
  v.integer(obj, path, "calls_per_hour", out.calls_per_hour, 0, 100000);
  v.integer(obj, path, "concurrent_external", out.concurrent_external, 0, 10000);
  v.integer(obj, path, "max_duration_s", out.max_duration_s, 0, 604800);
}

// Read before the extensions: its values are every extension's defaults.
void read_limits(Validator& v, const json& root, Config& c) {
  const json* l = v.member(root, "", "limits", false);
  if (!l || !v.object(*l, "limits", {"calls_per_hour", "concurrent_external", "max_duration_s", "cooldown_s"})) return;
  read_extension_limits(v, *l, "limits", c.limits.defaults);
  v.integer(*l, "limits", "cooldown_s", c.limits.cooldown_s, 0, 604800);
}

// extensions[].forward: each target an extension number or an external number (both dialable
// strings: the call is routed like one the extension dialled); null or absent: off.
void read_forward(Validator& v, const json& e, const std::string& p, Forwarding& f) {
  const json* fw = v.member(e, p, "forward", false);
  if (!fw) return;
  std::string fp = JsonPositions::member(p, "forward");
  if (!v.object(*fw, fp, {"always", "busy", "no_answer", "unregistered", "no_answer_after"})) return;
  for (const auto& [key, target] : kForwardTargets) {
    if (v.opt_str(*fw, fp, key, f.*target) && !is_number_string(*(f.*target))) {
      v.error(JsonPositions::member(fp, key), "expected an extension or a phone number");
    }
  }
  v.integer(*fw, fp, "no_answer_after", f.no_answer_after, 5, 300);
}

// routing.block and routing.inbound[].block: the callers refused before anything rings.
void read_block(Validator& v, const json& parent, const std::string& path, BlockList& b) {
  const json* j = v.member(parent, path, "block", false);
  if (!j) return;
  std::string bp = JsonPositions::member(path, "block");
  if (!v.object(*j, bp, {"numbers", "prefixes", "anonymous", "answer"})) return;
  v.str_array(*j, bp, "numbers", false, [&](const std::string& ep, const std::string& s) {
    if (!is_number_string(s)) return v.error(ep, "expected a phone number like +4930123456");
    b.numbers.push_back(s);
  });
  v.str_array(*j, bp, "prefixes", false, [&](const std::string& ep, const std::string& s) {
    if (!is_number_string(s)) return v.error(ep, "expected a prefix like 0900 or +44");
    b.prefixes.push_back(s);
  });
  v.boolean(*j, bp, "anonymous", b.anonymous);
  // 603 tells the caller this callee will not take the call (RFC 3261 21.6.2); 486 looks like
  // an ordinary busy line (21.4.24), for callers better left guessing.
  using limits = std::numeric_limits<long long>;
  long long answer = b.answer;
  if (v.integer(*j, bp, "answer", answer, limits::min(), limits::max())) {
    if (answer != 603 && answer != 486) {
      v.error(JsonPositions::member(bp, "answer"), "expected 603 (Decline) or 486 (Busy Here)");
    } else {
      b.answer = static_cast<int>(answer);
    }
  }
}

// extensions[].allow: class names; absent keeps the default list.
void read_allow(Validator& v, const json& e, const std::string& p, Extension& x) {
  if (!e.contains("allow")) return;
  x.allow.clear();
  v.str_array(e, p, "allow", false, [&](const std::string& ep, const std::string& name) {
    auto cls = number::parse_class(name);
    if (!cls) return v.error(ep, "unknown class '" + name + "'; one of: " + number::class_names());
    x.allow.insert(*cls);
  });
}

void read_extensions(Validator& v, const json& root, Config& c) {
  std::map<std::string, std::string> seen;  // number -> path of first
  v.obj_array(root, "", "extensions", [&](const std::string& p, const json& e) {
    if (!v.object(e, p, {"number", "name", "password", "ha1", "outbound", "max_calls", "outgoing_number", "clir",
                         "allow", "limits", "forward", "dnd", "call_waiting", "voicemail"})) {
      return;
    }
    Extension x;
    x.limits = c.limits.defaults;
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
    read_allow(v, e, p, x);
    if (const json* l = v.member(e, p, "limits", false)) {
      std::string lp = JsonPositions::member(p, "limits");
      if (v.object(*l, lp, {"calls_per_hour", "concurrent_external", "max_duration_s"})) {
        read_extension_limits(v, *l, lp, x.limits);
      }
    }
    read_forward(v, e, p, x.forward);
    v.boolean(e, p, "dnd", x.dnd);
    v.boolean(e, p, "call_waiting", x.call_waiting);
    c.extensions.push_back(std::move(x));
  });
}

// "interval": seconds, or "auto": sized to the NAT's measured UDP timeout (wan.stun). The
// measurement is of a UDP mapping, so a TCP or TLS trunk (whose connection the router keeps
// for hours, and whose pings the transport sends) needs a number.
void read_keepalive_interval(Validator& v, const json& k, const std::string& kp, Trunk& x) {
  const json* i = v.member(k, kp, "interval", false);
  if (!i || !i->is_string()) {
    v.integer(k, kp, "interval", x.keepalive.interval, 5, 3600);
    return;
  }
  std::string ip = JsonPositions::member(kp, "interval");
  if (i->get<std::string>() != "auto") {
    return v.error(ip, "expected a number of seconds (5..3600) or \"auto\", found \"" + i->get<std::string>() + "\"");
  }
  if (x.transport != Transport::udp) {
    return v.error(ip, "\"auto\" measures the NAT's UDP timeout; this trunk uses " +
                           std::string(x.transport == Transport::tcp ? "tcp" : "tls") + ": give a number of seconds");
  }
  if (x.keepalive.method == KeepaliveMethod::off) return v.error(ip, "\"auto\" with method \"off\" sends nothing");
  x.keepalive.automatic = true;
}

void read_trunks(Validator& v, const json& root, Config& c) {
  std::map<std::string, std::string> names, numbers;
  v.obj_array(root, "", "trunks", [&](const std::string& p, const json& t) {
    if (!v.object(t, p, {"name", "enabled", "registrar", "outbound_proxy", "domain", "transport", "username",
                         "auth_username", "password", "expires", "register", "keepalive", "binding_check", "numbers",
                         "allowed_sources", "retry", "backup_servers", "forward_caller_id"})) {
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
        read_keepalive_interval(v, *k, kp, x);
      }
    }
    if (v.integer(t, p, "binding_check", x.binding_check, 0, 3600) && x.binding_check > 0 && x.binding_check < 10) {
      v.error(JsonPositions::member(p, "binding_check"), "use 0 (off) or at least 10 seconds");
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
    std::string caller_id;
    if (v.choice(t, p, "forward_caller_id", {"caller", "trunk"}, caller_id)) {
      x.forward_caller_id = caller_id == "caller" ? Trunk::ForwardCallerId::caller : Trunk::ForwardCallerId::trunk;
    }
    c.trunks.push_back(std::move(x));
  });
}

// routing.country picks the built-in table; routing.classes replaces a class's prefixes. A
// prefix an override names leaves every other class of the table, so the admin's word wins.
void read_classes(Validator& v, const json& r, Config& c) {
  std::string country;
  std::string countries;
  for (std::string_view k : number::kBuiltinCountries) countries += (countries.empty() ? "" : ", ") + std::string(k);
  if (v.str(r, "routing", "country", country)) {
    if (auto table = number::builtin_class_table(country)) {
      c.routing.country = country;
      c.routing.classes = *table;
    } else {
      v.error("routing.country", "no class table for '" + country + "'; one of: " + countries);
    }
  }
  const json* classes = v.member(r, "routing", "classes", false);
  if (!classes) return;
  if (!classes->is_object()) return v.error("routing.classes", "expected an object of class -> [prefixes]");
  std::map<std::string, std::string> owner;  // prefix -> class overriding it
  std::map<number::DestinationClass, std::vector<std::string>> overrides;
  for (const auto& [name, list] : classes->items()) {
    std::string p = JsonPositions::member("routing.classes", name);
    auto cls = number::parse_class(name);
    if (!cls || !number::is_prefix_class(*cls)) {
      v.error(p, "'" + name + "' is not a class defined by prefixes; one of: " + number::class_names(true) +
                     std::string(cls ? " (emergency numbers are routing.emergency, internal ones the extensions)" : ""),
              true);
      continue;
    }
    auto& prefixes = overrides[*cls];
    v.str_array(*classes, "routing.classes", name.c_str(), true, [&](const std::string& ep, const std::string& prefix) {
      if (!is_number_string(prefix) && prefix != "+") return v.error(ep, "expected a prefix like 0900 or +44");
      // Own-country numbers are classed in national form: such a prefix would never match.
      const std::string& cc = c.routing.classes.country_code;
      if (!cc.empty() && (prefix.rfind("+" + cc, 0) == 0 || prefix.rfind("00" + cc, 0) == 0)) {
        return v.error(ep, "numbers of country code " + cc + " are classed in national form; write 0" +
                               prefix.substr(prefix[0] == '+' ? 1 + cc.size() : 2 + cc.size()));
      }
      if (auto [it, fresh] = owner.emplace(prefix, name); !fresh) {
        return v.error(ep, "prefix '" + prefix + "' is already in routing.classes." + it->second);
      }
      prefixes.push_back(prefix);
    });
  }
  auto& table = c.routing.classes.prefixes;
  for (auto& [cls, list] : table) {
    std::erase_if(list, [&](const std::string& prefix) { return owner.count(prefix) > 0; });
  }
  for (auto& [cls, prefixes] : overrides) table[cls] = std::move(prefixes);
}

void read_routing(Validator& v, const json& root, Config& c) {
  const json* r = v.member(root, "", "routing", false);
  if (!r || !v.object(*r, "routing", {"inbound", "outbound", "emergency", "country", "classes", "block"})) return;
  read_classes(v, *r, c);
  read_block(v, *r, "routing", c.routing.block);
  std::set<std::string> dids;
  v.obj_array(*r, "routing", "inbound", [&](const std::string& p, const json& e) {
    if (!v.object(e, p, {"number", "ring", "timeout", "fallback", "block", "voicemail"})) return;
    InboundRoute x;
    if (v.str(e, p, "number", x.number, true) && !dids.insert(x.number).second) {
      v.error(JsonPositions::member(p, "number"), "a route for '" + x.number + "' already exists");
    }
    v.str_array(e, p, "ring", true, [&](const std::string&, const std::string& s) { x.ring.push_back(s); });
    v.integer(e, p, "timeout", x.timeout, 5, 600);
    v.opt_str(e, p, "fallback", x.fallback);
    v.opt_str(e, p, "voicemail", x.voicemail);
    read_block(v, e, p, x.block);
    c.routing.inbound.push_back(std::move(x));
  });
  v.obj_array(*r, "routing", "outbound", [&](const std::string& p, const json& e) {
    if (!v.object(e, p, {"prefix", "trunk", "strip", "add"})) return;
    OutboundRoute x;
    v.str(e, p, "prefix", x.prefix, false, true);
    // "trunk": null is a deny rule; a missing trunk is still a mistake. A list names backups.
    if (const json* t = v.member(e, p, "trunk", true); t && t->is_array()) {
      v.str_array(e, p, "trunk", true, [&](const std::string& ep, const std::string& name) {
        if (std::find(x.trunks.begin(), x.trunks.end(), name) != x.trunks.end()) {
          return v.error(ep, "trunk '" + name + "' is already in this list");
        }
        x.trunks.push_back(name);
      });
      if (t->empty()) v.error(JsonPositions::member(p, "trunk"), "expected at least one trunk (null refuses the calls)");
    } else if (t && !t->is_null()) {
      std::string name;
      if (v.str(e, p, "trunk", name)) x.trunks.push_back(name);
    }
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
  if (const json* k = v.member(root, "", "calls", false); k && v.object(*k, "calls", {"max_concurrent", "direct_media_internal", "tones", "tone_country"})) {
    v.integer(*k, "calls", "max_concurrent", c.calls.max_concurrent, 1, 100000);
    v.boolean(*k, "calls", "direct_media_internal", c.calls.direct_media_internal);
    v.boolean(*k, "calls", "tones", c.calls.tones);
    if (v.str(*k, "calls", "tone_country", c.calls.tone_country) && !media::has_tones(c.calls.tone_country)) {
      v.error("calls.tone_country", "no tones for '" + c.calls.tone_country + "'; one of: " + media::tone_countries());
    }
  }
  c.storage.path = "/var/lib/b2bua/b2bua.db";
  if (const json* s = v.member(root, "", "storage", false);
      s && v.object(*s, "storage", {"path", "call_records_max", "call_records_days"})) {
    v.str(*s, "storage", "path", c.storage.path);
    v.integer(*s, "storage", "call_records_max", c.storage.call_records_max, 100, 10000000);
    v.integer(*s, "storage", "call_records_days", c.storage.call_records_days, 0, 36500);
  }
  // Relative to the config file, so the shipped default runs from a checkout without root.
  std::filesystem::path sp(c.storage.path);
  if (sp.is_relative()) c.storage.path = (std::filesystem::path(config_dir) / sp).lexically_normal().string();

  if (const json* s = v.member(root, "", "status", false); s && v.object(*s, "status", {"listen", "allow_remote", "token", "allowed_hosts"})) {
    v.str(*s, "status", "listen", c.status.listen);
    v.boolean(*s, "status", "allow_remote", c.status.allow_remote);
    v.opt_str(*s, "status", "token", c.status.token);
    v.str_array(*s, "status", "allowed_hosts", false, [&](const std::string& ep, const std::string& name) {
      auto hp = parse_host_port(name, 0);
      if (!hp || hp->port != 0 || name.empty()) return v.error(ep, "expected a host name like router.lan (no port)");
      c.status.allowed_hosts.push_back(name);
    });
  }
  auto status_listen = parse_host_port(c.status.listen);
  if (!status_listen || !is_ip_literal(status_listen->host)) {
    v.error("status.listen", "expected address:port like 127.0.0.1:8088");
  } else if (!is_loopback(status_listen->host)) {
    if (!c.status.allow_remote) {
      v.error("status.listen", "'" + status_listen->host + "' is not a loopback address; set status.allow_remote to true to expose "
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

}  // namespace

// What a guesser tries before anything else: the shipped placeholder, the name itself, and
// anything short.
std::string weak_secret(const std::string& secret, const std::string& name, const char* name_is) {
  std::string lower(secret);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char ch) { return std::tolower(ch); });
  if (lower.rfind("change-me", 0) == 0) return "is still the shipped placeholder 'change-me...'";
  if (!name.empty() && secret == name) return std::string("is ") + name_is;
  if (secret.size() < kMinSecretLength) return "is shorter than " + std::to_string(kMinSecretLength) + " characters";
  return "";
}

namespace {

// Relations between sections: every name a section refers to must exist.

// A password guard slows guessing down, it cannot stop a guess that comes first. Whenever
// anything but this host can reach the LAN side, weak secrets keep the daemon from starting
// (check-config says the same); on loopback only (the shipped default, the tests) they are fine.
void check_secrets(Validator& v, const Config& c) {
  bool exposed = std::any_of(c.lan.listen.begin(), c.lan.listen.end(),
                             [](const ListenAddress& l) { return !is_loopback(l.host); });
  if (!exposed) return;
  const std::string why_it_matters =
      " while lan.listen is reachable from the LAN; set a password of at least " + std::to_string(kMinSecretLength) +
      " characters that is not the number (or an ha1)";
  for (size_t i = 0; i < c.extensions.size(); ++i) {
    const Extension& e = c.extensions[i];
    if (!e.password) continue;
    if (std::string why = weak_secret(*e.password, e.number); !why.empty()) {
      v.error("extensions[" + std::to_string(i) + "].password",
              "the password of extension " + e.number + " " + why + why_it_matters);
    }
  }
  if (c.status.token) {
    if (std::string why = weak_secret(*c.status.token, ""); !why.empty()) {
      v.error("status.token", "the status token " + why + " while lan.listen is reachable from the LAN");
    }
  }
}

void cross_check(Validator& v, Config& c) {
  for (size_t i = 0; i < c.routing.outbound.size(); ++i) {
    const auto& r = c.routing.outbound[i];
    for (size_t k = 0; k < r.trunks.size(); ++k) {
      if (c.find_trunk(r.trunks[k])) continue;
      std::string path = "routing.outbound[" + std::to_string(i) + "].trunk";
      if (r.trunks.size() > 1) path += "[" + std::to_string(k) + "]";
      v.error(path, "route to unknown trunk '" + r.trunks[k] + "'");
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
    if (r.voicemail) {
      const Extension* box = c.find_extension(*r.voicemail);
      if (!box) {
        v.error(p + ".voicemail", "unknown extension '" + *r.voicemail + "'");
      } else if (!box->voicemail.enabled) {
        v.error(p + ".voicemail", "extension " + *r.voicemail + " has no answering machine (extensions[].voicemail)");
      }
    }
  }
  // A call forwarded to the extension it was for would ring it again and again.
  for (size_t i = 0; i < c.extensions.size(); ++i) {
    const Extension& e = c.extensions[i];
    for (const auto& [key, target] : kForwardTargets) {
      if (e.forward.*target == e.number) {
        v.error("extensions[" + std::to_string(i) + "].forward." + key,
                "extension " + e.number + " forwards to itself");
      }
    }
  }
  bool trunk_enabled = std::any_of(c.trunks.begin(), c.trunks.end(), [](const Trunk& t) { return t.enabled; });
  if (trunk_enabled && c.wan.address.empty()) {
    v.error("wan", "an enabled trunk needs wan.address (the address trunk sockets bind to)");
  }
  if (c.any_trunk_on(Transport::tls)) {
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
  check_secrets(v, c);
  for (const auto& l : c.lan.listen) {
    if (!c.wan.address.empty() && l.host == c.wan.address && l.port == c.wan.port) {
      v.error("wan.port", "the WAN agent would share " + HostPort{l.host, l.port}.str() +
                              " with lan.listen; use another port or address");
    }
  }
}

}  // namespace

void read_sections(Validator& v, const json& root, Config& c, const std::string& config_dir) {
  read_lan(v, root, c);
  read_wan(v, root, c);
  read_registrar(v, root, c);
  read_limits(v, root, c);
  read_extensions(v, root, c);
  read_trunks(v, root, c);
  read_routing(v, root, c);
  read_media(v, root, c);
  read_small_sections(v, root, c, config_dir);
  read_voicemail(v, root, c, config_dir);
  cross_check(v, c);
}

}  // namespace b2bua::config
