#include "b2bua/sip/sofia_log.h"

#include <gtest/gtest.h>

#include "b2bua/sip/sofia.h"

extern "C" {
extern su_log_t tport_log[];
extern su_log_t nta_log[];
}

namespace b2bua::sip {
namespace {

using std::chrono::seconds;

TEST(SofiaLog, CertificateReportOfFourLinesIsOneFailure) {
  SofiaLog log;
  log.transport_line("-Error with certificate at depth: 0");
  EXPECT_FALSE(log.recent_tls_failure(seconds(10))) << "not complete before the err line";
  log.transport_line("  issuer   = /CN=b2bua test CA");
  log.transport_line("  subject  = /CN=provider.test");
  log.transport_line("  err 20:unable to get local issuer certificate");
  auto failure = log.recent_tls_failure(seconds(10));
  ASSERT_TRUE(failure);
  EXPECT_EQ(*failure, "certificate not trusted: unable to get local issuer certificate (subject /CN=provider.test)");
}

TEST(SofiaLog, SubjectMismatchNamesTheHost) {
  SofiaLog log;
  log.transport_line("tls_post_connection_check(0x7f5c800730b0): Peer Subject Mismatch (127.0.0.1)");
  auto failure = log.recent_tls_failure(seconds(10));
  ASSERT_TRUE(failure);
  EXPECT_EQ(*failure, "certificate does not name 127.0.0.1");
}

TEST(SofiaLog, QuietStartupAndOtherMessagesAreNoFailure) {
  SofiaLog log;
  log.set_quiet(true);
  log.transport_line("tls_init_context: invalid local certificate: /etc/ssl/certs/agent.pem");
  log.transport_line("tls_post_connection_check(0x1): Peer Subject Mismatch (x)");
  log.set_quiet(false);
  log.transport_line("tport_keepalive_timer(0x1): closing connection to tcp/127.0.0.1:5060/sip because of PONG timeout");
  log.transport_line("err 20:an err line outside a certificate report");
  EXPECT_FALSE(log.recent_tls_failure(seconds(10)));
}

TEST(SofiaLog, SofiaMessagesArriveThroughTheRedirect) {
  // The way sofia writes: pieces of a line through su_llog, several lines in one call.
  SofiaLog log;
  su_llog(tport_log, 1, "%s(%p): Peer Subject ", "tls_post_connection_check", static_cast<void*>(&log));
  EXPECT_FALSE(log.recent_tls_failure(seconds(10))) << "half a line is kept back";
  su_llog(tport_log, 1, "Mismatch (%s)\nnext\n", "sip.example.net");
  auto failure = log.recent_tls_failure(seconds(10));
  ASSERT_TRUE(failure);
  EXPECT_EQ(*failure, "certificate does not name sip.example.net");
}

TEST(SofiaLog, StackMessagesAreNoTlsFailure) {
  SofiaLog log;
  su_llog(nta_log, 0, "nta: bind(%s): %s\n", "127.0.0.1:5060;transport=*", "Address already in use");
  su_llog(nta_log, 0, "nta: Peer Subject Mismatch (not a transport line)\n");
  EXPECT_FALSE(log.recent_tls_failure(seconds(10)));
}

}  // namespace
}  // namespace b2bua::sip
