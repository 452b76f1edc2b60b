#include "b2bua/trunk/server_resolver.h"

#include <arpa/inet.h>
#include <ares.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <unordered_map>

#include "b2bua/common/log.h"
#include "b2bua/sip/timer.h"

namespace b2bua::trunk {
namespace {

constexpr unsigned kMinTtlS = 30;     // re-resolve no more often, whatever the zone says
constexpr unsigned kMaxTtlS = 3600;   // and at least hourly
constexpr unsigned kUnknownTtlS = 300;
// c-ares doubles the timeout on each round over the servers: 1 s, then 2 s, so a silent server
// costs ~3 s per query.
constexpr int kFirstTryMs = 1000;
constexpr int kTries = 2;
constexpr size_t kHost = static_cast<size_t>(-1);  // the Lookup of the URI's host, not an SRV target

uint16_t default_port(config::Transport t) { return t == config::Transport::tls ? 5061 : 5060; }

std::string srv_name(const std::string& host, config::Transport t) {
  switch (t) {
    case config::Transport::tcp: return "_sip._tcp." + host;
    case config::Transport::tls: return "_sips._tcp." + host;
    case config::Transport::udp: break;
  }
  return "_sip._udp." + host;
}

// The server never answered (or every one refused with ICMP): not a verdict on the name.
bool unanswered(int status) { return status == ARES_ETIMEOUT || status == ARES_ECONNREFUSED; }
bool not_found(int status) { return status == ARES_ENOTFOUND || status == ARES_ENODATA; }

// sofia's resolver took the DNS servers' port from a "port N" line, and wan.resolv_conf files
// written for it have one; c-ares knows no such line.
uint16_t resolv_conf_port(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  uint16_t port = 0;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string key;
    unsigned value = 0;
    if (words >> key && key == "port" && words >> value && value > 0 && value < 65536) {
      port = static_cast<uint16_t>(value);
    }
  }
  return port;
}

struct SrvRecord {
  uint16_t priority, weight, port;
  std::string target;
  unsigned ttl_s;
};

uint16_t get16(const unsigned char* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

// A name at `p` inside `msg`; advances `p` past it. False when the message is malformed.
bool read_name(const unsigned char* msg, int length, const unsigned char*& p, std::string* out) {
  char* name = nullptr;
  long used = 0;
  if (ares_expand_name(p, msg, length, &name, &used) != ARES_SUCCESS) return false;
  if (out) *out = name;
  ares_free_string(name);
  p += used;
  return true;
}

// The SRV records of an answer with their TTLs (ares_parse_srv_reply drops the TTL).
std::vector<SrvRecord> parse_srv(const unsigned char* msg, int length) {
  std::vector<SrvRecord> out;
  if (!msg || length < 12) return out;
  const unsigned char* end = msg + length;
  const unsigned char* p = msg + 12;
  for (unsigned q = get16(msg + 4); q > 0; --q) {
    if (!read_name(msg, length, p, nullptr) || end - p < 4) return out;
    p += 4;  // type, class
  }
  for (unsigned a = get16(msg + 6); a > 0; --a) {
    if (!read_name(msg, length, p, nullptr) || end - p < 10) return out;
    uint16_t type = get16(p), klass = get16(p + 2);
    unsigned ttl = static_cast<unsigned>(get16(p + 4)) << 16 | get16(p + 6);
    uint16_t rdlength = get16(p + 8);
    p += 10;
    if (end - p < rdlength) return out;
    const unsigned char* next = p + rdlength;
    if (type == 33 && klass == 1 && rdlength > 6) {  // SRV, IN
      SrvRecord r{get16(p), get16(p + 2), get16(p + 4), "", ttl};
      const unsigned char* target = p + 6;
      if (!read_name(msg, length, target, &r.target)) return out;
      out.push_back(std::move(r));
    }
    p = next;
  }
  return out;
}

}  // namespace

SipTarget parse_sip_target(const std::string& uri) {
  SipTarget t;
  size_t colon = uri.find(':');
  if (colon == std::string::npos) return t;
  std::string rest = uri.substr(colon + 1);
  rest = rest.substr(0, rest.find_first_of(";?>"));
  if (size_t at = rest.rfind('@'); at != std::string::npos) rest = rest.substr(at + 1);
  auto hp = parse_host_port(rest, 0);
  if (!hp) return t;
  t.host = hp->host;
  t.port = hp->port;
  t.ok = !t.host.empty();
  return t;
}

// One c-ares channel on the SIP thread's reactor: its sockets are su_root waits, its
// retransmissions and timeouts one sip::Timer. Each query's callback is kept here until c-ares
// answers it; destroying the channel answers every pending one with ARES_EDESTRUCTION, which
// is not passed on.
class ServerResolver::Channel {
 public:
  using Answer = std::function<void(int status, const unsigned char* answer, int length)>;
  using Addresses = std::function<void(int status, const ares_addrinfo* info)>;

