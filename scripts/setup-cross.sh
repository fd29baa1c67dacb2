#!/bin/sh
# setup-cross.sh -- what `make CROSS=aarch64-linux-gnu-` and `make test-arm64` need:
# Debian's cross compiler, qemu-user-static, and the arm64 builds of our
# libraries installed beside the native ones through multiarch
# (dpkg --add-architecture arm64; libraries land in /usr/lib/aarch64-linux-gnu,
# headers are shared in /usr/include).
#
# One exception: libwebsockets-dev:arm64 cannot be co-installed with the
# amd64 one in Debian 12. Both are "Multi-Arch: same", yet their
# /usr/include/lws_config.h differ in one line, LWS_INSTALL_LIBDIR (the
# library's own plugin directory, which our code never uses), so dpkg
# refuses the second. We take the arm64 runtime library (libwebsockets17)
# and the plugin, compile against the amd64 package's headers (identical
# otherwise) and link the versioned file (-l:libwebsockets.so.17, Makefile).
#
# Installing :arm64 libraries makes apt bring the amd64 copies of shared
# packages (libc6, libssl3...) to the same version: multiarch needs them equal.
# Idempotent and quiet when everything is there.
set -eu

arch=arm64
pkgs="g++-aarch64-linux-gnu qemu-user-static
      libwebsockets17:$arch libwebsockets-evlib-ev:$arch libssl-dev:$arch
      libcjson-dev:$arch libjwt-dev:$arch libcmocka-dev:$arch libcurl4-openssl-dev:$arch libhiredis-dev:$arch
      libstdc++6:$arch libubsan1:$arch"

missing=""
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1; then
	SUDO="sudo"
else
	echo "setup-cross: need root or sudo to install:$missing" >&2
	exit 1
fi
echo "setup-cross: installing:$missing" >&2
if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
	$SUDO dpkg --add-architecture "$arch"
fi
export DEBIAN_FRONTEND=noninteractive
# other apt users on the machine: wait for the lock instead of failing
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
# shellcheck disable=SC2086
$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $missing >&2
