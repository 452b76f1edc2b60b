# Cross-compiling b2bua with Debian's cross compilers (crossbuild-essential-<arch>) against a
# sysroot made by sysroot.sh. Included by the per-architecture toolchain files, which set
# CMAKE_SYSTEM_PROCESSOR, B2BUA_CROSS_TRIPLET and B2BUA_CROSS_QEMU first.
#   cmake -DCMAKE_TOOLCHAIN_FILE=packaging/cross/aarch64-linux-gnu.cmake -DB2BUA_CROSS_SYSROOT=<dir>/sysroot ...
# packaging/cross-build.sh does all of it.
set(CMAKE_SYSTEM_NAME Linux)
if(NOT B2BUA_CROSS_SYSROOT OR NOT IS_DIRECTORY "${B2BUA_CROSS_SYSROOT}")
  message(FATAL_ERROR "B2BUA_CROSS_SYSROOT must name the sysroot packaging/cross/sysroot.sh made")
endif()
# CMake reads this file again for every try_compile, in a project of its own: pass the sysroot on.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES B2BUA_CROSS_SYSROOT)

set(CMAKE_C_COMPILER ${B2BUA_CROSS_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${B2BUA_CROSS_TRIPLET}-g++)
# gcc --sysroot: glibc's headers and libraries, and every library the build links, are the
# target's; libstdc++ and libgcc come with the cross compiler (the same gcc 12 as the sysroot's).
set(CMAKE_SYSROOT ${B2BUA_CROSS_SYSROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# The build machine's pkg-config reads the target's .pc files only, and prefixes what they say
# with the sysroot.
set(ENV{PKG_CONFIG_SYSROOT_DIR} ${CMAKE_SYSROOT})
set(ENV{PKG_CONFIG_LIBDIR}
    "${CMAKE_SYSROOT}/usr/lib/${B2BUA_CROSS_TRIPLET}/pkgconfig:${CMAKE_SYSROOT}/usr/lib/pkgconfig:${CMAKE_SYSROOT}/usr/share/pkgconfig")
unset(ENV{PKG_CONFIG_PATH})

# Target binaries run under qemu-user with the sysroot as their root for the loader and the
# libraries: gtest_discover_tests lists the unit tests with it, and add_test() commands run
# through it, so ctest in the cross build folder runs the target's tests on the build machine.
set(CMAKE_CROSSCOMPILING_EMULATOR ${B2BUA_CROSS_QEMU} -L ${CMAKE_SYSROOT})
