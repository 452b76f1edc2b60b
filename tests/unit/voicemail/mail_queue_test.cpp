// The mail queue against a small SMTP server on loopback, in this process.
#include "b2bua/voicemail/mail_queue.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace b2bua::voicemail {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct Received {
  std::string mail_from, rcpt, auth, data;
};

// Speaks just enough SMTP for libcurl: greeting, EHLO, AUTH PLAIN, MAIL, RCPT, DATA, QUIT.
class SmtpServer {
 public:
  enum class Mode { accept, reject_rcpt, silent };

  // Listens on `port` (0: any free one).
  explicit SmtpServer(uint16_t port = 0, Mode mode = Mode::accept) : mode_(mode) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 8) != 0)
      throw std::runtime_error("cannot listen");
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~SmtpServer() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }

  uint16_t port() const { return port_; }
  void set_mode(Mode mode) { mode_ = mode; }
  int connections() const { return connections_; }
  int logins() const { return logins_; }
  std::vector<Received> mails() const {
    std::lock_guard lock(mutex_);
    return mails_;
  }

 private:
  // A line from the client, without CRLF; false when the peer left or the server stops.
  bool read_line(int fd, std::string& buf, std::string& line) {
    for (;;) {
      auto eol = buf.find("\r\n");
      if (eol != std::string::npos) {
        line = buf.substr(0, eol);
        buf.erase(0, eol + 2);
        return true;
      }
      pollfd p{fd, POLLIN, 0};
      int r = ::poll(&p, 1, 50);
      if (stop_) return false;
      if (r <= 0) continue;
      char chunk[4096];
      ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) return false;
      buf.append(chunk, static_cast<size_t>(n));
    }
  }
  static void say(int fd, const std::string& s) { (void)!::send(fd, s.data(), s.size(), MSG_NOSIGNAL); }

  void serve(int fd) {
    if (mode_ == Mode::silent) {  // holds the connection and never answers
      while (!stop_) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 50) > 0) {
          char chunk[512];
          if (::recv(fd, chunk, sizeof chunk, 0) <= 0) return;
        }
      }
      return;
    }
    std::string buf, line;
    Received mail;
    say(fd, "220 test.local ESMTP\r\n");
    while (read_line(fd, buf, line)) {
      std::string verb = line.substr(0, 4);
      for (char& c : verb) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (verb == "EHLO") {
        say(fd, "250-test.local\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n");
      } else if (verb == "HELO" || verb == "RSET" || verb == "NOOP") {
        say(fd, "250 ok\r\n");
      } else if (verb == "AUTH") {
        ++logins_;
        std::string rest = line.size() > 11 ? line.substr(11) : "";
        if (rest.empty()) {
          say(fd, "334 \r\n");
          if (!read_line(fd, buf, rest)) return;
        }
        mail.auth = rest;
        say(fd, "235 ok\r\n");
      } else if (verb == "MAIL") {
        mail.mail_from = line.substr(10);
        say(fd, "250 ok\r\n");
      } else if (verb == "RCPT") {
        mail.rcpt = line.substr(8);
        say(fd, mode_ == Mode::reject_rcpt ? "550 5.1.1 mailbox unavailable\r\n" : "250 ok\r\n");
      } else if (verb == "DATA") {
        say(fd, "354 go ahead\r\n");
        std::string data;
        for (;;) {
          if (!read_line(fd, buf, line)) return;
          if (line == ".") break;
          if (!line.empty() && line[0] == '.') line.erase(0, 1);
          data += line + "\r\n";
        }
        mail.data = data;
        {
          std::lock_guard lock(mutex_);
          mails_.push_back(mail);
        }
        say(fd, "250 queued\r\n");
      } else if (verb == "QUIT") {
        say(fd, "221 bye\r\n");
        return;
      } else {
        say(fd, "502 not implemented\r\n");
      }
    }
  }

  void run() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      ++connections_;
      serve(c);
      ::close(c);
    }
  }

  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<Mode> mode_;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::atomic<int> logins_{0};
  mutable std::mutex mutex_;
  std::vector<Received> mails_;
  std::thread thread_;
};

