#include "b2bua/registrar/failure_log.h"

namespace b2bua::registrar {

void FailureLog::record(bool extension, RegisterFailure f) {
  if (extension) {
    std::string user = f.user;
    by_extension_[user] = std::move(f);
    return;
  }
  if (unknown_.size() == kUnknownKept) unknown_.pop_front();
  unknown_.push_back(std::move(f));
}

void FailureLog::retain(const std::function<bool(const std::string&)>& keep) {
  std::erase_if(by_extension_, [&](const auto& entry) { return !keep(entry.first); });
}

}  // namespace b2bua::registrar
