#include "media/sdp_rewrite.h"

#include <sofia-sip/sdp.h>
#include <strings.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <memory>
#include "media/random.h"

namespace b2bua::media {

namespace {

struct ParserFree {
  void operator()(sdp_parser_t* p) const { sdp_parser_free(p); }
};
struct PrinterFree {
  void operator()(sdp_printer_t* p) const { sdp_printer_free(p); }
};
using Parser = std::unique_ptr<sdp_parser_t, ParserFree>;
using Printer = std::unique_ptr<sdp_printer_t, PrinterFree>;

// sdp_f_mode_manual: sofia's printer writes a=sendrecv/sendonly/recvonly/inactive exactly as
// they were parsed instead of deriving them from m_mode (which would add or drop lines).
constexpr int kFlags = sdp_f_mode_manual;
constexpr size_t kMaxSdp = 64 * 1024;  // far above any real offer; bounds the parser's work

std::string where(int index, const sdp_media_t* m) {
  return "sdp: m-line " + std::to_string(index) + " (" + (m->m_type_name ? m->m_type_name : "?") + "): ";
}

// RFC 4566 §9 token characters.
bool is_token(std::string_view t) {
  if (t.empty()) return false;
  for (char ch : t) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7f || std::strchr("\"(),/:;<=>?@[\\]{}", c)) return false;
  }
  return true;
}

// "m=<media> <port>[/<count>] <proto> <fmt> ..." (RFC 4566 §5.14).
bool valid_media_line(std::string_view v) {
  std::vector<std::string_view> f;
  for (size_t at = 0; at <= v.size();) {
    const size_t sp = std::min(v.find(' ', at), v.size());
    f.push_back(v.substr(at, sp - at));
    at = sp + 1;
  }
  if (f.size() < 4 || !is_token(f[0])) return false;
  const size_t slash = f[1].find('/');
  for (std::string_view part : {f[1].substr(0, slash), slash == std::string_view::npos ? "0" : f[1].substr(slash + 1)}) {
    if (part.empty() || part.size() > 5 || part.find_first_not_of("0123456789") != std::string_view::npos) return false;
  }
  for (size_t at = 0; at <= f[2].size();) {
    const size_t sl = std::min(f[2].find('/', at), f[2].size());
    if (!is_token(f[2].substr(at, sl - at))) return false;
    at = sl + 1;
  }
  for (size_t i = 3; i < f.size(); ++i) {
    if (!is_token(f[i])) return false;
  }
  return true;
}

// Checked before sofia sees the body, for clear errors and because the Debian build of the
// parser loops allocating memory on some malformed m= lines (e.g. "m=audio 6000VT /RAPP 0",
// or bytes >= 0x80 in the proto), found by tests/fuzz/media. Structural lines must be
// printable ASCII; text fields (s=, i=, a=) may carry UTF-8 (RFC 4566 §5).
std::optional<SdpError> check_lines(std::string_view sdp) {
  size_t line_no = 0;
  for (size_t at = 0; at < sdp.size();) {
    ++line_no;
    size_t end = sdp.find('\n', at);
    if (end == std::string_view::npos) end = sdp.size();
    std::string_view line = sdp.substr(at, end - at);
    at = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::string where_ = "sdp: line " + std::to_string(line_no) + ": ";
    if (line.empty()) continue;
    if (line.size() < 2 || line[1] != '=') return SdpError{where_ + "not of the form <type>=<value>"};
    const bool text = line[0] == 's' || line[0] == 'i' || line[0] == 'a';
    for (char ch : line) {
      const auto c = static_cast<unsigned char>(ch);
      if ((c < 0x20 && c != '\t') || c == 0x7f || (c >= 0x80 && !text)) {
        return SdpError{where_ + "invalid byte 0x" + std::string{"0123456789abcdef"[c >> 4], "0123456789abcdef"[c & 15]}};
      }
    }
    if (line[0] == 'm' && !valid_media_line(line.substr(2))) return SdpError{where_ + "malformed m= line"};
  }
  return std::nullopt;
}

