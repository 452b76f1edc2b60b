#include "b2bua/voicemail/mail_queue.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "b2bua/common/log.h"

namespace b2bua::voicemail {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
constexpr const char* kComponent = "mail";

// curl_global_init is not safe to run beside other threads using libcurl: once per process.
void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct EasyDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using Easy = std::unique_ptr<CURL, EasyDeleter>;
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;
using File = std::unique_ptr<std::FILE, FileCloser>;

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool plausible_address(const std::string& a) {
  if (a.empty() || a.size() > 254) return false;
  auto at = a.find('@');
  if (at == 0 || at == std::string::npos || at + 1 == a.size() || a.find('@', at + 1) != std::string::npos)
    return false;
  return std::all_of(a.begin(), a.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u < 0x7f && std::string_view("<>(),;:\"\\[]").find(c) == std::string_view::npos;
  });
}

std::string without_controls(std::string s) {
  for (char& c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = ' ';
  }
  return s;
}

std::string safe_file_name(const std::string& name) {
  std::string out;
  for (char c : name) {
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                c == '-' || c == '_' || c == '+';
    out += keep ? c : '_';
  }
  if (out.empty() || out.find_first_not_of("._") == std::string::npos) out = "message.wav";
  return out;
}

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// RFC 2045 base64; with `line_break`, lines of 76 characters ending in CRLF.
std::string base64(std::string_view in, bool line_break) {
  std::string out;
  out.reserve(in.size() * 4 / 3 + in.size() / 57 * 2 + 8);
  size_t on_line = 0;
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t n = static_cast<uint32_t>(static_cast<unsigned char>(in[i])) << 16;
    if (i + 1 < in.size()) n |= static_cast<uint32_t>(static_cast<unsigned char>(in[i + 1])) << 8;
    if (i + 2 < in.size()) n |= static_cast<unsigned char>(in[i + 2]);
    out += kBase64[(n >> 18) & 63];
    out += kBase64[(n >> 12) & 63];
    out += i + 1 < in.size() ? kBase64[(n >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kBase64[n & 63] : '=';
    on_line += 4;
    if (line_break && on_line == 76) {
      out += "\r\n";
      on_line = 0;
    }
  }
  if (line_break && on_line != 0) out += "\r\n";
  return out;
}

// The Subject field body: as it is when printable ASCII, else RFC 2047 encoded words of at most
// 45 bytes of UTF-8 each (75 characters encoded), cut between characters, folded.
std::string encode_subject(const std::string& raw) {
  std::string s = without_controls(raw);
  if (s.size() > 900) s.resize(900);
  bool ascii = std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (ascii) return s;
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    size_t end = std::min(i + 45, s.size());
    while (end < s.size() && end > i + 1 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
    if (!out.empty()) out += "\r\n ";
    out += "=?UTF-8?B?" + base64(std::string_view(s).substr(i, end - i), false) + "?=";
    i = end;
  }
  return out;
}

// RFC 5322 section 3.3, local time with its offset, English names whatever the locale.
std::string rfc5322_date(std::time_t t) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::tm tm{};
  localtime_r(&t, &tm);
  long off = tm.tm_gmtoff / 60;
  char sign = off < 0 ? '-' : '+';
  if (off < 0) off = -off;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d %c%02ld%02ld", kDays[tm.tm_wday % 7], tm.tm_mday,
                kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, sign, off / 60,
                off % 60);
  return buf;
}

std::string domain_of(const std::string& address) {
  auto at = address.rfind('@');
  std::string d = at == std::string::npos ? std::string() : address.substr(at + 1);
  if (d.empty() || !std::all_of(d.begin(), d.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
      }))
    return "localhost";
  return d;
}

// The envelope sender and From header; a malformed configured one (a line break would forge
// headers) falls back like an empty one.
std::string sender(const MailSettings& s) { return plausible_address(s.from) ? s.from : "b2bua@localhost"; }

// Writes `data` to `path` through a temporary name, synced before the rename.
void write_atomically(const fs::path& path, const std::string& data) {
  fs::path tmp = path;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "cannot create " + tmp.string());
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      throw std::system_error(e, std::generic_category(), "cannot write " + tmp.string());
    }
    done += static_cast<size_t>(n);
  }
  bool synced = ::fsync(fd) == 0;
  int e = errno;
  ::close(fd);
  if (!synced) throw std::system_error(e, std::generic_category(), "cannot sync " + tmp.string());
  fs::rename(tmp, path);
}

// What libcurl reads as the DATA: the From header, then the spooled message.
struct Upload {
  std::string head;
  size_t head_pos = 0;
  std::FILE* body = nullptr;
};

