# 32-bit ARMv7 with hardware floating point (Debian armhf). See debian-sysroot.cmake.
set(CMAKE_SYSTEM_PROCESSOR armv7l)
set(B2BUA_CROSS_TRIPLET arm-linux-gnueabihf)
set(B2BUA_CROSS_QEMU qemu-arm-static)
include(${CMAKE_CURRENT_LIST_DIR}/debian-sysroot.cmake)