// A loopback port nobody listens on (for the "server down" tests).
uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string base64_decode(const std::string& in) {
  static const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    auto pos = alphabet.find(c);
    if (pos == std::string::npos) continue;  // CRLF, padding
    acc = (acc << 6) | static_cast<uint32_t>(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

// The decoded body of the MIME part whose headers contain `content_type`.
std::string part_body(const std::string& message, const std::string& content_type) {
  auto ct = message.find("Content-Type: " + content_type);
  if (ct == std::string::npos) return "<no such part>";
  auto start = message.find("\r\n\r\n", ct);
  auto end = message.find("\r\n--", start + 4);
  if (start == std::string::npos || end == std::string::npos) return "<unterminated part>";
  return base64_decode(message.substr(start + 4, end - start - 4));
}

std::string header(const std::string& message, const std::string& name) {
  auto at = message.find("\r\n" + name + ": ");
  if (message.rfind(name + ": ", 0) == 0) at = 0;
  else if (at != std::string::npos) at += 2;
  else return "";
  auto end = message.find("\r\n", at);
  return message.substr(at + name.size() + 2, end - at - name.size() - 2);
}

bool wait_for(const std::function<bool()>& done, std::chrono::milliseconds limit = 10s) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return done();
}

class MailQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("b2bua-mail-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    wav_path_ = dir_ / "message.wav";
    std::mt19937 rng(42);
    wav_.resize(20000);
    for (char& c : wav_) c = static_cast<char>(rng() & 0xff);
    wav_.replace(0, 4, "RIFF");
    wav_.replace(100, 5, "\r\n.\r\n");
    std::ofstream(wav_path_, std::ios::binary) << wav_;
  }
  void TearDown() override { fs::remove_all(dir_); }

  MailQueueOptions options() const {
    MailQueueOptions o;
    o.spool_dir = dir_ / "spool";
    o.first_retry = 100ms;
    o.max_retry = 400ms;
    return o;
  }
  static MailSettings settings(uint16_t port) {
    MailSettings s;
    s.server = "127.0.0.1";
    s.port = port;
    s.security = MailSettings::Security::none;
    s.from = "b2bua@home.example";
    return s;
  }
  MailJob job() const {
    return MailJob{"owner@home.example", "Voice message from 0301234567 (12 s)", "A message.\nSecond line.\n",
                   wav_path_.string(), "message-2026-12-06-2130.wav"};
  }
  size_t spool_files() const {
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_ / "spool")) ++n;
    return n;
  }

  fs::path dir_;
  fs::path wav_path_;
  std::string wav_;
};

TEST_F(MailQueueTest, DeliversTheWavByteIdenticalWithItsHeaders) {
  SmtpServer server;
  ::testing::internal::CaptureStderr();
  {
    MailQueue queue(options(), settings(server.port()));
    MailJob j = job();
    j.subject = "Nachricht von Jürgen (12 s)";
    j.text = "Grüße\n";
    ASSERT_TRUE(queue.enqueue(j));
    ASSERT_TRUE(wait_for([&] { return server.mails().size() == 1 && queue.pending() == 0; }));
  }
  std::string log = ::testing::internal::GetCapturedStderr();
  const Received mail = server.mails().at(0);
  EXPECT_EQ(mail.mail_from, "<b2bua@home.example>");
  EXPECT_EQ(mail.rcpt, "<owner@home.example>");
  EXPECT_EQ(header(mail.data, "From"), "b2bua@home.example");
  EXPECT_EQ(header(mail.data, "To"), "owner@home.example");
  const std::string subject = header(mail.data, "Subject");
  EXPECT_EQ(subject.rfind("=?UTF-8?B?", 0), 0u) << subject;
  EXPECT_EQ(base64_decode(subject.substr(10, subject.size() - 12)), "Nachricht von Jürgen (12 s)");
  EXPECT_NE(header(mail.data, "Date").find(" +"), std::string::npos);
  EXPECT_NE(header(mail.data, "Message-ID").find("@home.example>"), std::string::npos);
  EXPECT_EQ(header(mail.data, "MIME-Version"), "1.0");
  EXPECT_NE(mail.data.find("filename=\"message-2026-12-06-2130.wav\""), std::string::npos);
  EXPECT_EQ(part_body(mail.data, "text/plain"), "Grüße\n");
  EXPECT_TRUE(part_body(mail.data, "audio/wav") == wav_) << "the attachment differs";
  EXPECT_NE(log.find("event=mail_sent to=owner@home.example"), std::string::npos) << log;
  EXPECT_EQ(spool_files(), 0u);
}

