#include "b2bua/config/network.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace b2bua::config {
namespace {

bool parse_ip(const std::string& ip, int& family, uint8_t* addr) {
  if (inet_pton(AF_INET, ip.c_str(), addr) == 1) {
    family = AF_INET;
    return true;
  }
  if (inet_pton(AF_INET6, ip.c_str(), addr) == 1) {
    family = AF_INET6;
    return true;
  }
  return false;
}

}  // namespace

bool parse_listen_address(const std::string& text, ListenAddress& out, std::string& why) {
  auto colon = text.find(':');
  std::string transport = colon == std::string::npos ? "" : text.substr(0, colon);
  if (transport != "udp" && transport != "tcp" && transport != "tls") {
    why = "expected transport:address:port like udp:192.168.1.1:5060";
    return false;
  }
  auto address = parse_host_port(std::string_view(text).substr(colon + 1), transport == "tls" ? 5061 : 5060);
  if (!address || !is_ip_literal(address->host)) {
    why = "'" + text + "' is not transport:address:port with an IP address";
    return false;
  }
  out.transport = transport;
  out.host = address->host;
  out.port = address->port;
  return true;
}

bool parse_network(const std::string& text, Network& out) {
  auto slash = text.find('/');
  std::string ip = text.substr(0, slash);
  if (!parse_ip(ip, out.family, out.addr)) return false;
  int max = out.family == AF_INET ? 32 : 128;
  out.prefix = max;
  if (slash != std::string::npos) {
    std::string_view p = std::string_view(text).substr(slash + 1);
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), out.prefix);
    if (ec != std::errc() || end != p.data() + p.size() || out.prefix < 0 || out.prefix > max) return false;
  }
  out.text = text;
  return true;
}

bool Network::contains(const std::string& ip) const {
  int fam = 0;
  uint8_t a[16];
  if (!parse_ip(ip, fam, a)) return false;
  if (fam != family) {
    // An IPv4-mapped IPv6 source (::ffff:a.b.c.d) from a dual-stack socket still matches v4 networks.
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (fam == AF_INET6 && family == AF_INET && std::memcmp(a, mapped, 12) == 0) {
      std::memmove(a, a + 12, 4);
    } else {
      return false;
    }
  }
  int full = prefix / 8, rest = prefix % 8;
  if (std::memcmp(a, addr, static_cast<size_t>(full)) != 0) return false;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[full] & mask) == (addr[full] & mask);
}

bool is_loopback(const std::string& ip) {
  int fam = 0;
  uint8_t a[16];
  if (!parse_ip(ip, fam, a)) return false;
  if (fam == AF_INET) return a[0] == 127;
  static const uint8_t one[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  return std::memcmp(a, one, 16) == 0;
}

std::string ListenAddress::to_sip_url() const {
  return (transport == "tls" ? "sips:" : "sip:") + uri_host(host) + ":" + std::to_string(port) + ";transport=" +
         (transport == "tls" ? "tls" : transport);
}

bool Lan::contains(const std::string& ip) const {
  return std::any_of(networks.begin(), networks.end(), [&](const Network& n) { return n.contains(ip); });
}

const Extension* Config::find_extension(const std::string& number) const {
  auto it = std::find_if(extensions.begin(), extensions.end(), [&](const Extension& e) { return e.number == number; });
  return it == extensions.end() ? nullptr : &*it;
}

bool Config::any_trunk_on(Transport transport) const {
  return std::any_of(trunks.begin(), trunks.end(),
                     [transport](const Trunk& t) { return t.enabled && t.transport == transport; });
}

const Trunk* Config::find_trunk(const std::string& name) const {
  auto it = std::find_if(trunks.begin(), trunks.end(), [&](const Trunk& t) { return t.name == name; });
  return it == trunks.end() ? nullptr : &*it;
}

}  // namespace b2bua::config
