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
  // FIFO with one quarantine length: the front was released first, so if it is still in
  // quarantine every other free pair is too.
  if (free_.empty() || free_.front().available_at > now) return std::nullopt;
  const uint16_t port = free_.front().rtp_port;
  free_.pop_front();
  in_use_.insert(port);
  return port;
}

void PortPool::release(uint16_t rtp_port, TimeNs now) {
  std::lock_guard lock(mutex_);
  if (in_use_.erase(rtp_port) == 0) return;
  if (in_range(rtp_port)) free_.push_back({rtp_port, now + quarantine_});
}

void PortPool::reconfigure(uint16_t port_min, uint16_t port_max, TimeNs quarantine) {
  std::lock_guard lock(mutex_);
  if (port_min == min_ && port_max == max_) {
    quarantine_ = quarantine;
    return;
  }
  // Pairs still in quarantine keep it; new pairs are free at once.
  std::deque<FreePair> old;
  old.swap(free_);
  min_ = port_min;
  max_ = port_max;
  quarantine_ = quarantine;
  for (const auto& f : old) {
    if (in_range(f.rtp_port)) free_.push_back(f);
  }
  std::set<uint16_t> queued;
  for (const auto& f : free_) queued.insert(f.rtp_port);
  const uint32_t first = min_ + (min_ % 2);
  for (uint32_t p = first; p + 1 <= max_; p += 2) {
    const auto port = static_cast<uint16_t>(p);
    if (in_use_.count(port) == 0 && queued.count(port) == 0) free_.push_front({port, 0});
  }
  std::stable_sort(free_.begin(), free_.end(),
                   [](const FreePair& a, const FreePair& b) { return a.available_at < b.available_at; });
}

size_t PortPool::capacity() const {
  std::lock_guard lock(mutex_);
  const uint32_t first = min_ + (min_ % 2);
  return max_ > first ? (max_ - first + 1) / 2 : 0;
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
