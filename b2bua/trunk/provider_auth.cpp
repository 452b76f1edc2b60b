#include "b2bua/trunk/provider_auth.h"

#include <algorithm>

namespace b2bua::trunk {

bool worth_answering(const std::vector<DigestChallenge>& challenges, int answered_before) {
  constexpr int kMaxAnswersPerAttempt = 3;
  bool stale = std::any_of(challenges.begin(), challenges.end(), [](const DigestChallenge& c) { return c.stale; });
  return !challenges.empty() && (answered_before == 0 || stale) && answered_before < kMaxAnswersPerAttempt;
}

ProviderAuth::Answered ProviderAuth::answer(nua_handle_t* nh, const std::vector<DigestChallenge>& challenges,
                                            const sip_t* response, const std::string& user,
                                            const std::string& password, const std::string& method,
                                            const std::string& uri) {
  clear();
  auto answer = answer_challenges(challenges, user, password, method, uri);
  if (!answer) return Answered::no;
  if (!answer->sofia_auth.empty()) {
    nua_authenticate(nh, NUTAG_AUTH(answer->sofia_auth.c_str()), TAG_END());
    return Answered::by_sofia;
  }
  header_ = answer->header;
  proxy_ = answer->proxy;
  algorithm_ = answer->algorithm;
  call_id_ = response && response->sip_call_id ? response->sip_call_id->i_id : "";
  return Answered::by_us;
}

void ProviderAuth::clear() {
  header_.clear();
  proxy_ = false;
  call_id_.clear();
  algorithm_.clear();
}

const tagi_t* ProviderAuth::tags() {
  size_t n = 0;
  if (!header_.empty()) {
    tags_[n++] = proxy_ ? tagi_t{SIPTAG_PROXY_AUTHORIZATION_STR(header_.c_str())}
                        : tagi_t{SIPTAG_AUTHORIZATION_STR(header_.c_str())};
    if (!call_id_.empty()) tags_[n++] = tagi_t{SIPTAG_CALL_ID_STR(call_id_.c_str())};
  }
  tags_[n] = tagi_t{TAG_END()};
  return tags_;
}

}  // namespace b2bua::trunk
