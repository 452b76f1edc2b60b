#include "b2bua/status/health.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "b2bua/status/health_media.h"
#include "b2bua/status/health_phones.h"
#include "b2bua/status/health_trunk.h"
#include "b2bua/status/keepalive_finding.h"
#include "b2bua/status/nat_path.h"
#include "b2bua/status/snapshot_reader.h"
#include "b2bua/trunk/host_port.h"
#include "b2bua/trunk/trunk_state.h"

namespace b2bua::status {
namespace {

using nlohmann::json;

// A recent call's one-way audio is worth a warning for a day; older ones are history.
constexpr int64_t kRecentCallWindowS = 24 * 3600;

bool is_false(const json& j, const char* key) { return j.is_object() && j.contains(key) && j[key] == false; }
bool is_true(const json& j, const char* key) { return j.is_object() && j.contains(key) && j[key] == true; }

// "2026-12-07 14:05 UTC": the daemon and the reader may sit in different time zones.
std::string utc(int64_t unix_s) { return time_text(unix_s, true); }

// "last answer 403 Forbidden from 192.0.2.1:5060"; a DNS failure has no status, only a phrase.
std::string last_answer(const json& t) {
  std::string status = number(t, "last_status") ? std::to_string(number(t, "last_status")) : "";
  std::string phrase = text(t, "last_phrase");
  std::string answer = status + (status.empty() || phrase.empty() ? "" : " ") + phrase;
  if (answer.empty()) return "no answer yet";
  std::string server = text(t, "server");
  return "last answer " + answer + (server.empty() ? "" : " from " + server);
}

std::string ip_of(const std::string& host_port) {
  if (!host_port.empty() && host_port.front() == '[') return host_port.substr(1, host_port.find(']') - 1);
  auto colon = host_port.rfind(':');
  return colon == std::string::npos ? host_port : host_port.substr(0, colon);
}

class Rules {
 public:
  Rules(const json& snapshot, const LocalFacts& facts) : s_(snapshot), facts_(facts) {}

  std::vector<Finding> run() {
    for (const auto& t : list(s_, "trunks")) trunk(t);
    for (const auto& e : list(s_, "extensions")) extension(e);
    if (s_.contains("registrar")) {
      for (const auto& l : list(s_["registrar"], "locked_extensions")) lock(l);
      unknown_user_findings(s_["registrar"], facts_.now_s, kRecentCallWindowS, out_);
    }
    for (const auto& c : list(s_, "recent_calls")) recent_call(c);
    if (s_.contains("relay")) media_findings(s_["relay"], out_);
    machine();
    return std::move(out_);
  }

 private:
  void add(std::string id, Verdict v, std::string what, std::string evidence, std::string action = {}) {
    out_.push_back({std::move(id), v, std::move(what), std::move(evidence), std::move(action)});
  }

  void trunk(const json& t) {
    const std::string name = text(t, "name");
    const std::string id = "trunk." + name;
    const std::string state = text(t, "state");
    const std::string answer = last_answer(t);
    if (is_false(t, "enabled") || state == "disabled") {
      add(id + ".registration", Verdict::ok, "trunk " + name + " is switched off", "enabled: false in the config");
      return;
    }
    if (state == "registered") {
      add(id + ".registration", Verdict::ok, "trunk " + name + " is registered with its provider",
          "registered until " + utc(number(t, "registered_until")) + "; " + answer);
    } else if (state == "unregistered" || is_false(t, "register")) {
      add(id + ".registration", Verdict::ok, "trunk " + name + " does not register: the provider knows b2bua by its address",
          "register: false in the config");
    } else if (auto failure = state == "auth_failed" || state == "backoff" || state == "registering"
                                  ? registration_failure(t)
                                  : std::nullopt) {
      // What the provider actually answered (health_trunk.h); the rules below are for a
      // snapshot without the exchange.
      out_.push_back(std::move(*failure));
    } else if (state == "auth_failed") {
      add(id + ".registration", Verdict::problem, "the provider refuses the credentials of trunk " + name,
          answer + "; state auth_failed",
          "check the username (" + text(t, "username") + ") and password of trunk " + name +
              " against the provider's data, then reload b2bua");
    } else if (state == "backoff" || state == "registering") {
      const int64_t code = number(t, "last_status");
      const bool silent = code == 0 || code == 408 || code == 503;
      const Verdict v = state == "backoff" ? Verdict::problem : Verdict::warning;
      if (silent) {
        add(id + ".registration", v, "the provider of trunk " + name + " does not answer", answer + "; state " + state,
            "check DNS and the network: can this router reach " + text(t, "registrar") + "?");
      } else {
        add(id + ".registration", v, "the provider of trunk " + name + " does not accept the registration",
            answer + "; state " + state, "ask the provider what " + std::to_string(code) + " means for this account");
      }
    } else if (!state.empty()) {
      add(id + ".registration", Verdict::warning, "trunk " + name + " is not registered", "state " + state + "; " + answer);
    }
    if (is_true(t, "alg_detected")) {
      add(id + ".alg", Verdict::warning, "a SIP ALG (the router's SIP helper) rewrites b2bua's messages to trunk " + name,
          "the provider saw a Contact or Via other than the one b2bua sent",
          trunk::kAlgRemedy);
    }
    public_address(t, name, id);
    trunk_path_findings(t, out_);
    if (auto f = keepalive_vs_lifetime(t)) out_.push_back(std::move(*f));
  }