size_t read_upload(char* buffer, size_t size, size_t count, void* user) {
  auto* up = static_cast<Upload*>(user);
  size_t room = size * count;
  size_t n = 0;
  if (up->head_pos < up->head.size()) {
    n = std::min(room, up->head.size() - up->head_pos);
    std::copy_n(up->head.data() + up->head_pos, n, buffer);
    up->head_pos += n;
  }
  if (n < room) n += std::fread(buffer + n, 1, room - n, up->body);
  return n;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<std::atomic<bool>*>(user)->load() ? 1 : 0;
}

}  // namespace

MailQueue::MailQueue(MailQueueOptions options, MailSettings settings)
    : options_(std::move(options)), settings_(std::move(settings)) {
  global_init();
  std::error_code ec;
  fs::create_directories(options_.spool_dir, ec);
  if (ec || !fs::is_directory(options_.spool_dir))
    throw std::runtime_error("mail spool " + options_.spool_dir.string() + ": " + ec.message());
  load_spool();
  spool_thread_ = std::thread([this] { spool_loop(); });
  send_thread_ = std::thread([this] { send_loop(); });
}

MailQueue::~MailQueue() { stop(); }

void MailQueue::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    abort_ = true;
  }
  wake_spool_.notify_all();
  wake_send_.notify_all();
  if (spool_thread_.joinable()) spool_thread_.join();
  if (send_thread_.joinable()) send_thread_.join();
}

bool MailQueue::enqueue(MailJob job) {
  if (!plausible_address(job.to)) {
    B2BUA_LOG(warn, kComponent, "mail_rejected", {{"to", job.to}, {"reason", "not one plain address"}});
    return false;
  }
  {
    std::lock_guard lock(mutex_);
    if (stopping_) {
      B2BUA_LOG(warn, kComponent, "mail_rejected", {{"to", job.to}, {"reason", "mail queue stopped"}});
      return false;
    }
    incoming_.push_back(std::move(job));
  }
  wake_spool_.notify_one();
  return true;
}

void MailQueue::apply(MailSettings settings) {
  {
    std::lock_guard lock(mutex_);
    if (settings == settings_) return;
    settings_ = std::move(settings);
    for (auto& job : spooled_) job.next_try = Clock::now();
  }
  wake_send_.notify_all();
}

size_t MailQueue::pending() const {
  std::lock_guard lock(mutex_);
  return incoming_.size() + (spooling_ ? 1 : 0) + spooled_.size();
}

std::chrono::milliseconds MailQueue::backoff(int attempts) const {
  auto delay = options_.first_retry;
  for (int i = 1; i < attempts && delay < options_.max_retry; ++i) delay *= 2;
  return std::min(delay, options_.max_retry);
}

void MailQueue::spool_loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_spool_.wait(lock, [this] { return stopping_ || !incoming_.empty(); });
    if (incoming_.empty()) return;  // stopping, and everything handed over is written out
    MailJob job = std::move(incoming_.front());
    incoming_.pop_front();
    spooling_ = true;
    MailSettings settings = settings_;
    lock.unlock();
    Spooled spooled;
    bool ok = spool(job, settings, spooled);
    lock.lock();
    spooling_ = false;
    if (ok) {
      spooled.next_try = Clock::now();
      spooled_.push_back(std::move(spooled));
      wake_send_.notify_all();
    }
  }
}

