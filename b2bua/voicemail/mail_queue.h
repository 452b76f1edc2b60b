// The mail seam: voicemail messages mailed to the mailbox owner as a WAV attachment, through the
// SMTP server the admin configures (libcurl's SMTP client; submission with STARTTLS, SMTPS, or
// plain SMTP to a relay on loopback/LAN).
//
// A slow or absent mail server never holds up a call: `enqueue()` only hands the job over and
// returns at once. Two threads of the queue's own do the rest:
//   - the spool thread writes each job to the spool folder: the complete MIME message
//     (`<id>.eml`, the WAV base64-encoded inside it, so deleting the WAV afterwards changes
//     nothing) and a small key=value file (`<id>.job`: recipient, creation time, attempts).
//     Both are written to a temporary name and renamed, `.eml` first, so a crash leaves either a
//     whole job or an orphan that the next start removes. The message gets its Date and
//     Message-ID here; every retry sends the same bytes, so a server that did receive an earlier
//     attempt can recognise the duplicate.
//   - the send thread sends one spooled job at a time, oldest first, with bounded libcurl
//     timeouts. Only the From header is added at send time, from the settings then in force, so
//     it always matches the envelope sender (submission servers insist on that).
// A failed attempt is logged (event=mail_failed attempt=N error=... to=...) and retried after a
// backoff that doubles from `first_retry` up to `max_retry`; a job older than `max_age` is
// given up (event=mail_given_up) and its spool files removed. Success logs event=mail_sent. A new
// MailQueue on the same spool folder resumes whatever an earlier one left there, trying each job
// at once (the attempt count carries on from the `.job` file).
//
// The password is a secret: it is passed to libcurl only, never logged, never part of a message
// or an exception text.
//
// Thread safety: every method may be called from any thread. `enqueue()` and `apply()` never do
// disk or network I/O on the calling thread. `stop()` (also run by the destructor) waits for the
// spool thread to write out jobs already handed over, and aborts a transfer in progress within
// about a second.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace b2bua::voicemail {

struct MailSettings {
  std::string server;            // host name or IP; empty: mail is kept in the spool, not sent
  uint16_t port = 587;
  enum class Security { starttls, tls, none } security = Security::starttls;  // none only for a relay on loopback/LAN
  std::string user, password;    // empty user: no login. password is a secret: never logged
  std::string from;              // "b2bua@home.example"; empty or malformed: "b2bua@localhost"
  std::string ca_file;           // empty: the system's CAs
  bool operator==(const MailSettings&) const = default;
};

struct MailJob {
  std::string to;                // one address
  std::string subject;           // e.g. "Voice message from 0301234567 (12 s)"
  std::string text;              // plain text body
  std::string attachment_path;   // the WAV; attached as audio/wav, base64
  std::string attachment_name;   // "message-2026-12-06-2130.wav"
};

struct MailQueueOptions {
  std::filesystem::path spool_dir;                      // created if missing
  std::chrono::seconds max_age{std::chrono::hours(72)};  // then a job is given up
  std::chrono::milliseconds first_retry{std::chrono::minutes(1)};
  std::chrono::milliseconds max_retry{std::chrono::hours(1)};
  std::chrono::seconds connect_timeout{10};
  std::chrono::seconds transfer_timeout{60};           // the whole SMTP conversation
};

class MailQueue {
 public:
  // Creates the spool folder if needed and resumes the jobs in it. Throws std::runtime_error
  // when the folder cannot be created.
  MailQueue(MailQueueOptions options, MailSettings settings);
  ~MailQueue();
  MailQueue(const MailQueue&) = delete;
  MailQueue& operator=(const MailQueue&) = delete;

  // Hands a job over and returns at once. False (and logged, event=mail_rejected) when the
  // recipient is not one plausible ASCII address (local@domain, no spaces, no <>,;"): such a job
  // could never be sent. Line breaks in the subject become spaces; the attachment name keeps
  // letters, digits and ._-+ only. A WAV that cannot be read is found by the spool thread and
  // logged as given up.
  bool enqueue(MailJob job);

  // Settings from a reload. When they differ, every waiting job is tried again at once.
  void apply(MailSettings settings);

  // Ends both threads; jobs still waiting stay in the spool for the next start. Idempotent.
  void stop();

  // Jobs handed over or spooled and not yet sent or given up (for tests and the status page).
  size_t pending() const;

 private:
  struct Spooled {
    std::string id;
    std::string to;
    int64_t created = 0;     // unix seconds
    int attempts = 0;
    std::chrono::steady_clock::time_point next_try;
  };

  void spool_loop();
  void send_loop();
  void load_spool();
  bool spool(const MailJob& job, const MailSettings& settings, Spooled& out);
  void save_job(const Spooled& job) const;
  void remove_job(const std::string& id) const;
  // One SMTP attempt; empty on success, else curl's words. `bytes` gets the message size.
  std::string send(const Spooled& job, const MailSettings& settings, size_t& bytes);
  std::chrono::milliseconds backoff(int attempts) const;

  const MailQueueOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable wake_spool_;
  std::condition_variable wake_send_;
  MailSettings settings_;
  std::deque<MailJob> incoming_;
  std::vector<Spooled> spooled_;
  bool spooling_ = false;    // the spool thread holds a job it took from incoming_
  bool stopping_ = false;
  std::atomic<bool> abort_{false};  // read by libcurl's progress callback
  uint64_t counter_ = 0;
  std::thread spool_thread_;
  std::thread send_thread_;
};

}  // namespace b2bua::voicemail
