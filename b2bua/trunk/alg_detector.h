// Signs that a router's SIP ALG rewrites our messages.
//
// An ALG (e.g. the Linux nf_nat_sip helper, most home routers on port 5060) rewrites Via,
// Contact and SDP on the way out and translates them back on the way in, so we never see the
// rewrite directly. What gives it away:
//  - the Via the provider echoes is not the one we sent (RFC 3261 8.2.6.2: a UAS copies Via
//    as received; a proxy only adds received/rport);
//  - our Via named a private address, and the response carries no `received`: the provider
//    saw a public address in Via, which only a rewrite puts there;
//  - the provider lists a Contact with our registration token at an address we never sent,
//    without a `received` parameter that would show the provider did it on purpose;
//  - a provider on a public address reports a private `received`: it saw the router's public
//    address, and the Linux helper (nf_nat_sip) translated received= back on the way in.
// Each trunk warns once per kind of rewrite, with the remedies.
#pragma once

#include <optional>
#include <set>
#include <string>

#include "b2bua/sip/sofia.h"
#include "b2bua/trunk/host_port.h"

namespace b2bua::trunk {

class AlgDetector {
 public:
  // `sent_via`: the sent-by of our request; `sent_contact`: where our Contact pointed;
  // `token`: the user part of our Contact; `server`: where the request went (when known).
  // Returns a description of a newly seen rewrite.
  std::optional<std::string> inspect(const sip_t* response, const HostPort& sent_via, const std::string& token,
                                     const HostPort& sent_contact, const std::optional<HostPort>& server = std::nullopt);
  bool detected() const { return !seen_.empty(); }

 private:
  std::optional<std::string> report(const std::string& kind, const std::string& what);
  std::set<std::string> seen_;
  std::set<std::string> contacts_sent_;  // every Contact address we registered: old ones may still be listed
};

}  // namespace b2bua::trunk