std::variant<Parser, SdpError> parse(std::string_view sdp) {
  if (sdp.empty()) return SdpError{"sdp: empty body"};
  if (sdp.size() > kMaxSdp) return SdpError{"sdp: body larger than " + std::to_string(kMaxSdp) + " bytes"};
  if (auto e = check_lines(sdp)) return *e;
  Parser p(sdp_parse(nullptr, sdp.data(), static_cast<issize_t>(sdp.size()), kFlags));
  if (!p) return SdpError{"sdp: out of memory"};
  if (!sdp_session(p.get())) {
    const char* e = sdp_parsing_error(p.get());
    return SdpError{std::string("sdp: ") + (e ? e : "unparsable")};
  }
  return p;
}

bool is_hold_address(const std::string& ip) { return ip == "0.0.0.0" || ip == "::"; }

// RFC 4566 §6 direction attributes; `fallback` comes from the session level.
std::optional<Direction> direction_of(const sdp_attribute_t* a) {
  for (; a; a = a->a_next) {
    if (!a->a_name) continue;
    if (std::strcmp(a->a_name, "sendrecv") == 0) return Direction::sendrecv;
    if (std::strcmp(a->a_name, "sendonly") == 0) return Direction::sendonly;
    if (std::strcmp(a->a_name, "recvonly") == 0) return Direction::recvonly;
    if (std::strcmp(a->a_name, "inactive") == 0) return Direction::inactive;
  }
  return std::nullopt;
}

// RFC 3605: "a=rtcp:<port> [IN IP4|IP6 <address>]".
std::optional<SdpError> parse_rtcp(const char* value, const std::string& default_ip, const std::string& ctx,
                                   Endpoint& out) {
  const std::string_view v = value ? value : "";
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), port);
  if (ec != std::errc{} || port == 0 || port > 65535) return SdpError{ctx + "a=rtcp port '" + std::string(v) + "' invalid"};
  std::string ip = default_ip;
  std::string_view rest(end, static_cast<size_t>(v.data() + v.size() - end));
  if (!rest.empty()) {
    // " IN IP4 1.2.3.4": the address is the last token.
    const size_t last_space = rest.find_last_of(' ');
    if (last_space == std::string_view::npos || rest.substr(0, 4) != " IN ") {
      return SdpError{ctx + "a=rtcp '" + std::string(v) + "' invalid"};
    }
    ip = std::string(rest.substr(last_space + 1));
  }
  if (is_hold_address(ip)) return std::nullopt;
  if (!Endpoint::parse(ip, static_cast<uint16_t>(port), out)) {
    return SdpError{ctx + "a=rtcp address '" + ip + "' is not an IP address"};
  }
  return std::nullopt;
}

bool has_attribute(const sdp_attribute_t* a, const char* name) {
  for (; a; a = a->a_next) {
    if (a->a_name && std::strcmp(a->a_name, name) == 0) return true;
  }
  return false;
}

// Lines that would tell one side where or what the other one is: ICE (RFC 8839), the old ICE
// draft's a=alt, our own a=rtcp (rewritten separately), a=ssrc and a=ssrc-group (RFC 5576:
// phones put their SIP URI with its private address in the cname, as baresip does), and a=tool
// (the phone's software and version).
bool reveals_address(const char* name) {
  if (!name) return false;
  return std::strncmp(name, "ice-", 4) == 0 || std::strcmp(name, "candidate") == 0 ||
         std::strcmp(name, "remote-candidates") == 0 || std::strcmp(name, "end-of-candidates") == 0 ||
         std::strcmp(name, "alt") == 0 || std::strcmp(name, "rtcp") == 0 || std::strncmp(name, "ssrc", 4) == 0 ||
         std::strcmp(name, "tool") == 0;
}

void strip_revealing(sdp_attribute_t** list) {
  while (*list) {
    if (reveals_address((*list)->a_name)) {
      *list = (*list)->a_next;  // the parser's home owns the node
    } else {
      list = &(*list)->a_next;
    }
  }
}

sdp_addrtype_e addrtype_of(const std::string& ip) {
  return ip.find(':') != std::string::npos ? sdp_addr_ip6 : sdp_addr_ip4;
}

}  // namespace

