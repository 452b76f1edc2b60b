#include "b2bua/registrar/registrar.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <map>
#include <string_view>
#include <nlohmann/json.hpp>

#include "b2bua/common/clock.h"
#include "b2bua/common/log.h"
#include "b2bua/config/host_port.h"
#include "b2bua/registrar/register_request.h"
#include "b2bua/sip/sip_agent.h"

namespace b2bua::registrar {
namespace {

GuardSettings guard_settings(const config::Registrar& r) {
  GuardSettings s;
  s.failures = r.block_after_failures;
  s.window_s = r.block_window;
  s.duration_s = r.block_duration;
  s.lock_failures = r.lock_after_failures;
  s.lock_sources = r.lock_min_sources;
  s.lock_window_s = r.lock_window;
  s.lock_duration_s = r.lock_duration;
  return s;
}

// "2026-12-06T09:40:00Z": when a lock ends, readable in the log without a converter.
std::string utc_text(int64_t unix_s) {
  time_t t = static_cast<time_t>(unix_s);
  tm utc{};
  gmtime_r(&t, &utc);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buf;
}

// The address of a binding's source "ip:port" (the port follows the last colon, IPv6 too).
std::string_view source_ip(const std::string& source) {
  size_t colon = source.rfind(':');
  return std::string_view(source).substr(0, colon == std::string::npos ? source.size() : colon);
}

const char* kind_name(BindingChange::Kind kind) {
  switch (kind) {
    case BindingChange::Kind::added: return "binding_added";
    case BindingChange::Kind::refreshed: return "binding_refreshed";
    case BindingChange::Kind::removed: return "binding_removed";
    case BindingChange::Kind::expired: return "binding_expired";
  }
  return "binding_changed";
}

// "<sip:10@192.168.1.20:5060>;expires=118;q=0.5, <...>": every binding of the AoR with its
// remaining time (RFC 3261 10.3 step 8), as one comma-separated Contact value.
std::string contact_list(const std::vector<Binding>& bindings, int64_t now) {
  std::string out;
  for (const auto& b : bindings) {
    if (!out.empty()) out += ", ";
    out += "<" + b.contact + ">;expires=" + std::to_string(std::max<int64_t>(0, b.expires_at - now));
    if (b.q < 1.0) {
      char q[16];
      std::snprintf(q, sizeof q, "%.3g", b.q);
      out += std::string(";q=") + q;
    }
  }
  return out;
}

PhoneTarget target_of(const Binding& b) { return {b.aor, b.contact, flow_uri(b), b.q, b.answering_options}; }

nlohmann::json failure_json(const RegisterFailure& f) {
  return {{"at", f.at}, {"source", f.source}, {"user", f.user}, {"reason", f.reason}, {"method", f.method}};
}

}  // namespace

Registrar::Registrar(const plane::PlaneContext& context, config::Snapshot config)
    : context_(context),
      config_(std::move(config)),
      extensions_(config_),
      digest_(digest_settings(*config_)),
      guard_(guard_settings(config_->registrar)),
      table_(context.store->bindings()),
      qualifier_(*context.lan, config_->lan.realm,
                 [this](const std::string& aor, const std::string& contact, bool answered) {
                   on_qualify_result(aor, contact, answered);
                 }),
      ticker_(context.root) {
  qualifier_.set_interval(config_->registrar.qualify_interval);
  size_t restored = table_.restore(clock::unix_s());
  // Extensions removed from the config while we were down lose their bindings now.
  for (const auto& aor : table_.aors()) {
    if (!extensions_.find(aor)) {
      for (const auto& c : table_.remove_aor(aor)) log_change(c, "extension_removed");
    }
  }
  context_.lan->on_request(nua_i_register, [this](const sip::NuaEvent& ev) { on_register(ev); });
  // During a flood only our phones get through the LAN agent's shield (sip/flood_guard.h).
  context_.lan->set_known_sources([this] {
    std::vector<std::string> sources;
    table_.for_each([&](const Binding& b) {
      if (auto hp = config::parse_host_port(b.source, 0)) sources.push_back(hp->host);
    });
    return sources;
  });
  ticker_.every(1000, [this] { tick(); });
  B2BUA_LOG(info, "registrar", "started", {{"bindings_restored", restored}, {"realm", config_->lan.realm},
                                           {"qualify_interval", config_->registrar.qualify_interval}});
}

Registrar::~Registrar() {
  context_.lan->set_known_sources(nullptr);
  ticker_.cancel();
  qualifier_.stop();
  dropped_.release_all();
}

void Registrar::log_change(const BindingChange& change, const char* reason) const {
  const Binding& b = change.binding;
  bool gone = change.kind == BindingChange::Kind::removed || change.kind == BindingChange::Kind::expired;
  // A refresh is routine; the admin's log shows changes (debug shows refreshes).
  auto level = change.kind == BindingChange::Kind::refreshed ? log::Level::debug : log::Level::info;
  if (!log::enabled(level)) return;
  log::write(level, "registrar", kind_name(change.kind),
             {{"ext", b.aor},
              {"contact", contact_host_port(b.contact)},
              {"flow", b.transport + ":" + b.source},
              {"user_agent", b.user_agent},
              {"expires", gone ? int64_t{0} : b.expires_at - b.updated_at},
              {"reason", reason}});
}

void Registrar::on_register(const sip::NuaEvent& ev) {
  nua_t* nua = ev.nua;
  nua_handle_t* nh = ev.nh;
  const sip_t* sip = ev.sip;
  const int64_t now = clock::unix_s();

  // Every exit answers (or deliberately stays silent) and then releases the handle.
  auto respond = [&](int status, const char* phrase, const std::vector<std::string>& challenges = {},
                     const std::string& contacts = {}, int min_expires = 0) {
    std::string min_expires_text = std::to_string(min_expires);
    nua_respond(nh, status, phrase, NUTAG_WITH_THIS(nua),
                TAG_IF(challenges.size() > 0, SIPTAG_WWW_AUTHENTICATE_STR(challenges.size() > 0 ? challenges[0].c_str() : "")),
                TAG_IF(challenges.size() > 1, SIPTAG_WWW_AUTHENTICATE_STR(challenges.size() > 1 ? challenges[1].c_str() : "")),
                TAG_IF(!contacts.empty(), SIPTAG_CONTACT_STR(contacts.c_str())),
                TAG_IF(min_expires > 0, SIPTAG_MIN_EXPIRES_STR(min_expires_text.c_str())), TAG_END());
    nua_handle_destroy(nh);
  };
  // Silence: a scanner learns nothing and gets no amplification (see silent_drop.h).
  auto drop = [&] { dropped_.hold(nh, now); };

  std::string ip, transport;
  uint16_t port = 0;
  if (!sip || !sip::request_source(nua, ip, port, transport)) return respond(SIP_400_BAD_REQUEST);
  const std::string source = ip + ":" + std::to_string(port);

  // The To user names the extension the refusal is kept for (no credentials were checked yet).
  auto to_user_of = [&] { return std::string(sip->sip_to && sip->sip_to->a_url->url_user ? sip->sip_to->a_url->url_user : ""); };
  if (!config_->lan.contains(ip)) {
    B2BUA_LOG(debug, "registrar", "outside_lan", {{"source", source}});
    record_failure(source, to_user_of(), "outside_lan", "REGISTER");
    if (config_->lan.outside == config::OutsidePolicy::drop) return drop();
    return respond(SIP_403_FORBIDDEN);
  }
  if (guard_.blocked(ip, now)) {
    record_failure(source, to_user_of(), "blocked", "REGISTER");
    return drop();
  }
  if (const char* defect = sip::request_defect(sip)) return respond(400, defect);

  const char* to_user = sip->sip_to ? sip->sip_to->a_url->url_user : nullptr;
  if (!to_user || !*to_user) return respond(400, "Missing AoR User");
  const std::string aor = to_user;

  auto credentials = find_digest_response(sip->sip_authorization, config_->lan.realm);
  if (!credentials) return respond(SIP_401_UNAUTHORIZED, digest_.challenges(now, false));
  // RFC 2617 3.2.2.5: an answer computed for another Request-URI is none for this one
  // (digest_auth.h); counted as a wrong guess.
  if (!digest_uri_matches(*credentials, sip->sip_request ? sip->sip_request->rq_url : nullptr, ip, "REGISTER")) {
    credentials_refused(ip, source, credentials->username, "REGISTER");
    return respond(400, kDigestUriMismatchPhrase);
  }
  const config::Extension* ext = extensions_.find(credentials->username);
  DigestSecret secret;
  if (ext) secret = DigestSecret{ext->password, ext->ha1};
  switch (digest_.verify(*credentials, "REGISTER", ext ? &secret : nullptr, now)) {
    case DigestVerdict::challenge: return respond(SIP_401_UNAUTHORIZED, digest_.challenges(now, false));
    case DigestVerdict::stale: return respond(SIP_401_UNAUTHORIZED, digest_.challenges(now, true));
    case DigestVerdict::failed:
      // Unknown user and wrong password: same status, same phrase, same headers.
      credentials_refused(ip, source, credentials->username, "REGISTER");
      return respond(SIP_403_FORBIDDEN);
    case DigestVerdict::ok: break;
  }
  // A locked extension and a phone not registered from here: the answer to a wrong password.
  if (!auth_succeeded(ip, credentials->username)) {
    record_failure(source, credentials->username, "locked", "REGISTER");
    return respond(SIP_403_FORBIDDEN);
  }
  if (credentials->username != aor) {
    // An extension may only register itself (sofia's auth module does not check this).
    B2BUA_LOG(info, "registrar", "aor_mismatch", {{"source", source}, {"user", credentials->username}, {"aor", aor}});
    record_failure(source, aor, "other_extension", "REGISTER");
    return respond(SIP_403_FORBIDDEN);
  }

  ParsedRegister parsed = parse_register(sip, config_->registrar, aor);
  if (parsed.status == 423) return respond(parsed.status, parsed.phrase, {}, {}, config_->registrar.min_expires);
  if (parsed.status != 0) return respond(parsed.status, parsed.phrase);
  RegisterUpdate& update = parsed.update;
  update.transport = transport;
  update.source = source;

  std::vector<BindingChange> changes;
  if (!table_.apply(update, now, changes)) return respond(400, "Out Of Order Request");
  for (const auto& c : changes) log_change(c, "register");
  respond(SIP_200_OK, {}, contact_list(table_.of(aor), now));
  // After the 200: what the listener sends reaches a phone that already knows it is registered.
  if (!new_binding_) return;
  for (const auto& c : changes) {
    if (starts_binding(c)) new_binding_(target_of(c.binding));
  }
}

void Registrar::tick() {
  const int64_t now = clock::unix_s();
  for (const auto& c : table_.expire(now)) log_change(c, "expired");
  qualifier_.tick(table_, now);
  dropped_.expire(now);
}

void Registrar::on_qualify_result(const std::string& aor, const std::string& contact, bool answered) {
  if (!table_.set_answering_options(aor, contact, answered)) return;
  // Not "unreachable": the binding stays and calls still ring it.
  B2BUA_LOG(info, "registrar", answered ? "binding_answering_options" : "binding_not_answering_options",
            {{"ext", aor}, {"contact", contact_host_port(contact)}});
}

void Registrar::apply_config(const config::Config&, config::Snapshot now) {
  config_ = std::move(now);
  extensions_.rebuild(config_);
  digest_.update(digest_settings(*config_));
  guard_.update(guard_settings(config_->registrar));
  qualifier_.set_interval(config_->registrar.qualify_interval);
  failures_.retain([this](const std::string& ext) { return extensions_.find(ext) != nullptr; });
  // Changed passwords apply to the next REGISTER by themselves (credentials are looked up per
  // request); removed extensions lose their bindings now.
  for (const auto& aor : table_.aors()) {
    if (!extensions_.find(aor)) {
      for (const auto& c : table_.remove_aor(aor)) log_change(c, "extension_removed");
    }
  }
}

void Registrar::shutdown(std::function<void()> done) {
  ticker_.cancel();
  qualifier_.stop();
  dropped_.release_all();
  // Bindings stay in the database: phones keep their registration across a restart.
  done();
}

RingTargets Registrar::ring_targets(const std::string& extension) const {
  std::vector<Binding> bindings = table_.of(extension);
  std::stable_sort(bindings.begin(), bindings.end(), [](const Binding& a, const Binding& b) { return a.q > b.q; });
  const int64_t now = clock::unix_s();
  RingTargets out;
  for (const auto& b : bindings) {
    // Expired in the second before the tick removes it: the phone was told it is gone.
    if (b.expires_at <= now) {
      out.skipped.push_back({b.contact, "expired"});
      continue;
    }
    // All the others ring in parallel, silent to qualify or not, the rule an admin expects from
    // "registered": an INVITE to a phone that is really gone costs a retransmission and a
    // CANCEL, leaving out one that ignores OPTIONS loses a call it would have answered. Ringing
    // the silent ones only after the others had failed would hold the caller for a ring timeout
    // first, for a phone that may well be the only one there.
    out.ring.push_back(target_of(b));
  }
  return out;
}

void Registrar::describe(nlohmann::json& status) const {
  auto& extensions = status["extensions"];
  if (!extensions.is_array()) extensions = nlohmann::json::array();
  std::map<std::string, nlohmann::json> by_aor;
  table_.for_each([&](const Binding& b) {
    by_aor[b.aor].push_back({{"contact", b.contact}, {"source", b.source}, {"transport", b.transport},
                             {"user_agent", b.user_agent}, {"expires_at", b.expires_at}, {"q", b.q},
                             {"answering_options", b.answering_options}, {"updated_at", b.updated_at}});
  });
  for (const auto& ext : config_->extensions) {
    auto entry = std::find_if(extensions.begin(), extensions.end(), [&](const nlohmann::json& e) {
      return e.is_object() && e.value("number", "") == ext.number;
    });
    if (entry == extensions.end()) {
      extensions.push_back({{"number", ext.number}});
      entry = extensions.end() - 1;
    }
    auto found = by_aor.find(ext.number);
    (*entry)["bindings"] = found == by_aor.end() ? nlohmann::json::array() : found->second;
    if (auto f = failures_.by_extension().find(ext.number); f != failures_.by_extension().end()) {
      (*entry)["last_register_failure"] = failure_json(f->second);
    }
  }
  const int64_t now = clock::unix_s();
  nlohmann::json locked = nlohmann::json::array();
  for (const auto& l : guard_.locks(now)) {
    locked.push_back({{"ext", l.extension}, {"since", l.since}, {"until", l.until}, {"sources", l.sources},
                      {"failures", l.failures}});
  }
  status["registrar"] = {{"auth_failures_total", auth_failures_total_},
                         {"blocks_total", blocks_total_},
                         {"blocked_now", guard_.blocked_count(now)},
                         {"locks_total", locks_total_},
                         {"locked_now", locked.size()},
                         {"locked_extensions", std::move(locked)},
                         {"bindings", table_.size()}};
  nlohmann::json unknown = nlohmann::json::array();
  for (const auto& f : failures_.unknown()) unknown.push_back(failure_json(f));
  status["registrar"]["unknown_user_failures"] = std::move(unknown);
}

std::vector<Binding> Registrar::snapshot() const {
  std::vector<Binding> out;
  out.reserve(table_.size());
  table_.for_each([&](const Binding& b) { out.push_back(b); });
  return out;
}

bool Registrar::source_blocked(const std::string& ip) const { return guard_.blocked(ip, clock::unix_s()); }

void Registrar::drop_silently(nua_handle_t* nh) { dropped_.hold(nh, clock::unix_s()); }

void Registrar::record_failure(const std::string& source, const std::string& user, const char* reason,
                               const char* method) {
  failures_.record(!user.empty() && extensions_.find(user) != nullptr,
                   RegisterFailure{clock::unix_s(), source, user, reason, method});
}

void Registrar::auth_failed(const std::string& ip, const std::string& user, const char* method) {
  credentials_refused(ip, ip, user, method);
}

void Registrar::credentials_refused(const std::string& ip, const std::string& source, const std::string& user,
                                    const char* method) {
  B2BUA_LOG(info, "registrar", "auth_failed", {{"source", ip}, {"user", user}, {"method", method}});
  record_failure(source, user, "wrong_password", method);
  ++auth_failures_total_;
  AuthGuard::Outcome outcome = guard_.record_failure(ip, user, extensions_.find(user) != nullptr, clock::unix_s());
  if (outcome.source_blocked) {
    ++blocks_total_;
    B2BUA_LOG(warn, "registrar", "source_blocked", {{"source", ip}, {"seconds", config_->registrar.block_duration},
                                                    {"failures", config_->registrar.block_after_failures}});
    // From now on its packets are dropped in the kernel: no answer, no transaction, no 500
    // from the stack for a request held unanswered.
    if (auto* guard = context_.lan->flood_guard()) guard->deny_for(ip, config_->registrar.block_duration);
    record_failure(source, user, "blocked", method);
  }
  if (const auto& lock = outcome.extension_locked) {
    ++locks_total_;
    B2BUA_LOG(warn, "registrar", "extension_locked", {{"ext", lock->extension}, {"sources", lock->sources},
                                                      {"failures", lock->failures}, {"until", utc_text(lock->until)}});
  }
}

bool Registrar::holds_binding(const std::string& extension, const std::string& ip, int64_t now) const {
  for (const auto& b : table_.of(extension)) {
    if (b.expires_at > now && source_ip(b.source) == ip) return true;
  }
  return false;
}

bool Registrar::auth_succeeded(const std::string& ip, const std::string& user) {
  const int64_t now = clock::unix_s();
  // While locked, a phone that is registered keeps working from where it registered; anyone
  // else, right password or not, is refused (the admin sees why; the sender cannot tell).
  if (guard_.locked(user, now) && !holds_binding(user, ip, now)) {
    B2BUA_LOG(info, "registrar", "auth_refused_locked", {{"source", ip}, {"ext", user}});
    return false;
  }
  guard_.record_success(ip, user, now);
  return true;
}

}  // namespace b2bua::registrar
