// The peers and the plane of sip_fixture.h. One file for all of them on purpose: they share
// the callback plumbing and the digest helpers, and a test reads one place to see what its
// peers do.
#include "sip_fixture.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <random>
#include <sofia-sip/auth_digest.h>
#include <sofia-sip/msg_header.h>
#include <stdexcept>

#include "b2bua/config/config_loader.h"

namespace b2bua::testing {
namespace {

int bind_loopback(int type, uint16_t port) {
  int fd = socket(AF_INET, type, 0);
  if (fd < 0) return -1;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, static_cast<sockaddr*>(static_cast<void*>(&sa)), sizeof sa) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

uint16_t bound_port(int fd) {
  sockaddr_in sa{};
  socklen_t len = sizeof sa;
  getsockname(fd, static_cast<sockaddr*>(static_cast<void*>(&sa)), &len);
  return ntohs(sa.sin_port);
}

std::string random_token() {
  static std::mt19937_64 gen{std::random_device{}()};
  char buf[17];
  snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(gen()));
  return buf;
}

// The value of `name=` in a challenge's parameters, as written (quotes included).
std::string param(const msg_param_t* params, const char* name) {
  const char* v = params ? msg_params_find(params, name) : nullptr;
  return v ? v : "";
}

}  // namespace

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

uint16_t free_port() {
  for (int attempt = 0; attempt < 50; ++attempt) {
    int udp = bind_loopback(SOCK_DGRAM, 0);
    if (udp < 0) continue;
    uint16_t port = bound_port(udp);
    int tcp = bind_loopback(SOCK_STREAM, port);
    close(udp);
    if (tcp < 0) continue;
    close(tcp);
    return port;
  }
  throw std::runtime_error("no free port on 127.0.0.1");
}

// ---- SipLoop

SipLoop::SipLoop() {
  su_init();
  root_ = su_root_create(nullptr);
  if (!root_) throw std::runtime_error("su_root_create failed");
  su_root_threading(root_, 0);
}

SipLoop::~SipLoop() {
  su_root_destroy(root_);
  su_deinit();
}

bool SipLoop::run_until(const std::function<bool()>& done, unsigned bound_ms) {
  const int64_t deadline = steady_ms() + bound_ms;
  while (!done()) {
    if (steady_ms() >= deadline) return done();
    su_root_step(root_, 2);
  }
  return true;
}

void SipLoop::run_for(unsigned ms) {
  const int64_t deadline = steady_ms() + ms;
  while (steady_ms() < deadline) su_root_step(root_, 2);
}

// ---- SipPeer

SipPeer::SipPeer(SipLoop& loop, std::string name, std::string user_agent)
    : loop_(loop), name_(std::move(name)), port_(free_port()) {
  std::string url = "sip:127.0.0.1:" + std::to_string(port_) + ";transport=udp";
  nua_ = nua_create(loop.root(), &SipPeer::callback, reinterpret_cast<nua_magic_t*>(this), NUTAG_URL(url.c_str()),
                    NUTAG_MEDIA_ENABLE(0), TAG_END());
  if (!nua_) throw std::runtime_error("cannot bind peer " + name_ + " to " + url);
  nua_set_params(nua_, NUTAG_AUTOANSWER(0), NUTAG_AUTOALERT(0), NUTAG_ENABLEMESSAGE(0),
                 NUTAG_ALLOW("REGISTER"), SIPTAG_USER_AGENT_STR(user_agent.c_str()), TAG_END());
}

SipPeer::~SipPeer() { shutdown(); }

void SipPeer::shutdown() {
  if (!nua_) return;
  nua_shutdown(nua_);
  loop_.run_until([this] { return shut_down_; }, 3000);
  // nua_destroy() before a finished nua_shutdown() is undefined; a stuck peer is leaked.
  if (shut_down_) nua_destroy(nua_);
  nua_ = nullptr;
}