std::variant<std::vector<SdpStream>, SdpError> inspect_sdp(std::string_view sdp) {
  auto parsed = parse(sdp);
  if (auto* e = std::get_if<SdpError>(&parsed)) return *e;
  const sdp_session_t* s = sdp_session(std::get<Parser>(parsed).get());
  const Direction session_direction = direction_of(s->sdp_attributes).value_or(Direction::sendrecv);

  std::vector<SdpStream> streams;
  int index = 0;
  for (const sdp_media_t* m = s->sdp_media; m; m = m->m_next) {
    ++index;
    const std::string ctx = where(index, m);
    SdpStream st;
    st.media = m->m_type_name ? m->m_type_name : "";
    st.proto = m->m_proto_name ? m->m_proto_name : "";
    st.disabled = m->m_port == 0 || m->m_rejected;
    if (m->m_port > 65535) return SdpError{ctx + "port " + std::to_string(m->m_port) + " out of range"};
    st.remote.direction = direction_of(m->m_attributes).value_or(session_direction);
    st.remote.rtcp_mux = has_attribute(m->m_attributes, "rtcp-mux");
    if (m->m_rtpmaps && m->m_rtpmaps->rm_rate > 0 && m->m_rtpmaps->rm_rate <= 1'000'000) {
      st.remote.clock_rate = static_cast<uint32_t>(m->m_rtpmaps->rm_rate);
    }
    if (st.disabled) {
      streams.push_back(std::move(st));
      continue;
    }
    const sdp_connection_t* c = m->m_connections ? m->m_connections : s->sdp_connection;
    if (!c || !c->c_address) return SdpError{ctx + "no c= line at media or session level"};
    const std::string ip = c->c_address;
    if (is_hold_address(ip)) {
      st.remote.direction = Direction::inactive;  // RFC 3264 §8.4: the pre-RFC 3264 hold
    } else if (!Endpoint::parse(ip, static_cast<uint16_t>(m->m_port), st.remote.rtp)) {
      return SdpError{ctx + "c= address '" + ip + "' is not an IP address"};
    }
    for (const sdp_attribute_t* a = m->m_attributes; a; a = a->a_next) {
      if (a->a_name && std::strcmp(a->a_name, "rtcp") == 0) {
        if (auto e = parse_rtcp(a->a_value, ip, ctx, st.remote.rtcp)) return *e;
        break;
      }
    }
    streams.push_back(std::move(st));
  }
  return streams;
}

bool relay_stream(const SdpStream& stream, size_t relayed) {
  // "UDP/TLS/RTP/SAVP" (DTLS-SRTP) starts with a handshake the relay would drop as malformed.
  return !stream.disabled && relayed < kMaxRelayedStreams && strncasecmp(stream.proto.c_str(), "RTP/", 4) == 0;
}

SdpOrigin::SdpOrigin(std::string username) : username_(std::move(username)) {
  // Kept below 2^62 so every peer's parser takes it as a plain positive number.
  session_id_ = random_u64() & ((uint64_t{1} << 62) - 1);
}

