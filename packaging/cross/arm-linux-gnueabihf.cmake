# 32-bit ARMv7 with hardware floating point (Debian armhf). See debian-sysroot.cmake.
set(CMAKE_SYSTEM_PROCESSOR armv7l)
set(B2BUA_CROSS_TRIPLET arm-linux-gnueabihf)
set(B2BUA_CROSS_QEMU qemu-arm-static)
include(${CMAKE_CURRENT_LIST_DIR}/debian-sysroot.cmake)
# gcc notes on ARM that passing some std:: iterators changed ABI in GCC 7.1: it matters only
# when mixing with code built by gcc 6 or older, which nothing here does.
set(CMAKE_CXX_FLAGS_INIT "-Wno-psabi")
