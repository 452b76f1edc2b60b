#include "b2bua/trunk/trunk_registration.h"

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <random>

#include "b2bua/common/clock.h"
#include "b2bua/common/log.h"
#include "b2bua/trunk/digest_client.h"
#include "storage/store.h"

namespace b2bua::trunk {
namespace {

// Our bound on one REGISTER transaction: sofia's own (timer F, 32 s) is too long to fail over.
// UDP retransmits at 0, 0.5, 1.5, 3.5 and 7.5 s before it.
constexpr unsigned kRegisterBoundMs = 8000;
constexpr unsigned kUnregisterBoundMs = 3000;
constexpr int kMaxTooBrief = 3;
constexpr int kMaxChallengesPerAttempt = 3;

double random01() {
  thread_local std::mt19937 gen{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(gen);
}

unsigned parse_delta(const char* text, unsigned fallback) {
  if (!text || !*text) return fallback;
  char* end = nullptr;
  unsigned long v = std::strtoul(text, &end, 10);
  return end && *end == '\0' ? static_cast<unsigned>(std::min(v, 86400ul * 365)) : fallback;
}

uint16_t port_of_url(const url_t* u) {
  return u->url_port ? static_cast<uint16_t>(std::strtoul(u->url_port, nullptr, 10)) : uint16_t{5060};
}

}  // namespace

std::string registration_token(const config::Trunk& trunk) {
  return "b2t" + md5_hex(trunk.name + "\n" + trunk.username + "\n" + trunk.registrar).substr(0, 12);
}

std::string trunk_domain(const config::Trunk& trunk) {
  std::string domain = trunk.domain ? *trunk.domain : parse_sip_target(trunk.registrar).host;
  if (domain.find(':') != std::string::npos && domain.front() != '[') domain = "[" + domain + "]";
  return domain;
}

std::string trunk_aor(const config::Trunk& trunk) { return "sip:" + trunk.username + "@" + trunk_domain(trunk); }

TrunkRegistration::TrunkRegistration(sip::SipAgent& wan, const config::Wan& wan_config, const config::Trunk& trunk,
                                     ServerResolver& resolver, storage::TrunkStateRepository* states,
                                     const sip::SofiaLog* sofia_log)
    : wan_(wan),
      wan_config_(wan_config),
      trunk_(trunk),
      resolver_(resolver),
      states_(states),
      sofia_log_(sofia_log),
      token_(registration_token(trunk)),
      aor_(trunk_aor(trunk)),
      registrar_uri_(trunk.registrar),
      // TLS has its own transport and port: Via and Contact name that one.
      nat_(wan_config.public_address,
           HostPort{wan_config.address,
                    trunk.transport == config::Transport::tls ? wan_config.tls_port : wan_config.port}),
      retry_(trunk.retry_auth_failed, trunk.retry_max_backoff, &random01),
      keepalive_(wan, trunk.name, trunk.keepalive, HostPort{wan_config.address, wan_config.port},
                 Keepalive::Events{[this](const sip_t* sip) { on_public_address_seen(sip); },
                                   [this] { on_flow_dead(); }}),
      failback_(wan, trunk.name,
                config::Keepalive{config::KeepaliveMethod::options,
                                  trunk.keepalive.method == config::KeepaliveMethod::off ? 30 : trunk.keepalive.interval},
                HostPort{wan_config.address, wan_config.port}, Keepalive::Events{[this](const sip_t*) { fail_back(); }, {}},
                "failback_probe"),
      retry_timer_(wan.root()),
      response_timer_(wan.root()),
      refresh_watchdog_(wan.root()),
      resolve_timer_(wan.root()),
      stop_timer_(wan.root()),
      expires_(trunk.expires) {
  if (states_) {
    if (auto row = states_->load(trunk_.name)) nat_.restore(row->public_address);
  }
}

TrunkRegistration::~TrunkRegistration() {
  resolver_.cancel(this);
  keepalive_.stop();
  failback_.stop();
  destroy_handle();
}

void TrunkRegistration::start() {
  if (!trunk_.enabled) return set_state(TrunkState::disabled);
  if (!trunk_.register_enabled) {
    // IP-authenticated trunk: nothing to register, but its servers must be known for the
    // source filter and the keep-alive still holds the NAT mapping open.
    set_state(TrunkState::unregistered);
    return resolve();
  }
  set_state(TrunkState::registering);
  resolve();
}

void TrunkRegistration::resolve() {
  resolver_.cancel(this);
  targets_.clear();
  std::vector<std::string> uris{trunk_.outbound_proxy ? *trunk_.outbound_proxy : trunk_.registrar};
  uris.insert(uris.end(), trunk_.backup_servers.begin(), trunk_.backup_servers.end());
  for (const auto& uri : uris) {
    SipTarget target = parse_sip_target(uri);
    if (target.ok) {
      targets_.push_back(target);
    } else {
      B2BUA_LOG(error, "trunk", "bad_server_uri", {{"trunk", trunk_.name}, {"uri", uri}});
    }
  }
  resolving_ = Resolution{};
  resolving_names_.clear();
  resolve_next(0);
}

void TrunkRegistration::resolve_next(size_t index) {
  if (index >= targets_.size()) return on_resolved(resolving_);
  resolver_.resolve(this, targets_[index], trunk_.transport, [this, index](const Resolution& r) {
    for (const auto& s : r.servers) {
      if (std::find(resolving_.servers.begin(), resolving_.servers.end(), s) == resolving_.servers.end()) {
        resolving_.servers.push_back(s);
        resolving_names_.push_back(targets_[index].host);
      }
    }
    if (r.ttl_s && (!resolving_.ttl_s || r.ttl_s < resolving_.ttl_s)) resolving_.ttl_s = r.ttl_s;
    if (!r.error.empty()) resolving_.error += (resolving_.error.empty() ? "" : "; ") + r.error;
    resolve_next(index + 1);
  });
}

void TrunkRegistration::on_resolved(const Resolution& r) {
  if (r.servers.empty()) {
    B2BUA_LOG(error, "trunk", "dns_failed",
              {{"trunk", trunk_.name}, {"error", r.error.empty() ? "no usable server URI" : r.error}});
    if (trunk_.register_enabled) on_failed(0, "DNS: " + r.error, nullptr, false);
    if (r.ttl_s) resolve_timer_.start(r.ttl_s * 1000u, [this] { resolve(); });
    return;
  }
  std::optional<HostPort> current = current_server();
  servers_ = r.servers;
  server_names_ = resolving_names_;
  std::string list;
  for (const auto& s : servers_) list += (list.empty() ? "" : ",") + s.str();
  B2BUA_LOG(debug, "trunk", "servers_resolved", {{"trunk", trunk_.name}, {"servers", list}, {"ttl_s", r.ttl_s}});
  if (r.ttl_s) resolve_timer_.start(r.ttl_s * 1000u, [this] { resolve(); });
  auto same = current ? std::find(servers_.begin(), servers_.end(), *current) : servers_.end();
  if (same != servers_.end()) {
    // Re-resolution: keep the working flow (and probe the preferred server if it is another).
    server_index_ = static_cast<size_t>(same - servers_.begin());
    return update_failback();
  }
  server_index_ = 0;
  if (!trunk_.register_enabled) {
    KeepaliveTarget kt{servers_.front(), route_to(0), trunk_.transport, aor_, registrar_uri_, contact()};
    return keepalive_.start(kt);
  }
  if (!retry_timer_.armed()) send_register();
}

std::optional<HostPort> TrunkRegistration::current_server() const {
  if (servers_.empty()) return std::nullopt;
  return servers_[server_index_ % servers_.size()];
}

std::string TrunkRegistration::transport_param() const {
  switch (trunk_.transport) {
    case config::Transport::tcp: return ";transport=tcp";
    case config::Transport::tls: return ";transport=tls";
    case config::Transport::udp: break;
  }
  return "";
}

std::string TrunkRegistration::contact_for(const HostPort& address) const {
  return "<sip:" + token_ + "@" + address.str() + transport_param() + ">";
}

std::string TrunkRegistration::contact() const { return contact_for(nat_.contact_address()); }

std::string TrunkRegistration::route_to(size_t index) const {
  if (servers_.empty()) return "";
  index %= servers_.size();
  const HostPort& s = servers_[index];
  const std::string& name = index < server_names_.size() ? server_names_[index] : s.host;
  if (trunk_.transport == config::Transport::tls && !is_ip_literal(name)) {
    // RFC 5922 4: the identity to check is the host of the configured URI. nta connects to
    // maddr and verifies the certificate against the URI's host.
    return "sip:" + name + ":" + std::to_string(s.port) + transport_param() + ";maddr=" + s.host;
  }
  return "sip:" + s.str() + transport_param();
}

void TrunkRegistration::send_register() {
  if (stopping_) return;
  auto server = current_server();
  if (!server) return resolve();
  if (!nh_) {
    nh_ = nua_handle(wan_.nua(), this, SIPTAG_TO_STR(aor_.c_str()), SIPTAG_FROM_STR(aor_.c_str()), TAG_END());
    challenges_answered_ = 0;
  }
  if (!nh_) return on_failed(0, "cannot create a SIP handle", nullptr, false);
  HostPort address = nat_.contact_address();
  std::string contacts = contact_for(address);
  // The old binding goes in the same request (RFC 3261 10.2.2), so the provider never keeps
  // forking calls to a mapping that no longer exists.
  if (!stale_contact_.empty()) contacts += ", " + stale_contact_ + ";expires=0";
  contact_sent_ = address;
  std::string route_uri = route();
  std::string expires = std::to_string(expires_);
  bool own_auth = !own_authorization_.empty();
  nua_register(nh_, NUTAG_REGISTRAR(registrar_uri_.c_str()), NUTAG_PROXY(route_uri.c_str()),
               SIPTAG_CONTACT_STR(contacts.c_str()), SIPTAG_EXPIRES_STR(expires.c_str()),
               // Our Contact, our keep-alives, our re-registration on NAT change (see header).
               NUTAG_OUTBOUND("no-natify no-options-keepalive no-validate"), NUTAG_KEEPALIVE(0),
               TAG_IF(own_auth && !own_authorization_proxy_, SIPTAG_AUTHORIZATION_STR(own_authorization_.c_str())),
               TAG_IF(own_auth && own_authorization_proxy_,
                      SIPTAG_PROXY_AUTHORIZATION_STR(own_authorization_.c_str())),
               TAG_IF(own_auth && !own_authorization_call_id_.empty(),
                      SIPTAG_CALL_ID_STR(own_authorization_call_id_.c_str())),
               TAG_END());
  B2BUA_LOG(debug, "trunk", "register_sent",
            {{"trunk", trunk_.name}, {"server", server->str()}, {"contact", contacts}, {"expires", expires_}});
  if (state_ != TrunkState::registered) set_state(TrunkState::registering);
  response_timer_.start(kRegisterBoundMs, [this] { on_response_timeout(); });
}

void TrunkRegistration::on_nua_event(const sip::NuaEvent& ev) {
  if (ev.nh != nh_) return;
  switch (ev.event) {
    case nua_r_register: return on_register_response(ev);
    case nua_r_unregister: return on_unregister_response(ev);
    case nua_r_options: return keepalive_.on_nua_event(ev);
    default: return;
  }
}

void TrunkRegistration::on_register_response(const sip::NuaEvent& ev) {
  if (ev.status < 200 || stopping_) return;
  response_timer_.cancel();
  last_status_ = ev.status;
  last_phrase_ = ev.phrase ? ev.phrase : "";
  if (ev.sip && ev.sip->sip_via && nat_.learn(ev.sip->sip_via)) {
    B2BUA_LOG(info, "trunk", "public_address_learned",
              {{"trunk", trunk_.name}, {"public_address", nat_.public_address()}});
  }
  if (ev.status == 401 || ev.status == 407) {
    if (!answer_challenge(ev, false)) on_failed(ev.status, last_phrase_, ev.sip, true);
    return;
  }
  if (ev.status == 423 && ev.sip && ev.sip->sip_min_expires && ++too_brief_ <= kMaxTooBrief) {
    int asked = static_cast<int>(ev.sip->sip_min_expires->me_delta);
    B2BUA_LOG(info, "trunk", "interval_too_brief", {{"trunk", trunk_.name}, {"min_expires", asked}});
    expires_ = std::max(expires_, asked);
    return send_register();
  }
  if (ev.status >= 200 && ev.status < 300) return on_registered(ev);
  // A response sofia made up itself (no SIP message): the network or the transport failed.
  on_failed(ev.status, last_phrase_, ev.sip, false);
}

bool TrunkRegistration::answer_challenge(const sip::NuaEvent& ev, bool unregister) {
  auto challenges = digest_challenges(ev.sip);
  bool stale = std::any_of(challenges.begin(), challenges.end(), [](const DigestChallenge& c) { return c.stale; });
  // A second challenge after our answer means wrong credentials, unless the nonce merely
  // expired (stale=true, RFC 2617 3.2.1): that one is answered again and is no failure.
  if (challenges.empty() || (challenges_answered_ > 0 && !stale) || challenges_answered_ >= kMaxChallengesPerAttempt) {
    return false;
  }
  ++challenges_answered_;
  auto answer = answer_challenges(challenges, trunk_.auth_user(), trunk_.password, "REGISTER", registrar_uri_);
  if (!answer) {
    B2BUA_LOG(error, "trunk", "no_usable_challenge",
              {{"trunk", trunk_.name}, {"algorithm", challenges.front().algorithm}});
    return false;
  }
  if (!answer->sofia_auth.empty()) {
    own_authorization_.clear();
    nua_authenticate(nh_, NUTAG_AUTH(answer->sofia_auth.c_str()), TAG_END());
    response_timer_.start(kRegisterBoundMs, [this] { on_response_timeout(); });
    return true;
  }
  B2BUA_LOG(debug, "trunk", "answering_challenge",
            {{"trunk", trunk_.name}, {"algorithm", answer->algorithm}, {"offered", challenges.size()}});
  own_authorization_ = answer->header;
  own_authorization_proxy_ = answer->proxy;
  // nua starts a new registration (and Call-ID) after the failed one; the provider should see
  // the answer to its challenge in the same call (RFC 3261 10.2: one Call-ID per binding).
  own_authorization_call_id_ = ev.sip && ev.sip->sip_call_id ? ev.sip->sip_call_id->i_id : "";
  if (unregister) {
    send_unregister();
  } else {
    send_register();
  }
  return true;
}

unsigned TrunkRegistration::granted_expiry(const sip_t* sip) const {
  unsigned fallback = sip && sip->sip_expires ? static_cast<unsigned>(sip->sip_expires->ex_delta)
                                              : static_cast<unsigned>(expires_);
  std::optional<unsigned> ours;
  for (const sip_contact_t* m = sip ? sip->sip_contact : nullptr; m; m = m->m_next) {
    const url_t* u = m->m_url;
    if (!u || !u->url_user || token_ != u->url_user || !u->url_host) continue;
    unsigned e = parse_delta(m->m_expires, fallback);
    if (HostPort{u->url_host, port_of_url(u)} == contact_sent_) return e;
    if (!ours) ours = e;
  }
  return ours ? *ours : fallback;
}

void TrunkRegistration::on_registered(const sip::NuaEvent& ev) {
  unsigned granted = granted_expiry(ev.sip);
  if (granted == 0) return on_failed(ev.status, "binding not kept by the registrar", ev.sip, false);
  challenges_answered_ = 0;
  too_brief_ = 0;
  own_authorization_.clear();
  stale_contact_.clear();
  retry_.on_success();
  bool was_registered = state_ == TrunkState::registered;
  registered_until_ = clock::unix_s() + granted;
  if (auto rewrite = alg_.inspect(ev.sip, nat_.local(), token_, contact_sent_, current_server())) {
    B2BUA_LOG(warn, "trunk", "sip_alg_detected",
              {{"trunk", trunk_.name},
               {"rewritten", *rewrite},
               {"remedy", "switch off the SIP ALG (SIP helper) of the router, or set wan.port to another "
                          "port such as 5160 that ALGs do not inspect"}});
  }
  set_state(TrunkState::registered);
  if (!was_registered) {
    B2BUA_LOG(info, "trunk", "registered",
              {{"trunk", trunk_.name}, {"server", route()}, {"expires", granted}, {"contact", contact_for(contact_sent_)}});
  } else {
    B2BUA_LOG(debug, "trunk", "refreshed", {{"trunk", trunk_.name}, {"expires", granted}});
  }
  // nua refreshes by itself between 1/4 and 3/4 of the granted time; if that refresh never
  // comes back (it reports its failures, but a silent stack must not cost us the binding),
  // we register again just before the binding runs out.
  unsigned watchdog_ms = granted * 1000u - std::min(granted * 1000u / 8u, 5000u);
  refresh_watchdog_.start(watchdog_ms, [this] {
    B2BUA_LOG(info, "trunk", "refresh_overdue", {{"trunk", trunk_.name}});
    send_register();
  });
  KeepaliveTarget kt{*current_server(), route(), trunk_.transport, aor_, registrar_uri_,
                     contact_for(nat_.contact_address())};
  keepalive_.use_handle(nh_);
  keepalive_.start(kt);
  update_failback();
  persist();
  if (!(nat_.contact_address() == contact_sent_)) {
    // The provider sees us elsewhere than our Contact says: register where it can reach us.
    B2BUA_LOG(info, "trunk", "contact_updated",
              {{"trunk", trunk_.name}, {"from", contact_sent_.str()}, {"to", nat_.contact_address().str()}});
    remember_stale_contact();
    send_register();
  }
}

void TrunkRegistration::remember_stale_contact() {
  // A binding at our private bind address is useless to the provider, and naming that address
  // again (even to remove it) is what we promise never to do once a public one is known: it
  // expires on its own. A binding at an old public address is removed at once. On TCP/TLS the
  // Contact moves to the connection's port even without a NAT; a public bind address left
  // bound there would get the provider's requests on new connections instead of ours.
  bool stream = trunk_.transport != config::Transport::udp;
  if (!(contact_sent_ == nat_.local()) || (stream && !is_private_ip(contact_sent_.host))) {
    stale_contact_ = contact_for(contact_sent_);
  }
}

void TrunkRegistration::on_public_address_seen(const sip_t* sip) {
  if (!sip || !sip->sip_via || !nat_.learn(sip->sip_via)) return;
  B2BUA_LOG(info, "trunk", "public_address_changed", {{"trunk", trunk_.name}, {"public_address", nat_.public_address()}});
  persist();
  if (state_ == TrunkState::registered && !(nat_.contact_address() == contact_sent_) && !response_timer_.armed()) {
    remember_stale_contact();
    send_register();
  }
}

void TrunkRegistration::update_failback() {
  // Only a registered trunk on a backup has somewhere better to be.
  if (state_ != TrunkState::registered || server_index_ % std::max<size_t>(servers_.size(), 1) == 0 || stopping_) {
    return failback_.stop();
  }
  if (failback_.running()) return;
  failback_.start(KeepaliveTarget{servers_.front(), route_to(0), trunk_.transport, aor_, registrar_uri_, contact()});
}

void TrunkRegistration::fail_back() {
  // Any answer, even an error, shows the preferred server is back: register there. Dropping
  // the backup's handle makes nua remove that binding (Expires: 0), so the provider does not
  // fork calls to both; requests from the backup are still accepted while it lingers.
  failback_.stop();
  if (stopping_ || server_index_ == 0 || response_timer_.armed()) return;
  B2BUA_LOG(info, "trunk", "failback", {{"trunk", trunk_.name}, {"from", route()}, {"to", route_to(0)}});
  server_index_ = 0;
  destroy_handle();
  // Until the preferred server answers, this is a new registration (logged as one).
  set_state(TrunkState::registering);
  keepalive_.stop();
  refresh_watchdog_.cancel();
  send_register();
}

void TrunkRegistration::on_flow_dead() {
  if (stopping_ || !trunk_.register_enabled) return;
  // A dead flow means a new mapping (perhaps a new public address) or a dead server: register
  // at once; if the server stays silent the response bound moves us to the next one.
  keepalive_.stop();
  if (!response_timer_.armed()) {
    destroy_handle();
    send_register();
  }
}

void TrunkRegistration::on_tls_failure() {
  if (trunk_.transport != config::Transport::tls || !response_timer_.armed() || stopping_) return;
  destroy_handle();
  last_status_ = 503;
  last_phrase_ = "TLS connection failed";
  on_failed(last_status_, last_phrase_, nullptr, false);
}

void TrunkRegistration::on_response_timeout() {
  B2BUA_LOG(warn, "trunk", "register_timeout", {{"trunk", trunk_.name}, {"server", route()}});
  // The transaction is still pending inside nua: a fresh handle is the only way to drop it.
  destroy_handle();
  last_status_ = 408;
  last_phrase_ = "Request Timeout";
  on_failed(408, last_phrase_, nullptr, false);
}

void TrunkRegistration::on_failed(int status, const std::string& given_phrase, const sip_t* sip,
                                  bool bad_credentials) {
  keepalive_.stop();
  failback_.stop();
  std::string phrase = given_phrase;
  if (!sip && trunk_.transport == config::Transport::tls && sofia_log_) {
    // The stack only says the request failed; the transport log knows it was TLS (within our
    // response bound, so the failure is this attempt's).
    if (auto tls = sofia_log_->recent_tls_failure(std::chrono::seconds(kRegisterBoundMs / 1000 + 1))) {
      B2BUA_LOG(error, "trunk", "tls_failed", {{"trunk", trunk_.name}, {"server", route()}, {"error", *tls}});
      phrase += " (" + *tls + ")";
      last_phrase_ = phrase;
    }
  }
  refresh_watchdog_.cancel();
  std::optional<unsigned> retry_after;
  if (sip && sip->sip_retry_after) retry_after = static_cast<unsigned>(sip->sip_retry_after->af_delta);
  bool another = server_index_ + 1 < servers_.size();
  RetryDecision d = retry_.on_failure(status == 0 ? 503 : status, retry_after, bad_credentials, another);
  if (d.next_server && !servers_.empty()) {
    server_index_ = (server_index_ + 1) % servers_.size();
    destroy_handle();
  }
  if (d.state == TrunkState::auth_failed) {
    // sofia may keep a broken nonce state on the handle (design note §6): start afresh.
    destroy_handle();
    B2BUA_LOG(error, "trunk", "registration_rejected",
              {{"trunk", trunk_.name}, {"status", status}, {"phrase", phrase}, {"retry_in_s", d.delay_ms / 1000}});
  } else {
    B2BUA_LOG(warn, "trunk", "registration_failed",
              {{"trunk", trunk_.name}, {"status", status}, {"phrase", phrase}, {"retry_in_ms", d.delay_ms},
               {"next_server", route()}});
  }
  own_authorization_.clear();
  if (registered_until_ <= clock::unix_s()) registered_until_ = 0;
  // Straight on to the next server is no backoff: the state says registering throughout.
  set_state(d.delay_ms == 0 && d.state == TrunkState::backoff ? TrunkState::registering : d.state);
  persist();
  retry_timer_.start(d.delay_ms, [this] { send_register(); });
}

void TrunkRegistration::set_state(TrunkState state) {
  if (state == state_) return;
  B2BUA_LOG(info, "trunk", "state", {{"trunk", trunk_.name}, {"from", state_name(state_)}, {"to", state_name(state)}});
  state_ = state;
}

void TrunkRegistration::persist() {
  if (!states_) return;
  storage::TrunkStateRow row;
  row.trunk = trunk_.name;
  row.public_address = nat_.configured() ? "" : nat_.public_address();
  row.registered_until = registered_until_;
  row.last_status = last_status_;
  row.updated_at = clock::unix_s();
  states_->save(row);
}

void TrunkRegistration::destroy_handle() {
  response_timer_.cancel();
  keepalive_.use_handle(nullptr);
  if (nh_) {
    nua_handle_destroy(nh_);
    nh_ = nullptr;
  }
}

void TrunkRegistration::stop(std::function<void()> done) {
  stopping_ = true;
  stop_done_ = std::move(done);
  retry_timer_.cancel();
  refresh_watchdog_.cancel();
  resolve_timer_.cancel();
  resolver_.cancel(this);
  keepalive_.stop();
  failback_.stop();
  response_timer_.cancel();
  bool may_be_bound = nh_ && (registered_until_ > clock::unix_s() || state_ == TrunkState::registering ||
                              state_ == TrunkState::registered);
  if (!may_be_bound) return finish_stop();
  challenges_answered_ = 0;
  stop_timer_.start(kUnregisterBoundMs, [this] {
    B2BUA_LOG(warn, "trunk", "unregister_timeout", {{"trunk", trunk_.name}});
    finish_stop();
  });
  send_unregister();
}

void TrunkRegistration::send_unregister() {
  std::string contact = contact_for(contact_sent_) + ";expires=0";
  bool own_auth = !own_authorization_.empty();
  nua_unregister(nh_, SIPTAG_CONTACT_STR(contact.c_str()), SIPTAG_EXPIRES_STR("0"),
                 TAG_IF(own_auth && !own_authorization_proxy_, SIPTAG_AUTHORIZATION_STR(own_authorization_.c_str())),
                 TAG_IF(own_auth && own_authorization_proxy_,
                        SIPTAG_PROXY_AUTHORIZATION_STR(own_authorization_.c_str())),
                 TAG_END());
}

void TrunkRegistration::on_unregister_response(const sip::NuaEvent& ev) {
  if (ev.status < 200) return;
  if ((ev.status == 401 || ev.status == 407) && answer_challenge(ev, true)) return;
  B2BUA_LOG(info, "trunk", "unregistered", {{"trunk", trunk_.name}, {"status", ev.status}});
  finish_stop();
}

void TrunkRegistration::finish_stop() {
  stop_timer_.cancel();
  destroy_handle();
  registered_until_ = 0;
  set_state(TrunkState::disabled);
  persist();
  if (auto done = std::move(stop_done_)) {
    stop_done_ = nullptr;
    done();
  }
}

TrunkSnapshot TrunkRegistration::snapshot() const {
  TrunkSnapshot s;
  s.name = trunk_.name;
  s.state = state_;
  s.registered_until = registered_until_;
  if (auto srv = current_server()) s.server = srv->str();
  s.public_address = nat_.public_address();
  s.contact = contact();
  s.last_status = last_status_;
  s.last_phrase = last_phrase_;
  s.keepalive_rtt_ms = keepalive_.rtt_ms();
  s.alg_detected = alg_.detected();
  return s;
}

}  // namespace b2bua::trunk