  // Behind a NAT the provider must see our public address in Contact and SDP, or calls in and
  // audio fail; b2bua learns it from the provider's answers.
  void public_address(const json& t, const std::string& name, const std::string& id) {
    if (!t.contains("public_address") || is_false(t, "register")) return;
    const std::string pub = text(t, "public_address");
    if (pub.empty()) {
      // Until the trunk registers, its registration finding says why nothing is known yet.
      if (text(t, "state") != "registered") return;
      const std::string contact = text(t, "contact");
      if (contact.find(trunk::kUnknownPublicHost) == std::string::npos) {
        add(id + ".public_address", Verdict::ok, "trunk " + name + " reaches b2bua at its own address",
            "the provider named no other address; Contact " + contact);
        return;
      }
      add(id + ".public_address", Verdict::warning, "b2bua does not know its public address towards trunk " + name,
          "Contact " + contact + ": the provider's answers named no received address or port (Via received/rport)",
          "set wan.public_address to the router's public address and forward wan.port to b2bua");
      return;
    }
    const OwnAddresses own = own_addresses(t);
    const bool nat = !own.addresses.empty() &&
                     std::find(own.addresses.begin(), own.addresses.end(), ip_of(pub)) == own.addresses.end();
    add(id + ".public_address", Verdict::ok,
        nat ? "b2bua is behind a NAT towards trunk " + name + "; the provider sees it as " + pub
            : "b2bua is reached directly by trunk " + name + " at " + pub,
        "public address " + pub + (own.said.empty() ? "" : ", " + own.said));
  }

  // The addresses this machine has towards the trunk: wan.interface's, else the route's source
  // towards the trunk's server, else wan.address (wan_addresses.h).
  struct OwnAddresses {
    std::vector<std::string> addresses;
    std::string said;  // for the evidence
  };
  OwnAddresses own_addresses(const json& t) const {
    OwnAddresses own;
    if (!facts_.wan_interface.empty()) {
      own.addresses = facts_.wan_interface_addresses;
      std::string list;
      for (const auto& a : own.addresses) list += (list.empty() ? "" : ", ") + a;
      own.said = "addresses of " + facts_.wan_interface + ": " + (list.empty() ? "none" : list);
      return own;
    }
    const std::string server = ip_of(text(t, "server"));
    if (facts_.route_source && !server.empty()) {
      if (auto src = facts_.route_source(server)) {
        own.addresses.push_back(*src);
        if (!facts_.wan_address.empty() && *src != facts_.wan_address) own.addresses.push_back(facts_.wan_address);
        own.said = "source address towards " + server + ": " + *src;
        return own;
      }
    }
    if (!facts_.wan_address.empty()) {
      own.addresses.push_back(facts_.wan_address);
      own.said = "WAN address " + facts_.wan_address;
    }
    return own;
  }

  void extension(const json& e) {
    const std::string ext = text(e, "number");
    const std::string id = "extension." + ext;
    if (e.contains("bindings")) {
      const json& bindings = list(e, "bindings");
      if (bindings.empty()) {
        add(id + ".phones", Verdict::warning, "no phone is registered on extension " + ext + ": nobody can ring here",
            "0 registered phones",
            "set up a phone with user " + ext + " and its password, registering to b2bua's LAN address");
      } else {
        add(id + ".phones", Verdict::ok,
            std::to_string(bindings.size()) + " phone" + (bindings.size() == 1 ? " is" : "s are") +
                " registered on extension " + ext,
            joined_contacts(bindings));
      }
      for (const auto& b : bindings) {
        if (!is_false(b, "answering_options")) continue;
        add(id + ".qualify", Verdict::warning, "a phone on extension " + ext + " stopped answering b2bua's OPTIONS",
            "phone " + text(b, "user_agent") + " at " + text(b, "source") + " (" + text(b, "contact") +
                "), registered until " + utc(number(b, "expires_at")),
            "check that the phone is on and on the network; b2bua still rings it until its registration ends");
      }
    }
    if (e.contains("limits") && is_true(e["limits"], "blocked")) {
      const json& l = e["limits"];
      const int64_t until = number(l, "blocked_until");
      add(id + ".limits", Verdict::warning, "calls out from extension " + ext + " are blocked by a limit",
          "limit " + text(l, "blocked_by") + " crossed; " + text(l, "calls_last_hour") + " calls in the last hour; blocked " +
              (until ? "until " + utc(until) : "until a reload"),
          "if these calls were not made by its user, change the password of extension " + ext +
              "; otherwise raise limits." + text(l, "blocked_by") + " and reload");
    }
    phone_findings(e, facts_.now_s, kRecentCallWindowS, out_);
  }

