#include "b2bua/trunk/nat_lifetime.h"

#include "b2bua/common/log.h"
#include "b2bua/trunk/server_resolver.h"

namespace b2bua::trunk {
namespace {

// A request is sent again after 0.5 and 1.5 s (RFC 8489 6.2.1's doubling RTO from 500 ms) and
// given up kAnswerBoundMs after the first.
constexpr unsigned kResendAtMs[] = {0, 500, 1500};
constexpr unsigned kSends = sizeof kResendAtMs / sizeof kResendAtMs[0];

}  // namespace

struct NatLifetime::Probe {
  Probe(su_root_t* root, unsigned wait, StunSocket::Received on_x, StunSocket::Received on_y)
      : wait_ms(wait), x(root, std::move(on_x)), y(root, std::move(on_y)), timer(root) {}
  unsigned wait_ms;
  StunSocket x, y;
  StunTransactionId x_id = new_stun_transaction();
  StunTransactionId y_id = new_stun_transaction();
  StunTransactionId confirm_id = new_stun_transaction();
  std::optional<HostPort> mapped;  // X's mapping
  bool confirming = false;         // Y asked without RESPONSE-PORT: is the server still there?
  std::optional<bool> alive;
  sip::Timer timer;                // resends, bounds and the wait itself
};

NatLifetime::NatLifetime(su_root_t* root, ServerResolver& resolver, std::string trunk, std::string bind_address,
                         HostPort server, Done done)
    : root_(root),
      resolver_(resolver),
      trunk_(std::move(trunk)),
      bind_address_(std::move(bind_address)),
      server_(std::move(server)),
      done_(std::move(done)),
      next_(root),
      settle_(root) {}

NatLifetime::~NatLifetime() { resolver_.cancel(this); }

void NatLifetime::stop() {
  resolver_.cancel(this);
  next_.cancel();
  settle_.cancel();
  probes_.clear();
  search_.reset();
  failure_.reset();
  measuring_ = false;
}

void NatLifetime::measure(const char* why) {
  stop();
  measuring_ = true;
  started_ = std::chrono::steady_clock::now();
  B2BUA_LOG(debug, "trunk", "nat_lifetime_measuring", {{"trunk", trunk_}, {"stun", server_.str()}, {"why", why}});
  SipTarget target{server_.host, server_.port, true};
  resolver_.resolve(this, target, config::Transport::udp,
                    [this](const Resolution& r) { resolved(r.servers, r.error); });
}

void NatLifetime::resolved(const std::vector<HostPort>& servers, const std::string& error) {
  if (servers.empty()) return fail("cannot resolve " + server_.host + ": " + error, false);
  target_ = servers.front();
  search_.emplace();
  start_round();
}

void NatLifetime::start_round() {
  probes_.clear();
  settled_ = 0;
  for (unsigned wait : search_->next_round()) {
    auto p = std::make_unique<Probe>(
        root_, wait, [this, i = probes_.size()](const StunResponse& r) { on_x(*probes_[i], r); },
        [this, i = probes_.size()](const StunResponse& r) { on_y(*probes_[i], r); });
    std::string error;
    if (!p->x.open(bind_address_, error) || !p->y.open(bind_address_, error)) return fail(error, false);
    probes_.push_back(std::move(p));
  }
  if (probes_.empty()) return fail("no wait left to try", false);
  B2BUA_LOG(debug, "trunk", "nat_lifetime_round",
            {{"trunk", trunk_}, {"probes", probes_.size()}, {"first_s", seconds_text(probes_.front()->wait_ms)},
             {"last_s", seconds_text(probes_.back()->wait_ms)}});
  for (auto& p : probes_) send_x(*p, 0);
}

void NatLifetime::send_x(Probe& p, unsigned attempt) {
  p.x.send(target_, stun_binding_request(p.x_id));
  if (attempt + 1 < kSends) {
    p.timer.start(kResendAtMs[attempt + 1] - kResendAtMs[attempt], [this, &p, attempt] { send_x(p, attempt + 1); });
  } else {
    p.timer.start(kAnswerBoundMs - kResendAtMs[attempt],
                  [this] { fail("no answer from the STUN server " + target_.str(), false); });
  }
}

void NatLifetime::on_x(Probe& p, const StunResponse& r) {
  if (r.id == p.x_id && !p.mapped) {
    if (!r.success) return fail_soon("the STUN server answered error " + std::to_string(r.error_code), false);
    // RFC 5780 section 4: a server that supports the usage names its other address. Without
    // one, RESPONSE-PORT is ignored (coturn) or refused: nothing to measure with.
    if (!r.other) return fail_soon("the STUN server does not support RFC 5780 (no OTHER-ADDRESS)", true);
    if (!r.mapped) return fail_soon("the STUN server's answer has no mapped address", false);
    p.mapped = r.mapped;
    // The wait counts from the last packet through the mapping: this answer.
    p.timer.start(p.wait_ms, [this, &p] { send_y(p, 0); });
    return;
  }
  if (r.id == p.y_id && p.mapped && !p.alive) verdict(p, true);
}

void NatLifetime::send_y(Probe& p, unsigned attempt) {
  p.y.send(target_, stun_binding_request(p.y_id, p.mapped->port));
  if (attempt + 1 < kSends) {
    p.timer.start(kResendAtMs[attempt + 1] - kResendAtMs[attempt], [this, &p, attempt] { send_y(p, attempt + 1); });
    return;
  }
  p.timer.start(kAnswerBoundMs - kResendAtMs[attempt], [this, &p] {
    // Nothing reached X. Dead, if the server still answers at all.
    p.confirming = true;
    p.y.send(target_, stun_binding_request(p.confirm_id));
    p.timer.start(kAnswerBoundMs, [this] { fail("the STUN server " + target_.str() + " stopped answering", false); });
  });
}

void NatLifetime::on_y(Probe& p, const StunResponse& r) {
  if (p.alive) return;
  if (r.id == p.confirm_id && p.confirming) return verdict(p, false);
  if (r.id != p.y_id) return;
  // The answer meant for X's port came to Y. Either Y's own mapping took that port (X's had
  // expired and the NAT gave it out again), or the server ignored RESPONSE-PORT.
  if (r.mapped && p.mapped && r.mapped->port == p.mapped->port) return verdict(p, false);
  fail_soon("the STUN server ignores RESPONSE-PORT (RFC 5780 7.5)", true);
}

void NatLifetime::verdict(Probe& p, bool alive) {
  p.alive = alive;
  p.timer.cancel();
  settle_.start(0, [this] { settle(); });
}

void NatLifetime::fail_soon(const std::string& reason, bool unsupported) {
  if (!failure_) failure_.emplace(reason, unsupported);
  settle_.start(0, [this] { settle(); });
}

void NatLifetime::settle() {
  if (failure_) {
    auto [reason, unsupported] = *failure_;
    return fail(reason, unsupported);
  }
  if (!search_) return;
  // Verdicts in ascending order of wait; the round ends at the first dead probe (every longer
  // wait would die too) or when all are in.
  bool over = false;
  while (settled_ < probes_.size() && probes_[settled_]->alive) {
    const Probe& p = *probes_[settled_++];
    search_->record(p.wait_ms, *p.alive);
    if (!*p.alive) {
      over = true;
      break;
    }
  }
  if (!over && settled_ < probes_.size()) return;
  search_->round_over();
  probes_.clear();
  if (search_->control_failed()) {
    return fail("the STUN server did not answer to another port (RESPONSE-PORT, RFC 5780 7.5)", true);
  }
  if (!search_->finished()) return start_round();
  NatLifetimeOutcome o;
  o.measured = true;
  o.lifetime_ms = search_->lifetime_ms();
  o.at_least = search_->at_least();
  o.keepalive_s = keepalive_for_lifetime(o.lifetime_ms);
  finish(std::move(o));
}

void NatLifetime::fail(const std::string& reason, bool unsupported) {
  NatLifetimeOutcome o;
  o.reason = reason;
  o.unsupported = unsupported;
  finish(std::move(o));
}

void NatLifetime::finish(NatLifetimeOutcome outcome) {
  outcome.took_ms = static_cast<unsigned>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started_).count());
  // Probes go from the reactor only (settle, timers): never inside a socket's callback.
  probes_.clear();
  search_.reset();
  failure_.reset();
  settle_.cancel();
  measuring_ = false;
  // A silent server may come back soon; a measured NAT or a server without RFC 5780 support
  // is looked at again after hours.
  next_.start(outcome.measured || outcome.unsupported ? kRemeasureMs : kRetryMs, [this] { measure("periodic"); });
  if (done_) done_(outcome);
}

}  // namespace b2bua::trunk
