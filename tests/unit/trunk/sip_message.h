// Parsed SIP messages from text, for tests of code that reads sofia's sip_t.
#pragma once

#include <memory>
#include <string>

#include "b2bua/sip/sofia.h"

namespace b2bua::trunk::test {

struct MsgDeleter {
  void operator()(msg_t* m) const { msg_destroy(m); }
};
using MsgPtr = std::unique_ptr<msg_t, MsgDeleter>;

inline MsgPtr parse_message(const std::string& text) {
  return MsgPtr(msg_make(sip_default_mclass(), 0, text.data(), static_cast<isize_t>(text.size())));
}

inline const sip_t* sip_of(const MsgPtr& m) { return sip_object(m.get()); }

// A response to our REGISTER with the given Via and Contact lines.
inline std::string register_response(int status, const std::string& via, const std::string& contact) {
  return "SIP/2.0 " + std::to_string(status) + " X\r\nVia: " + via +
         "\r\nFrom: <sip:u@p.test>;tag=1\r\nTo: <sip:u@p.test>;tag=2\r\nCall-ID: c1\r\nCSeq: 1 REGISTER\r\n" +
         (contact.empty() ? "" : "Contact: " + contact + "\r\n") + "Content-Length: 0\r\n\r\n";
}

}  // namespace b2bua::trunk::test
