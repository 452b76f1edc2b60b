// b2bua: SIP back-to-back user agent, registrar and RTP relay for home and small-office VoIP.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "b2bua/common/version.h"
#include "b2bua/config/config_loader.h"
#include "b2bua/daemon/daemon.h"
#include "b2bua/status/doctor_command.h"
#include "b2bua/status/status_command.h"

namespace {

constexpr const char* kDefaultConfig = "/etc/b2bua/b2bua.jsonc";

void usage(FILE* out) {
  std::fprintf(out,
               "usage: b2bua run [--config FILE]     run in the foreground (logs to stderr)\n"
               "       b2bua check-config [FILE]     validate a config file; prints OK or every error\n"
               "       b2bua status [--config FILE] [--json]\n"
               "                                     ask the running daemon (status.listen) for its status\n"
               "       b2bua doctor [--config FILE] [--json]\n"
               "                                     ask the running daemon what is wrong and what to do;\n"
               "                                     exit 0 all ok, 1 warnings, 2 problems or no daemon\n"
               "       b2bua --version\n"
               "FILE defaults to %s\n",
               kDefaultConfig);
}

int check_config(const std::string& path) {
  auto result = b2bua::config::load_config_file(path);
  for (const auto& e : result.errors) std::printf("%s\n", e.to_string(path).c_str());
  for (const auto& w : result.warnings) std::printf("warning: %s\n", w.c_str());
  if (!result.ok()) {
    std::printf("%zu error%s\n", result.errors.size(), result.errors.size() == 1 ? "" : "s");
    return 1;
  }
  std::printf("OK\n");
  return 0;
}

// `--config FILE` (or -c) for every command, `--json` where `json` is given.
bool parse_options(const std::vector<std::string>& args, std::string& path, bool* json) {
  for (size_t i = 1; i < args.size(); ++i) {
    if ((args[i] == "--config" || args[i] == "-c") && i + 1 < args.size()) {
      path = args[++i];
    } else if (json && args[i] == "--json") {
      *json = true;
    } else {
      std::fprintf(stderr, "b2bua %s: unexpected argument '%s'\n", args[0].c_str(), args[i].c_str());
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    usage(stderr);
    return 2;
  }
  const std::string& cmd = args[0];
  if (cmd == "--version" || cmd == "version") {
    std::printf("b2bua %s\n", b2bua::kVersion);
    return 0;
  }
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    usage(stdout);
    return 0;
  }
  if (cmd == "check-config") {
    if (args.size() > 2) return usage(stderr), 2;
    return check_config(args.size() == 2 ? args[1] : kDefaultConfig);
  }
  if (cmd == "status") {
    std::string path = kDefaultConfig;
    bool json = false;
    if (!parse_options(args, path, &json)) return 2;
    return b2bua::status::run_status_command(path, json, stdout, stderr);
  }
  if (cmd == "doctor") {
    std::string path = kDefaultConfig;
    bool json = false;
    if (!parse_options(args, path, &json)) return 2;
    return b2bua::status::run_doctor_command(path, json, stdout, stderr);
  }
  if (cmd == "run") {
    std::string path = kDefaultConfig;
    if (!parse_options(args, path, nullptr)) return 2;
    return b2bua::daemon::run_daemon(path);
  }
  std::fprintf(stderr, "b2bua: unknown command '%s'\n", cmd.c_str());
  usage(stderr);
  return 2;
}
