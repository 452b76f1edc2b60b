// Reads a REGISTER into a RegisterUpdate, applying the expiry rules of RFC 3261 section 10.3:
// contact "expires" parameter, else the Expires header, else our default; 0 removes; below
// min_expires (and not 0) is 423 Interval Too Brief; above max_expires is clamped.
// "Contact: *" only alone and only with Expires: 0 (section 10.2.2), otherwise 400.
#pragma once

#include <string>

#include "b2bua/config/config.h"
#include "b2bua/registrar/binding_table.h"
#include "b2bua/sip/sofia.h"

namespace b2bua::registrar {

struct ParsedRegister {
  int status = 0;              // 0: fine; else the error response (400 or 423)
  const char* phrase = nullptr;
  RegisterUpdate update;       // aor, call_id, cseq, contacts, wildcard; flow filled by the caller
};

ParsedRegister parse_register(const sip_t* sip, const config::Registrar& limits, const std::string& aor);

}  // namespace b2bua::registrar
