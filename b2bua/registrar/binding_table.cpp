#include "b2bua/registrar/binding_table.h"

#include <algorithm>

#include "b2bua/config/host_port.h"

namespace b2bua::registrar {
namespace {

// The binding a contact updates: same URI, or same phone instance (RFC 5626 section 6: a phone
// that changed address replaces its old binding instead of leaving a dead one until expiry).
std::vector<Binding>::iterator find_binding(std::vector<Binding>& list, const ContactUpdate& c) {
  auto it = std::find_if(list.begin(), list.end(), [&](const Binding& b) { return b.contact == c.uri; });
  if (it != list.end() || c.instance.empty()) return it;
  return std::find_if(list.begin(), list.end(), [&](const Binding& b) { return b.instance == c.instance; });
}

bool out_of_order(const Binding& b, const RegisterUpdate& u) { return b.call_id == u.call_id && b.cseq >= u.cseq; }

}  // namespace

bool starts_binding(const BindingChange& change) {
  switch (change.kind) {
    case BindingChange::Kind::added: return true;
    case BindingChange::Kind::refreshed: return change.previous_call_id != change.binding.call_id;
    case BindingChange::Kind::removed:
    case BindingChange::Kind::expired: return false;
  }
  return false;
}

std::string flow_uri(const Binding& b) {
  // `source` is "ip:port" with an IPv6 address unbracketed: the port follows the last colon.
  size_t colon = b.source.rfind(':');
  std::string hostport =
      colon == std::string::npos ? b.source : config::uri_host(b.source.substr(0, colon)) + b.source.substr(colon);
  return "sip:" + hostport + ";transport=" + (b.transport.empty() ? "udp" : b.transport);
}

std::string contact_host_port(const std::string& uri) {
  size_t start = uri.find(':');
  start = start == std::string::npos ? 0 : start + 1;
  size_t at = uri.find('@', start);
  if (at != std::string::npos) start = at + 1;
  size_t end = uri.find_first_of(";?>", start);
  return uri.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

size_t BindingTable::restore(int64_t now) {
  by_aor_.clear();
  count_ = 0;
  for (auto& row : repository_.load_unexpired(now)) {
    by_aor_[row.aor].push_back(std::move(row));
    ++count_;
  }
  return count_;
}

void BindingTable::erase_at(std::vector<Binding>& list, size_t index, BindingChange::Kind kind,
                            std::vector<BindingChange>& changes) {
  repository_.remove(list[index].aor, list[index].contact);
  changes.push_back({kind, std::move(list[index]), {}});
  list.erase(list.begin() + static_cast<std::ptrdiff_t>(index));
  --count_;
}

bool BindingTable::apply(const RegisterUpdate& u, int64_t now, std::vector<BindingChange>& changes) {
  auto& list = by_aor_[u.aor];
  // Check every contact before changing anything: a rejected REGISTER changes nothing.
  bool in_order = !u.wildcard || std::none_of(list.begin(), list.end(), [&](const Binding& b) { return out_of_order(b, u); });
  for (const auto& c : u.contacts) {
    auto it = find_binding(list, c);
    if (it != list.end() && out_of_order(*it, u)) in_order = false;
  }
  if (!in_order) {
    if (list.empty()) by_aor_.erase(u.aor);
    return false;
  }

  if (u.wildcard) {
    while (!list.empty()) erase_at(list, list.size() - 1, BindingChange::Kind::removed, changes);
  }
  for (const auto& c : u.contacts) {
    auto it = find_binding(list, c);
    if (c.expires == 0) {
      if (it != list.end()) erase_at(list, static_cast<size_t>(it - list.begin()), BindingChange::Kind::removed, changes);
      continue;
    }
    if (it != list.end() && it->contact != c.uri) {
      // Same instance, new address: the old binding goes, the new one is added.
      erase_at(list, static_cast<size_t>(it - list.begin()), BindingChange::Kind::removed, changes);
      it = list.end();
    }
    bool fresh = it == list.end();
    if (fresh) {
      if (list.size() >= kMaxPerAor) {
        auto soonest = std::min_element(list.begin(), list.end(),
                                        [](const Binding& a, const Binding& b) { return a.expires_at < b.expires_at; });
        erase_at(list, static_cast<size_t>(soonest - list.begin()), BindingChange::Kind::removed, changes);
      }
      list.emplace_back();
      ++count_;
      it = list.end() - 1;
    }
    Binding& b = *it;
    std::string previous_call_id = fresh ? std::string() : b.call_id;
    b.aor = u.aor;
    b.contact = c.uri;
    b.call_id = u.call_id;
    b.cseq = u.cseq;
    b.expires_at = now + c.expires;
    b.q = c.q;
    b.transport = u.transport;
    b.source = u.source;
    b.user_agent = u.user_agent;
    b.instance = c.instance;
    b.answering_options = true;  // it just reached us over this flow: no reason to doubt it yet
    b.updated_at = now;
    repository_.save(b);
    changes.push_back({fresh ? BindingChange::Kind::added : BindingChange::Kind::refreshed, b, std::move(previous_call_id)});
  }
  if (list.empty()) by_aor_.erase(u.aor);
  return true;
}

std::vector<BindingChange> BindingTable::expire(int64_t now) {
  std::vector<BindingChange> changes;
  for (auto it = by_aor_.begin(); it != by_aor_.end();) {
    auto& list = it->second;
    for (size_t i = list.size(); i-- > 0;) {
      // The repository drops expired rows by itself on load; remove them now all the same so
      // the database matches what phones were told.
      if (list[i].expires_at <= now) erase_at(list, i, BindingChange::Kind::expired, changes);
    }
    it = list.empty() ? by_aor_.erase(it) : std::next(it);
  }
  return changes;
}

std::vector<BindingChange> BindingTable::remove_aor(const std::string& aor) {
  std::vector<BindingChange> changes;
  auto it = by_aor_.find(aor);
  if (it == by_aor_.end()) return changes;
  while (!it->second.empty()) erase_at(it->second, it->second.size() - 1, BindingChange::Kind::removed, changes);
  by_aor_.erase(it);
  return changes;
}

bool BindingTable::set_answering_options(const std::string& aor, const std::string& contact, bool answering) {
  auto it = by_aor_.find(aor);
  if (it == by_aor_.end()) return false;
  for (auto& b : it->second) {
    if (b.contact != contact) continue;
    if (b.answering_options == answering) return false;
    b.answering_options = answering;
    repository_.save(b);
    return true;
  }
  return false;
}

std::vector<Binding> BindingTable::of(const std::string& aor) const {
  auto it = by_aor_.find(aor);
  return it == by_aor_.end() ? std::vector<Binding>{} : it->second;
}

std::vector<std::string> BindingTable::aors() const {
  std::vector<std::string> out;
  for (const auto& [aor, list] : by_aor_) out.push_back(aor);
  return out;
}

void BindingTable::for_each(const std::function<void(const Binding&)>& fn) const {
  for (const auto& [aor, list] : by_aor_) {
    for (const auto& b : list) fn(b);
  }
}

}  // namespace b2bua::registrar