  Channel(su_root_t* root, const std::string& resolv_conf) : root_(root), timer_(root) {
    static std::once_flag library;
    std::call_once(library, [] { ares_library_init(ARES_LIB_INIT_ALL); });
    ares_options opts{};
    int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_RESOLVCONF;
    opts.sock_state_cb = &Channel::socket_state;
    opts.sock_state_cb_data = this;
    opts.timeout = kFirstTryMs;
    opts.tries = kTries;
    std::string path = resolv_conf;  // c-ares copies it
    opts.resolvconf_path = path.data();
    port_ = resolv_conf_port(resolv_conf);
    if (port_) {
      opts.udp_port = opts.tcp_port = port_;
      mask |= ARES_OPT_UDP_PORT | ARES_OPT_TCP_PORT;
    }
    status_ = ares_init_options(&channel_, &opts, mask);
  }

  ~Channel() {
    // First, while the map of callbacks and the socket waits still exist: c-ares ends every
    // pending query and closes its sockets through them.
    if (status_ == ARES_SUCCESS) ares_destroy(channel_);
    for (const auto& [fd, index] : waits_) su_root_deregister(root_, index);
  }
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;

  bool ok() const { return status_ == ARES_SUCCESS; }
  const char* error() const { return ares_strerror(status_); }
  // No query pending and not inside c-ares: safe to replace.
  bool idle() const { return calls_.empty() && depth_ == 0; }

  void query(const std::string& name, int type, Answer done) {
    Call& call = add(std::move(done), {});
    Entered in(*this);
    ares_query(channel_, name.c_str(), 1 /* IN */, type, &Channel::answered, &call);
  }

  void addresses(const std::string& name, Addresses done) {
    Call& call = add({}, std::move(done));
    ares_addrinfo_hints hints{};
    hints.ai_family = AF_INET;
    // NOSORT: keep the order the zone (or hosts file) gives. ENVHOSTS: CARES_HOSTS, when set,
    // names the hosts file instead of /etc/hosts (the c-ares convention).
    hints.ai_flags = ARES_AI_NOSORT | ARES_AI_ENVHOSTS;
    Entered in(*this);
    ares_getaddrinfo(channel_, name.c_str(), nullptr, &hints, &Channel::got_addresses, &call);
  }

  // The DNS servers queries go to, "127.0.0.1,[::1]:5353" (port only when not 53).
  std::string servers() const {
    ares_addr_port_node* list = nullptr;
    if (ares_get_servers_ports(channel_, &list) != ARES_SUCCESS) return "";
    std::string out;
    for (const ares_addr_port_node* s = list; s; s = s->next) {
      char buf[INET6_ADDRSTRLEN] = "";
      inet_ntop(s->family, &s->addr, buf, sizeof buf);
      int port = s->udp_port ? s->udp_port : (port_ ? port_ : 53);
      std::string host = s->family == AF_INET6 ? "[" + std::string(buf) + "]" : std::string(buf);
      out += (out.empty() ? "" : ",") + host + (port == 53 ? "" : ":" + std::to_string(port));
    }
    ares_free_data(list);
    return out;
  }

 private:
  struct Call {
    Channel* channel;
    Answer answer;
    Addresses addresses;
  };

  // Marks a call into c-ares; when the outermost one returns, the timer follows c-ares' next
  // deadline (a query sent, answered or retransmitted changes it).
  struct Entered {
    explicit Entered(Channel& c) : channel(c) { ++channel.depth_; }
    ~Entered() {
      if (--channel.depth_ == 0) channel.rearm();
    }
    Entered(const Entered&) = delete;
    Entered& operator=(const Entered&) = delete;
    Channel& channel;
  };

