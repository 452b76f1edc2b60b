// Health: why something does not work, in the words of the person who asks. One pure function
// turns a status snapshot (snapshot.h) and a few facts about the machine (LocalFacts) into
// findings; the daemon adds them to every snapshot as "health", so GET /status, the page and
// `b2bua doctor` all say the same thing from one copy of the rules.
//
// A finding never carries a password, HA1, nonce, digest or the status token: it is built only
// from the snapshot (which has none) and from LocalFacts, which say *that* a secret is weak,
// never what it is.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

namespace b2bua::status {

enum class Verdict { ok, warning, problem };
const char* verdict_name(Verdict v);  // "ok" | "warning" | "problem"

struct Finding {
  std::string id;        // stable and dotted: "trunk.sipgate.registration", "extension.21.phones"
  Verdict verdict = Verdict::ok;
  std::string what;      // one line in plain words
  std::string evidence;  // the facts that show it: the provider's answer, a state, since when
  std::string action;    // the one thing to do; empty when there is nothing to do
};

// A password that is easy to guess, named by who has it; the password itself is never kept.
struct WeakSecret {
  std::string kind;    // "extension" | "trunk"
  std::string name;    // the extension's number or the trunk's name
  std::string reason;  // "is shorter than 10 characters", "is the extension's own number", ...
};

// What the status thread learns about the machine itself (local_facts.h gathers it).
struct LocalFacts {
  std::string config_path;
  std::optional<unsigned> config_mode;  // permission bits of the file; nullopt when it cannot be read
  bool config_holds_secrets = false;
  std::vector<WeakSecret> weak_secrets;
  std::string wan_address;  // wan.address: the WAN bind address, to tell a NAT in front of us
  // wan.interface and its addresses now: a router's WAN address may follow its interface
  // (DHCP, PPPoE), so these say better than wan.address whether a provider sees us directly.
  std::string wan_interface;
  std::vector<std::string> wan_interface_addresses;
  // The source address the kernel picks towards an IP (wan_addresses.h); used without
  // wan.interface. Empty: not known.
  std::function<std::optional<std::string>(const std::string& ip)> route_source;
  std::string database_path;
  std::optional<std::string> database_unwritable;  // why the database cannot be written; nullopt: it can
  int64_t now_s = 0;                                // the system clock
  int64_t built_s = 0;                              // when this binary was built; 0: not known
};

// Findings in a stable order: trunks, extensions, recent calls, then the machine. Every rule
// reads only keys that are there: a part the snapshot lacks yields no finding, not a false alarm.
std::vector<Finding> diagnose(const nlohmann::json& snapshot, const LocalFacts& facts);

struct NatLayout;  // nat_path.h

// The NATs `b2bua doctor` found between b2bua and its provider (nat_path.h), as the finding
// "network.nat": a warning for a double NAT (or a carrier-grade one), ok otherwise.
Finding nat_layout_finding(const NatLayout& layout);

// [{ "id", "verdict", "what", "evidence", "action" }, ...] as in the snapshot's "health".
nlohmann::json to_json(const std::vector<Finding>& findings);

}  // namespace b2bua::status
