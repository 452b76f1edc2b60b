#include "b2bua/trunk/failed_exchange.h"

#include <nlohmann/json.hpp>

namespace b2bua::trunk {

std::optional<ChallengeSummary> summarize(const std::vector<DigestChallenge>& challenges) {
  if (challenges.empty()) return std::nullopt;
  // The one we would answer is the one that matters (choose_challenge), else the first.
  auto chosen = choose_challenge(challenges);
  const DigestChallenge& c = chosen ? *chosen : challenges.front();
  return ChallengeSummary{c.proxy ? "Proxy-Authenticate" : "WWW-Authenticate", c.algorithm, c.realm};
}

namespace {

std::string warnings(const sip_t* sip) {
  std::string out;
  for (const sip_warning_t* w = sip ? sip->sip_warning : nullptr; w; w = w->w_next) {
    // warn-code SP warn-agent SP "warn-text" (RFC 3261 20.43)
    std::string one = std::to_string(w->w_code) + " " + (w->w_host ? w->w_host : "-") + " \"" +
                      (w->w_text ? w->w_text : "") + "\"";
    out += (out.empty() ? "" : ", ") + one;
  }
  return out;
}

}  // namespace

FailedExchange failed_exchange(const std::string& request_line, const std::string& server, int status,
                               const std::string& phrase, const sip_t* sip,
                               const std::optional<ChallengeSummary>& answered_challenge, int64_t now_s) {
  FailedExchange f;
  f.at = now_s;
  f.server = server;
  f.request = request_line;
  // sofia reports its own failures (no response arrived) with a status but no message.
  f.answered = sip && sip->sip_status;
  if (f.answered) {
    f.response = "SIP/2.0 " + std::to_string(sip->sip_status->st_status) + " " +
                 (sip->sip_status->st_phrase ? sip->sip_status->st_phrase : phrase.c_str());
    if (sip->sip_retry_after) f.retry_after = static_cast<unsigned>(sip->sip_retry_after->af_delta);
    f.warning = warnings(sip);
  } else {
    f.reason = (status ? std::to_string(status) + " " : std::string()) + phrase;
  }
  f.challenge = summarize(digest_challenges(sip));
  if (answered_challenge) {
    f.after_credentials = true;
    if (!f.challenge) f.challenge = answered_challenge;
  }
  return f;
}

nlohmann::json to_json(const FailedExchange& f) {
  nlohmann::json j = {{"at", f.at}, {"server", f.server}, {"request", f.request}, {"answered", f.answered},
                      {"after_credentials", f.after_credentials}};
  if (f.answered) {
    j["response"] = f.response;
  } else {
    j["reason"] = f.reason;
  }
  if (f.retry_after) j["retry_after"] = *f.retry_after;
  if (!f.warning.empty()) j["warning"] = f.warning;
  if (f.challenge) {
    j["challenge"] = {{"header", f.challenge->header}, {"algorithm", f.challenge->algorithm}, {"realm", f.challenge->realm}};
  }
  return j;
}

}  // namespace b2bua::trunk