bool MailQueue::spool(const MailJob& job, const MailSettings& settings, Spooled& out) {
  std::string wav;
  {
    std::ifstream in(job.attachment_path, std::ios::binary);
    std::ostringstream data;
    if (in) data << in.rdbuf();
    if (!in || in.bad()) {
      B2BUA_LOG(error, kComponent, "mail_given_up",
                {{"to", job.to}, {"reason", "cannot read the message file"}, {"file", job.attachment_path}});
      return false;
    }
    wav = std::move(data).str();
  }
  int64_t now = unix_now();
  out.id = std::to_string(now) + "-" + std::to_string(::getpid()) + "-" + std::to_string(++counter_);
  out.to = job.to;
  out.created = now;
  out.attempts = 0;

  const std::string boundary = "=_b2bua_" + out.id;
  std::string text = job.text;
  bool text_plain = text.find(boundary) == std::string::npos &&
                    std::all_of(text.begin(), text.end(), [](char c) {
                      auto u = static_cast<unsigned char>(c);
                      return u < 0x80 && (u >= 0x20 || c == '\n' || c == '\r' || c == '\t');
                    });
  // The plain text part in 7bit with CRLF line ends and short lines, else base64.
  std::string text_body;
  if (text_plain) {
    size_t on_line = 0;
    for (char c : text) {
      if (c == '\r') continue;
      if (c == '\n' || on_line >= 900) {
        text_body += "\r\n";
        on_line = 0;
        if (c == '\n') continue;
      }
      text_body += c;
      ++on_line;
    }
    text_body += "\r\n";
  } else {
    text_body = base64(text, true);
  }
  const std::string name = safe_file_name(job.attachment_name);

  std::string msg;
  msg.reserve(wav.size() * 4 / 3 + wav.size() / 38 + text_body.size() + 1024);
  msg += "To: " + job.to + "\r\n";
  msg += "Subject: " + encode_subject(job.subject) + "\r\n";
  msg += "Date: " + rfc5322_date(static_cast<std::time_t>(now)) + "\r\n";
  msg += "Message-ID: <" + out.id + "@" + domain_of(sender(settings)) + ">\r\n";
  msg += "MIME-Version: 1.0\r\n";
  msg += "Content-Type: multipart/mixed; boundary=\"" + boundary + "\"\r\n";
  msg += "\r\n";
  msg += "This is a message in MIME format.\r\n";
  msg += "--" + boundary + "\r\n";
  msg += "Content-Type: text/plain; charset=utf-8\r\n";
  msg += std::string("Content-Transfer-Encoding: ") + (text_plain ? "7bit" : "base64") + "\r\n\r\n";
  msg += text_body;
  msg += "--" + boundary + "\r\n";
  msg += "Content-Type: audio/wav; name=\"" + name + "\"\r\n";
  msg += "Content-Disposition: attachment; filename=\"" + name + "\"\r\n";
  msg += "Content-Transfer-Encoding: base64\r\n\r\n";
  msg += base64(wav, true);
  msg += "--" + boundary + "--\r\n";

  try {
    write_atomically(options_.spool_dir / (out.id + ".eml"), msg);
    save_job(out);
  } catch (const std::exception& e) {
    std::error_code ec;
    fs::remove(options_.spool_dir / (out.id + ".eml"), ec);
    B2BUA_LOG(error, kComponent, "mail_given_up", {{"to", job.to}, {"reason", "cannot spool"}, {"error", e.what()}});
    return false;
  }
  B2BUA_LOG(info, kComponent, "mail_queued", {{"to", job.to}, {"id", out.id}, {"bytes", msg.size()}});
  return true;
}

void MailQueue::save_job(const Spooled& job) const {
  write_atomically(options_.spool_dir / (job.id + ".job"), "to=" + job.to + "\ncreated=" +
                                                              std::to_string(job.created) + "\nattempts=" +
                                                              std::to_string(job.attempts) + "\n");
}

void MailQueue::remove_job(const std::string& id) const {
  std::error_code ec;
  fs::remove(options_.spool_dir / (id + ".job"), ec);
  fs::remove(options_.spool_dir / (id + ".eml"), ec);
}

void MailQueue::load_spool() {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(options_.spool_dir, ec)) {
    const fs::path& p = entry.path();
    const std::string ext = p.extension().string();
    fs::path job_file = p;
    job_file.replace_extension(".job");
    fs::path eml_file = p;
    eml_file.replace_extension(".eml");
    if (ext == ".tmp" || (ext == ".eml" && !fs::exists(job_file))) {
      fs::remove(p, ec);  // an interrupted write: the job was never handed back as spooled
      continue;
    }
    if (ext != ".job") continue;
    Spooled job;
    job.id = p.stem().string();
    std::ifstream in(p);
    std::string line;
    while (std::getline(in, line)) {
      auto eq = line.find('=');
      if (eq == std::string::npos) continue;
      std::string key = line.substr(0, eq), value = line.substr(eq + 1);
      try {
        if (key == "to") job.to = value;
        else if (key == "created") job.created = std::stoll(value);
        else if (key == "attempts") job.attempts = std::stoi(value);
      } catch (const std::exception&) {
        job.created = 0;
      }
    }
    if (!fs::exists(eml_file) || !plausible_address(job.to) || job.created <= 0) {
      B2BUA_LOG(error, kComponent, "mail_given_up", {{"to", job.to}, {"id", job.id}, {"reason", "damaged spool entry"}});
      remove_job(job.id);
      continue;
    }
    job.next_try = Clock::now();
    spooled_.push_back(std::move(job));
  }
  std::sort(spooled_.begin(), spooled_.end(),
            [](const Spooled& a, const Spooled& b) { return a.created != b.created ? a.created < b.created : a.id < b.id; });
  if (!spooled_.empty())
    B2BUA_LOG(info, kComponent, "mail_resumed", {{"jobs", spooled_.size()}, {"spool", options_.spool_dir.string()}});
}