  static std::string joined_contacts(const json& bindings) {
    std::string out;
    for (const auto& b : bindings) {
      std::string ua = text(b, "user_agent");
      out += (out.empty() ? "" : "; ") + text(b, "source") + (ua.empty() ? "" : " (" + ua + ")");
    }
    return out;
  }

  // The password guard's lock (registrar/auth_guard.h): `sources` counts distinct addresses.
  void lock(const json& l) {
    const std::string ext = text(l, "ext");
    add("extension." + ext + ".locked", Verdict::problem,
        "logins on extension " + ext + " are refused until " + utc(number(l, "until")) + " after " + text(l, "failures") +
            " failed logins from " + text(l, "sources") + " addresses",
        "locked since " + utc(number(l, "since")) + "; phones already registered keep working",
        "if that was one of your phones, correct its password; if not, someone is guessing: give extension " + ext +
            " a long random password");
  }

  void recent_call(const json& c) {
    const std::string notes = text(c, "notes");
    const auto at = notes.find("one_way=");
    if (at == std::string::npos || (at > 0 && notes[at - 1] != ' ')) return;
    const int64_t end_s = number(c, "end_ms") / 1000;
    if (facts_.now_s && end_s && facts_.now_s - end_s > kRecentCallWindowS) return;
    std::string value = notes.substr(at + 8, notes.find(' ', at) - at - 8);
    const auto colon = value.find(':');
    const std::string side = value.substr(0, colon), cause = colon == std::string::npos ? "" : value.substr(colon + 1);
    const std::string who = side == "wan" ? "the provider (trunk " + text(c, "trunk") + ")" : "the phone (extension " + text(c, "extension") + ")";
    add("call." + text(c, "id") + ".one_way", Verdict::warning,
        "one-way audio: nothing was heard from " + who + " in call " + text(c, "call_id"),
        "call " + text(c, "direction") + " " + text(c, "remote_number") + " at " + utc(number(c, "start_ms") / 1000) +
            "; side " + side + ", cause " + cause,
        one_way_action(side, cause));
  }

  static std::string one_way_action(const std::string& side, const std::string& cause) {
    if (cause == "wrong_source") return "the media comes from another address than the SDP names: " +
                                        std::string(side == "wan" ? "ask the provider about its media servers"
                                                                  : "check the phone's NAT or VPN");
    if (cause == "private_address") return "the far end announces a private address: its NAT must rewrite SDP or "
                                           "the far end needs STUN";
    if (cause == "stopped") return "the media stopped mid-call: check the " + std::string(side == "wan" ? "internet link" : "phone's network") +
                                   " and NAT timeouts";
    return side == "wan" ? "check the router's firewall for media.port_min-port_max on the WAN, and switch off any SIP ALG"
                         : "check the phone's network: it sent no audio to b2bua";
  }

