// In-process SIP around a running SignallingPlane: one su_root, driven by the test thread with
// su_root_step(), holds the plane under test (bound to 127.0.0.1 on free ports) and sofia nua
// peers that play the phones (digest REGISTER, calls, answers) and the provider (a registrar
// that challenges, a UAS for trunk INVITEs). Every wait is bounded, so a broken flow fails the
// test instead of hanging it.
//
// The plane is driven only through its public surface: constructor, describe(), shutdown(), a
// config loaded from JSON text, an SQLite store in a temporary folder, and real SIP messages.
// No relay (media::MediaPlane) is started: SDP towards each leg then declines every stream
// (port 0) and names no address, which is all the signalling flows need.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "b2bua/daemon/signalling_plane.h"
#include "storage/store.h"

namespace b2bua::testing {

// A port that is free for UDP and TCP on 127.0.0.1 right now.
uint16_t free_port();

// Milliseconds on a monotonic clock.
int64_t steady_ms();

// The reactor every peer and the plane share; nua's stacks run on it too (no extra threads,
// as in the daemon).
class SipLoop {
 public:
  SipLoop();
  ~SipLoop();
  SipLoop(const SipLoop&) = delete;
  SipLoop& operator=(const SipLoop&) = delete;

  su_root_t* root() const { return root_; }
  // Steps the reactor until `done` holds or `bound_ms` passed; returns `done()`.
  bool run_until(const std::function<bool()>& done, unsigned bound_ms = 3000);
  // Steps the reactor for `ms`.
  void run_for(unsigned ms);

 private:
  su_root_t* root_;
};

// One nua event a peer saw, copied out of the callback.
struct SipEvent {
  nua_event_t event = nua_i_none;
  int status = 0;
  std::string phrase;
  nua_handle_t* nh = nullptr;
  int call_state = -1;      // nua_i_state: NUTAG_CALLSTATE
  std::string call_id;
  std::string text;         // the whole message (request or response) as received
  std::string sdp;          // its application/sdp body, if any
  bool has_authorization = false;  // a request with Authorization or Proxy-Authorization
  int64_t at_ms = 0;        // steady_ms() when it arrived
  size_t seq = 0;           // its place among the peer's events
};

// A sofia nua user agent on 127.0.0.1:<free port>/UDP, recording every event.
class SipPeer {
 public:
  SipPeer(SipLoop& loop, std::string name, std::string user_agent);
  virtual ~SipPeer();
  SipPeer(const SipPeer&) = delete;
  SipPeer& operator=(const SipPeer&) = delete;

  nua_t* nua() const { return nua_; }
  uint16_t port() const { return port_; }
  const std::string& name() const { return name_; }
  std::string host_port() const { return "127.0.0.1:" + std::to_string(port_); }

  // Events of `event` (on `nh` when given; with `status` when non-zero), oldest first.
  std::vector<const SipEvent*> all(nua_event_t event, nua_handle_t* nh = nullptr, int status = 0) const;
  const SipEvent* first(nua_event_t event, nua_handle_t* nh = nullptr, int status = 0) const;
  size_t count(nua_event_t event, nua_handle_t* nh = nullptr, int status = 0) const {
    return all(event, nh, status).size();
  }
  // The final (>= 200) status of the last nua_r_* `event` on `nh`, 0 while there is none. A
  // digest challenge (401/407) does not count: the peers answer it, the request goes on.
  int final_status(nua_event_t event, nua_handle_t* nh) const;
  // True once nua reported `state` (nua_callstate_*) for `nh`.
  bool reached(nua_handle_t* nh, int state) const;
  // The handle of the latest incoming request of `event` (nua_i_invite, ...), null if none.
  nua_handle_t* latest_incoming(nua_event_t event) const;
  // One line per event, for failure messages and traces.
  std::string trace() const;

  // nua_shutdown(), bounded; nua_destroy() once it finished.
  void shutdown();

 protected:
  // What the peer does about an event (inside the nua callback, after recording it).
  virtual void react(const SipEvent& ev, const sip_t* sip) { (void)ev, (void)sip; }
  SipLoop& loop_;

 private:
  static void callback(nua_event_t event, int status, const char* phrase, nua_t* nua, nua_magic_t* magic,
                       nua_handle_t* nh, nua_hmagic_t* hmagic, const sip_t* sip, tagi_t tags[]);

  std::string name_;
  uint16_t port_;
  nua_t* nua_ = nullptr;
  bool shut_down_ = false;
  std::vector<SipEvent> events_;
};

// An SDP offer or answer as a phone on a private network would send it.
std::string phone_sdp(const std::string& owner, const std::string& address, uint16_t port);

// A phone: registers an extension at the plane's LAN side with digest, places calls, rings
// (180) on an incoming INVITE and leaves answering to the test.
class Phone : public SipPeer {
 public:
  Phone(SipLoop& loop, std::string extension, std::string password, uint16_t lan_port,
        std::string user_agent = "TestPhone/1.0");
  // Drops the registration without un-REGISTERing (the plane may be gone): nua's shutdown then
  // has nothing left to wait for.
  ~Phone() override;

