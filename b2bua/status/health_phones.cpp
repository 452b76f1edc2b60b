#include "b2bua/status/health_phones.h"

#include <nlohmann/json.hpp>

#include "b2bua/config/host_port.h"
#include "b2bua/registrar/binding_table.h"
#include "b2bua/status/snapshot_reader.h"

namespace b2bua::status {
namespace {

using nlohmann::json;

bool recent(const json& f, int64_t now_s, int64_t window_s) { return !now_s || now_s - number(f, "at") <= window_s; }

// What a refusal means, in the words of the person at the phone.
struct Meaning {
  const char* what;
  const char* action;
};
Meaning meaning(const std::string& reason) {
  if (reason == "wrong_password")
    return {"the password did not match (digest mismatch)",
            "enter the extension's password on the phone exactly as in the config (user = the extension's number)"};
  if (reason == "outside_lan")
    return {"the phone's address is outside lan.networks",
            "add the phone's network to lan.networks, or put the phone on the LAN"};
  if (reason == "blocked")
    return {"its address is blocked after repeated failed logins (password guard and flood guard)",
            "correct the phone's password; the block ends by itself after registrar.block_duration seconds"};
  if (reason == "locked")
    return {"the extension is locked after failed logins from several addresses",
            "correct the password on your phones; if the failures were not yours, give the extension a long random "
            "password"};
  if (reason == "other_extension")
    return {"the phone used the credentials of one extension to register another",
            "set the phone's user name and registration user to the same extension number"};
  return {"the registration was refused", "check the phone's account settings"};
}

std::string source_ip(const std::string& host_port) {
  auto hp = config::parse_host_port(host_port, 0);
  return hp ? hp->host : host_port;
}

void second_nat(const json& e, const std::string& ext, std::vector<Finding>& out) {
  for (const auto& b : list(e, "bindings")) {
    const std::string source = text(b, "source");
    const auto from = config::parse_host_port(source, 0);
    const auto named = config::parse_host_port(registrar::contact_host_port(text(b, "contact")), 5060);
    if (!from || !named || !config::is_ip_literal(named->host)) continue;
    // Over TCP/TLS the phone's source port is the connection's, never the Contact's: only the
    // address tells a translation there.
    const bool stream = text(b, "transport") != "udp" && !text(b, "transport").empty();
    if (from->host == named->host && (stream || from->port == named->port)) continue;
    out.push_back({"extension." + ext + ".nat", Verdict::warning,
                   "a phone on extension " + ext + " is behind another NAT: its REGISTER comes from " + source +
                       " but it names " + named->str() + " in its Contact",
                   "phone " + text(b, "user_agent") + ", Contact " + text(b, "contact") + ", source " + source + " (" +
                       text(b, "transport") + ")",
                   "b2bua answers and rings it at " + source + " as long as that router keeps the mapping open: "
                   "keep registrar.qualify_interval on (or a short re-registration on the phone); better, connect the "
                   "phone to b2bua's LAN without the second router, and switch off that router's SIP ALG"});
  }
}

// The newest binding update, to tell a failure that is over (a phone registered since) from one
// that still stands.
int64_t last_registered(const json& e) {
  int64_t newest = 0;
  for (const auto& b : list(e, "bindings")) newest = std::max(newest, number(b, "updated_at"));
  return newest;
}

}  // namespace

void phone_findings(const json& e, int64_t now_s, int64_t window_s, std::vector<Finding>& out) {
  const std::string ext = text(e, "number");
  second_nat(e, ext, out);
  if (!e.contains("last_register_failure")) return;
  const json& f = e["last_register_failure"];
  if (!recent(f, now_s, window_s)) return;
  const Meaning m = meaning(text(f, "reason"));
  const std::string when = time_text(number(f, "at"), true);
  const std::string evidence = text(f, "method") + " from " + text(f, "source") + " at " + when + " as user \"" +
                               text(f, "user") + "\": " + text(f, "reason");
  // The same second counts as since: times are in whole seconds.
  const bool over = last_registered(e) >= number(f, "at");
  if (over) {
    out.push_back({"extension." + ext + ".last_failure", Verdict::ok,
                   "a phone on extension " + ext + " was refused earlier (" + m.what + "), and a phone registered since",
                   evidence, ""});
    return;
  }
  const bool none = list(e, "bindings").empty();
  out.push_back({"extension." + ext + ".last_failure", none ? Verdict::problem : Verdict::warning,
                 "a phone at " + source_ip(text(f, "source")) + " cannot log in on extension " + ext + ": " + m.what,
                 evidence, m.action});
}

void unknown_user_findings(const json& registrar, int64_t now_s, int64_t window_s, std::vector<Finding>& out) {
  std::string seen;
  int n = 0;
  for (const auto& f : list(registrar, "unknown_user_failures")) {
    if (!recent(f, now_s, window_s)) continue;
    ++n;
    seen = "\"" + text(f, "user") + "\" from " + text(f, "source") + " at " + time_text(number(f, "at"), true) + " (" +
           text(f, "reason") + ")";
  }
  if (!n) return;
  out.push_back({"registrar.unknown_users", Verdict::warning,
                 std::to_string(n) + " recent login" + (n == 1 ? "" : "s") + " under a user name that is no extension",
                 "the last: " + seen,
                 "if that is one of your phones, set its user name to its extension's number; if not, someone is "
                 "probing: keep lan.networks to your own networks"});
}

}  // namespace b2bua::status
