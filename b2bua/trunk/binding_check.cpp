#include "b2bua/trunk/binding_check.h"

#include <cstdlib>

#include "b2bua/common/log.h"
#include "b2bua/trunk/digest_client.h"

namespace b2bua::trunk {
namespace {

constexpr int kMaxRefusals = 3;

}  // namespace

bool lists_binding(const sip_t* response, const std::string& token) {
  for (const sip_contact_t* m = response ? response->sip_contact : nullptr; m; m = m->m_next) {
    const url_t* u = m->m_url;
    if (!u || !u->url_user || token != u->url_user) continue;
    // A binding on its way out (expires=0) is as good as gone.
    if (m->m_expires && std::strtoul(m->m_expires, nullptr, 10) == 0) continue;
    return true;
  }
  return false;
}

BindingCheck::BindingCheck(sip::SipAgent& wan, const config::Trunk& trunk, std::function<void()> lost)
    : wan_(wan), trunk_(trunk), lost_(std::move(lost)), period_(wan.root()) {}

BindingCheck::~BindingCheck() { drop_handle(); }

void BindingCheck::start(const BindingCheckTarget& target) {
  target_ = target;
  if (trunk_.binding_check <= 0 || given_up_) return;
  if (!period_.armed()) {
    period_.every(static_cast<unsigned>(trunk_.binding_check) * 1000u, [this] { send(); });
  }
}

void BindingCheck::stop() {
  period_.cancel();
  drop_handle();
}

void BindingCheck::drop_handle() {
  pending_ = false;
  auth_.clear();
  if (nh_) {
    nua_handle_destroy(nh_);
    nh_ = nullptr;
  }
}

void BindingCheck::send() {
  if (pending_) return;  // the last query is still out (nta ends it within the WAN agent's bound)
  if (!nh_) {
    nh_ = nua_handle(wan_.nua(), this, SIPTAG_TO_STR(target_.aor.c_str()), SIPTAG_FROM_STR(target_.aor.c_str()),
                     TAG_END());
    if (!nh_) return;
  }
  challenges_answered_ = 0;
  pending_ = true;
  ++sent_;
  query();
  B2BUA_LOG(debug, "trunk", "binding_check_sent", {{"trunk", trunk_.name}, {"server", target_.route}});
}

void BindingCheck::query() {
  // SIPTAG_CONTACT(NULL) is nua's way to send a REGISTER without Contact: a query, which
  // creates no registration usage (nothing for nua to refresh or remove later).
  nua_register(nh_, NUTAG_REGISTRAR(target_.registrar_uri.c_str()), NUTAG_PROXY(target_.route.c_str()),
               SIPTAG_CONTACT(nullptr), NUTAG_OUTBOUND("no-natify no-options-keepalive no-validate"),
               NUTAG_KEEPALIVE(0), TAG_NEXT(auth_.tags()));
}

void BindingCheck::on_nua_event(const sip::NuaEvent& ev) {
  if (ev.nh != nh_ || ev.event != nua_r_register || ev.status < 200) return;
  answered(ev);
}

void BindingCheck::answered(const sip::NuaEvent& ev) {
  if (ev.status == 401 || ev.status == 407) {
    auto challenges = digest_challenges(ev.sip);
    if (worth_answering(challenges, challenges_answered_)) {
      ++challenges_answered_;
      B2BUA_LOG(debug, "trunk", "binding_check_challenged", {{"trunk", trunk_.name}, {"answers", challenges_answered_}});
      switch (auth_.answer(nh_, challenges, ev.sip, trunk_.auth_user(), trunk_.password, "REGISTER",
                           target_.registrar_uri)) {
        case ProviderAuth::Answered::by_sofia: return;
        case ProviderAuth::Answered::by_us:
          query();
          return;
        case ProviderAuth::Answered::no: break;
      }
    }
  }
  pending_ = false;
  if (ev.status == 408 || ev.status == 503) {
    // No answer, or no route: the keep-alive decides whether the flow is dead. A handle whose
    // transaction nta gave up on starts afresh.
    drop_handle();
    B2BUA_LOG(debug, "trunk", "binding_check_unanswered", {{"trunk", trunk_.name}, {"status", ev.status}});
    return;
  }
  if (ev.status >= 300) {
    B2BUA_LOG(info, "trunk", "binding_check_refused",
              {{"trunk", trunk_.name}, {"status", ev.status}, {"phrase", ev.phrase ? ev.phrase : ""}});
    if (++refused_in_a_row_ >= kMaxRefusals) give_up("the registrar refuses queries of its bindings");
    return;
  }
  refused_in_a_row_ = 0;
  if (lists_binding(ev.sip, target_.token)) {
    missing_before_ = false;
    B2BUA_LOG(debug, "trunk", "binding_check_ok", {{"trunk", trunk_.name}});
    return;
  }
  if (missing_before_) {
    return give_up("the registrar does not list our binding even right after registering");
  }
  missing_before_ = true;
  B2BUA_LOG(warn, "trunk", "binding_lost",
            {{"trunk", trunk_.name}, {"server", target_.route}, {"action", "registering again now"}});
  stop();
  if (lost_) lost_();
}

void BindingCheck::give_up(const char* reason) {
  given_up_ = true;
  stop();
  B2BUA_LOG(info, "trunk", "binding_check_stopped", {{"trunk", trunk_.name}, {"reason", reason}});
}

}  // namespace b2bua::trunk
