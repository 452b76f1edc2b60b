#include "b2bua/status/status_server.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <future>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string_view>

#include "b2bua/common/clock.h"
#include "b2bua/common/log.h"
#include "b2bua/config/host_port.h"
#include "b2bua/status/bearer_token.h"
#include "b2bua/status/host_check.h"
#include "b2bua/status/metrics.h"
#include "b2bua/status/snapshot.h"
#include "b2bua/status/status_page.h"

namespace b2bua::status {
namespace {

// The page may run its own inline script and style and talk to this origin; nothing else.
constexpr const char* kPagePolicy =
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; "
    "img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

std::string peer_of(evhttp_request* request) {
  char* address = nullptr;
  uint16_t port = 0;
  if (evhttp_connection* c = evhttp_request_get_connection(request)) evhttp_connection_get_peer(c, &address, &port);
  return address ? config::HostPort{address, port}.str() : "unknown";
}

void reply(evhttp_request* request, int code, const char* reason, const char* content_type, std::string_view body) {
  evkeyvalq* headers = evhttp_request_get_output_headers(request);
  evhttp_add_header(headers, "Content-Type", content_type);
  evhttp_add_header(headers, "Cache-Control", "no-store");
  evhttp_add_header(headers, "X-Content-Type-Options", "nosniff");
  evbuffer* buffer = evbuffer_new();
  if (!buffer) return evhttp_send_error(request, HTTP_INTERNAL, nullptr);
  evbuffer_add(buffer, body.data(), body.size());
  evhttp_send_reply(request, code, reason, buffer);
  evbuffer_free(buffer);
}

void reply_text(evhttp_request* request, int code, const char* reason, const std::string& text) {
  reply(request, code, reason, "text/plain; charset=utf-8", text + "\n");
}

}  // namespace

// libevent handles, freed in reverse order of creation by the member order below.
struct StatusServer::Loop {
  struct BaseFree {
    void operator()(event_base* b) const { event_base_free(b); }
  };
  struct HttpFree {
    void operator()(evhttp* h) const { evhttp_free(h); }
  };
  struct EventFree {
    void operator()(event* e) const { event_free(e); }
  };
  struct Fd {
    int fd = -1;
    ~Fd() {
      if (fd >= 0) ::close(fd);
    }
  };
  Fd wake;  // written by stop(): ends the loop from any thread without evthread locking
  std::unique_ptr<event_base, BaseFree> base;
  std::unique_ptr<evhttp, HttpFree> http;
  std::unique_ptr<event, EventFree> wake_event;
};

StatusServer::StatusServer(StatusSettings settings, StatusSources sources)
    : settings_(std::move(settings)), sources_(std::move(sources)), token_(settings_.token), loop_(std::make_unique<Loop>()) {
  auto listen = config::parse_host_port(settings_.listen);
  if (!listen) {
    throw std::runtime_error("status.listen '" + settings_.listen + "': expected address:port");
  }
  loop_->wake.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  loop_->base.reset(event_base_new());
  if (loop_->wake.fd < 0 || !loop_->base) throw std::runtime_error("status endpoint: cannot create its event loop");
  loop_->http.reset(evhttp_new(loop_->base.get()));
  if (!loop_->http) throw std::runtime_error("status endpoint: evhttp_new failed");
  evhttp* http = loop_->http.get();
  evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
  evhttp_set_timeout(http, 10);            // a stuck client cannot hold a connection forever
  evhttp_set_max_headers_size(http, 8192);
  evhttp_set_max_body_size(http, 1024);    // GET only: no request needs a body
  evhttp_set_gencb(http, &StatusServer::on_request, this);

  errno = 0;
  evhttp_bound_socket* bound = evhttp_bind_socket_with_handle(http, listen->host.c_str(), listen->port);
  if (!bound) {
    int err = errno;
    throw std::runtime_error("status.listen " + settings_.listen + ": cannot bind (" +
                             (err ? std::strerror(err) : "unknown error") + ")");
  }
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (getsockname(evhttp_bound_socket_get_fd(bound), static_cast<sockaddr*>(static_cast<void*>(&addr)), &len) == 0) {
    const auto* sa = static_cast<const sockaddr*>(static_cast<const void*>(&addr));
    if (sa->sa_family == AF_INET) port_ = ntohs(static_cast<const sockaddr_in*>(static_cast<const void*>(sa))->sin_port);
    if (sa->sa_family == AF_INET6) port_ = ntohs(static_cast<const sockaddr_in6*>(static_cast<const void*>(sa))->sin6_port);
  }

  auto on_wake = [](evutil_socket_t, short, void* base) { event_base_loopbreak(static_cast<event_base*>(base)); };
  loop_->wake_event.reset(event_new(loop_->base.get(), loop_->wake.fd, EV_READ | EV_PERSIST, on_wake, loop_->base.get()));
  if (!loop_->wake_event || event_add(loop_->wake_event.get(), nullptr) != 0) {
    throw std::runtime_error("status endpoint: cannot register its wake-up event");
  }
  thread_ = std::thread([base = loop_->base.get()] { event_base_dispatch(base); });
  B2BUA_LOG(info, "status", "listening", {{"listen", settings_.listen}, {"token", token_ ? "required" : "none"}});
}

StatusServer::~StatusServer() { stop(); }

void StatusServer::stop() {
  if (!thread_.joinable()) return;
  uint64_t one = 1;
  if (::write(loop_->wake.fd, &one, sizeof one) != sizeof one) {
    B2BUA_LOG(error, "status", "wake_failed", {{"error", std::strerror(errno)}});
  }
  thread_.join();
  // Connections still open are closed by evhttp_free; the loop no longer runs.
  loop_.reset();
}

void StatusServer::set_token(std::optional<std::string> token) {
  std::lock_guard lock(token_mutex_);
  token_ = std::move(token);
}

std::optional<nlohmann::json> StatusServer::snapshot(std::string* why) const {
  auto live = std::make_shared<std::promise<nlohmann::json>>();
  auto ready = live->get_future();
  // Only the closure owns the promise: if we stop waiting, a late answer lands in it harmlessly,
  // and if the SIP loop has ended and drops the closure, the future reports a broken promise
  // at once instead of running into the bound.
  sources_.post_to_sip([live = std::move(live), describe = sources_.describe] {
    try {
      nlohmann::json s = nlohmann::json::object();
      describe(s);
      live->set_value(std::move(s));
    } catch (...) {
      live->set_exception(std::current_exception());
    }
  });
  if (ready.wait_for(settings_.snapshot_bound) != std::future_status::ready) {
    if (why) *why = "the SIP thread did not answer within " + std::to_string(settings_.snapshot_bound.count()) + " ms";
    return std::nullopt;
  }
  nlohmann::json status;
  try {
    status = ready.get();
  } catch (const std::future_error&) {
    if (why) *why = "the SIP thread has stopped";
    return std::nullopt;
  } catch (const std::exception& e) {
    if (why) *why = std::string("describing the signalling plane failed: ") + e.what();
    return std::nullopt;
  }
  add_process_facts(status, {static_cast<int64_t>(::getpid()), sources_.started_at, clock::unix_ms()});
  if (sources_.records) add_recent_calls(status, *sources_.records);
  return status;
}

void StatusServer::on_request(evhttp_request* request, void* self) { static_cast<StatusServer*>(self)->handle(request); }

void StatusServer::handle(evhttp_request* request) {
  const char* raw_path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(request));
  std::string path = raw_path && *raw_path ? raw_path : "/";
  const char* host = evhttp_find_header(evhttp_request_get_input_headers(request), "Host");
  if (!host_allowed(host, settings_.allowed_hosts)) {
    B2BUA_LOG(warn, "status", "unknown_host", {{"peer", peer_of(request)}, {"host", host}, {"path", path}});
    return reply_text(request, 403, "Forbidden",
                      "unknown Host: open this page by its address or localhost, or add the name to "
                      "status.allowed_hosts");
  }

