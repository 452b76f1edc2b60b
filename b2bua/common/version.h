#pragma once

namespace b2bua {
inline constexpr const char* kVersion = B2BUA_VERSION;
}
