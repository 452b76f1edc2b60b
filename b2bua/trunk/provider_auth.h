// Answering a provider's digest challenge (401/407) to a request we send with a trunk's
// credentials: REGISTER, un-REGISTER, INVITE.
//
// sofia's own client answers when it copes (nua_authenticate(); it re-sends the request itself
// and keeps the nonce count for refreshes). When it cannot (several algorithms for one realm,
// SHA-256: see digest_client.h) we compute the answer and the caller re-sends the request
// with tags(): our Authorization (401) or Proxy-Authorization (407) and the Call-ID of the
// challenged request. nua would start the re-sent request on a new Call-ID; the provider
// should see the answer in the call it challenged (RFC 3261 10.2: a registration keeps one
// Call-ID; RFC 3261 22.2: the answer repeats the request).
//
// Threads: the SIP thread, where the answer goes straight into a nua_*() call.
#pragma once

#include <string>
#include <vector>

#include "b2bua/sip/sofia.h"
#include "b2bua/trunk/digest_client.h"

namespace b2bua::trunk {

// Whether a 401/407 to one of our requests deserves an answer, after `answered_before` answers
// in this attempt: the first challenge does; a second one means wrong credentials, unless the
// nonce merely expired (stale=true, RFC 2617 3.2.1); and never more than three in a row.
bool worth_answering(const std::vector<DigestChallenge>& challenges, int answered_before);

class ProviderAuth {
 public:
  enum class Answered {
    no,        // no challenge we can answer (only algorithms we do not know)
    by_sofia,  // handed to nua_authenticate() on `nh`: the request goes again by itself
    by_us,     // our own answer is kept: re-send the request with tags()
  };

  // Answers `challenges` (of the 401/407 `response`) as `user` for a request `method` to `uri`.
  Answered answer(nua_handle_t* nh, const std::vector<DigestChallenge>& challenges, const sip_t* response,
                  const std::string& user, const std::string& password, const std::string& method,
                  const std::string& uri);
  // Our own answer's algorithm, for the log.
  const std::string& algorithm() const { return algorithm_; }
  // Forgets our own answer: the next request goes without it.
  void clear();

  // The tags that put our own answer into the re-sent request: end its tag list with
  // TAG_NEXT(auth.tags()). Only TAG_END() without one. Valid until answer() or clear().
  const tagi_t* tags();

 private:
  std::string header_;
  bool proxy_ = false;
  std::string call_id_;
  std::string algorithm_;
  tagi_t tags_[3]{};
};

}  // namespace b2bua::trunk