  if (path == "/" || path == "/index.html") {
    evkeyvalq* headers = evhttp_request_get_output_headers(request);
    evhttp_add_header(headers, "Content-Security-Policy", kPagePolicy);
    evhttp_add_header(headers, "Referrer-Policy", "no-referrer");
    return reply(request, HTTP_OK, "OK", "text/html; charset=utf-8", status_page_html());
  }
  if (path != "/status" && path != "/metrics") return reply_text(request, HTTP_NOTFOUND, "Not Found", "not found");

  std::optional<std::string> token;
  {
    std::lock_guard lock(token_mutex_);
    token = token_;
  }
  const char* authorization = evhttp_find_header(evhttp_request_get_input_headers(request), "Authorization");
  if (!authorized(authorization, token)) {
    B2BUA_LOG(warn, "status", "unauthorized", {{"peer", peer_of(request)}, {"path", path},
                                                {"reason", authorization ? "wrong token" : "no token"}});
    evhttp_add_header(evhttp_request_get_output_headers(request), "WWW-Authenticate", "Bearer realm=\"b2bua\"");
    return reply_text(request, 401, "Unauthorized", "unauthorized: send Authorization: Bearer <status.token>");
  }

  std::string why;
  auto status = snapshot(&why);
  if (!status) {
    B2BUA_LOG(warn, "status", "snapshot_unavailable", {{"reason", why}});
    return reply_text(request, 503, "Service Unavailable", why);
  }
  if (path == "/metrics") return reply(request, HTTP_OK, "OK", kMetricsContentType, render_metrics(*status));
  reply(request, HTTP_OK, "OK", "application/json", to_json_text(*status));
}

}  // namespace b2bua::status
