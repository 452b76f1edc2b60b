#include "b2bua/status/status_server.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <future>
#include <map>
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
#include "storage/store.h"

namespace b2bua::status {
namespace {

// The page may run its own inline script and style and talk to this origin; nothing else.
constexpr const char* kPagePolicy =
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; "
    "img-src data:; media-src 'self' blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

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

// 32 bytes from the kernel's CSPRNG, as hex.
std::string random_token() {
  unsigned char bytes[32];
  size_t have = 0;
  while (have < sizeof bytes) {
    ssize_t n = ::getrandom(bytes + have, sizeof bytes - have, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error(std::string("status endpoint: getrandom failed (") + std::strerror(errno) + ")");
    }
    have += static_cast<size_t>(n);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 0x0F];
  }
  return out;
}

// Runs `fn` on the SIP thread and waits up to `bound` for its value. nullopt, with the reason in
// `why`, when the thread did not answer in time or has stopped; an exception `fn` threw is
// rethrown here. As in snapshot(): only the closure owns the promise.
template <class T>
std::optional<T> on_sip_thread(const std::function<void(std::function<void()>)>& post, std::chrono::milliseconds bound,
                               std::function<T()> fn, std::string& why) {
  auto live = std::make_shared<std::promise<T>>();
  auto ready = live->get_future();
  post([live = std::move(live), fn = std::move(fn)] {
    try {
      live->set_value(fn());
    } catch (...) {
      live->set_exception(std::current_exception());
    }
  });
  if (ready.wait_for(bound) != std::future_status::ready) {
    why = "the SIP thread did not answer within " + std::to_string(bound.count()) + " ms";
    return std::nullopt;
  }
  try {
    return ready.get();
  } catch (const std::future_error&) {
    why = "the SIP thread has stopped";
    return std::nullopt;
  }
}

// "/voicemail/<digits><suffix>" -> the id; nullopt for anything else (so no "..", no other
// characters, nothing from the URL ever becomes a path).
std::optional<int64_t> message_id(std::string_view path, std::string_view suffix) {
  constexpr std::string_view prefix = "/voicemail/";
  if (path.substr(0, prefix.size()) != prefix || path.size() <= prefix.size() + suffix.size() ||
      path.substr(path.size() - suffix.size()) != suffix) {
    return std::nullopt;
  }
  std::string_view digits = path.substr(prefix.size(), path.size() - prefix.size() - suffix.size());
  if (digits.empty() || digits.size() > 18) return std::nullopt;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  int64_t id = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  if (error != std::errc() || end != digits.data() + digits.size() || id <= 0) return std::nullopt;
  return id;
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
    : settings_(std::move(settings)),
      sources_(std::move(sources)),
      token_(settings_.token),
      csrf_token_(random_token()),
      loop_(std::make_unique<Loop>()) {
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
  // POST only for deleting a voice message; other methods get 405 from evhttp (OPTIONS too: no
  // CORS preflight is ever answered).
  evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST);
  evhttp_set_timeout(http, 10);            // a stuck client cannot hold a connection forever
  evhttp_set_max_headers_size(http, 8192);
  evhttp_set_max_body_size(http, 1024);    // no request needs a body (the POST has none)
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
  // Last, from everything above: one copy of the rules for the page, /status and `b2bua doctor`.
  status["health"] = to_json(diagnose(status, sources_.local_facts ? sources_.local_facts() : LocalFacts{}));
  return status;
}

void StatusServer::on_request(evhttp_request* request, void* self) { static_cast<StatusServer*>(self)->handle(request); }

bool StatusServer::check_token(evhttp_request* request, const std::string& path) {
  std::optional<std::string> token;
  {
    std::lock_guard lock(token_mutex_);
    token = token_;
  }
  const char* authorization = evhttp_find_header(evhttp_request_get_input_headers(request), "Authorization");
  if (authorized(authorization, token)) return true;
  B2BUA_LOG(warn, "status", "unauthorized", {{"peer", peer_of(request)}, {"path", path},
                                              {"reason", authorization ? "wrong token" : "no token"}});
  evhttp_add_header(evhttp_request_get_output_headers(request), "WWW-Authenticate", "Bearer realm=\"b2bua\"");
  reply_text(request, 401, "Unauthorized", "unauthorized: send Authorization: Bearer <status.token>");
  return false;
}

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
  if (path == "/voicemail" || path.rfind("/voicemail/", 0) == 0) return handle_voicemail(request, path);
  if (evhttp_request_get_command(request) == EVHTTP_REQ_POST) {
    evhttp_add_header(evhttp_request_get_output_headers(request), "Allow", "GET, HEAD");
    return reply_text(request, 405, "Method Not Allowed", "method not allowed");
  }

  if (path == "/" || path == "/index.html") {
    evkeyvalq* headers = evhttp_request_get_output_headers(request);
    evhttp_add_header(headers, "Content-Security-Policy", kPagePolicy);
    evhttp_add_header(headers, "Referrer-Policy", "no-referrer");
    return reply(request, HTTP_OK, "OK", "text/html; charset=utf-8", status_page_html());
  }
  if (path != "/status" && path != "/metrics") return reply_text(request, HTTP_NOTFOUND, "Not Found", "not found");
  if (!check_token(request, path)) return;

  std::string why;
  auto status = snapshot(&why);
  if (!status) {
    B2BUA_LOG(warn, "status", "snapshot_unavailable", {{"reason", why}});
    return reply_text(request, 503, "Service Unavailable", why);
  }
  if (path == "/metrics") return reply(request, HTTP_OK, "OK", kMetricsContentType, render_metrics(*status));
  reply(request, HTTP_OK, "OK", "application/json", to_json_text(*status));
}

