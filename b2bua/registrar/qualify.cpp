#include "b2bua/registrar/qualify.h"

#include <algorithm>
#include <set>

#include "b2bua/common/log.h"

namespace b2bua::registrar {

Qualifier::Qualifier(sip::SipAgent& agent, std::string from_domain, Report report)
    : agent_(agent), from_("<sip:registrar@" + from_domain + ">"), report_(std::move(report)) {}

Qualifier::~Qualifier() { stop(); }

void Qualifier::stop() {
  for (auto& [key, s] : states_) finish(s);
  states_.clear();
}

// UDP retransmits at 0.5, 1.5 and 3.5 s: a live phone has answered well within 5 s. Waiting for
// sofia's timer F (32 s) would leave a silent phone "answering" for far longer than the interval.
int Qualifier::timeout_s() const { return std::clamp(interval_s_ / 2, 2, 5); }

void Qualifier::finish(State& s) {
  if (!s.pending) return;
  by_handle_.erase(s.pending);
  nua_handle_destroy(s.pending);
  s.pending = nullptr;
}

void Qualifier::send(const Binding& b, State& s, int64_t now) {
  std::string proxy = flow_uri(b);
  nua_handle_t* nh = nua_handle(agent_.nua(), this, NUTAG_URL(b.contact.c_str()), SIPTAG_TO_STR(b.contact.c_str()),
                                SIPTAG_FROM_STR(from_.c_str()), NUTAG_PROXY(proxy.c_str()), TAG_END());
  if (!nh) return;
  nua_options(nh, NUTAG_PROXY(proxy.c_str()), TAG_END());
  s.pending = nh;
  s.sent_at = now;
  by_handle_[nh] = {b.aor, b.contact};
}

void Qualifier::tick(const BindingTable& table, int64_t now) {
  std::set<Key> present;
  if (interval_s_ > 0) {
    table.for_each([&](const Binding& b) {
      Key key{b.aor, b.contact};
      present.insert(key);
      auto [it, fresh] = states_.try_emplace(key);
      State& s = it->second;
      if (fresh) s.next_at = now + interval_s_;  // it has just registered: it is alive
      if (s.pending && now - s.sent_at >= timeout_s()) {
        finish(s);
        if (b.answering_options) report_(b.aor, b.contact, false);
      }
      if (!s.pending && now >= s.next_at) {
        s.next_at = now + interval_s_;
        send(b, s, now);
      }
    });
  }
  for (auto it = states_.begin(); it != states_.end();) {
    if (present.count(it->first)) {
      ++it;
      continue;
    }
    finish(it->second);
    it = states_.erase(it);
  }
}

void Qualifier::on_nua_event(const sip::NuaEvent& ev) {
  if (ev.event != nua_r_options || ev.status < 200) return;
  auto h = by_handle_.find(ev.nh);
  if (h == by_handle_.end()) return;
  Key key = h->second;
  auto it = states_.find(key);
  if (it == states_.end()) return;
  finish(it->second);
  // Our own stack makes up 408 (no answer) and 503 (ICMP unreachable, transport error), with a
  // message that looks received; a phone does not answer OPTIONS with those. Any other answer,
  // even 404 or 501, shows the phone is there.
  bool answered = ev.sip != nullptr && ev.status != 408 && ev.status != 503 && ev.status < 700;
  B2BUA_LOG(debug, "registrar", "qualify_answer", {{"ext", key.first}, {"status", ev.status},
                                                   {"from_phone", ev.sip != nullptr}});
  report_(key.first, key.second, answered);
}

}  // namespace b2bua::registrar