void MailQueue::send_loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    // Jobs past their age are given up whether or not a server is configured.
    const int64_t now = unix_now();
    const int64_t max_age = options_.max_age.count();
    for (auto it = spooled_.begin(); it != spooled_.end();) {
      if (now - it->created >= max_age) {
        B2BUA_LOG(error, kComponent, "mail_given_up",
                  {{"to", it->to}, {"id", it->id}, {"attempts", it->attempts}, {"age_s", now - it->created}});
        remove_job(it->id);
        it = spooled_.erase(it);
      } else {
        ++it;
      }
    }
    // The soonest moment something happens: a job's retry or its expiry.
    auto until = Clock::now() + std::chrono::hours(1);
    auto due = spooled_.end();
    for (auto it = spooled_.begin(); it != spooled_.end(); ++it) {
      auto expiry = Clock::now() + std::chrono::seconds(it->created + max_age - now);
      until = std::min(until, expiry);
      if (!settings_.server.empty() && (due == spooled_.end() || it->next_try < due->next_try)) due = it;
    }
    if (due != spooled_.end()) until = std::min(until, due->next_try);
    if (due == spooled_.end() || due->next_try > Clock::now()) {
      wake_send_.wait_until(lock, until);
      continue;
    }

    Spooled job = *due;
    MailSettings settings = settings_;
    lock.unlock();
    size_t bytes = 0;
    std::string error = send(job, settings, bytes);
    lock.lock();
    if (stopping_) break;  // an aborted transfer is no failed attempt: the next start sends it
    auto it = std::find_if(spooled_.begin(), spooled_.end(), [&](const Spooled& s) { return s.id == job.id; });
    if (it == spooled_.end()) continue;
    if (error.empty()) {
      B2BUA_LOG(info, kComponent, "mail_sent", {{"to", job.to}, {"id", job.id}, {"bytes", bytes}});
      remove_job(job.id);
      spooled_.erase(it);
      continue;
    }
    it->attempts++;
    auto delay = backoff(it->attempts);
    B2BUA_LOG(warn, kComponent, "mail_failed",
              {{"attempt", it->attempts}, {"error", error}, {"to", job.to}, {"id", job.id},
               {"server", settings.server}, {"retry_in_s", std::chrono::duration<double>(delay).count()}});
    it->next_try = Clock::now() + delay;
    try {
      save_job(*it);
    } catch (const std::exception& e) {
      B2BUA_LOG(warn, kComponent, "mail_spool_error", {{"id", job.id}, {"error", e.what()}});
    }
  }
}

std::string MailQueue::send(const Spooled& job, const MailSettings& settings, size_t& bytes) {
  File body(std::fopen((options_.spool_dir / (job.id + ".eml")).c_str(), "rb"));
  if (!body) return "cannot open the spooled message";
  struct stat st {};
  if (::fstat(::fileno(body.get()), &st) != 0) return "cannot read the spooled message";

  Upload upload;
  upload.head = "From: " + sender(settings) + "\r\n";
  upload.body = body.get();
  bytes = upload.head.size() + static_cast<size_t>(st.st_size);

  Easy easy(curl_easy_init());
  if (!easy) return "curl_easy_init failed";
  CURL* c = easy.get();
  std::string host = settings.server.find(':') != std::string::npos ? "[" + settings.server + "]" : settings.server;
  std::string url = std::string(settings.security == MailSettings::Security::tls ? "smtps://" : "smtp://") + host +
                    ":" + std::to_string(settings.port);
  std::string mail_from = "<" + sender(settings) + ">";
  Slist rcpt(curl_slist_append(nullptr, ("<" + job.to + ">").c_str()));
  if (!rcpt) return "out of memory";
  char errbuf[CURL_ERROR_SIZE] = {0};

  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count() * 1000));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.transfer_timeout.count() * 1000));
  curl_easy_setopt(c, CURLOPT_USE_SSL, settings.security == MailSettings::Security::none
                                           ? static_cast<long>(CURLUSESSL_NONE)
                                           : static_cast<long>(CURLUSESSL_ALL));
  if (!settings.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, settings.ca_file.c_str());
  if (!settings.user.empty()) {
    curl_easy_setopt(c, CURLOPT_USERNAME, settings.user.c_str());
    curl_easy_setopt(c, CURLOPT_PASSWORD, settings.password.c_str());
  }
  curl_easy_setopt(c, CURLOPT_MAIL_FROM, mail_from.c_str());
  curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt.get());
  curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, read_upload);
  curl_easy_setopt(c, CURLOPT_READDATA, &upload);
  curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(bytes));
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &abort_);

  CURLcode rc = curl_easy_perform(c);
  if (rc == CURLE_OK) return {};
  std::string error = errbuf[0] ? errbuf : curl_easy_strerror(rc);
  while (!error.empty() && (error.back() == '\n' || error.back() == '\r')) error.pop_back();
  long smtp_code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &smtp_code);
  if (smtp_code != 0) error += " (smtp " + std::to_string(smtp_code) + ")";
  return error;
}

}  // namespace b2bua::voicemail
