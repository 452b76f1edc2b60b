# 64-bit ARM (Debian arm64; the aarch64 routers and boards). See debian-sysroot.cmake.
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(B2BUA_CROSS_TRIPLET aarch64-linux-gnu)
set(B2BUA_CROSS_QEMU qemu-aarch64-static)
include(${CMAKE_CURRENT_LIST_DIR}/debian-sysroot.cmake)