std::variant<std::string, SdpError> rewrite_sdp(std::string_view sdp, const std::vector<std::optional<LegPorts>>& ports,
                                                SdpOrigin& origin) {
  // The same checks as for set_remote(): we never forward what we could not relay.
  if (auto checked = inspect_sdp(sdp); std::holds_alternative<SdpError>(checked)) return std::get<SdpError>(checked);
  auto parsed = parse(sdp);
  if (auto* e = std::get_if<SdpError>(&parsed)) return *e;
  sdp_session_t* s = sdp_session(std::get<Parser>(parsed).get());

  // Every string and struct we link in must outlive sdp_print(): they live here, sized up
  // front so the pointers into them stay put.
  size_t media_count = 0;
  for (const sdp_media_t* m = s->sdp_media; m; m = m->m_next) ++media_count;
  std::vector<std::string> rtcp_values;
  std::vector<sdp_attribute_t> rtcp_attrs;
  std::vector<sdp_connection_t> media_conns;
  rtcp_values.reserve(media_count);
  rtcp_attrs.reserve(media_count);
  media_conns.reserve(media_count);

  // The session-level address is the first relayed stream's (all of a leg's sockets normally
  // share one address); a stream elsewhere gets a media-level c=.
  std::string session_ip;
  for (const auto& p : ports) {
    if (p) {
      session_ip = p->ip;
      break;
    }
  }
  if (session_ip.empty()) session_ip = "0.0.0.0";  // nothing relayed: every stream is disabled
  sdp_connection_t session_conn{};
  session_conn.c_size = sizeof session_conn;
  session_conn.c_nettype = sdp_net_in;
  session_conn.c_addrtype = addrtype_of(session_ip);
  session_conn.c_address = session_ip.c_str();
  s->sdp_connection = &session_conn;

  sdp_connection_t origin_conn = session_conn;
  sdp_origin_t own{};
  own.o_size = sizeof own;
  own.o_username = origin.username_.c_str();
  own.o_id = origin.session_id_;
  own.o_version = origin.version_;
  own.o_address = &origin_conn;
  s->sdp_origin = &own;

  s->sdp_emails = nullptr;
  s->sdp_phones = nullptr;
  s->sdp_uri = nullptr;
  strip_revealing(&s->sdp_attributes);

  size_t index = 0;
  for (sdp_media_t* m = s->sdp_media; m; m = m->m_next, ++index) {
    const bool had_rtcp = has_attribute(m->m_attributes, "rtcp");
    strip_revealing(&m->m_attributes);
    const LegPorts* relay = index < ports.size() && ports[index] ? &*ports[index] : nullptr;
    if (m->m_port == 0 || m->m_rejected || !relay) {
      m->m_port = 0;  // RFC 3264 §6: a stream we do not relay is declined, never leaked
      m->m_connections = nullptr;
      continue;
    }
    m->m_port = relay->rtp_port;
    // The relay gives each stream one port pair: a sender's "port/count" (RFC 4566 5.14,
    // layered coding) must not promise the other side ports we never bound.
    m->m_number_of_ports = 0;
    m->m_connections = nullptr;
    if (relay->ip != session_ip) {
      media_conns.push_back(session_conn);
      media_conns.back().c_addrtype = addrtype_of(relay->ip);
      media_conns.back().c_address = relay->ip.c_str();
      m->m_connections = &media_conns.back();
    }
    if (had_rtcp) {
      rtcp_values.push_back(std::to_string(relay->rtcp_port));
      rtcp_attrs.push_back(sdp_attribute_t{sizeof(sdp_attribute_t), nullptr, "rtcp", rtcp_values.back().c_str()});
      sdp_attribute_append(&m->m_attributes, &rtcp_attrs.back());
    }
  }

  auto print = [&]() -> std::variant<std::string, SdpError> {
    own.o_version = origin.version_;
    Printer pr(sdp_print(nullptr, s, nullptr, 0, kFlags));
    if (!pr) return SdpError{"sdp: out of memory"};
    if (const char* e = sdp_printing_error(pr.get())) return SdpError{std::string("sdp: cannot print: ") + e};
    return std::string(sdp_message(pr.get()), static_cast<size_t>(sdp_message_size(pr.get())));
  };
  auto out = print();
  if (auto* body = std::get_if<std::string>(&out)) {
    if (!origin.last_sent_.empty() && *body != origin.last_sent_) {
      ++origin.version_;
      out = print();
    }
    if (auto* final_body = std::get_if<std::string>(&out)) origin.last_sent_ = *final_body;
  }
  return out;
}

std::variant<std::string, SdpError> narrow_to_offer(std::string_view sdp, std::string_view offer) {
  auto parsed = parse(sdp);
  if (auto* e = std::get_if<SdpError>(&parsed)) return *e;
  auto parsed_offer = parse(offer);
  if (auto* e = std::get_if<SdpError>(&parsed_offer)) return *e;
  sdp_session_t* s = sdp_session(std::get<Parser>(parsed).get());
  const sdp_session_t* o = sdp_session(std::get<Parser>(parsed_offer).get());
  const sdp_media_t* om = o->sdp_media;
  for (sdp_media_t* m = s->sdp_media; m; m = m->m_next, om = om ? om->m_next : nullptr) {
    if (!om || om->m_port == 0 || om->m_type != m->m_type || !sdp_media_has_rtp(m)) {
      if (!om || om->m_port == 0 || om->m_type != m->m_type) m->m_port = 0;
      continue;
    }
    // Relinks the parser's own rtpmap structs: the kept ones stay in order (with their fmtp),
    // the dropped ones are no longer printed, neither in m= nor as a=rtpmap.
    sdp_rtpmap_t** tail = &m->m_rtpmaps;
    for (sdp_rtpmap_t* rm = m->m_rtpmaps; rm;) {
      sdp_rtpmap_t* next = rm->rm_next;
      if (sdp_rtpmap_find_matching(om->m_rtpmaps, rm)) {
        *tail = rm;
        tail = &rm->rm_next;
      }
      rm = next;
    }
    *tail = nullptr;
    if (!m->m_rtpmaps) m->m_port = 0;  // nothing in common: this stream is declined
  }
  Printer pr(sdp_print(nullptr, s, nullptr, 0, kFlags));
  if (!pr) return SdpError{"sdp: out of memory"};
  if (const char* e = sdp_printing_error(pr.get())) return SdpError{std::string("sdp: cannot print: ") + e};
  return std::string(sdp_message(pr.get()), static_cast<size_t>(sdp_message_size(pr.get())));
}

