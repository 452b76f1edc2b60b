#include "b2bua/status/health_trunk.h"

#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "b2bua/status/snapshot_reader.h"

namespace b2bua::status {
namespace {

using nlohmann::json;

std::string challenge_text(const json& c) {
  std::string out = text(c, "header") + " Digest realm=\"" + text(c, "realm") + "\"";
  const std::string algorithm = text(c, "algorithm");
  return out + ", algorithm " + (algorithm.empty() ? "MD5 (not named)" : algorithm);
}

int status_of(const json& f) {
  // "SIP/2.0 503 Service Unavailable"
  const std::string r = text(f, "response");
  return r.size() > 11 ? std::atoi(r.c_str() + 8) : 0;
}

std::string answer_of(const json& f) {
  const std::string r = text(f, "response");
  return r.size() > 8 ? r.substr(8) : r;
}

}  // namespace

std::string exchange_text(const json& f) {
  std::string out = text(f, "request") + " -> ";
  if (f.value("answered", false)) {
    out += text(f, "response");
    if (f.contains("retry_after")) out += "; Retry-After: " + text(f, "retry_after");
    if (f.contains("warning")) out += "; Warning: " + text(f, "warning");
    if (f.contains("challenge")) {
      out += f.value("after_credentials", false) ? "; after answering " : "; ";
      out += challenge_text(f["challenge"]);
    }
  } else {
    out += "no response: " + text(f, "reason");
  }
  const std::string server = text(f, "server");
  if (!server.empty()) out += "; sent to " + server;
  return out + "; at " + time_text(number(f, "at"), true);
}

std::optional<Finding> registration_failure(const json& t) {
  if (!t.is_object() || !t.contains("last_failure") || !t["last_failure"].is_object()) return std::nullopt;
  const json& f = t["last_failure"];
  // A REGISTER that succeeded after it makes the failure history (a new registration may be on
  // its way after a lost binding).
  const json& attempts = list(t, "attempts");
  if (!attempts.empty() && text(attempts.back(), "result").rfind('2', 0) == 0) return std::nullopt;
  const std::string name = text(t, "name"), state = text(t, "state");
  const std::string id = "trunk." + name + ".registration";
  const std::string evidence = exchange_text(f) + "; state " + state;
  // Waiting for the next try is worse than a REGISTER on its way.
  const Verdict v = state == "registering" ? Verdict::warning : Verdict::problem;
  if (!f.value("answered", false)) {
    const std::string reason = text(f, "reason");
    if (reason.rfind("DNS: ", 0) == 0) {
      return Finding{id, v, "the name of trunk " + name + "'s provider does not resolve", evidence,
                     "check the registrar's name in the config and this router's DNS (wan.resolv_conf)"};
    }
    return Finding{id, v, "the provider of trunk " + name + " does not answer", evidence,
                   "check the network: can this router reach " + text(t, "registrar") +
                       "? A firewall dropping SIP or a wrong port looks like this"};
  }
  const int code = status_of(f);
  const std::string realm = f.contains("challenge") ? text(f["challenge"], "realm") : "";
  const bool credentials = f.value("after_credentials", false);
  if (code == 401 || code == 407 || (code == 403 && credentials)) {
    return Finding{id, Verdict::problem,
                   "the provider refuses the credentials of trunk " + name +
                       (realm.empty() ? "" : " for realm \"" + realm + "\"") + ": wrong password or user",
                   evidence,
                   "check the username (" + text(t, "username") + ") and password of trunk " + name +
                       " against the provider's data" + (realm.empty() ? "" : " for realm \"" + realm + "\"") +
                       ", then reload b2bua"};
  }
  if (code == 403 || code == 404) {
    return Finding{id, Verdict::problem,
                   "the provider refuses the account of trunk " + name + ": " + answer_of(f), evidence,
                   "check the username (" + text(t, "username") + ") and the registrar of trunk " + name +
                       " against the provider's data"};
  }
  std::string what = "the provider of trunk " + name + " answered " + answer_of(f);
  if (f.contains("retry_after")) what += " (Retry-After " + text(f, "retry_after") + ")";
  std::string action = code == 503 || code == 500 || code == 504
                           ? "the provider's server is overloaded or down for maintenance: b2bua tries again by itself" +
                                 std::string(f.contains("retry_after") ? " after the time it asked for" : "") +
                                 "; if it lasts, ask the provider"
                           : "ask the provider what " + std::to_string(code) + " means for this account";
  return Finding{id, v, what, evidence, action};
}

void trunk_path_findings(const json& t, std::vector<Finding>& out) {
  const std::string name = text(t, "name"), id = "trunk." + name;
  if (t.value("enabled", true) == false || text(t, "state") == "disabled") return;
  if (t.contains("servers") && t["servers"].is_array()) {
    std::string servers;
    for (const auto& s : t["servers"]) servers += (servers.empty() ? "" : ", ") + s.get<std::string>();
    std::string tried;
    for (const auto& a : list(t, "attempts")) {
      tried += (tried.empty() ? "" : ", ") + text(a, "server") + " " + text(a, "result");
    }
    const std::string dns = text(t, "dns");
    std::string evidence = dns.empty() ? "an IP address: no DNS needed" : "DNS: " + dns;
    if (!tried.empty()) evidence += "; REGISTERs so far: " + tried;
    if (servers.empty()) {
      out.push_back({id + ".dns", Verdict::problem, "no server of trunk " + name + " is known", evidence,
                     "check the registrar's name in the config and this router's DNS (wan.resolv_conf)"});
    } else {
      out.push_back({id + ".dns", Verdict::ok, "trunk " + name + " tries, in this order: " + servers, evidence, ""});
    }
  }
  if (t.contains("keepalive_rtt_ms") && t["keepalive_rtt_ms"].is_number()) {
    char rtt[32];
    std::snprintf(rtt, sizeof rtt, "%.1f", t["keepalive_rtt_ms"].get<double>());
    out.push_back({id + ".reachability", Verdict::ok,
                   "the provider's server " + text(t, "server") + " answers OPTIONS in " + rtt + " ms",
                   "the keep-alive's last OPTIONS round trip, answered at " +
                       time_text(number(t, "keepalive_answered_at"), true),
                   ""});
  }
  if (text(t, "state") == "registered" && t.contains("last_failure") && t["last_failure"].is_object()) {
    out.push_back({id + ".last_failure", Verdict::ok, "the last REGISTER of trunk " + name + " that failed",
                   exchange_text(t["last_failure"]), ""});
  }
}

}  // namespace b2bua::status
