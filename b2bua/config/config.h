// The admin's configuration, as validated values. The JSON schema is documented key by key in
// etc/example-full.jsonc; config_loader.h turns a file into this struct or a list of errors.
//
// A Config is immutable once loaded: a reload builds a new one and hands it to every feature as
// a Snapshot (b2bua/plane/feature.h); features compare with the old one what they care about.
// Structs compare with == (defaulted), so "did this trunk change" has one answer.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "b2bua/common/destination_class.h"
#include "b2bua/config/host_port.h"

namespace b2bua::config {

// "udp:192.168.1.1:5060" in lan.listen.
struct ListenAddress {
  std::string transport;  // udp | tcp | tls
  std::string host;       // IPv4 literal or IPv6 literal without brackets
  uint16_t port = 5060;
  std::string to_sip_url() const;  // sip:host:port;transport=udp (brackets for IPv6)
  bool operator==(const ListenAddress&) const = default;
};

// "192.168.1.0/24" or "fd00::/8".
struct Network {
  std::string text;
  int family = 0;  // AF_INET or AF_INET6
  uint8_t addr[16]{};
  int prefix = 0;
  bool contains(const std::string& ip) const;
  bool operator==(const Network&) const = default;
};

// Requests from outside lan.networks, or on the WAN from sources that are no trunk's server:
// 403 or silence.
enum class OutsidePolicy { reject, drop };

struct Lan {
  std::vector<ListenAddress> listen;
  std::vector<Network> networks;
  std::string realm = "home.arpa";
  OutsidePolicy outside = OutsidePolicy::reject;
  // Requests a second (sip/flood_guard.h): from one address (beyond: dropped for a minute), and
  // from all together (beyond: only registered phones get in until it calms); 0 = no limit.
  int flood_per_source = 50;
  int flood_total = 300;
  bool contains(const std::string& ip) const;
  bool operator==(const Lan&) const = default;
};

struct Wan {
  std::string address;                       // bind address, never the wildcard
  uint16_t port = 5060;
  std::optional<std::string> public_address; // else learned from Via received/rport
  std::optional<std::string> interface;      // watched for address changes when on the router
  int dscp_sip = 24;                         // CS3
  int dscp_rtp = 46;                         // EF
  uint16_t tls_port = 5061;                  // local TLS port, bound only when a trunk uses TLS
  std::string tls_ca_dir = "/etc/ssl/certs"; // trusted CAs for TLS trunks (hashed dir or cafile.pem)
  std::string resolv_conf = "/etc/resolv.conf"; // DNS servers for trunk lookups
  OutsidePolicy strangers = OutsidePolicy::drop; // requests from no trunk's servers: silence by default
  std::optional<HostPort> stun;              // RFC 5780 STUN server that measures the NAT's UDP timeout
  bool operator==(const Wan&) const = default;
};

struct Registrar {
  int min_expires = 60;        // shorter -> 423 Interval Too Brief with Min-Expires
  int max_expires = 3600;      // longer -> clamped
  int default_expires = 600;   // when the phone names none
  int qualify_interval = 30;   // seconds between OPTIONS to each binding; 0 = off
  int nonce_lifetime = 300;    // after this a nonce is answered with stale=true
  int block_after_failures = 5;// failed authentications from one address before a block
  int block_window = 60;       // ... counted within this many seconds
  int block_duration = 600;    // seconds the address is then ignored
  int lock_after_failures = 20;// failed authentications for one extension ...
  int lock_min_sources = 3;    // ... from at least this many addresses ...
  int lock_window = 600;       // ... within this many seconds lock it
  int lock_duration = 900;     // seconds new logins of the extension are then refused; 0 = never
  bool sha256 = false;         // also challenge with SHA-256 digest (RFC 8760), offered first
  bool operator==(const Registrar&) const = default;
};

// What one extension may spend on external calls before it is stopped: a family never gets
// near these, a fraudster with guessed credentials reaches them within minutes. 0: no limit.
struct ExtensionLimits {
  int calls_per_hour = 30;        // calls out through trunks admitted in the last hour
  int concurrent_external = 2;    // calls out through trunks at once
  int max_duration_s = 14400;     // an answered call out is hung up after this (4 h)
  bool operator==(const ExtensionLimits&) const = default;
};

// limits: the defaults of every extension's limits, and how long crossing one blocks.
struct Limits {
  ExtensionLimits defaults;
  int cooldown_s = 3600;          // calls out stay refused this long (0: until a reload)
  bool operator==(const Limits&) const = default;
};

// Where an extension's calls go instead of (or after) ringing it: each an extension number or an
// external number, nullopt when off. Unconditional (CFU), on busy (CFB, also do-not-disturb),
// on no answer after `no_answer_after` seconds (CFNR), and when no phone of the extension is
// registered (CFNL).
struct Forwarding {
  std::optional<std::string> always, busy, no_answer, unregistered;
  int no_answer_after = 20;
  bool operator==(const Forwarding&) const = default;
};

// Inbound callers refused before anything rings: globally (routing.block) and per DID
// (routing.inbound[].block). Numbers compare under number::same_number (so +49301234,
// 0049301234 and 0301234 are one number); prefixes compare on the national form.
struct BlockList {
  std::vector<std::string> numbers;
  std::vector<std::string> prefixes;
  bool anonymous = false;  // refuse callers that present no number
  int answer = 603;        // 603 Decline or 486 Busy Here
  bool operator==(const BlockList&) const = default;
};

// What an extension may call when its "allow" is absent: neither abroad nor premium rate.
inline const std::set<number::DestinationClass> kDefaultAllow = {
    number::DestinationClass::internal, number::DestinationClass::national, number::DestinationClass::mobile,
    number::DestinationClass::emergency};

// extensions[].voicemail: the extension's answering machine. Forwarding decides first: where a
// forward rule covers a condition (busy, no answer, unregistered), the call is forwarded.
struct Voicemail {
  bool enabled = false;
  int after = 20;                       // seconds of ringing before it answers
  bool on_busy = true;                  // answers when the extension is busy (or do-not-disturb)
  bool on_unregistered = true;          // answers when no phone of the extension is registered
  bool always = false;                  // answers at once: the phones do not ring
  bool announce_only = false;           // plays the greeting and hangs up: no message is left
  std::optional<std::string> greeting;  // a WAV file (absolute after loading); else the built-in one
  std::optional<std::string> pin;       // to listen from another extension's phone (secret: never logged)
  int max_message = 120;                // seconds a message may last
  int silence = 5;                      // seconds of silence that end a message
  int max_messages = 50;                // messages kept; the oldest heard ones make room first
  int max_total_mb = 20;                // size of all messages together
  bool notify = false;                  // message-waiting NOTIFYs also to phones that did not SUBSCRIBE
  std::optional<std::string> email;     // each message is mailed there too (voicemail.smtp)
  bool operator==(const Voicemail&) const = default;
};

// voicemail.smtp: the mail server messages are sent through (extensions[].voicemail.email).
struct Smtp {
  std::string server;                 // host name or IP
  uint16_t port = 587;                // submission
  std::string security = "starttls";  // starttls | tls | none (none: a relay on this host or the LAN)
  std::string user;                   // empty: no login
  std::string password;               // secret: never logged
  std::string from;                   // the sender address
  std::string ca_file;                // empty: the system's CAs
  bool operator==(const Smtp&) const = default;
};

// voicemail: what every answering machine shares.
struct VoicemailCommon {
  std::string folder;   // where messages are kept (absolute; default: "voicemail" next to the database)
  std::string prompts;  // the announcements (absolute; default: the ones installed with b2bua)
  std::optional<Smtp> smtp;  // none: messages are not mailed
  bool operator==(const VoicemailCommon&) const = default;
};

struct Extension {
  std::string number;
  std::string name;
  std::optional<std::string> password;  // secret: never logged
  std::optional<std::string> ha1;       // MD5(number:realm:password), secret: never logged
  bool outbound = true;                 // may call out through trunks
  int max_calls = 2;
  std::optional<std::string> outgoing_number;  // From/PAI only on trunks whose numbers list it
  bool clir = false;                    // withhold the number (Privacy: id)
  std::set<number::DestinationClass> allow = kDefaultAllow;
  ExtensionLimits limits;               // limits.* with this extension's own values applied
  // The starting state of what the phone can switch with feature codes (calls/feature_codes.h);
  // a phone's own change is stored and wins over these until the phone changes it back.
  Forwarding forward;
  bool dnd = false;                     // do-not-disturb: calls take the busy rule
  bool call_waiting = true;             // false: an extension in a call counts as busy
  Voicemail voicemail;
  // Emergency calls are allowed whatever the list says.
  bool allows(number::DestinationClass c) const {
    return c == number::DestinationClass::emergency || allow.count(c) > 0;
  }
  bool operator==(const Extension&) const = default;
};

enum class Transport { udp, tcp, tls };
enum class KeepaliveMethod { crlf, options, off };

struct Keepalive {
  KeepaliveMethod method = KeepaliveMethod::crlf;
  int interval = 20;  // seconds; below the common 30 s home-router UDP timeout
  // "interval": "auto": sized to the NAT's measured UDP mapping lifetime (wan.stun); `interval`
  // stays the default used until a measurement exists, or when none is possible.
  bool automatic = false;
  bool operator==(const Keepalive&) const = default;
};

struct Trunk {
  std::string name;
  bool enabled = true;
  std::string registrar;                     // sip: URI
  std::vector<std::string> backup_servers;   // sip: URIs tried in order after the registrar's (or proxy's)
  std::optional<std::string> outbound_proxy; // sip: URI
  std::optional<std::string> domain;         // AoR domain; defaults to the registrar's host
  Transport transport = Transport::udp;
  std::string username;
  std::optional<std::string> auth_username;  // defaults to username
  std::string password;                      // secret: never logged
  int expires = 600;
  bool register_enabled = true;              // "register": false for IP-authenticated trunks
  Keepalive keepalive;
  int binding_check = 30;                    // seconds between queries of our binding; 0: off
  std::vector<std::string> numbers;          // DIDs
  std::vector<Network> allowed_sources;      // extra provider ranges accepted on the WAN side
  int retry_auth_failed = 300;               // seconds between retries after 403/404
  int retry_max_backoff = 300;               // cap of the exponential backoff
  // Which number a call we forward out through this trunk presents: the original caller's
  // (where the provider lets a customer present numbers it did not assign) or the trunk's own.
  enum class ForwardCallerId { caller, trunk };
  ForwardCallerId forward_caller_id = ForwardCallerId::trunk;
  const std::string& auth_user() const { return auth_username ? *auth_username : username; }
  bool operator==(const Trunk&) const = default;
};

struct InboundRoute {
  std::string number;
  std::vector<std::string> ring;  // extension numbers
  int timeout = 30;
  std::optional<std::string> fallback;  // extension rung when nobody answers
  BlockList block;                      // callers refused on this number (besides routing.block)
  // Mailbox whose answering machine takes the call when nobody answers within `timeout` (nor
  // the fallback), every phone is busy or none is registered.
  std::optional<std::string> voicemail;
  bool operator==(const InboundRoute&) const = default;
};

struct OutboundRoute {
  std::string prefix;     // matched against the dialled number; "" matches all
  // "trunk": a name or a list tried in order (the next when one fails or is not registered);
  // "trunk": null (empty here) is a deny rule, calls it matches are refused.
  std::vector<std::string> trunks;
  int strip = 0;          // digits removed from the front after matching
  std::string add;        // then prepended
  bool operator==(const OutboundRoute&) const = default;
};

struct Routing {
  std::vector<InboundRoute> inbound;
  std::vector<OutboundRoute> outbound;
  std::vector<std::string> emergency;
  BlockList block;             // callers refused on every number
  std::string country = "DE";  // whose built-in class table
  // That table with routing.classes applied.
  number::ClassTable classes = number::builtin_class_table("DE").value_or(number::ClassTable{});
  bool operator==(const Routing&) const = default;
};

struct Media {
  uint16_t port_min = 20000;
  uint16_t port_max = 20999;
  int timeout = 60;
  int hold_timeout = 3600;
  int workers = 0;  // 0: one per core
  bool operator==(const Media&) const = default;
};

struct Calls {
  int max_concurrent = 20;
  bool direct_media_internal = false;  // LAN-only calls bypass the relay
  bool tones = true;                   // a refused phone call hears the busy or congestion tone first
  std::string tone_country;            // whose tones (media/tones.h); empty: routing.country's
  bool operator==(const Calls&) const = default;
};

struct Storage {
  std::string path;  // absolute after loading (relative paths are relative to the config file)
  // Call records kept: the newest this many, none older than this many days (0: no age limit).
  // Sized for a router whose /var is RAM: a row is a few hundred bytes.
  int call_records_max = 10000;
  int call_records_days = 90;
  bool operator==(const Storage&) const = default;
};

struct Status {
  std::string listen = "127.0.0.1:8088";
  bool allow_remote = false;       // a non-loopback listen address needs this ...
  std::optional<std::string> token;// ... and a token (secret: never logged)
  std::vector<std::string> allowed_hosts;  // names the page may be opened by, besides IPs and localhost
  bool operator==(const Status&) const = default;
};

enum class LogLevel { debug, info, warn, error };

struct Log {
  LogLevel level = LogLevel::info;
  bool operator==(const Log&) const = default;
};

struct Config {
  std::string source_path;  // the file it came from
  Lan lan;
  Wan wan;
  Registrar registrar;
  std::vector<Extension> extensions;
  std::vector<Trunk> trunks;
  Routing routing;
  Media media;
  Calls calls;
  Limits limits;
  Storage storage;
  Status status;
  Log log;
  VoicemailCommon voicemail;

  const Extension* find_extension(const std::string& number) const;
  const Trunk* find_trunk(const std::string& name) const;
  // True when an enabled trunk uses `transport`: only then is that WAN transport bound (UDP
  // always is: keep-alives, STUN-less NAT learning and most providers need it).
  bool any_trunk_on(Transport transport) const;
  bool operator==(const Config&) const = default;
};

// The running config as every feature holds it: shared, never modified.
using Snapshot = std::shared_ptr<const Config>;

}  // namespace b2bua::config
