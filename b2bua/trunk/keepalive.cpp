#include "b2bua/trunk/keepalive.h"

#include <algorithm>

#include "b2bua/common/clock.h"
#include "b2bua/common/log.h"
#include "b2bua/trunk/wan_socket.h"

namespace b2bua::trunk {
namespace {

constexpr unsigned kProbeEveryNthCrlf = 4;

}  // namespace

Keepalive::Keepalive(sip::SipAgent& wan, std::string trunk, const config::Keepalive& settings, HostPort local,
                     Events events, std::string purpose)
    : wan_(wan),
      trunk_(std::move(trunk)),
      settings_(settings),
      local_(std::move(local)),
      events_(std::move(events)),
      purpose_(std::move(purpose)),
      tick_timer_(wan.root()),
      bound_timer_(wan.root()) {}

Keepalive::~Keepalive() { end_probe(true); }

void Keepalive::use_handle(nua_handle_t* nh) {
  if (probe_ && probe_ == borrowed_ && nh != borrowed_) end_probe(false);
  borrowed_ = nh;
}

void Keepalive::start(const KeepaliveTarget& target) {
  target_ = target;
  if (settings_.method == config::KeepaliveMethod::off) return;
  if (!running_) {
    ticks_ = 0;
    running_ = true;
    unsigned interval = static_cast<unsigned>(settings_.interval) * 1000u;
    tick_timer_.every(interval, [this] { tick(); });
    B2BUA_LOG(debug, "trunk", purpose_ + "_started",
              {{"trunk", trunk_}, {"server", target_.server.str()}, {"interval_s", settings_.interval}});
  }
}

void Keepalive::set_interval(unsigned seconds) {
  if (seconds == 0 || static_cast<int>(seconds) == settings_.interval) return;
  settings_.interval = static_cast<int>(seconds);
  if (!running_) return;
  // A keep-alive now, then one every new interval: counted from the last tick, a longer
  // interval would leave the mapping idle for up to old + new.
  tick();
  tick_timer_.every(seconds * 1000u, [this] { tick(); });
}

void Keepalive::stop() {
  running_ = false;
  tick_timer_.cancel();
  end_probe(true);
}

void Keepalive::tick() {
  ++ticks_;
  bool crlf = settings_.method == config::KeepaliveMethod::crlf;
  if (crlf && ticks_ % kProbeEveryNthCrlf != 0) {
    // Connections ping themselves (see keepalive.h); only UDP needs our datagram.
    if (target_.transport == config::Transport::udp) send_crlf();
    return;
  }
  send_probe();
}

void Keepalive::send_crlf() {
  if (udp_fd_ < 0) udp_fd_ = find_bound_udp_socket(local_);
  static constexpr char kPing[] = "\r\n\r\n";
  if (send_datagram(udp_fd_, target_.server, kPing, sizeof kPing - 1)) {
    ++pings_sent_;
  } else {
    // Our socket vanished or the network is down: an OPTIONS probe tells which.
    udp_fd_ = -1;
    send_probe();
  }
}

void Keepalive::send_probe() {
  if (probe_) return;  // the previous one is still within its bound
  if (!borrowed_ && !own_) {
    own_ = nua_handle(wan_.nua(), this, SIPTAG_TO_STR(target_.aor.c_str()), SIPTAG_FROM_STR(target_.aor.c_str()),
                      TAG_END());
  }
  probe_ = borrowed_ ? borrowed_ : own_;
  if (!probe_) return;
  probe_sent_ = std::chrono::steady_clock::now();
  nua_options(probe_, NUTAG_URL(target_.request_uri.c_str()), NUTAG_PROXY(target_.route.c_str()),
              SIPTAG_MAX_FORWARDS_STR("0"), SIPTAG_CONTACT_STR(target_.contact.c_str()), TAG_END());
  ++pings_sent_;
  unsigned bound = std::min(kProbeBoundMs, static_cast<unsigned>(settings_.interval) * 800u);
  bound_timer_.start(bound, [this] {
    // Our own handle goes with its pending transaction; a borrowed one is the registration's
    // to replace (it re-registers on a fresh handle).
    end_probe(true);
    // A lost probe is worth a warning where it has consequences (a dead flow).
    if (events_.dead) {
      B2BUA_LOG(warn, "trunk", "keepalive_lost", {{"trunk", trunk_}, {"server", target_.server.str()}});
    } else {
      B2BUA_LOG(debug, "trunk", purpose_ + "_lost", {{"trunk", trunk_}, {"server", target_.server.str()}});
    }
    if (events_.dead) events_.dead();
  });
}

void Keepalive::end_probe(bool drop_handle) {
  bound_timer_.cancel();
  probe_ = nullptr;
  if (drop_handle && own_) {
    nua_handle_destroy(own_);
    own_ = nullptr;
  }
}

void Keepalive::on_nua_event(const sip::NuaEvent& ev) {
  if (ev.event != nua_r_options || ev.nh != probe_ || ev.status < 200) return;
  // Our own bound decides liveness; sofia's 408 after 32 s arrives long after it.
  if (ev.status == 408 || ev.status == 503) {
    if (!ev.sip) return;
  }
  auto rtt = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - probe_sent_);
  rtt_ms_ = static_cast<double>(rtt.count() / 100) / 10.0;
  answered_at_ = clock::unix_s();
  end_probe(false);
  B2BUA_LOG(debug, "trunk", purpose_ + "_answered", {{"trunk", trunk_}, {"status", ev.status}, {"rtt_ms", *rtt_ms_}});
  if (events_.response) events_.response(ev.sip);
}

}  // namespace b2bua::trunk
