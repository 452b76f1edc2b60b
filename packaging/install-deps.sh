#!/usr/bin/env bash
# Installs everything b2bua needs to build, run and test on Debian 12 (bookworm).
# Idempotent: packages already present are left alone. Needs root (or sudo).
#
#   packaging/install-deps.sh          build + run dependencies
#   packaging/install-deps.sh --test   also the test peers (sipp, baresip, kamailio, tshark, ...)
#                                      and the arm64 cross toolchain with qemu (the cross tests)
#   packaging/install-deps.sh --cross [ARCH]  build + the cross toolchain of ARCH (arm64, armhf;
#                                      both when none is named) and qemu (cross-build.sh)
#   packaging/install-deps.sh --print-libs   prints the libraries' -dev packages, one a line
#                                      (packaging/cross/sysroot.sh installs them for the target)
set -euo pipefail

tool_pkgs=(build-essential cmake pkg-config)
# The libraries the daemon links (for the target architecture too, in a cross build).
lib_pkgs=(
  libsofia-sip-ua-dev libevent-dev libsqlite3-dev nlohmann-json3-dev libc-ares-dev
  # answering machine: resampling WAV files to 8 kHz, G.711 (A-law/mu-law) decoding
  libsoxr-dev
  libspandsp-dev
  # answering machine: messages by mail (libcurl's SMTP client)
  libcurl4-openssl-dev
)
# ... and the unit tests.
test_lib_pkgs=(libgtest-dev libgmock-dev)
# arm64 and armhf: Debian's cross compilers, and qemu-user to run what they build (the
# packaging/cross/*.cmake toolchains run it as qemu-<cpu>-static, with no binfmt registration).
# The test command cross-builds arm64 only.
cross_pkgs() {
  local arch
  for arch in "${@:-arm64 armhf}"; do
    for a in $arch; do echo "crossbuild-essential-$a"; done
  done
  echo qemu-user-static
}
test_pkgs=(
  "${test_lib_pkgs[@]}" sqlite3
  sip-tester baresip-core linphone-cli kamailio kamailio-tls-modules dnsmasq-base openssl tshark iproute2 nftables
  iptables conntrack
  sofia-sip-bin procps psmisc curl python3 rtpengine-daemon clang libclang-rt-14-dev
  # the status page in a real browser; the .deb check (lintian, dpkg-shlibdeps, systemd-analyze)
  chromium lintian systemd dpkg-dev fakeroot
  # the SIP scanner attacks start with (svmap, svwar, svcrack)
  sipvicious
  # the STUN server (RFC 5780 with two addresses) that measures the NAT's mapping lifetime
  coturn
)

want=("${tool_pkgs[@]}" "${lib_pkgs[@]}")
case "${1:-}" in
  --test) mapfile -t -O "${#want[@]}" want < <(printf '%s\n' "${test_pkgs[@]}"; cross_pkgs arm64) ;;
  --cross) mapfile -t -O "${#want[@]}" want < <(cross_pkgs "${@:2}") ;;
  --print-libs) printf '%s\n' "${lib_pkgs[@]}" "${test_lib_pkgs[@]}"; exit 0 ;;
esac

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#want[@]} packages present"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; the answer does not matter to us.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