void SipPeer::callback(nua_event_t event, int status, const char* phrase, nua_t* nua, nua_magic_t* magic,
                       nua_handle_t* nh, nua_hmagic_t*, const sip_t* sip, tagi_t tags[]) {
  auto* self = reinterpret_cast<SipPeer*>(magic);
  if (event == nua_r_shutdown) {
    if (status >= 200) self->shut_down_ = true;
    return;
  }
  SipEvent ev;
  ev.event = event;
  ev.status = status;
  ev.phrase = phrase ? phrase : "";
  ev.nh = nh;
  ev.at_ms = steady_ms();
  ev.seq = self->events_.size();
  if (event == nua_i_state) tl_gets(tags, NUTAG_CALLSTATE_REF(ev.call_state), TAG_END());
  if (sip) {
    if (sip->sip_call_id && sip->sip_call_id->i_id) ev.call_id = sip->sip_call_id->i_id;
    if (sip->sip_payload && sip->sip_payload->pl_data && sip->sip_content_type && sip->sip_content_type->c_type &&
        strcasecmp(sip->sip_content_type->c_type, "application/sdp") == 0) {
      ev.sdp.assign(sip->sip_payload->pl_data, sip->sip_payload->pl_len);
    }
    ev.has_authorization = sip->sip_authorization || sip->sip_proxy_authorization;
    if (msg_t* msg = nua_current_request(nua)) {
      auto* home = static_cast<su_home_t*>(su_home_new(sizeof(su_home_t)));
      size_t len = 0;
      if (char* text = msg_as_string(home, msg, nullptr, 0, &len)) ev.text.assign(text, len);
      su_home_unref(home);
    }
  }
  self->events_.push_back(ev);
  self->react(ev, sip);
}

std::vector<const SipEvent*> SipPeer::all(nua_event_t event, nua_handle_t* nh, int status) const {
  std::vector<const SipEvent*> out;
  for (const auto& e : events_) {
    if (e.event == event && (!nh || e.nh == nh) && (status == 0 || e.status == status)) out.push_back(&e);
  }
  return out;
}

const SipEvent* SipPeer::first(nua_event_t event, nua_handle_t* nh, int status) const {
  auto found = all(event, nh, status);
  return found.empty() ? nullptr : found.front();
}

int SipPeer::final_status(nua_event_t event, nua_handle_t* nh) const {
  int last = 0;
  for (const SipEvent* e : all(event, nh)) {
    if (e->status >= 200 && e->status != 401 && e->status != 407) last = e->status;
  }
  return last;
}

bool SipPeer::reached(nua_handle_t* nh, int state) const {
  for (const SipEvent* e : all(nua_i_state, nh)) {
    if (e->call_state == state) return true;
  }
  return false;
}

nua_handle_t* SipPeer::latest_incoming(nua_event_t event) const {
  auto found = all(event);
  return found.empty() ? nullptr : found.back()->nh;
}

std::string SipPeer::trace() const {
  std::string out = name_ + ":";
  const int64_t t0 = events_.empty() ? 0 : events_.front().at_ms;
  for (const auto& e : events_) {
    out += "\n  +" + std::to_string(e.at_ms - t0) + "ms " + nua_event_name(e.event) + " " + std::to_string(e.status);
    if (!e.phrase.empty()) out += " " + e.phrase;
    if (e.event == nua_i_state) out += " state=" + std::string(nua_callstate_name(static_cast<nua_callstate>(e.call_state)));
  }
  return out;
}

// ---- Phone

std::string phone_sdp(const std::string& owner, const std::string& address, uint16_t port) {
  std::string p = std::to_string(port);
  return "v=0\r\no=" + owner + " 4711 1 IN IP4 " + address + "\r\ns=call\r\nc=IN IP4 " + address +
         "\r\nt=0 0\r\nm=audio " + p + " RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
         "a=rtpmap:101 telephone-event/8000\r\na=rtcp:" + std::to_string(port + 1) + "\r\na=sendrecv\r\n";
}

