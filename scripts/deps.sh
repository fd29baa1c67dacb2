#!/bin/sh
# deps.sh -- install the Debian packages caller-echo needs, only when missing.
#
# Called by `make`, `make run` and `make test` before anything is built, so a
# fresh Debian 12 machine needs no manual set-up. Idempotent and silent when
# everything is already there. Uses apt-get as root, sudo otherwise.
#   scripts/deps.sh          build + run dependencies
#   scripts/deps.sh test     also what the test suite uses (incl. fuzz replay, valgrind)
#   scripts/deps.sh fuzz     what `make fuzz` uses (clang's libFuzzer)
#   scripts/deps.sh bench    what `make bench` uses
#   scripts/deps.sh testssl  what `make testssl` uses
set -eu

# libwebsockets-evlib-ev: lws's libev (epoll) plugin, the default event loop (README)
pkgs="build-essential pkg-config libwebsockets-dev libwebsockets-evlib-ev libssl-dev libcjson-dev libjwt-dev openssl"
# libFuzzer: clang 14 and its runtime (the fuzzer, ASan and UBSan libraries)
fuzz="clang libclang-rt-14-dev"
if [ "${1:-}" = "test" ] || [ "${1:-}" = "bench" ]; then
	pkgs="$pkgs libcmocka-dev python3 python3-websockets curl libwebsockets-evlib-uv"
	# deploy tests: nginx in front, promtool (prometheus), systemd-analyze (systemd)
	pkgs="$pkgs nginx prometheus systemd"
	# /stats runs in headless Chromium via chromedriver (test_stats_page.py)
	pkgs="$pkgs chromium chromium-driver"
	# attack tests: slowloris and slow read (tests/integration/test_attack_slow.py)
	pkgs="$pkgs slowhttptest"
	# make test replays the fuzz corpus and runs one integration pass under valgrind
	pkgs="$pkgs $fuzz valgrind"
fi
if [ "${1:-}" = "fuzz" ]; then
	pkgs="$pkgs $fuzz"
fi
if [ "${1:-}" = "testssl" ]; then
	pkgs="$pkgs testssl.sh curl python3"
fi
if [ "${1:-}" = "bench" ]; then
	pkgs="$pkgs util-linux procps linux-perf valgrind"
fi

missing=""
for p in $pkgs; do
	# dpkg-query prints "install ok installed" only for fully installed packages
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "deps: installing missing Debian packages:$missing" >&2
if [ "$(id -u)" -eq 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1; then
	SUDO="sudo"
else
	echo "deps: need root or sudo to install:$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >&2
