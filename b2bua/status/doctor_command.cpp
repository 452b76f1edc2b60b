#include "b2bua/status/doctor_command.h"

#include <nlohmann/json.hpp>

#include "b2bua/config/config_loader.h"
#include "b2bua/status/health.h"
#include "b2bua/status/nat_path.h"
#include "b2bua/status/snapshot_reader.h"
#include "b2bua/status/status_command.h"

namespace b2bua::status {
namespace {

using nlohmann::json;

int count(const json& findings, const std::string& verdict) {
  int n = 0;
  for (const auto& f : findings) n += text(f, "verdict") == verdict;
  return n;
}

std::string plural(int n, const char* word) { return std::to_string(n) + " " + word + (n == 1 ? "" : "s"); }

}  // namespace

int findings_exit_code(const json& findings) {
  if (count(findings, "problem")) return 2;
  return count(findings, "warning") ? 1 : 0;
}

std::string render_findings_text(const json& findings) {
  const int problems = count(findings, "problem"), warnings = count(findings, "warning");
  std::string out = problems + warnings == 0 ? "All good: " + plural(count(findings, "ok"), "check") + " passed.\n"
                                             : plural(problems, "problem") + ", " + plural(warnings, "warning") + ", " +
                                                   std::to_string(count(findings, "ok")) + " ok\n";
  const struct {
    const char* verdict;
    const char* title;
  } groups[] = {{"problem", "PROBLEMS"}, {"warning", "WARNINGS"}, {"ok", "OK"}};
  for (const auto& g : groups) {
    if (!count(findings, g.verdict)) continue;
    out += std::string("\n") + g.title + "\n";
    for (const auto& f : findings) {
      if (text(f, "verdict") != g.verdict) continue;
      if (std::string(g.verdict) == "ok") {
        std::string evidence = text(f, "evidence");
        out += "  ok       " + text(f, "what") + (evidence.empty() ? "" : " (" + evidence + ")") + "\n";
        continue;
      }
      out += "  " + std::string(g.verdict) + std::string(9 - std::string(g.verdict).size(), ' ') + text(f, "what") + "\n";
      out += "           evidence: " + text(f, "evidence") + "\n";
      if (!text(f, "action").empty()) out += "           do this:  " + text(f, "action") + "\n";
    }
  }
  return out;
}

int run_doctor_command(const std::string& config_path, bool raw_json, FILE* out, FILE* err) {
  auto status = ask_daemon(config_path, "doctor", err);
  if (!status) return 2;
  auto health = status->find("health");
  if (health == status->end() || !health->is_array()) {
    std::fprintf(err, "b2bua doctor: the daemon (version %s) does not report health; restart it with this version\n",
                 text(*status, "version").c_str());
    return 2;
  }
  // The NATs on the way to the provider: probed here, on request, never by the daemon (nat_path.h).
  if (auto loaded = config::load_config_file(config_path); loaded.ok()) {
    health->push_back(to_json({nat_layout_finding(find_nat_layout(*status, *loaded.config))}).at(0));
  }
  if (raw_json) {
    std::fputs((health->dump(1, ' ', false, json::error_handler_t::replace) + "\n").c_str(), out);
  } else {
    std::fputs(render_findings_text(*health).c_str(), out);
  }
  return findings_exit_code(*health);
}

}  // namespace b2bua::status