  Call& add(Answer answer, Addresses addresses) {
    auto call = std::make_unique<Call>(Call{this, std::move(answer), std::move(addresses)});
    Call& ref = *call;
    calls_.emplace(&ref, std::move(call));
    return ref;
  }

  std::unique_ptr<Call> take(void* arg) {
    auto node = calls_.extract(static_cast<Call*>(arg));
    return node ? std::move(node.mapped()) : nullptr;
  }

  static void answered(void* arg, int status, int, unsigned char* answer, int length) {
    auto* self = static_cast<Call*>(arg)->channel;
    auto call = self->take(arg);
    if (call && status != ARES_EDESTRUCTION) call->answer(status, answer, length);
  }

  static void got_addresses(void* arg, int status, int, ares_addrinfo* info) {
    auto* self = static_cast<Call*>(arg)->channel;
    auto call = self->take(arg);
    if (call && status != ARES_EDESTRUCTION) call->addresses(status, info);
    if (info) ares_freeaddrinfo(info);
  }

  // c-ares opens, closes and wants to write on its sockets through this.
  static void socket_state(void* data, ares_socket_t fd, int readable, int writable) {
    auto* self = static_cast<Channel*>(data);
    auto it = self->waits_.find(fd);
    if (!readable && !writable) {
      if (it != self->waits_.end()) {
        su_root_deregister(self->root_, it->second);
        self->waits_.erase(it);
      }
      return;
    }
    int events = (readable ? SU_WAIT_IN : 0) | (writable ? SU_WAIT_OUT : 0);
    if (it != self->waits_.end()) {
      su_root_eventmask(self->root_, it->second, fd, events);
      return;
    }
    su_wait_t wait;
    if (su_wait_create(&wait, fd, events) != 0) return;  // its query times out instead
    int index = su_root_register(self->root_, &wait, &Channel::wakeup, self, 0);
    if (index > 0) {
      self->waits_.emplace(fd, index);
    } else {
      su_wait_destroy(&wait);
    }
  }

  static int wakeup(su_root_magic_t*, su_wait_t* wait, su_wakeup_arg_t* arg) {
    auto* self = static_cast<Channel*>(arg);
    ares_socket_t fd = wait->fd;
    int events = su_wait_events(wait, fd);
    Entered in(*self);
    ares_process_fd(self->channel_, events & (SU_WAIT_IN | SU_WAIT_ERR | SU_WAIT_HUP) ? fd : ARES_SOCKET_BAD,
                    events & SU_WAIT_OUT ? fd : ARES_SOCKET_BAD);
    return 0;
  }