void StatusServer::handle_voicemail(evhttp_request* request, const std::string& path) {
  const evhttp_cmd_type method = evhttp_request_get_command(request);
  const bool is_get = method == EVHTTP_REQ_GET || method == EVHTTP_REQ_HEAD;
  auto wrong_method = [&](const char* allow) {
    evhttp_add_header(evhttp_request_get_output_headers(request), "Allow", allow);
    reply_text(request, 405, "Method Not Allowed", "method not allowed");
  };
  if (!check_token(request, path)) return;
  if (!sources_.messages || !sources_.message_path || !sources_.remove_message) {
    return reply_text(request, HTTP_NOTFOUND, "Not Found", "voicemail is not available");
  }
  auto not_found = [&] { reply_text(request, HTTP_NOTFOUND, "Not Found", "no such message"); };
  auto unavailable = [&](const std::string& why) {
    B2BUA_LOG(warn, "status", "voicemail_unavailable", {{"path", path}, {"reason", why}});
    reply_text(request, 503, "Service Unavailable", why);
  };

  if (path == "/voicemail") {
    if (!is_get) return wrong_method("GET, HEAD");
    nlohmann::json body = {{"mailboxes", nlohmann::json::object()}, {"csrf", csrf_token_}};
    try {
      for (const auto& row : sources_.messages->list_all()) {
        body["mailboxes"][row.mailbox].push_back({{"id", row.id},
                                                  {"caller_number", row.caller_number},
                                                  {"caller_name", row.caller_name},
                                                  {"received_ms", row.received_ms},
                                                  {"duration_ms", row.duration_ms},
                                                  {"heard", row.heard}});
      }
    } catch (const std::exception& e) {
      B2BUA_LOG(error, "status", "voicemail_unreadable", {{"error", e.what()}});
      return reply_text(request, 500, "Internal Server Error", std::string("voice messages unreadable: ") + e.what());
    }
    return reply(request, HTTP_OK, "OK", "application/json", body.dump());
  }

  if (auto id = message_id(path, ".wav")) {
    if (!is_get) return wrong_method("GET, HEAD");
    std::string why;
    std::optional<std::optional<std::string>> file;
    try {
      file = on_sip_thread<std::optional<std::string>>(
          sources_.post_to_sip, settings_.snapshot_bound,
          [find = sources_.message_path, id = *id] { return find(id); }, why);
    } catch (const std::exception& e) {
      why = std::string("finding the message failed: ") + e.what();
    }
    if (!file) return unavailable(why);
    if (!*file) return not_found();
    // The row's own file, opened without following a link in its last component.
    int fd = ::open(file->value().c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st {};
    if (fd < 0 || ::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      if (fd >= 0) ::close(fd);
      B2BUA_LOG(warn, "status", "voicemail_file_unreadable", {{"id", *id}});
      return not_found();
    }
    evkeyvalq* headers = evhttp_request_get_output_headers(request);
    evhttp_add_header(headers, "Content-Type", "audio/wav");
    evhttp_add_header(headers, "Cache-Control", "no-store");
    evhttp_add_header(headers, "X-Content-Type-Options", "nosniff");
    evbuffer* buffer = evbuffer_new();
    // evbuffer_add_file owns the descriptor from here on, also when it fails.
    if (!buffer || evbuffer_add_file(buffer, fd, 0, st.st_size) != 0) {
      if (buffer) evbuffer_free(buffer);
      else ::close(fd);
      return evhttp_send_error(request, HTTP_INTERNAL, nullptr);
    }
    evhttp_send_reply(request, HTTP_OK, "OK", buffer);
    evbuffer_free(buffer);
    return;
  }

  if (auto id = message_id(path, "/delete")) {
    if (method != EVHTTP_REQ_POST) return wrong_method("POST");
    evkeyvalq* in = evhttp_request_get_input_headers(request);
    const char* origin = evhttp_find_header(in, "Origin");
    const char* csrf = evhttp_find_header(in, "X-CSRF-Token");
    const char* refused = !same_origin(origin, evhttp_find_header(in, "Host")) ? "foreign origin"
                          : !csrf                                              ? "no csrf token"
                          : !constant_time_equal(csrf_token_, csrf)             ? "wrong csrf token"
                                                                                : nullptr;
    if (refused) {
      B2BUA_LOG(warn, "status", "voicemail_delete_refused",
                {{"peer", peer_of(request)}, {"id", *id}, {"reason", refused}, {"origin", origin}});
      return reply_text(request, 403, "Forbidden",
                        std::string("forbidden: ") + refused + " (send X-CSRF-Token from GET /voicemail)");
    }
    std::optional<storage::VoiceMessageRow> row;
    try {
      row = sources_.messages->find(*id);
    } catch (const std::exception& e) {
      return reply_text(request, 500, "Internal Server Error", std::string("voice messages unreadable: ") + e.what());
    }
    if (!row) return not_found();
    std::string why;
    std::optional<bool> removed;
    try {
      removed = on_sip_thread<bool>(sources_.post_to_sip, settings_.snapshot_bound,
                                    [remove = sources_.remove_message, id = *id] { return remove(id); }, why);
    } catch (const std::exception& e) {
      B2BUA_LOG(error, "status", "voicemail_delete_failed", {{"id", *id}, {"mailbox", row->mailbox}, {"error", e.what()}});
      return reply_text(request, 500, "Internal Server Error", std::string("deleting failed: ") + e.what());
    }
    if (!removed) return unavailable(why);
    if (!*removed) return not_found();
    B2BUA_LOG(info, "status", "voicemail_deleted", {{"id", *id}, {"mailbox", row->mailbox}, {"peer", peer_of(request)}});
    return evhttp_send_reply(request, 204, "No Content", nullptr);
  }
  not_found();
}

}  // namespace b2bua::status