Phone::Phone(SipLoop& loop, std::string extension, std::string password, uint16_t lan_port, std::string user_agent)
    : SipPeer(loop, "phone" + extension, std::move(user_agent)),
      extension_(std::move(extension)),
      password_(std::move(password)),
      lan_port_(lan_port) {}

Phone::~Phone() {
  if (registration_) nua_handle_destroy(registration_);
}

bool Phone::register_now(unsigned bound_ms) {
  std::string aor = "<sip:" + extension_ + "@127.0.0.1:" + std::to_string(lan_port_) + ">";
  std::string registrar = "sip:127.0.0.1:" + std::to_string(lan_port_) + ";transport=udp";
  registration_ = nua_handle(nua(), nullptr, SIPTAG_TO_STR(aor.c_str()), SIPTAG_FROM_STR(aor.c_str()), TAG_END());
  nua_register(registration_, NUTAG_REGISTRAR(registrar.c_str()), NUTAG_M_USERNAME(extension_.c_str()),
               NUTAG_OUTBOUND("no-natify no-validate no-options-keepalive"), NUTAG_KEEPALIVE(0),
               SIPTAG_EXPIRES_STR("600"), TAG_END());
  return loop_.run_until([this] { return final_status(nua_r_register, registration_) == 200; }, bound_ms);
}

nua_handle_t* Phone::call(const std::string& number, const CallOptions& options) {
  std::string target = "sip:" + number + "@127.0.0.1:" + std::to_string(lan_port_);
  std::string to = "<" + target + ">";
  std::string from = "<sip:" + extension_ + "@127.0.0.1:" + std::to_string(lan_port_) + ">";
  nua_handle_t* nh = nua_handle(nua(), nullptr, TAG_IF(!options.auto_ack, NUTAG_AUTOACK(0)),
                                SIPTAG_TO_STR(to.c_str()), SIPTAG_FROM_STR(from.c_str()), TAG_END());
  std::string body = sdp();
  const std::string& headers = options.headers;
  const std::string& contact = options.contact;
  nua_invite(nh, NUTAG_URL(target.c_str()), TAG_IF(!contact.empty(), SIPTAG_CONTACT_STR(contact.c_str())),
             TAG_IF(!headers.empty(), SIPTAG_HEADER_STR(headers.c_str())),
             TAG_IF(options.offer, SIPTAG_CONTENT_TYPE_STR("application/sdp")),
             TAG_IF(options.offer, SIPTAG_PAYLOAD_STR(body.c_str())), TAG_END());
  return nh;
}

void Phone::answer(nua_handle_t* nh) {
  std::string body = sdp();
  nua_respond(nh, SIP_200_OK, SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(body.c_str()), TAG_END());
}

void Phone::hang_up(nua_handle_t* nh) { nua_bye(nh, TAG_END()); }

void Phone::cancel(nua_handle_t* nh) { nua_cancel(nh, TAG_END()); }

void Phone::authenticate(const SipEvent& ev, const sip_t* sip) {
  // One answer per handle: a second challenge means the credentials were refused.
  if (auth_answers_[ev.nh]++ > 0 || !sip) return;
  const msg_auth_t* challenge = sip->sip_www_authenticate ? sip->sip_www_authenticate : sip->sip_proxy_authenticate;
  if (!challenge) return;
  std::string auth = std::string(challenge->au_scheme) + ":" + param(challenge->au_params, "realm") + ":" +
                     extension_ + ":" + password_;
  nua_authenticate(ev.nh, NUTAG_AUTH(auth.c_str()), TAG_END());
}

void Phone::react(const SipEvent& ev, const sip_t* sip) {
  if ((ev.status == 401 || ev.status == 407) && (ev.event == nua_r_register || ev.event == nua_r_invite)) {
    return authenticate(ev, sip);
  }
  if (ev.event == nua_i_invite && ring_on_invite) nua_respond(ev.nh, SIP_180_RINGING, TAG_END());
}

