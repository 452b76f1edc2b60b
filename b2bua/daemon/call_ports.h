// The registrar and the trunk manager behind the two small interfaces the calls feature uses
// (b2bua/calls/call_ports.h).
#pragma once

#include "b2bua/calls/call_ports.h"
#include "b2bua/registrar/registrar.h"
#include "b2bua/trunk/trunk_manager.h"

namespace b2bua::daemon {

class RegistrarPhones final : public calls::Phones {
 public:
  explicit RegistrarPhones(registrar::Registrar& registrar) : registrar_(registrar) {}
  std::vector<calls::PhoneTarget> reachable(const std::string& extension) const override;
  bool blocked(const std::string& source_ip) const override { return registrar_.source_blocked(source_ip); }
  void auth_failed(const std::string& source_ip, const std::string& user) override {
    registrar_.auth_failed(source_ip, user, "INVITE");
  }
  void auth_succeeded(const std::string& source_ip) override { registrar_.auth_succeeded(source_ip); }

 private:
  registrar::Registrar& registrar_;
};

class TrunkRoutes final : public calls::Trunks {
 public:
  // `trunks` is null when no WAN side is configured.
  TrunkRoutes(const trunk::TrunkManager* trunks, const std::shared_ptr<const config::Config>& config)
      : trunks_(trunks), config_(config) {}
  std::optional<calls::TrunkRoute> route(const config::Trunk& trunk) const override;

 private:
  const trunk::TrunkManager* trunks_;
  const std::shared_ptr<const config::Config>& config_;
};

}  // namespace b2bua::daemon
