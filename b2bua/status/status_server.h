// The status endpoint: a libevent evhttp server on its own thread, bound to status.listen.
//
//   GET /          the status page (status_page.html): a static shell with no data in it; it
//                  fetches /status itself, with the token taken from the URL fragment
//                  (#token=...), which browsers never send to the server. It is served without
//                  a token because a browser cannot attach one to a page load; everything with
//                  data needs it.
//   GET /status   the snapshot (snapshot.h) as JSON
//   GET /metrics  the same snapshot in Prometheus text format (metrics.h)
//   GET /voicemail                 every mailbox's messages as JSON, and the CSRF token below
//   GET /voicemail/<id>.wav        one message's audio (audio/wav)
//   POST /voicemail/<id>/delete    removes a message (row, file, the phones' message lamps): 204
//
// With status.token set, /status, /metrics and /voicemail... need `Authorization: Bearer
// <token>`; anything else gets 401. Every path answers only a Host header that is an IP literal, localhost or a
// name in status.allowed_hosts (host_check.h: DNS rebinding); any other gets 403. The listen address itself is validated by the config loader (non-loopback
// needs allow_remote and a token).
//
// Snapshots are built on request, not published periodically: an idle router then does no
// status work at all (no timer waking the SIP thread every few seconds), and every answer is as
// fresh as the SIP thread's state. The HTTP thread posts a closure to the SIP thread and waits a
// bounded time for it (StatusSettings::snapshot_bound); a SIP thread that does not answer in time
// yields 503, which is itself the alarm an admin should see. Storage is read on the HTTP thread,
// so the SIP thread never waits for the disk on behalf of a status request.
//
// Voicemail: the list is read from the repository on the HTTP thread; a message's file path and
// its removal come from the SIP thread (the mailboxes live there, their folder can change on a
// reload, and a removal must tell the phones), with the same bound. A file is only ever served
// from the path of a row, never from anything in the URL: ids are digits, anything else is 404.
// Deleting is a state change a cross-site page could trigger with a plain form POST (the
// browser would even attach nothing, but a token-less endpoint accepts it), so it needs the
// header X-CSRF-Token carrying a random per-process value that only GET /voicemail returns (a
// foreign page cannot read that answer: no CORS header is ever sent, and the custom header
// makes its browser ask with a preflight OPTIONS first, which is refused), and it is refused
// when an Origin header names another host:port than the Host header.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "b2bua/status/health.h"

struct evhttp_request;

namespace b2bua::storage {
class CallRecordRepository;
class VoiceMessageRepository;
}

namespace b2bua::status {

struct StatusSettings {
  std::string listen = "127.0.0.1:8088";  // "ip:port", IPv6 as "[::1]:8088"; port 0 picks one
  std::optional<std::string> token;
  std::vector<std::string> allowed_hosts;  // Host header names accepted besides IP literals and localhost
  std::chrono::milliseconds snapshot_bound{2000};
};

struct StatusSources {
  // Runs a closure on the SIP thread (SipThread::post); it may drop it once the loop has ended.
  std::function<void(std::function<void()>)> post_to_sip;
  // Called on the SIP thread: adds the configured view and every feature's part.
  std::function<void(nlohmann::json&)> describe;
  // Read on the HTTP thread for "recent_calls"; null leaves them out.
  storage::CallRecordRepository* records = nullptr;
  int64_t started_at = 0;  // unix seconds
  // Called on the HTTP thread for the machine's part of "health" (local_facts.h); null: only
  // the findings the snapshot itself shows.
  std::function<LocalFacts()> local_facts;

  // Voicemail. Without `messages` (no store) every /voicemail path answers 404.
  // Read on the HTTP thread for GET /voicemail and to find a message before removing it.
  storage::VoiceMessageRepository* messages = nullptr;
  // Run on the SIP thread (through post_to_sip): the absolute path of message `id`'s WAV file,
  // nullopt when there is no such message (or no mailboxes right now).
  std::function<std::optional<std::string>(int64_t id)> message_path;
  // Run on the SIP thread: removes message `id`, its row and file, and updates the phones'
  // message-waiting state; false when there is no such message. May throw storage::StorageError.
  std::function<bool(int64_t id)> remove_message;
};

class StatusServer {
 public:
  // Binds and starts the thread. Throws std::runtime_error naming the address and the reason
  // when it cannot bind.
  StatusServer(StatusSettings settings, StatusSources sources);
  ~StatusServer();  // stop()
  StatusServer(const StatusServer&) = delete;
  StatusServer& operator=(const StatusServer&) = delete;

  // Any thread; applies to the next request (SIGHUP changes the token without a restart).
  void set_token(std::optional<std::string> token);
  // Any thread except the server's own: ends the loop and joins the thread. Idempotent.
  void stop();
  uint16_t port() const { return port_; }

  // Builds one snapshot the way GET /status does (HTTP thread or tests). Empty, with the reason
  // in `why`, when the SIP thread did not answer within the bound or describing failed.
  std::optional<nlohmann::json> snapshot(std::string* why = nullptr) const;

 private:
  struct Loop;
  static void on_request(evhttp_request* request, void* self);
  void handle(evhttp_request* request);
  // /voicemail and below, past the host check; `path` starts with "/voicemail".
  void handle_voicemail(evhttp_request* request, const std::string& path);
  // The Authorization check of every data path; false after answering 401.
  bool check_token(evhttp_request* request, const std::string& path);

  StatusSettings settings_;
  StatusSources sources_;
  mutable std::mutex token_mutex_;
  std::optional<std::string> token_;
  const std::string csrf_token_;  // random per process (getrandom), hex; never logged
  std::unique_ptr<Loop> loop_;
  uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace b2bua::status