  void rearm() {
    timeval tv{};
    if (!ares_timeout(channel_, nullptr, &tv)) return timer_.cancel();
    // Rounded up: a timer that fires a little early finds nothing due and spins.
    auto ms = static_cast<unsigned>(tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000);
    timer_.start(std::max(ms, 1u), [this] {
      Entered in(*this);
      ares_process_fd(channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    });
  }

  su_root_t* root_;
  sip::Timer timer_;
  ares_channel channel_ = nullptr;
  int status_ = ARES_ENOTINITIALIZED;
  uint16_t port_ = 0;  // from a "port N" line; 0: 53
  std::unordered_map<ares_socket_t, int> waits_;  // socket -> su_root registration
  std::unordered_map<Call*, std::unique_ptr<Call>> calls_;
  int depth_ = 0;
};

ServerResolver::ServerResolver(su_root_t* root, std::string resolv_conf)
    : root_(root), resolv_conf_(std::move(resolv_conf)) {}

ServerResolver::~ServerResolver() {
  // No callback runs for what is pending: the channel drops its queries, and none finds a
  // request.
  requests_.clear();
  channel_.reset();
}

ServerResolver::Channel* ServerResolver::channel() {
  struct stat st {};
  struct timespec mtime {};
  if (stat(resolv_conf_.c_str(), &st) == 0) mtime = st.st_mtim;
  bool changed = mtime.tv_sec != resolv_conf_mtime_.tv_sec || mtime.tv_nsec != resolv_conf_mtime_.tv_nsec;
  // A channel reads the file once; a new one reads it again. One still busy stays until its
  // queries are answered: the next lookup finds the change again.
  if (channel_ && changed && channel_->idle()) channel_.reset();
  if (!channel_) {
    auto ch = std::make_unique<Channel>(root_, resolv_conf_);
    if (!ch->ok()) {
      B2BUA_LOG(error, "trunk", "dns_init_failed", {{"resolv_conf", resolv_conf_}, {"error", ch->error()}});
      return nullptr;
    }
    B2BUA_LOG(debug, "trunk", "dns_servers", {{"resolv_conf", resolv_conf_}, {"servers", ch->servers()}});
    channel_ = std::move(ch);
    resolv_conf_mtime_ = mtime;
  }
  return channel_.get();
}

void ServerResolver::resolve(const void* owner, const SipTarget& target, config::Transport transport, Done done) {
  uint16_t port = target.port ? target.port : default_port(transport);
  if (is_ip_literal(target.host)) {
    Resolution r;
    r.servers.push_back({target.host, port});
    done(r);
    return;
  }
  Channel* ch = channel();
  if (!ch) {
    Resolution r;
    r.error = "cannot start the DNS resolver";
    r.ttl_s = kUnknownTtlS;
    done(r);
    return;
  }
  unsigned ticket = next_ticket_++;
  Request& req = requests_[ticket];
  req.owner = owner;
  req.target = target;
  req.transport = transport;
  req.done = std::move(done);
  req.host.name = target.host;
  req.host.port = port;
  if (!target.port) {
    req.srv_pending = true;
    ch->query(srv_name(target.host, transport), 33 /* SRV */,
              [this, ticket](int status, const unsigned char* answer, int length) {
                srv_answered(ticket, status, answer, length);
              });
  }
  // The host itself is needed when there is no SRV record; asked at once, so a silent server
  // costs one timeout, not one after the other.
  lookup(ticket, kHost);
}

void ServerResolver::cancel(const void* owner) {
  for (auto it = requests_.begin(); it != requests_.end();) {
    it = it->second.owner == owner ? requests_.erase(it) : std::next(it);
  }
  // Answers to their queries still arrive; the callbacks find no request and drop them.
}

void ServerResolver::lookup(unsigned ticket, size_t target) {
  auto it = requests_.find(ticket);
  if (it == requests_.end() || !channel_) return;
  const Lookup& l = target == kHost ? it->second.host : it->second.targets[target];
  channel_->addresses(l.name, [this, ticket, target](int status, const ares_addrinfo* info) {
    host_answered(ticket, target, status, info);
  });
}

void ServerResolver::srv_answered(unsigned ticket, int status, const unsigned char* answer, int length) {
  auto it = requests_.find(ticket);
  if (it == requests_.end()) return;
  Request& req = it->second;
  req.srv_pending = false;
  req.srv_status = status;
  std::vector<SrvRecord> records;
  if (status == ARES_SUCCESS) records = parse_srv(answer, length);
  // RFC 2782: lowest priority first; among equals the heavier first (a fixed order rather than
  // a weighted draw, so every lookup gives the same list).
  std::stable_sort(records.begin(), records.end(), [](const SrvRecord& a, const SrvRecord& b) {
    return a.priority != b.priority ? a.priority < b.priority : a.weight > b.weight;
  });
  req.srv_ttl_s = kMaxTtlS;
  for (const auto& r : records) {
    req.srv_ttl_s = std::min(req.srv_ttl_s, std::max(r.ttl_s, kMinTtlS));
    if (r.target.empty() || r.target == ".") continue;  // "." : the service is not offered there
    req.targets.push_back(Lookup{r.target, r.port, -1, {}, 0});
  }
  if (req.targets.empty()) return finish_if_done(ticket);
  // Each lookup may answer at once from the hosts file; the request ends with the last.
  for (size_t i = 0, n = req.targets.size(); i < n; ++i) lookup(ticket, i);
}

void ServerResolver::host_answered(unsigned ticket, size_t target, int status, const ares_addrinfo* info) {
  auto it = requests_.find(ticket);
  if (it == requests_.end()) return;
  Lookup& l = target == kHost ? it->second.host : it->second.targets[target];
  l.status = status;
  l.ttl_s = kMaxTtlS;
  for (const ares_addrinfo_node* n = info ? info->nodes : nullptr; n; n = n->ai_next) {
    if (n->ai_family != AF_INET) continue;
    char buf[INET_ADDRSTRLEN];
    // Copied out, not cast: a sockaddr* promises less alignment than sockaddr_in needs, and
    // 32-bit ARM (armhf) enforces it.
    sockaddr_in v4{};
    std::memcpy(&v4, n->ai_addr, sizeof v4);
    inet_ntop(AF_INET, &v4.sin_addr, buf, sizeof buf);
    if (std::find(l.addresses.begin(), l.addresses.end(), buf) == l.addresses.end()) l.addresses.emplace_back(buf);
    // A hosts file entry has no TTL (0): looked up again after the minimum, like a short TTL.
    l.ttl_s = std::min(l.ttl_s, std::max(static_cast<unsigned>(std::max(n->ai_ttl, 0)), kMinTtlS));
  }
  finish_if_done(ticket);
}

void ServerResolver::finish_if_done(unsigned ticket) {
  auto it = requests_.find(ticket);
  if (it == requests_.end()) return;
  const Request& req = it->second;
  if (req.srv_pending) return;
  if (req.targets.empty() ? req.host.status == -1
                          : std::any_of(req.targets.begin(), req.targets.end(),
                                        [](const Lookup& l) { return l.status == -1; })) {
    return;
  }
  Resolution r = outcome(req);
  Done done = std::move(it->second.done);
  requests_.erase(it);
  done(r);
}

std::string ServerResolver::answers(const Request& req) const {
  auto said = [](int status) -> std::string {
    if (unanswered(status)) return "no answer";
    if (not_found(status)) return "no record";
    return ares_strerror(status);
  };
  std::string out;
  if (!req.target.port) {
    out = "SRV " + srv_name(req.target.host, req.transport) + ": ";
    if (req.targets.empty()) {
      out += req.srv_status == ARES_SUCCESS ? "no record" : said(req.srv_status);
    } else {
      for (size_t i = 0; i < req.targets.size(); ++i) {
        out += (i ? ", " : "") + req.targets[i].name + ":" + std::to_string(req.targets[i].port);
      }
    }
  }
  auto address_line = [&](const Lookup& l) {
    std::string line = l.name + ": ";
    if (l.status != ARES_SUCCESS || l.addresses.empty()) return line + (l.status == ARES_SUCCESS ? "no address" : said(l.status));
    for (size_t i = 0; i < l.addresses.size(); ++i) line += (i ? ", " : "") + l.addresses[i];
    return line;
  };
  if (req.targets.empty()) {
    out += (out.empty() ? "" : "; ") + address_line(req.host);
  } else {
    for (const auto& t : req.targets) out += "; " + address_line(t);
  }
  return out;
}

Resolution ServerResolver::outcome(const Request& req) const {
  Resolution r;
  std::vector<const Lookup*> used;
  if (req.targets.empty()) {
    used.push_back(&req.host);
  } else {
    for (const auto& t : req.targets) used.push_back(&t);
  }
  unsigned ttl = req.targets.empty() ? kMaxTtlS : req.srv_ttl_s;
  // The most telling failure is reported: no answer, then an error, then a name not found.
  auto rank = [](int status) { return unanswered(status) ? 2 : not_found(status) || status == ARES_SUCCESS ? 0 : 1; };
  int failure = req.targets.empty() ? req.srv_status : ARES_SUCCESS;
  for (const Lookup* l : used) {
    if (l->status == ARES_SUCCESS) {
      ttl = std::min(ttl, l->ttl_s);
      for (const auto& a : l->addresses) {
        HostPort hp{a, l->port};
        if (std::find(r.servers.begin(), r.servers.end(), hp) == r.servers.end()) r.servers.push_back(hp);
      }
    }
    if (rank(l->status) > rank(failure)) failure = l->status;
  }
  r.answers = answers(req);
  if (!r.servers.empty()) {
    r.ttl_s = std::clamp(ttl, kMinTtlS, kMaxTtlS);
    return r;
  }
  // Looked up again after a while even if the trunk's backoff does not ask first.
  r.ttl_s = kUnknownTtlS;
  if (unanswered(failure)) {
    r.unanswered = true;
    r.dns_servers = channel_ ? channel_->servers() : "";
    r.error = "no answer from " + (r.dns_servers.empty() ? "the DNS servers" : r.dns_servers) + " for " +
              req.target.host;
  } else if (rank(failure) == 1) {
    r.error = "DNS error for " + req.target.host + ": " + ares_strerror(failure);
  } else {
    r.error = "no address found for " + req.target.host;
  }
  return r;
}

}  // namespace b2bua::trunk
