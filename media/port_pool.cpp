#include "media/port_pool.h"

#include <algorithm>

namespace b2bua::media {

PortPool::PortPool(uint16_t port_min, uint16_t port_max, TimeNs quarantine) {
  reconfigure(port_min, port_max, quarantine);
}

bool PortPool::in_range(uint16_t rtp_port) const {
  return rtp_port % 2 == 0 && rtp_port >= min_ && uint32_t{rtp_port} + 1 <= max_;
}

std::optional<uint16_t> PortPool::allocate(TimeNs now) {
  std::lock_guard lock(mutex_);
  // Oldest release first: once the front is still in quarantine, so is everything behind it.
  while (!quarantined_.empty() && quarantined_.front().available_at <= now) {
    free_.push_back(quarantined_.front().rtp_port);
    quarantined_.pop_front();
  }
  if (free_.empty()) {
    if (quarantined_.empty()) return std::nullopt;
    // Every pair is in use or resting. The rest only guards against late packets of a call
    // that ended seconds ago; refusing a call for it would be worse. The pair that has rested
    // longest goes (a busy relay on a narrow range still carries range/4 calls at once).
    free_.push_back(quarantined_.front().rtp_port);
    quarantined_.pop_front();
  }
  // Any free pair, uniformly: swapped to the back and popped, so no order survives.
  const size_t pick = std::uniform_int_distribution<size_t>(0, free_.size() - 1)(random_);
  std::swap(free_[pick], free_.back());
  const uint16_t port = free_.back();
  free_.pop_back();
  in_use_.insert(port);
  return port;
}

void PortPool::release(uint16_t rtp_port, TimeNs now) {
  std::lock_guard lock(mutex_);
  if (in_use_.erase(rtp_port) == 0) return;
  if (in_range(rtp_port)) quarantined_.push_back({rtp_port, now + quarantine_});
}

void PortPool::reconfigure(uint16_t port_min, uint16_t port_max, TimeNs quarantine) {
  std::lock_guard lock(mutex_);
  quarantine_ = quarantine;
  if (port_min == min_ && port_max == max_) return;
  min_ = port_min;
  max_ = port_max;
  // Pairs still in quarantine keep it; every other pair of the new range not in use is free.
  std::erase_if(quarantined_, [this](const Quarantined& q) { return !in_range(q.rtp_port); });
  std::set<uint16_t> waiting;
  for (const auto& q : quarantined_) waiting.insert(q.rtp_port);
  free_.clear();
  const uint32_t first = min_ + (min_ % 2);
  for (uint32_t p = first; p + 1 <= max_; p += 2) {
    const auto port = static_cast<uint16_t>(p);
    if (in_use_.count(port) == 0 && waiting.count(port) == 0) free_.push_back(port);
  }
}

size_t PortPool::capacity() const {
  std::lock_guard lock(mutex_);
  const uint32_t first = min_ + (min_ % 2);
  return max_ > first ? (max_ - first + 1) / 2 : 0;
}

std::vector<uint16_t> PortPool::free_sample(size_t n) const {
  std::lock_guard lock(mutex_);
  std::vector<uint16_t> out;
  if (free_.empty() || n == 0) return out;
  const size_t step = std::max<size_t>(free_.size() / n, 1);
  for (size_t i = 0; i < free_.size() && out.size() < n; i += step) out.push_back(free_[i]);
  return out;
}

size_t PortPool::in_use() const {
  std::lock_guard lock(mutex_);
  return in_use_.size();
}

uint16_t PortPool::port_min() const {
  std::lock_guard lock(mutex_);
  return min_;
}

uint16_t PortPool::port_max() const {
  std::lock_guard lock(mutex_);
  return max_;
}

}  // namespace b2bua::media