TEST_F(MailQueueTest, LogsInWithoutEverLoggingThePassword) {
  SmtpServer server;
  MailSettings s = settings(server.port());
  s.user = "mailer";
  s.password = "s3cret-Passw0rd";
  ::testing::internal::CaptureStderr();
  {
    MailQueue queue(options(), s);
    ASSERT_TRUE(queue.enqueue(job()));
    ASSERT_TRUE(wait_for([&] { return server.mails().size() == 1; }));
  }
  std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(base64_decode(server.mails().at(0).auth), std::string("\0mailer\0s3cret-Passw0rd", 23));
  EXPECT_EQ(log.find("s3cret"), std::string::npos) << log;
}

TEST_F(MailQueueTest, StartTlsIsRequiredBeforeTheLoginAndTheMessage) {
  SmtpServer server;  // offers no STARTTLS
  MailSettings s = settings(server.port());
  s.security = MailSettings::Security::starttls;
  s.user = "mailer";
  s.password = "s3cret-Passw0rd";
  ::testing::internal::CaptureStderr();
  MailQueue queue(options(), s);
  ASSERT_TRUE(queue.enqueue(job()));
  bool tried = wait_for([&] { return server.connections() >= 2; });
  queue.stop();
  std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(tried) << log;
  EXPECT_EQ(server.logins(), 0);
  EXPECT_TRUE(server.mails().empty());
  EXPECT_NE(log.find("event=mail_failed attempt=1"), std::string::npos) << log;
  EXPECT_EQ(log.find("s3cret"), std::string::npos) << log;
  EXPECT_EQ(queue.pending(), 1u);
}

TEST_F(MailQueueTest, NewSettingsSendWhatWaitedAtOnce) {
  MailQueueOptions o = options();
  o.first_retry = std::chrono::hours(1);
  o.max_retry = std::chrono::hours(1);
  ::testing::internal::CaptureStderr();
  MailQueue queue(o, settings(free_port()));
  ASSERT_TRUE(queue.enqueue(job()));
  bool failed = wait_for([&] { return queue.pending() == 1 && spool_files() == 2; });
  std::this_thread::sleep_for(200ms);  // the first attempt fails: an hour to the next
  SmtpServer server;
  queue.apply(settings(server.port()));
  bool delivered = wait_for([&] { return server.mails().size() == 1 && queue.pending() == 0; }, 5s);
  queue.stop();
  std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(failed && delivered) << log;
  EXPECT_NE(log.find("event=mail_failed attempt=1"), std::string::npos) << log;
}

TEST_F(MailQueueTest, DeliversAfterRetryOnceTheServerIsUp) {
  const uint16_t port = free_port();
  ::testing::internal::CaptureStderr();
  MailQueue queue(options(), settings(port));
  ASSERT_TRUE(queue.enqueue(job()));
  std::this_thread::sleep_for(300ms);  // the first attempt finds nobody listening
  SmtpServer server(port);
  bool delivered = wait_for([&] { return server.mails().size() == 1 && queue.pending() == 0; });
  queue.stop();
  std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(delivered) << log;
  EXPECT_NE(log.find("event=mail_failed attempt=1 error="), std::string::npos) << log;
  EXPECT_NE(log.find("event=mail_sent"), std::string::npos) << log;
  EXPECT_TRUE(part_body(server.mails().at(0).data, "audio/wav") == wav_);
}

