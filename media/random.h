// Unpredictable numbers for the identifiers a call puts on the wire: SDP session ids (RFC 4566
// 5.2), SSRCs, first sequence numbers and timestamps (RFC 3550 5.1).
//
// Drawn from the kernel's CSPRNG with getrandom(2): one system call, no file descriptor and no
// state. std::random_device costs more per object (it probes the CPU and the entropy sources each
// time one is made), and a call used to make three of them.
//
// Thread safety: callable from any thread.
#pragma once

#include <cstdint>

namespace b2bua::media {

uint64_t random_u64();
inline uint32_t random_u32() { return static_cast<uint32_t>(random_u64()); }

}  // namespace b2bua::media