// ---- Provider

Provider::Provider(SipLoop& loop, std::string user, std::string password, std::string realm)
    : SipPeer(loop, "provider", "ProviderSBC/2.0"),
      user_(std::move(user)),
      password_(std::move(password)),
      realm_(std::move(realm)) {}

bool Provider::verified(const sip_t* sip, const char* method) const {
  const sip_authorization_t* au = sip ? sip->sip_authorization : nullptr;
  if (!au || !au->au_params) return false;
  auto* home = static_cast<su_home_t*>(su_home_new(sizeof(su_home_t)));
  auth_response_t ar[1] = {};
  ar->ar_size = sizeof ar[0];
  bool ok = false;
  if (auth_digest_response_get(home, ar, au->au_params) > 0 && ar->ar_username && ar->ar_realm && ar->ar_nonce &&
      ar->ar_response) {
    auth_hexmd5_t ha1, expected;
    auth_digest_ha1(ha1, ar->ar_username, ar->ar_realm, password_.c_str());
    auth_digest_response(ar, expected, ha1, method, nullptr, 0);
    bool known_nonce = std::find(nonces_.begin(), nonces_.end(), ar->ar_nonce) != nonces_.end();
    ok = user_ == ar->ar_username && realm_ == ar->ar_realm && known_nonce && strcmp(expected, ar->ar_response) == 0;
  }
  su_home_unref(home);
  return ok;
}

void Provider::react(const SipEvent& ev, const sip_t* sip) {
  if (ev.event == nua_i_register) {
    if (on_register == OnRegister::forbid) {
      nua_respond(ev.nh, SIP_403_FORBIDDEN, NUTAG_WITH_THIS(nua()), TAG_END());
    } else if (verified(sip, "REGISTER")) {
      const char* expires = sip->sip_expires && sip->sip_expires->ex_delta == 0 ? "0" : "600";
      nua_respond(ev.nh, SIP_200_OK, NUTAG_WITH_THIS(nua()), SIPTAG_CONTACT(sip->sip_contact),
                  SIPTAG_EXPIRES_STR(expires), TAG_END());
    } else {
      nonces_.push_back(random_token());
      std::string challenge = "Digest realm=\"" + realm_ + "\", nonce=\"" + nonces_.back() +
                              "\", algorithm=MD5, qop=\"auth\"";
      nua_respond(ev.nh, SIP_401_UNAUTHORIZED, NUTAG_WITH_THIS(nua()), SIPTAG_WWW_AUTHENTICATE_STR(challenge.c_str()),
                  TAG_END());
    }
    nua_handle_destroy(ev.nh);
    return;
  }
  if (ev.event == nua_i_invite && answer_invites) {
    std::string body = sdp();
    nua_respond(ev.nh, SIP_180_RINGING, TAG_END());
    nua_respond(ev.nh, SIP_200_OK, SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(body.c_str()),
                TAG_END());
  }
}

// ---- SilentServer

SilentServer::SilentServer() {
  for (int attempt = 0; attempt < 50 && fd_ < 0; ++attempt) fd_ = bind_loopback(SOCK_DGRAM, free_port());
  if (fd_ < 0) throw std::runtime_error("cannot bind the silent server");
  port_ = bound_port(fd_);
  fcntl(fd_, F_SETFL, fcntl(fd_, F_GETFL) | O_NONBLOCK);
}

SilentServer::~SilentServer() {
  if (fd_ >= 0) close(fd_);
}

void SilentServer::drain() {
  char buf[65536];
  for (;;) {
    ssize_t n = recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return;
    datagrams_.emplace_back(buf, static_cast<size_t>(n));
  }
}

