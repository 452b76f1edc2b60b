// The registration state machine (trunk_registration.h). Longer than our other files on
// purpose: every transition is here so the machine reads top to bottom; what it uses lives
// beside it (server_list, provider_auth, registration_contact, keepalive, retry_policy).
#include "b2bua/trunk/trunk_registration.h"

#include <algorithm>

#include "b2bua/common/clock.h"
#include "b2bua/common/log.h"
#include "b2bua/plane/feature.h"
#include "storage/store.h"

namespace b2bua::trunk {
namespace {

// Our bound on one REGISTER transaction: sofia's own (timer F, 32 s) is too long to fail over.
// UDP retransmits at 0, 0.5, 1.5, 3.5 and 7.5 s before it.
constexpr unsigned kRegisterBoundMs = 8000;
// The un-REGISTER at shutdown: a provider that does not answer it in time is given up, and
// the handle destroyed, before the stack's shutdown (plane::kShutdownExchangeMs says why).
constexpr unsigned kUnregisterBoundMs = plane::kShutdownExchangeMs;
constexpr int kMaxTooBrief = 3;

// Where requests to this trunk leave from; TLS has its own port, which Via and Contact name.
HostPort local_address(const config::Wan& wan, config::Transport transport) {
  return HostPort{wan.address, transport == config::Transport::tls ? wan.tls_port : wan.port};
}

// The failback probe asks with OPTIONS at the keep-alive interval (30 s when keep-alives are off).
config::Keepalive failback_probe(const config::Keepalive& keepalive) {
  return {config::KeepaliveMethod::options,
          keepalive.method == config::KeepaliveMethod::off ? 30 : keepalive.interval};
}

}  // namespace

TrunkRegistration::TrunkRegistration(sip::SipAgent& wan, config::Snapshot running_config, const config::Trunk& trunk,
                                     ServerResolver& resolver, storage::TrunkStateRepository* states,
                                     const sip::SofiaLog* sofia_log)
    : wan_(wan),
      config_(std::move(running_config)),
      trunk_(trunk),
      states_(states),
      sofia_log_(sofia_log),
      token_(registration_token(trunk)),
      aor_(trunk_aor(trunk)),
      registrar_uri_(trunk.registrar),
      servers_(wan.root(), resolver, trunk,
               [this](ServerList::Outcome outcome, const std::string& error) { on_resolved(outcome, error); }),
      nat_(config_->wan.public_address, local_address(config_->wan, trunk.transport)),
      contact_(token_, trunk.transport, nat_),
      retry_(trunk.retry_auth_failed, trunk.retry_max_backoff),
      keepalive_(wan, trunk.name, trunk.keepalive, local_address(config_->wan, config::Transport::udp),
                 Keepalive::Events{[this](const sip_t* sip) { on_public_address_seen(sip); },
                                   [this] { on_flow_dead(); }}),
      failback_(wan, trunk.name, failback_probe(trunk.keepalive), local_address(config_->wan, config::Transport::udp),
                Keepalive::Events{[this](const sip_t*) { fail_back(); }, {}}, "failback_probe"),
      binding_check_(wan, trunk, [this] { on_binding_lost(); }),
      retry_timer_(wan.root()),
      response_timer_(wan.root()),
      refresh_watchdog_(wan.root()),
      stop_timer_(wan.root()),
      expires_(trunk.expires) {
  if (states_) {
    if (auto row = states_->load(trunk_.name)) nat_.restore(row->public_address);
  }
  if (trunk.keepalive.automatic && trunk.enabled && config_->wan.stun) {
    nat_lifetime_ = std::make_unique<NatLifetime>(
        wan.root(), resolver, trunk.name, config_->wan.address, *config_->wan.stun,
        [this](const NatLifetimeOutcome& o) { on_nat_lifetime(o); });
  }
}

TrunkRegistration::~TrunkRegistration() {
  if (nat_lifetime_) nat_lifetime_->stop();
  servers_.stop();
  keepalive_.stop();
  failback_.stop();
  binding_check_.stop();
  destroy_handle();
}

void TrunkRegistration::start() {
  if (!trunk_.enabled) return set_state(TrunkState::disabled);
  // An IP-authenticated trunk has nothing to register, but its servers must be known for the
  // source filter, and the keep-alive still holds the NAT mapping open.
  set_state(trunk_.register_enabled ? TrunkState::registering : TrunkState::unregistered);
  servers_.resolve();
  if (nat_lifetime_) {
    nat_lifetime_->measure("start");
  } else if (trunk_.keepalive.automatic) {
    NatLifetimeOutcome none;
    none.reason = "no STUN server configured (wan.stun)";
    none.unsupported = true;
    on_nat_lifetime(none);
  }
}

void TrunkRegistration::on_nat_lifetime(const NatLifetimeOutcome& o) {
  if (o.measured) {
    nat_outcome_ = o;
    nat_unavailable_logged_.clear();
    keepalive_.set_interval(o.keepalive_s);
    B2BUA_LOG(info, "trunk", "nat_lifetime",
              {{"trunk", trunk_.name}, {"lifetime_s", seconds_text(o.lifetime_ms)}, {"at_least", o.at_least ? "true" : "false"},
               {"keepalive_s", o.keepalive_s}, {"method", "stun"}, {"took_s", o.took_ms / 1000}});
    return;
  }
  // A server that fell silent leaves a measurement we have in force; anything else means the
  // configured interval, the one that held before "auto".
  if (o.unsupported || !nat_outcome_ || !nat_outcome_->measured) {
    nat_outcome_ = o;
    keepalive_.set_interval(static_cast<unsigned>(trunk_.keepalive.interval));
  }
  if (o.reason == nat_unavailable_logged_) return;
  nat_unavailable_logged_ = o.reason;
  B2BUA_LOG(warn, "trunk", "nat_lifetime_unavailable",
            {{"trunk", trunk_.name}, {"reason", o.reason}, {"keepalive_s", keepalive_.interval()}, {"method", "stun"}});
}

void TrunkRegistration::remeasure_nat(const char* why) {
  // Not while the first measurement runs: it already sees the NAT as it is now.
  if (!nat_lifetime_ || (nat_lifetime_->measuring() && !nat_outcome_)) return;
  nat_lifetime_->measure(why);
}

void TrunkRegistration::on_resolved(ServerList::Outcome outcome, const std::string& error) {
  // The WAN's source filter must let the servers' answers in before the first request goes.
  if (servers_changed_) servers_changed_();
  // A DNS server that never answered is not a name that does not exist: the admin looks at the
  // network or resolv.conf, not at the trunk's config. Retried with the backoff like any failure.
  for (const auto& u : servers_.unanswered()) {
    B2BUA_LOG(warn, "trunk", "dns_timeout", {{"trunk", trunk_.name}, {"name", u.name}, {"servers", u.dns_servers}});
  }
  switch (outcome) {
    case ServerList::Outcome::failed:
      if (!trunk_.register_enabled) return;
      // No SIP response to show: the status's last response is why no request could be sent.
      last_status_ = 0;
      last_phrase_ = "DNS: " + error;
      on_failed(0, last_phrase_, nullptr, false);
      return;
    case ServerList::Outcome::kept:
      // Re-resolution kept the working flow; probe the preferred server if it is another.
      return update_failback();
    case ServerList::Outcome::fresh:
      break;
  }
  if (!trunk_.register_enabled) {
    return keepalive_.start(
        KeepaliveTarget{*servers_.current(), servers_.route(), trunk_.transport, aor_, registrar_uri_, contact()});
  }
  if (!retry_timer_.armed()) send_register();
}

void TrunkRegistration::send_register() {
  if (stopping_) return;
  auto server = current_server();
  if (!server) return servers_.resolve();
  if (!nh_) {
    nh_ = nua_handle(wan_.nua(), this, SIPTAG_TO_STR(aor_.c_str()), SIPTAG_FROM_STR(aor_.c_str()), TAG_END());
    challenges_answered_ = 0;
    answered_challenge_.reset();
  }
  if (!nh_) {
    on_failed(0, "cannot create a SIP handle", nullptr, false);
    return;
  }
  std::string contacts = contact_.next_register();
  std::string route_uri = route();
  std::string expires = std::to_string(expires_);
  nua_register(nh_, NUTAG_REGISTRAR(registrar_uri_.c_str()), NUTAG_PROXY(route_uri.c_str()),
               SIPTAG_CONTACT_STR(contacts.c_str()), SIPTAG_EXPIRES_STR(expires.c_str()),
               // Our Contact, our keep-alives, our re-registration on NAT change (see header).
               NUTAG_OUTBOUND("no-natify no-options-keepalive no-validate"), NUTAG_KEEPALIVE(0),
               TAG_NEXT(auth_.tags()));
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
  if (stopping_) return;
  if (ev.status == 100 && ev.sip && ev.sip->sip_status && ev.sip->sip_status->st_status >= 300 &&
      ev.sip->sip_retry_after) {
    return on_retry_after(ev);
  }
  if (ev.status < 200) return;
  // nta gives an unanswered request up with a 408 of its own after 64*T1, which the WAN agent
  // sets to our response bound: whichever of the two fires first, one timeout. nta's 408 comes
  // with a message it built or without one, so it cannot be told from a server's own 408 --
  // and needs no telling: RFC 3261 21.4.9, the request did not complete in time either way,
  // and the answer is the same (log it, fail over to the next server).
  if (ev.status == 408) return on_response_timeout();
  response_timer_.cancel();
  last_status_ = ev.status;
  last_phrase_ = ev.phrase ? ev.phrase : "";
  if (ev.sip && ev.sip->sip_via) {
    bool known = !nat_.public_address().empty();
    if (nat_.learn(ev.sip->sip_via)) {
      B2BUA_LOG(info, "trunk", "public_address_learned",
                {{"trunk", trunk_.name}, {"public_address", nat_.public_address()}});
      // A new public address may be a new NAT (another router, a carrier-grade NAT).
      if (known) remeasure_nat("public address changed");
    }
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
  if (!worth_answering(challenges, challenges_answered_)) return false;
  ++challenges_answered_;
  answered_challenge_ = summarize(challenges);
  switch (auth_.answer(nh_, challenges, ev.sip, trunk_.auth_user(), trunk_.password, "REGISTER", registrar_uri_)) {
    case ProviderAuth::Answered::no:
      B2BUA_LOG(error, "trunk", "no_usable_challenge",
                {{"trunk", trunk_.name}, {"algorithm", challenges.front().algorithm}});
      return false;
    case ProviderAuth::Answered::by_sofia:
      response_timer_.start(kRegisterBoundMs, [this] { on_response_timeout(); });
      return true;
    case ProviderAuth::Answered::by_us:
      break;
  }
  B2BUA_LOG(debug, "trunk", "answering_challenge",
            {{"trunk", trunk_.name}, {"algorithm", auth_.algorithm()}, {"offered", challenges.size()}});
  if (unregister) {
    send_unregister();
  } else {
    send_register();
  }
  return true;
}

void TrunkRegistration::on_registered(const sip::NuaEvent& ev) {
  unsigned granted = granted_expiry(ev.sip, token_, contact_.sent(), static_cast<unsigned>(expires_));
  if (granted == 0) {
    on_failed(ev.status, "binding not kept by the registrar", ev.sip, false);
    return;
  }
  challenges_answered_ = 0;
  answered_challenge_.reset();
  too_brief_ = 0;
  record_attempt(std::to_string(ev.status) + " " + (ev.phrase ? ev.phrase : ""));
  auth_.clear();
  contact_.registered();
  retry_.on_success();
  bool was_registered = state_ == TrunkState::registered;
  registered_until_ = clock::unix_s() + granted;
  if (auto rewrite = alg_.inspect(ev.sip, nat_.sent_by(), token_, contact_.sent(), current_server())) {
    B2BUA_LOG(warn, "trunk", "sip_alg_detected",
              {{"trunk", trunk_.name},
               {"rewritten", *rewrite},
               {"remedy", kAlgRemedy}});
  }
  set_state(TrunkState::registered);
  if (!was_registered) {
    B2BUA_LOG(info, "trunk", "registered",
              {{"trunk", trunk_.name}, {"server", route()}, {"expires", granted}, {"contact", contact_.sent_uri()}});
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
  KeepaliveTarget kt{*current_server(), route(), trunk_.transport, aor_, registrar_uri_, contact()};
  keepalive_.use_handle(nh_);
  keepalive_.start(kt);
  binding_check_.start(BindingCheckTarget{route(), aor_, registrar_uri_, token_});
  update_failback();
  persist();
  if (contact_.moved()) {
    // The provider sees us elsewhere than our Contact says: register where it can reach us.
    B2BUA_LOG(info, "trunk", "contact_updated",
              {{"trunk", trunk_.name}, {"from", contact_.sent().str()}, {"to", nat_.contact_address().str()}});
    contact_.leave_sent();
    send_register();
  }
}

void TrunkRegistration::on_public_address_seen(const sip_t* sip) {
  if (!sip || !sip->sip_via || !nat_.learn(sip->sip_via)) return;
  B2BUA_LOG(info, "trunk", "public_address_changed", {{"trunk", trunk_.name}, {"public_address", nat_.public_address()}});
  persist();
  remeasure_nat("public address changed");
  if (state_ == TrunkState::registered && contact_.moved() && !response_timer_.armed()) {
    contact_.leave_sent();
    send_register();
  }
}

void TrunkRegistration::update_failback() {
  // Only a registered trunk on a backup has somewhere better to be.
  if (state_ != TrunkState::registered || servers_.on_first() || stopping_) return failback_.stop();
  if (failback_.running()) return;
  failback_.start(
      KeepaliveTarget{servers_.servers().front(), servers_.route_to(0), trunk_.transport, aor_, registrar_uri_, contact()});
}

void TrunkRegistration::fail_back() {
  // Any answer, even an error, shows the preferred server is back: register there. Dropping
  // the backup's handle makes nua remove that binding (Expires: 0), so the provider does not
  // fork calls to both; requests from the backup are still accepted while it lingers.
  failback_.stop();
  if (stopping_ || servers_.on_first() || response_timer_.armed()) return;
  B2BUA_LOG(info, "trunk", "failback", {{"trunk", trunk_.name}, {"from", route()}, {"to", servers_.route_to(0)}});
  binding_check_.stop();
  servers_.fail_back();
  destroy_handle();
  // Until the preferred server answers, this is a new registration (logged as one).
  set_state(TrunkState::registering);
  keepalive_.stop();
  refresh_watchdog_.cancel();
  send_register();
}

void TrunkRegistration::on_flow_dead() {
  // A wait (our backoff, or the provider's Retry-After, which the response bound covers) is
  // not cut short: an overloaded server that does not answer our probe is doing what it said.
  if (stopping_ || !trunk_.register_enabled || retry_timer_.armed()) return;
  // A dead flow means a new mapping (perhaps a new public address) or a dead server: register
  // at once; if the server stays silent the response bound moves us to the next one.
  keepalive_.stop();
  if (nat_lifetime_) {
    // Perhaps the NAT forgets sooner than measured: the configured interval until it is
    // measured again.
    keepalive_.set_interval(std::min(keepalive_.interval(), static_cast<unsigned>(trunk_.keepalive.interval)));
    remeasure_nat("dead flow");
  }
  binding_check_.stop();
  if (!response_timer_.armed()) {
    destroy_handle();
    send_register();
  }
}

void TrunkRegistration::on_binding_lost() {
  if (stopping_ || response_timer_.armed() || retry_timer_.armed()) return;
  // The provider no longer knows our Contact (it restarted or failed over): until it answers
  // this REGISTER we are not reachable, and the state says so. The same handle keeps our
  // Call-ID, so to the provider this is the next REGISTER of the registration it lost.
  set_state(TrunkState::registering);
  refresh_watchdog_.cancel();
  send_register();
}

void TrunkRegistration::on_retry_after(const sip::NuaEvent& ev) {
  // nua restarts a request refused with Retry-After by itself on the same handle (so the
  // registration keeps its Call-ID), and reports only a 100 "Retry After N". Nothing of ours
  // would know a wait runs: a keep-alive probe that the overloaded provider leaves unanswered
  // would register at once, and the refusal would go unlogged. So the refusal takes our one
  // failure path (logged, in the status, the state backoff); when our policy agrees with the
  // provider's delay nua's own re-send is the retry and our bound covers it, otherwise the
  // handle goes (and nua's restart with it) and our retry timer decides.
  int status = ev.sip->sip_status->st_status;
  std::string phrase = ev.sip->sip_status->st_phrase ? ev.sip->sip_status->st_phrase : "";
  unsigned asked_ms = static_cast<unsigned>(ev.sip->sip_retry_after->af_delta) * 1000u;
  response_timer_.cancel();
  last_status_ = status;
  last_phrase_ = phrase;
  RetryDecision d = on_failed(status, phrase, ev.sip, false);
  if (nh_ && retry_timer_.armed() && d.delay_ms == asked_ms) {
    retry_timer_.cancel();
    response_timer_.start(asked_ms + kRegisterBoundMs, [this] { on_response_timeout(); });
  } else {
    destroy_handle();
  }
}

void TrunkRegistration::retry_now(const char* why) {
  if (stopping_ || !trunk_.register_enabled || response_timer_.armed()) return;
  if (state_ != TrunkState::backoff && state_ != TrunkState::registering) return;
  B2BUA_LOG(info, "trunk", "retry_now", {{"trunk", trunk_.name}, {"reason", why}});
  retry_timer_.cancel();
  // What failed before was the way out, not the server: the next failure backs off from the start.
  retry_.on_success();
  send_register();
}

void TrunkRegistration::on_tls_failure() {
  if (trunk_.transport != config::Transport::tls || !response_timer_.armed() || stopping_) return;
  give_up_attempt(503, "TLS connection failed");
}

void TrunkRegistration::on_response_timeout() {
  B2BUA_LOG(warn, "trunk", "register_timeout", {{"trunk", trunk_.name}, {"server", route()}});
  give_up_attempt(408, "Request Timeout");
}

void TrunkRegistration::give_up_attempt(int status, const char* phrase) {
  // The transaction is still pending inside nua: a fresh handle is the only way to drop it.
  destroy_handle();
  last_status_ = status;
  last_phrase_ = phrase;
  on_failed(status, last_phrase_, nullptr, false);
}

RetryDecision TrunkRegistration::on_failed(int status, const std::string& given_phrase, const sip_t* sip,
                                           bool bad_credentials) {
  keepalive_.stop();
  failback_.stop();
  binding_check_.stop();
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
  record_failure(status, phrase, sip);
  std::optional<unsigned> retry_after;
  if (sip && sip->sip_retry_after) retry_after = static_cast<unsigned>(sip->sip_retry_after->af_delta);
  RetryDecision d = retry_.on_failure(status == 0 ? 503 : status, retry_after, bad_credentials, servers_.another_left());
  if (d.next_server && servers_.fail_over()) destroy_handle();
  if (d.state == TrunkState::auth_failed) {
    // A handle whose nonce state went wrong (a 401 without stale=true after the nonce count
    // wrapped) stays stuck in sofia 1.12 until destroyed: start afresh on a new one.
    destroy_handle();
    B2BUA_LOG(error, "trunk", "registration_rejected",
              {{"trunk", trunk_.name}, {"status", status}, {"phrase", phrase}, {"retry_in_s", d.delay_ms / 1000}});
  } else {
    B2BUA_LOG(warn, "trunk", "registration_failed",
              {{"trunk", trunk_.name}, {"status", status}, {"phrase", phrase}, {"retry_in_ms", d.delay_ms},
               {"next_server", route()}});
  }
  auth_.clear();
  if (registered_until_ <= clock::unix_s()) registered_until_ = 0;
  // Straight on to the next server is no backoff: the state says registering throughout.
  set_state(d.delay_ms == 0 && d.state == TrunkState::backoff ? TrunkState::registering : d.state);
  persist();
  retry_timer_.start(d.delay_ms, [this] { send_register(); });
  return d;
}

void TrunkRegistration::record_attempt(std::string result) {
  auto server = current_server();
  if (attempts_.size() == kAttemptsKept) attempts_.erase(attempts_.begin());
  attempts_.push_back({clock::unix_s(), server ? server->str() : "", std::move(result)});
}

void TrunkRegistration::record_failure(int status, const std::string& phrase, const sip_t* sip) {
  auto server = current_server();
  last_failure_ = failed_exchange("REGISTER " + registrar_uri_ + " SIP/2.0", server ? server->str() : "", status, phrase,
                                  sip, answered_challenge_, clock::unix_s());
  record_attempt(last_failure_->answered ? last_failure_->response.substr(8) : "no answer (" + last_failure_->reason + ")");
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
  servers_.stop();
  if (nat_lifetime_) nat_lifetime_->stop();
  keepalive_.stop();
  failback_.stop();
  binding_check_.stop();
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
  std::string contact = contact_.sent_uri() + ";expires=0";
  nua_unregister(nh_, SIPTAG_CONTACT_STR(contact.c_str()), SIPTAG_EXPIRES_STR("0"), TAG_NEXT(auth_.tags()));
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
  s.keepalive_answered_at = keepalive_.answered_at();
  for (const auto& srv : servers_.servers()) s.servers.push_back(srv.str());
  s.dns = servers_.dns_answers();
  s.attempts = attempts_;
  s.last_failure = last_failure_;
  s.alg_detected = alg_.detected();
  if (trunk_.keepalive.method != config::KeepaliveMethod::off) s.keepalive_interval_s = keepalive_.interval();
  if (trunk_.keepalive.automatic) {
    bool measuring = nat_lifetime_ && nat_lifetime_->measuring();
    bool measured = nat_outcome_ && nat_outcome_->measured;
    s.nat_lifetime_state = measured ? "measured" : measuring ? "measuring" : "unavailable";
    if (measured) {
      s.nat_lifetime_s = nat_outcome_->lifetime_ms / 1000;
      s.nat_lifetime_at_least = nat_outcome_->at_least;
    } else if (nat_outcome_) {
      s.nat_lifetime_reason = nat_outcome_->reason;
    }
  }
  return s;
}

}  // namespace b2bua::trunk
