// A config in which every secret the schema knows is set to a recognisable value.
#pragma once

#include <string>
#include <vector>

namespace b2bua::status::test {

inline const std::vector<std::string> kSecrets = {
    "pw-kitchen-Zq81", "5f4dcc3b5aa765d61d8327deb882cf99", "trunk-pass-Xy72", "backup-pass-Wv63",
    "status-token-Ab12Cd34Ef56"};

inline const char* kSecretConfig = R"({
  "lan": {"listen": ["udp:127.0.0.1:18081"], "networks": ["127.0.0.0/8"]},
  "wan": {"address": "127.0.0.1", "port": 18082},
  "extensions": [
    {"number": "10", "name": "Kitchen", "password": "pw-kitchen-Zq81"},
    {"number": "11", "name": "Office", "ha1": "5f4dcc3b5aa765d61d8327deb882cf99"}
  ],
  "trunks": [
    {"name": "provider", "registrar": "sip:127.0.0.1:18083", "username": "4930123456",
     "auth_username": "auth-4930", "password": "trunk-pass-Xy72", "numbers": ["+4930123456"]},
    {"name": "backup", "enabled": false, "registrar": "sip:127.0.0.1:18084", "username": "b",
     "password": "backup-pass-Wv63"}
  ],
  "routing": {"outbound": [{"prefix": "", "trunk": "provider"}]},
  "storage": {"path": "unused.db"},
  "status": {"listen": "127.0.0.1:18085", "token": "status-token-Ab12Cd34Ef56"}
})";

}  // namespace b2bua::status::test