std::variant<std::string, SdpError> declining_answer(std::string_view offer, SdpOrigin& origin) {
  auto inspected = inspect_sdp(offer);
  if (auto* e = std::get_if<SdpError>(&inspected)) return *e;
  std::vector<std::optional<LegPorts>> none(std::get<std::vector<SdpStream>>(inspected).size());
  return rewrite_sdp(offer, none, origin);
}

std::variant<VoiceAnswer, SdpError> voice_answer(std::string_view offer, const LegPorts& ports, SdpOrigin& origin) {
  auto inspected = inspect_sdp(offer);
  if (auto* e = std::get_if<SdpError>(&inspected)) return *e;
  auto streams = std::get<std::vector<SdpStream>>(std::move(inspected));
  auto parsed = parse(offer);
  if (auto* e = std::get_if<SdpError>(&parsed)) return *e;
  const sdp_session_t* s = sdp_session(std::get<Parser>(parsed).get());

  VoiceAnswer answer;
  std::optional<size_t> chosen;
  // The answer is written as an SDP of our own, m-line for m-line, and then goes through
  // rewrite_sdp() like any other: one place writes o=, c= and the ports.
  std::string body = "v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n";
  size_t index = 0;
  for (const sdp_media_t* m = s->sdp_media; m; m = m->m_next, ++index) {
    const SdpStream& st = streams[index];
    int g711 = -1;
    int dtmf = -1;
    if (!chosen && !st.disabled && st.media == "audio" && st.proto == "RTP/AVP") {
      for (const sdp_rtpmap_t* r = m->m_rtpmaps; r; r = r->rm_next) {
        const char* enc = r->rm_encoding ? r->rm_encoding : "";
        if (g711 < 0 && r->rm_rate == 8000 && ((r->rm_pt == 0 && strcasecmp(enc, "PCMU") == 0) ||
                                                (r->rm_pt == 8 && strcasecmp(enc, "PCMA") == 0))) {
          g711 = static_cast<int>(r->rm_pt);
        }
        if (dtmf < 0 && r->rm_rate == 8000 && strcasecmp(enc, "telephone-event") == 0) dtmf = static_cast<int>(r->rm_pt);
      }
    }
    if (g711 >= 0) {
      chosen = index;
      answer.format.payload_type = static_cast<uint8_t>(g711);
      answer.format.dtmf_payload_type = dtmf;
      answer.remote = st.remote;
      answer.stream = index;
      body += "m=audio 9 RTP/AVP " + std::to_string(g711) + (dtmf >= 0 ? " " + std::to_string(dtmf) : "") + "\r\n";
      body += g711 == 0 ? "a=rtpmap:0 PCMU/8000\r\n" : "a=rtpmap:8 PCMA/8000\r\n";
      if (dtmf >= 0) {
        body += "a=rtpmap:" + std::to_string(dtmf) + " telephone-event/8000\r\na=fmtp:" + std::to_string(dtmf) +
                " 0-15\r\n";
      }
      body += "a=ptime:20\r\na=sendrecv\r\n";
    } else {
      // Declined (RFC 3264 6): same media and proto, port 0, any one of its formats.
      const char* fmt = m->m_format && m->m_format->l_text ? m->m_format->l_text : "0";
      body += "m=" + st.media + " 0 " + (st.proto.empty() ? "RTP/AVP" : st.proto) + " " + fmt + "\r\n";
    }
  }
  if (!chosen) return SdpError{"sdp: no audio m-line offers PCMU or PCMA"};
  std::vector<std::optional<LegPorts>> at(streams.size());
  at[*chosen] = ports;
  auto written = rewrite_sdp(body, at, origin);
  if (auto* e = std::get_if<SdpError>(&written)) return *e;
  answer.sdp = std::get<std::string>(std::move(written));
  return answer;
}

}  // namespace b2bua::media
