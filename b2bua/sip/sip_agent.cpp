#include "b2bua/sip/sip_agent.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <stdexcept>

#include "b2bua/common/log.h"
#include "b2bua/sip/source_filter.h"

namespace b2bua::sip {
namespace {

// The port a sip: or sips: URL binds (5060 / 5061 when it names none).
uint16_t url_port_number(const std::string& text) {
  std::string copy = text;
  url_t url;
  if (url_d(&url, copy.data()) < 0) return 0;
  const char* port = url_port(&url);
  return port ? static_cast<uint16_t>(std::strtoul(port, nullptr, 10)) : 0;
}

// Requests that reach the application (nua answers some itself: 405 for a method not in Allow,
// 481 for an unknown dialog; those the guard does not see).
bool is_request(nua_event_t event) {
  switch (event) {
    case nua_i_invite: case nua_i_register: case nua_i_options: case nua_i_bye: case nua_i_cancel:
    case nua_i_ack: case nua_i_info: case nua_i_update: case nua_i_prack: case nua_i_message:
    case nua_i_subscribe: case nua_i_notify: case nua_i_refer: case nua_i_publish: case nua_i_method:
      return true;
    default:
      return false;
  }
}

}  // namespace

SipAgent::SipAgent(su_root_t* root, const AgentOptions& options) : root_(root), options_(options) {
  // The sockets on the agent's ports that appear while the stack binds are its own (own_sockets.h).
  auto before = receiving_sockets();
  nua_ = nua_create(root, &SipAgent::callback, this, NUTAG_URL(options_.url.c_str()),
                    // The application owns SDP: media goes through our relay, not sofia's SOA.
                    NUTAG_MEDIA_ENABLE(0),
                    // RFC 3581: answer to the source port, and ask for rport on our requests.
                    NTATAG_SERVER_RPORT(1), NTATAG_CLIENT_RPORT(1),
                    // Also on connections: the provider's rport names our connection's (NATed)
                    // port, and a Contact there lets it send requests back over our connection.
                    NTATAG_TCP_RPORT(1), NTATAG_TLS_RPORT(1),
                    // Answer a peer's CRLF ping with a pong (RFC 5626 4.4.1).
                    TPTAG_PONG2PING(1),
                    NTATAG_MAXSIZE(kMaxMessageBytes), TPTAG_TIMEOUT(kMessageCompleteMs),
                    TAG_IF(!options_.sips_url.empty(), NUTAG_SIPS_URL(options_.sips_url.c_str())),
                    // Outgoing TLS: the peer's chain must verify against our CA store and its
                    // certificate must name the host we connect to (the canonical name of the
                    // route, see TrunkRegistration::route()).
                    TAG_IF(!options_.sips_url.empty(), TPTAG_CERTIFICATE(options_.tls_ca_dir.c_str())),
                    TAG_IF(!options_.sips_url.empty(), TPTAG_TLS_VERIFY_POLICY(TPTLS_VERIFY_SUBJECTS_OUT)),
                    TAG_IF(options_.transaction_timeout_ms, NTATAG_SIP_T1X64(options_.transaction_timeout_ms)),
                    TAG_IF(options_.dscp >= 0, TPTAG_TOS(options_.dscp << 2)), TAG_END());
  if (!nua_) throw std::runtime_error("cannot bind SIP agent '" + options_.name + "' to " + options_.url);
  std::vector<uint16_t> ports{url_port_number(options_.url)};
  if (!options_.sips_url.empty()) ports.push_back(url_port_number(options_.sips_url));
  std::vector<LocalAddress> listeners;
  for (const auto& s : receiving_sockets()) {
    if (std::find(before.begin(), before.end(), s) != before.end()) continue;
    if (std::find(ports.begin(), ports.end(), port_of(s.local)) == ports.end()) continue;
    sockets_.push_back(s);
    if (s.type == SOCK_STREAM) listeners.push_back(s.local);
  }
  if (!listeners.empty()) {
    warden_ = std::make_unique<ConnectionWarden>(root, options_.name, std::move(listeners), options_.stream_limits);
  }
  if (options_.flood) {
    FloodGuard::Hooks hooks;
    hooks.apply = [this](const SourceRules& rules) {
      bool open = rules.deny.empty() && !rules.allow_only;
      filter_sources(open ? nullptr : &rules);
    };
    hooks.known = [this] { return known_sources_ ? known_sources_() : std::vector<std::string>{}; };
    hooks.dropped = [this] { return datagrams_dropped(); };
    flood_guard_ = std::make_unique<FloodGuard>(root, options_.name, *options_.flood, std::move(hooks));
  }
  nua_set_params(nua_, NUTAG_AUTOACK(0), NUTAG_AUTOANSWER(0), NUTAG_AUTOALERT(0), NUTAG_ENABLEMESSAGE(0),
                 // Without one of ours, sofia names itself ("sofia-sip/1.12...") in every
                 // answer, its own 100 Trying and 405 included; a product and version tell a
                 // scanner which holes to try (RFC 3261 20.35, 20.41). Empty: no User-Agent.
                 TAG_IF(options_.user_agent.empty(), SIPTAG_USER_AGENT(static_cast<const sip_user_agent_t*>(SIP_NONE))),
                 TAG_IF(!options_.user_agent.empty(), SIPTAG_USER_AGENT_STR(options_.user_agent.c_str())),
                 // Replaces sofia's default list (which has MESSAGE, SUBSCRIBE, NOTIFY, REFER).
                 SIPTAG_ALLOW_STR(kServedMethods),
                 TAG_IF(!options_.allow_methods.empty(), NUTAG_ALLOW(options_.allow_methods.c_str())),
                 TAG_IF(!options_.appl_methods.empty(), NUTAG_APPL_METHOD(options_.appl_methods.c_str())),
                 TAG_IF(!options_.supported.empty(), NUTAG_SUPPORTED(options_.supported.c_str())), TAG_END());
  B2BUA_LOG(info, "sip", "agent_started", {{"agent", options_.name}, {"url", options_.url}});
}

SipAgent::~SipAgent() {
  if (!nua_) return;
  if (!shutting_down_) {
    // Never shut down: the plane failed while starting (its other agent could not bind), so
    // nothing else runs on the reactor yet. Finish the stack here, on its thread, bounded.
    shutting_down_ = true;
    nua_shutdown(nua_);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (!shut_down_ && std::chrono::steady_clock::now() < deadline) su_root_step(root_, 50);
  }
  if (!shut_down_) {
    // nua_destroy() before a finished nua_shutdown() is undefined in sofia; leaking the stack
    // at exit is the lesser evil, and only happens when the shutdown bound was exceeded.
    B2BUA_LOG(warn, "sip", "agent_not_shut_down", {{"agent", options_.name}});
    return;
  }
  nua_destroy(nua_);
}

void SipAgent::filter_sources(const SourceRules* rules, int socket_type) {
  for (const auto& s : sockets_) {
    if (socket_type && s.type != socket_type) continue;
    if (!rules) {
      detach_source_filter(s.fd);
      continue;
    }
    std::string why;
    if (!attach_source_filter(s.fd, *rules, why)) {
      B2BUA_LOG(error, "sip", "source_filter_failed", {{"agent", options_.name}, {"error", why}});
    }
  }
}

uint64_t SipAgent::datagrams_dropped() const {
  uint64_t n = 0;
  for (const auto& s : sockets_) {
    if (s.type == SOCK_DGRAM) n += dropped_packets(s.fd);
  }
  return n;
}

void SipAgent::shutdown(std::function<void()> done) {
  if (shut_down_) {
    if (done) done();
    return;
  }
  shutdown_done_ = std::move(done);
  if (!shutting_down_) {
    shutting_down_ = true;
    nua_shutdown(nua_);
  }
}

void SipAgent::callback(nua_event_t event, int status, const char* phrase, nua_t* nua, SipAgent* self,
                        nua_handle_t* nh, HandleOwner* owner, const sip_t* sip, tagi_t tags[]) {
  NuaEvent ev{event, status, phrase, nua, nh, sip, tags, *self};
  if (event == nua_r_shutdown) {
    if (status < 200) return;
    self->shut_down_ = true;
    self->warden_.reset();  // its sockets are gone with the stack
    self->flood_guard_.reset();
    self->sockets_.clear();
    B2BUA_LOG(info, "sip", "agent_stopped", {{"agent", self->options_.name}, {"status", status}});
    if (auto done = std::move(self->shutdown_done_)) done();
    return;
  }
  if (self->flood_guard_ && is_request(event)) {
    std::string ip, transport;
    uint16_t port = 0;
    if (request_source(nua, ip, port, transport)) self->flood_guard_->on_request(ip);
  }
  if (owner) {
    owner->on_nua_event(ev);
    return;
  }
  auto it = self->handlers_.find(event);
  if (it != self->handlers_.end()) {
    it->second(ev);
    return;
  }
  self->unhandled(ev);
}

void SipAgent::unhandled(const NuaEvent& ev) {
  switch (ev.event) {
    case nua_i_invite:
    case nua_i_register:
    case nua_i_subscribe:
    case nua_i_publish:
    case nua_i_message:
    case nua_i_refer:
    case nua_i_notify:
    case nua_i_info:
    case nua_i_update:
    case nua_i_options:
      // A request no feature claims (yet): a clear final answer, and the handle goes away.
      // INFO belongs to a dialog (RFC 6086 4.2): outside one it is 481.
      if (ev.event == nua_i_info) {
        nua_respond(ev.nh, SIP_481_NO_TRANSACTION, NUTAG_WITH_THIS(ev.nua), TAG_END());
      } else if (ev.event != nua_i_options) {
        nua_respond(ev.nh, SIP_501_NOT_IMPLEMENTED, NUTAG_WITH_THIS(ev.nua), TAG_END());
      }
      B2BUA_LOG(debug, "sip", "request_unhandled",
                {{"agent", options_.name}, {"event", nua_event_name(ev.event)},
                 {"call_id", ev.sip && ev.sip->sip_call_id ? ev.sip->sip_call_id->i_id : ""}});
      nua_handle_destroy(ev.nh);
      break;
    case nua_i_error:
      B2BUA_LOG(warn, "sip", "stack_error", {{"agent", options_.name}, {"status", ev.status}, {"phrase", ev.phrase}});
      break;
    default:
      break;
  }
}

const char* request_defect(const sip_t* sip) {
  if (!sip) return "Bad Request";
  if (!sip->sip_separator) return "Incomplete Message";
  size_t body = sip->sip_payload ? sip->sip_payload->pl_len : 0;
  if (sip->sip_content_length && sip->sip_content_length->l_length != body) return "Bad Content-Length";
  if (!sip->sip_call_id || !sip->sip_call_id->i_id || !*sip->sip_call_id->i_id) return "Missing Call-ID";
  return nullptr;
}

bool request_source(nua_t* nua, std::string& ip, uint16_t& port, std::string& transport) {
  msg_t* msg = nua_current_request(nua);
  if (!msg) return false;
  su_addrinfo_t* ai = msg_addrinfo(msg);
  if (!ai || !ai->ai_addr) return false;
  char buf[INET6_ADDRSTRLEN] = "";
  if (ai->ai_family == AF_INET6) {
    const auto* sa = static_cast<const sockaddr_in6*>(static_cast<const void*>(ai->ai_addr));
    inet_ntop(AF_INET6, &sa->sin6_addr, buf, sizeof buf);
    port = ntohs(sa->sin6_port);
  } else {
    const auto* sa = static_cast<const sockaddr_in*>(static_cast<const void*>(ai->ai_addr));
    inet_ntop(AF_INET, &sa->sin_addr, buf, sizeof buf);
    port = ntohs(sa->sin_port);
  }
  ip = buf;
  transport = ai->ai_protocol == IPPROTO_TCP ? "tcp" : "udp";
  return true;
}

}  // namespace b2bua::sip
