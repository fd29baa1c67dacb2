#!/bin/sh
# deps.sh -- install the Debian packages caller-echo needs, only when missing.
#
# Called by `make deps`, `make run` and `make test` before anything is built
# (plain `make` only builds), so a fresh Debian 12 machine needs no manual
# set-up. Idempotent and silent when everything is already there. Uses
# apt-get as root, sudo otherwise.
#   scripts/deps.sh          build + run dependencies
#   scripts/deps.sh test     also what the test suite uses (incl. fuzz replay, valgrind)
#   scripts/deps.sh fuzz     what `make fuzz` uses (clang's libFuzzer)
#   scripts/deps.sh bench    what `make bench` uses
#   scripts/deps.sh testssl  what `make testssl` uses
set -eu

# libwebsockets-evlib-ev: lws's libev (epoll) plugin, the default event loop (README);
# libcurl4-openssl-dev: caller-sim's answer webhook request (make demo, make test);
# libhiredis-dev: --replay-redis (README "Dependencies")
pkgs="build-essential pkg-config libwebsockets-dev libwebsockets-evlib-ev libssl-dev libcjson-dev libjwt-dev openssl
      libcurl4-openssl-dev libhiredis-dev"
# libFuzzer: clang 14 and its runtime (the fuzzer, ASan and UBSan libraries)
fuzz="clang libclang-rt-14-dev"
if [ "${1:-}" = "test" ] || [ "${1:-}" = "bench" ]; then
	pkgs="$pkgs libcmocka-dev python3 python3-websockets curl libwebsockets-evlib-uv"
	# deploy tests: nginx in front, promtool (prometheus), systemd-analyze (systemd)
	pkgs="$pkgs nginx prometheus systemd"
	# /stats runs in headless Chromium, driven by selenium (test_stats_page.py)
	pkgs="$pkgs chromium chromium-driver python3-selenium"
	# attack tests: slowloris and slow read (tests/integration/test_attack_slow.py)
	pkgs="$pkgs slowhttptest"
	# make test replays the fuzz corpus and runs one integration pass under valgrind
	pkgs="$pkgs $fuzz valgrind"
	# fail2ban-regex checks scripts/fail2ban against the server's own log lines
	pkgs="$pkgs fail2ban"
	# replay protection across machines: a real Redis on loopback (test_replay.py)
	pkgs="$pkgs redis-server"
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

# Node.js and npm for the npm WebSocket clients of the integration tests
# (tests/integration/node). A machine may already have them from elsewhere
# (nodesource): then the commands are enough.
if [ "${1:-}" = "test" ] && ! { command -v node && command -v npm; } >/dev/null 2>&1; then
	pkgs="$pkgs nodejs npm"
fi

missing=""
for p in $pkgs; do
	# dpkg-query prints "install ok installed" only for fully installed packages
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
npm_clients() {
	# exactly the versions in package-lock.json; no install scripts (the
	# optional native speed-ups are not needed by the tests)
	[ "${1:-}" = "test" ] || return 0
	d="$(dirname "$0")/../tests/integration/node"
	# node_modules/.lock-installed: the package-lock.json it was installed from
	cmp -s "$d/package-lock.json" "$d/node_modules/.lock-installed" 2>/dev/null && return 0
	echo "deps: npm ci in tests/integration/node" >&2
	(cd "$d" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2 &&
	 cp package-lock.json node_modules/.lock-installed)
}

if [ -z "$missing" ]; then
	npm_clients "${1:-}"
	exit 0
fi

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
npm_clients "${1:-}"
