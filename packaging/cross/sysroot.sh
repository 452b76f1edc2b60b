#!/usr/bin/env bash
# Builds a Debian 12 sysroot for a foreign architecture: the -dev packages b2bua links and its
# unit tests link (install-deps.sh --print-libs), with their dependencies, unpacked into a folder.
#
#   packaging/cross/sysroot.sh ARCH DIR     ->  DIR/sysroot (ARCH: a Debian architecture, arm64 or armhf)
#
# Why a sysroot and not multiarch (dpkg --add-architecture + apt-get install lib...-dev:arm64):
# libsofia-sip-ua-dev and libevent-dev are not "Multi-Arch: same" in bookworm, so their arm64
# builds cannot be installed beside the amd64 ones; apt would remove the native -dev packages the
# native build and the tests need. Here apt runs on a private state (its own package lists,
# cache and an empty dpkg status, in DIR/apt), only downloads, and dpkg -x unpacks: the
# machine's dpkg database, its architectures and its packages are left as they are. It still
# reads the machine's sources and apt.conf.d (mirror, proxy). Re-running with the same package
# list reuses the sysroot.
set -euo pipefail
arch=${1:?usage: sysroot.sh ARCH DIR}
dir=$(mkdir -p "${2:?usage: sysroot.sh ARCH DIR}" && cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)

# The C library and the C++ headers' libraries come from the sysroot too, so the cross compiler
# and the programs it builds see one glibc; libstdc++6 is what the binaries run against.
mapfile -t pkgs < <(bash "$here/../install-deps.sh" --print-libs)
pkgs+=(libc6-dev libstdc++6)

sysroot=$dir/sysroot
stamp=$dir/sysroot.stamp
want="$arch ${pkgs[*]}"
if [[ -f $stamp && "$(cat "$stamp")" == "$want" ]]; then
  echo "sysroot: $sysroot up to date ($arch)"
  exit 0
fi

apt_dir=$dir/apt
mkdir -p "$apt_dir/state/lists/partial" "$apt_dir/cache/archives/partial"
: >"$apt_dir/state/status"
cat >"$apt_dir/apt.conf" <<CONF
APT::Architecture "$arch";
APT::Architectures { "$arch"; };
Dir::State "$apt_dir/state";
Dir::State::status "$apt_dir/state/status";
Dir::Cache "$apt_dir/cache";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
// The private folders belong to root; apt's download user (_apt) may not reach them.
APT::Sandbox::User "root";
CONF
export APT_CONFIG=$apt_dir/apt.conf DEBIAN_FRONTEND=noninteractive
echo "sysroot: downloading ${pkgs[*]} for $arch"
apt-get clean
apt-get update -qq
apt-get install -y -qq --no-install-recommends --download-only "${pkgs[@]}" >/dev/null

rm -rf "$sysroot"
mkdir -p "$sysroot"
for deb in "$apt_dir"/cache/archives/*.deb; do
  dpkg-deb -x "$deb" "$sysroot"
done
# Absolute symlinks (libfoo.so -> /lib/<triplet>/libfoo.so.1) would point into the build
# machine's own /lib: make them relative, so they resolve inside the sysroot.
while IFS= read -r -d '' link; do
  target=$(readlink "$link")
  ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$sysroot$target")" "$link"
done < <(find "$sysroot" -type l -lname '/*' -print0)
echo "$want" >"$stamp"
echo "sysroot: $sysroot ($(du -sh "$sysroot" | cut -f1), $(ls "$apt_dir"/cache/archives/*.deb | wc -l) packages)"