TEST_F(MailQueueTest, ANewQueueOnTheSameSpoolSendsWhatAnEarlierOneQueued) {
  {
    MailQueue queue(options(), MailSettings{});  // no server configured yet: the job waits
    ASSERT_TRUE(queue.enqueue(job()));
    ASSERT_TRUE(wait_for([&] { return spool_files() == 2; }));
    queue.stop();
    EXPECT_EQ(queue.pending(), 1u);
  }
  fs::remove(wav_path_);  // the owner deleted the message meanwhile: the mail still goes out
  SmtpServer server;
  MailQueue queue(options(), settings(server.port()));
  ASSERT_TRUE(wait_for([&] { return server.mails().size() == 1 && queue.pending() == 0; }));
  EXPECT_TRUE(part_body(server.mails().at(0).data, "audio/wav") == wav_);
  EXPECT_EQ(spool_files(), 0u);
}

TEST_F(MailQueueTest, ARefusedRecipientIsRetriedAndLoggedEachTime) {
  SmtpServer server(0, SmtpServer::Mode::reject_rcpt);
  ::testing::internal::CaptureStderr();
  MailQueue queue(options(), settings(server.port()));
  ASSERT_TRUE(queue.enqueue(job()));
  bool retried = wait_for([&] { return server.connections() >= 3; });
  server.set_mode(SmtpServer::Mode::accept);
  bool delivered = wait_for([&] { return server.mails().size() == 1 && queue.pending() == 0; });
  queue.stop();
  std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(retried) << log;
  ASSERT_TRUE(delivered) << log;
  EXPECT_NE(log.find("event=mail_failed attempt=1 "), std::string::npos) << log;
  EXPECT_NE(log.find("event=mail_failed attempt=2 "), std::string::npos) << log;
  EXPECT_NE(log.find("(smtp 550)"), std::string::npos) << log;
  EXPECT_NE(log.find("to=owner@home.example"), std::string::npos) << log;
}

TEST_F(MailQueueTest, GivesUpAfterTheMaximumAge) {
  MailQueueOptions o = options();
  o.max_age = 1s;
  ::testing::internal::CaptureStderr();
  MailQueue queue(o, settings(free_port()));
  ASSERT_TRUE(queue.enqueue(job()));
  bool gone = wait_for([&] { return queue.pending() == 0; }, 5s);
  queue.stop();
  std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(gone) << log;
  EXPECT_NE(log.find("event=mail_failed attempt=1"), std::string::npos) << log;
  EXPECT_NE(log.find("event=mail_given_up to=owner@home.example"), std::string::npos) << log;
  EXPECT_EQ(spool_files(), 0u);
}

TEST_F(MailQueueTest, AHangingServerNeitherBlocksEnqueueNorStop) {
  SmtpServer server(0, SmtpServer::Mode::silent);
  MailQueue queue(options(), settings(server.port()));
  ASSERT_TRUE(queue.enqueue(job()));
  ASSERT_TRUE(wait_for([&] { return server.connections() == 1; }));
  std::this_thread::sleep_for(200ms);  // the transfer is under way, waiting for the greeting

  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(queue.enqueue(job()));
  auto enqueue_time = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(enqueue_time, 20ms);

  ASSERT_TRUE(wait_for([&] { return spool_files() == 42; }));  // spooled though the sender hangs
  t0 = std::chrono::steady_clock::now();
  queue.stop();
  auto stop_time = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(stop_time, 2500ms);
  EXPECT_EQ(queue.pending(), 21u);  // all still spooled for the next start
}

TEST_F(MailQueueTest, RefusesWhatCouldNeverBeSent) {
  MailQueue queue(options(), MailSettings{});
  MailJob j = job();
  for (std::string to : {"", "owner", "a@b, c@d", "<a@b>", "a@b\r\nRCPT TO:<x@y>", "a b@c"}) {
    j.to = to;
    EXPECT_FALSE(queue.enqueue(j)) << to;
  }
  EXPECT_EQ(queue.pending(), 0u);
}

TEST_F(MailQueueTest, AMissingWavIsLoggedNotQueued) {
  ::testing::internal::CaptureStderr();
  MailQueue queue(options(), MailSettings{});
  MailJob j = job();
  j.attachment_path = (dir_ / "gone.wav").string();
  EXPECT_TRUE(queue.enqueue(j));
  bool done = wait_for([&] { return queue.pending() == 0; });
  queue.stop();
  std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(done);
  EXPECT_NE(log.find("event=mail_given_up"), std::string::npos) << log;
}

}  // namespace
}  // namespace b2bua::voicemail