std::vector<std::string> SilentServer::register_call_ids() const {
  std::vector<std::string> ids;
  for (const auto& d : datagrams_) {
    if (d.rfind("REGISTER ", 0) != 0) continue;
    size_t at = d.find("\r\nCall-ID:");
    if (at == std::string::npos) at = d.find("\r\ni:");
    if (at == std::string::npos) continue;
    size_t start = d.find(':', at + 2) + 1;
    size_t end = d.find("\r\n", start);
    std::string id = d.substr(start, end - start);
    id.erase(0, id.find_first_not_of(' '));
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  }
  return ids;
}

// ---- PlaneUnderTest

PlaneUnderTest::PlaneUnderTest(SipLoop& loop, const nlohmann::json& config) : loop_(loop) {
  char tmpl[] = "/tmp/b2bua-unit-XXXXXX";
  if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  auto loaded = config::load_config_text(config.dump(2), (dir_ / "b2bua.json").string());
  if (!loaded.ok()) {
    std::string why;
    for (const auto& e : loaded.errors) why += e.to_string("b2bua.json") + "\n";
    std::filesystem::remove_all(dir_);
    throw std::runtime_error("config rejected:\n" + why);
  }
  config_ = loaded.config;
  store_ = storage::open_sqlite_store(config_->storage.path);
  plane_ = std::make_unique<daemon::SignallingPlane>(loop.root(), config_, store_.get(), nullptr);
}

PlaneUnderTest::~PlaneUnderTest() {
  shutdown();
  plane_.reset();
  store_.reset();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

bool PlaneUnderTest::shutdown(unsigned bound_ms) {
  if (!plane_) return true;
  bool done = false;
  plane_->shutdown(bound_ms, [&done] { done = true; });
  // The plane bounds its features by `bound_ms` and its agents by 4 s more.
  bool finished = loop_.run_until([&done] { return done; }, bound_ms + 4500);
  plane_.reset();
  return finished;
}

nlohmann::json PlaneUnderTest::status() const {
  nlohmann::json s = nlohmann::json::object();
  if (plane_) plane_->describe(s);
  return s;
}

nlohmann::json PlaneUnderTest::trunk(const std::string& name) const {
  nlohmann::json s = status();
  if (!s.contains("trunks")) return nullptr;
  for (const auto& t : s["trunks"]) {
    if (t.value("name", "") == name) return t;
  }
  return nullptr;
}

std::vector<storage::CallRecordRow> PlaneUnderTest::records() {
  store_->flush();
  auto rows = store_->call_records().recent(1000);
  return {rows.rbegin(), rows.rend()};
}

// ---- configs

nlohmann::json lan_config(uint16_t lan_port) {
  nlohmann::json c;
  c["lan"] = {{"listen", {"udp:127.0.0.1:" + std::to_string(lan_port)}}, {"networks", {"127.0.0.0/8"}},
              {"realm", "home.arpa"}};
  c["registrar"] = {{"qualify_interval", 0}};
  c["extensions"] = nlohmann::json::array();
  for (const char* n : {"10", "11", "12"}) {
    c["extensions"].push_back({{"number", n}, {"name", std::string("Phone ") + n}, {"password", std::string("pw") + n}});
  }
  c["storage"] = {{"path", "b2bua.db"}};
  return c;
}

void with_trunk(nlohmann::json& c, uint16_t wan_port, uint16_t server_port, const std::string& user,
                const std::string& password) {
  c["wan"] = {{"address", "127.0.0.1"}, {"port", wan_port}, {"dscp_sip", -1}, {"dscp_rtp", -1}};
  c["trunks"] = {{{"name", "provider"},
                  {"registrar", "sip:127.0.0.1:" + std::to_string(server_port)},
                  {"domain", "provider.test"},
                  {"username", user},
                  {"password", password},
                  {"expires", 600},
                  {"keepalive", {{"method", "off"}}},
                  {"numbers", {"+4930123456"}},
                  {"retry", {{"auth_failed", 30}, {"max_backoff", 10}}}}};
  c["routing"] = {{"outbound", {{{"prefix", "0"}, {"trunk", "provider"}, {"strip", 1}}}}};
}

}  // namespace b2bua::testing