  void machine() {
    const LocalFacts& f = facts_;
    if (f.config_mode) {
      if (f.config_holds_secrets && (*f.config_mode & 0004)) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", *f.config_mode & 07777);
        add("config.permissions", Verdict::warning, "the config file holds passwords and every user of this machine can read it",
            f.config_path + " has mode " + mode, "chmod 640 " + f.config_path);
      } else {
        add("config.permissions", Verdict::ok,
            *f.config_mode & 0004 ? "the config file holds no password, so other users may read it"
                                  : "the config file is not readable by other users",
            f.config_path);
      }
    }
    for (const auto& w : f.weak_secrets) {
      add("secret." + w.kind + "." + w.name, Verdict::problem, "the password of " + w.kind + " " + w.name + " is easy to guess",
          "the password " + w.reason,
          w.kind == "trunk" ? "ask the provider for a longer password for trunk " + w.name + " and put it in the config"
                            : "give extension " + w.name + " a password of 12 or more random characters, in the config "
                                                           "and on its phone");
    }
    if (!f.database_path.empty()) {
      if (f.database_unwritable) {
        add("storage.writable", Verdict::problem, "b2bua cannot write its database: registrations and call records are lost",
            f.database_path + ": " + *f.database_unwritable,
            "give the b2bua user write access to " + f.database_path + " and its folder, or free space there");
      } else {
        add("storage.writable", Verdict::ok, "the database can be written", f.database_path);
      }
    }
    if (f.built_s > 0 && f.now_s > 0) {
      if (f.now_s < f.built_s) {
        add("clock", Verdict::problem, "the system clock is wrong: it is earlier than the day this b2bua was built",
            "system time " + utc(f.now_s) + ", built " + utc(f.built_s),
            "set the clock: switch on time synchronisation (NTP) on this machine");
      } else {
        add("clock", Verdict::ok, "the system clock is plausible", "system time " + utc(f.now_s));
      }
    }
  }

  const json& s_;
  const LocalFacts& facts_;
  std::vector<Finding> out_;
};

}  // namespace

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::ok: return "ok";
    case Verdict::warning: return "warning";
    case Verdict::problem: return "problem";
  }
  return "ok";
}

std::vector<Finding> diagnose(const json& snapshot, const LocalFacts& facts) { return Rules(snapshot, facts).run(); }

// Two NATs in a row (a provider's modem routing in front of the home router, or a carrier-grade
// NAT) still work with b2bua's keep-alives, but every inbound packet must find a live mapping in
// both, port forwarding and UPnP reach only the inner one, and the shorter timeout of the two
// sets the keep-alive: worth a warning, with the device to change named.
Finding nat_layout_finding(const NatLayout& l) {
  std::string path;
  for (const auto& hop : l.path.hops) {
    path += (path.empty() ? "" : ", ") + (hop.address.empty() ? std::string("*") : hop.address) +
            (hop.destination ? " (the provider)" : hop.address.empty() ? " (no answer)"
                                                 : trunk::is_private_ip(hop.address) ? " (private)" : " (public)");
  }
  std::string evidence = "WAN address " + l.wan_address + (l.wan_private ? " (private)" : " (not private)");
  if (!l.public_address.empty() && l.public_address != l.wan_address) {
    evidence += ", the provider sees " + l.public_address;
  }
  evidence += path.empty() ? "; path not probed: " + l.path.error
                           : "; path to " + l.path.target + ": " + path + " (" + std::to_string(l.private_hops) +
                                 " private router" + (l.private_hops == 1 ? "" : "s") + " before the first public one)";
  std::string outer;
  for (const auto& hop : l.path.hops) {
    if (!hop.address.empty() && trunk::is_private_ip(hop.address)) outer = hop.address;
  }
  if (l.carrier_nat) {
    return {"network.nat", Verdict::warning,
            "the provider's carrier-grade NAT (100.64.0.0/10) sits in front of " +
                std::string(l.on_router ? "this router: the phones are behind a double NAT"
                                        : "b2bua: it is behind a double NAT"),
            evidence, "ask the internet provider for a public IPv4 address; until then calls in depend on b2bua's "
                      "keep-alives staying below the carrier NAT's timeout"};
  }
  if (l.double_nat()) {
    const std::string device = outer.empty() ? "the device in front of the router" : "the device at " + outer;
    return {"network.nat", Verdict::warning,
            l.on_router ? "a NAT in front of this router (the provider's modem?): the phones are behind a double NAT"
                        : "b2bua is behind a double NAT: " + std::to_string(l.nats) +
                              " NATs between it and the provider (the home router and one in front of it)",
            evidence,
            "switch " + device + " to bridge mode, or make " + (l.on_router ? "this router" : "the home router") +
                " its exposed host, so that one NAT remains"};
  }
  if (l.nats == 0) {
    return {"network.nat", Verdict::ok,
            l.on_router ? "b2bua runs on the router, whose WAN address is not private: one NAT for the phones, none "
                          "in front"
                        : "no NAT between b2bua and the provider: its WAN address is not private",
            evidence, ""};
  }
  return {"network.nat", Verdict::ok, "b2bua is behind one NAT towards the provider", evidence, ""};
}

json to_json(const std::vector<Finding>& findings) {
  json out = json::array();
  for (const auto& f : findings) {
    out.push_back({{"id", f.id}, {"verdict", verdict_name(f.verdict)}, {"what", f.what}, {"evidence", f.evidence},
                   {"action", f.action}});
  }
  return out;
}

}  // namespace b2bua::status