  const std::string& extension() const { return extension_; }
  // REGISTER with digest; true once the registrar answered 200.
  bool register_now(unsigned bound_ms = 2000);
  struct CallOptions {
    bool offer = true;      // our SDP in the INVITE (else a delayed offer)
    bool auto_ack = true;   // false: the test decides whether and when to ACK a 2xx
    std::string headers;    // extra "Name: value" lines
    std::string contact;    // an explicit Contact
  };
  // INVITE to `number` at the LAN side; 407 is answered once per call with our credentials.
  // Returns the call's handle.
  nua_handle_t* call(const std::string& number, const CallOptions& options);
  nua_handle_t* call(const std::string& number) { return call(number, CallOptions{}); }
  // 200 OK with our SDP (an answer, or an offer when the INVITE had none).
  void answer(nua_handle_t* nh);
  void hang_up(nua_handle_t* nh);
  void cancel(nua_handle_t* nh);
  // Ring (180) on incoming INVITEs; false leaves them unanswered.
  bool ring_on_invite = true;
  std::string sdp() const { return phone_sdp("phone" + extension_, "192.168.1.77", 40000); }

 protected:
  void react(const SipEvent& ev, const sip_t* sip) override;

 private:
  void authenticate(const SipEvent& ev, const sip_t* sip);

  std::string extension_;
  std::string password_;
  uint16_t lan_port_;
  nua_handle_t* registration_ = nullptr;
  std::map<nua_handle_t*, int> auth_answers_;
};

// The provider: a registrar with digest (401 with a nonce, then 200 for a correct answer,
// 401 again for a wrong one), or one that refuses (403); a UAS that answers INVITEs 180 + 200.
class Provider : public SipPeer {
 public:
  enum class OnRegister { challenge, forbid };

  Provider(SipLoop& loop, std::string user, std::string password, std::string realm = "provider.test");

  OnRegister on_register = OnRegister::challenge;
  bool answer_invites = true;
  const std::string& realm() const { return realm_; }
  std::string sdp() const { return phone_sdp("provider", "127.0.0.1", 30000); }
  // The REGISTERs received, oldest first.
  std::vector<const SipEvent*> registers() const { return all(nua_i_register); }

 protected:
  void react(const SipEvent& ev, const sip_t* sip) override;

 private:
  bool verified(const sip_t* sip, const char* method) const;

  std::string user_, password_, realm_;
  std::vector<std::string> nonces_;
};

// A UDP socket on 127.0.0.1 that takes every datagram and never answers: a provider that is
// down or a firewall that drops.
class SilentServer {
 public:
  SilentServer();
  ~SilentServer();
  SilentServer(const SilentServer&) = delete;
  SilentServer& operator=(const SilentServer&) = delete;

  uint16_t port() const { return port_; }
  // Reads what arrived since the last call (non-blocking).
  void drain();
  const std::vector<std::string>& datagrams() const { return datagrams_; }
  // Distinct Call-IDs of the REGISTERs received, in order of first appearance.
  std::vector<std::string> register_call_ids() const;

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
  std::vector<std::string> datagrams_;
};

// The plane under test with its config (JSON, validated by the real loader) and an SQLite store
// in a temporary folder. The constructor binds and starts every feature, as the daemon does.
class PlaneUnderTest {
 public:
  PlaneUnderTest(SipLoop& loop, const nlohmann::json& config);
  ~PlaneUnderTest();
  PlaneUnderTest(const PlaneUnderTest&) = delete;
  PlaneUnderTest& operator=(const PlaneUnderTest&) = delete;

  daemon::SignallingPlane& plane() { return *plane_; }
  const config::Config& config() const { return *config_; }
  nlohmann::json status() const;
  // status()["trunks"] entry of `name` (null when there is none).
  nlohmann::json trunk(const std::string& name) const;
  size_t active_calls() const { return status()["calls"].size(); }
  // Every call record committed so far, oldest first.
  std::vector<storage::CallRecordRow> records();
  // Orderly stop (bounded); true when every feature and agent finished in time.
  bool shutdown(unsigned bound_ms = 3000);

 private:
  SipLoop& loop_;
  std::filesystem::path dir_;
  std::shared_ptr<const config::Config> config_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<daemon::SignallingPlane> plane_;
};

// A config for the plane: LAN on 127.0.0.1:`lan_port` (127.0.0.0/8 trusted), extensions 10, 11
// and 12 (password "pw<number>"), qualify off, and no WAN side. with_trunk() adds the WAN side
// and one trunk "provider" at 127.0.0.1:`server_port` with outbound route prefix "0" (stripped).
nlohmann::json lan_config(uint16_t lan_port);
void with_trunk(nlohmann::json& config, uint16_t wan_port, uint16_t server_port, const std::string& user,
                const std::string& password);

}  // namespace b2bua::testing
