#!/bin/bash
# demo.sh -- what `make demo` does: the whole call path, without a Vonage
# account, a phone number or a tunnel.
#
# 1. starts build/caller-echo on a free loopback port with the development
#    secret (.dev-secret, made once exactly as scripts/run-dev.sh makes it);
# 2. places one simulated 10-second call with build/caller-sim the way Vonage
#    would: answer webhook -> NCCO -> WebSocket with a signed JWT -> 20 ms
#    audio frames (and three DTMF digits), every echo checked bit for bit;
# 3. prints the simulator's result, the server's log of the call, its
#    /stats.json totals and the stats page URL;
# 4. stops the server with SIGTERM.
# Exit status: caller-sim's (0 = every frame came back; see caller-sim --help).
#   DEMO_SECONDS=3 make demo    a shorter call
#   DEMO_KEEP=1 make demo       keep the server up afterwards (Ctrl-C stops it)
# The server's configuration variables (PUBLIC_URL, TLS_CERT, ...) are
# ignored here so the demo behaves the same on every machine.
set -eu
cd "$(dirname "$0")/.."

SECONDS_PER_CALL=${DEMO_SECONDS:-10}

for bin in build/caller-echo build/caller-sim; do
	[ -x "$bin" ] || { echo "demo: $bin is missing; run: make demo" >&2; exit 2; }
done
# every variable the server reads, as its --help lists them (one option table)
# shellcheck disable=SC2046
unset VONAGE_SIGNATURE_SECRET $(build/caller-echo --help | sed -n 's/.*\[env \([A-Z0-9_]*\)\].*/\1/p')

if [ ! -s .dev-secret ]; then
	(umask 077 && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > .dev-secret)
	echo "demo: created a random development secret in .dev-secret" >&2
fi

log=$(mktemp "${TMPDIR:-/tmp}/caller-echo-demo.XXXXXX")
srv=""
srv_status=""
stop_server() {
	if [ -n "$srv" ] && kill -0 "$srv" 2>/dev/null; then
		kill -TERM "$srv"
		srv_status=0
		wait "$srv" 2>/dev/null || srv_status=$?
	fi
	srv=""
}
trap 'stop_server; rm -f "$log"' EXIT
trap 'exit 130' INT TERM

# Is anything listening on 127.0.0.1:$1? (bash's /dev/tcp: no curl needed)
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A random high port nobody answers on; the server's own bind is the final
# word, so a lost race just means another try.
port=""
for _ in 1 2 3 4 5; do
	p=$((20000 + RANDOM % 40000))
	listening "$p" && continue
	build/caller-echo --listen 127.0.0.1 --port "$p" --secret-file .dev-secret >"$log" 2>&1 &
	srv=$!
	for _ in $(seq 50); do
		listening "$p" && break
		kill -0 "$srv" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$srv" 2>/dev/null && listening "$p"; then
		port=$p
		break
	fi
	stop_server
done
if [ -z "$port" ]; then
	echo "demo: the server did not start; its log:" >&2
	sed 's/^/  /' "$log" >&2
	exit 1
fi

base="http://127.0.0.1:$port"
echo "== caller-echo is listening on $base (development secret from .dev-secret)"
echo "== placing one ${SECONDS_PER_CALL}-second call: build/caller-sim --duration $SECONDS_PER_CALL --dtmf 123 $base/webhooks/answer"
echo
set +e
build/caller-sim --secret-file .dev-secret --duration "$SECONDS_PER_CALL" --dtmf 123 "$base/webhooks/answer"
rc=$?
set -e

echo
echo "== the server's log of the call"
sed 's/^/  /' "$log"

# GET /stats.json over bash's /dev/tcp, body only
if exec 3<>"/dev/tcp/127.0.0.1/$port"; then
	printf 'GET /stats.json HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\n\r\n' "$port" >&3
	totals=$(sed '1,/^\r$/d' <&3 | grep -o '"totals":{[^}]*}' || true)
	exec 3<&-
	echo
	echo "== server totals from $base/stats.json"
	echo "  ${totals:-(not available)}"
fi

echo
echo "== stats page: $base/stats"
if [ "${DEMO_KEEP:-0}" = 1 ]; then
	echo "   the server stays up until Ctrl-C (DEMO_KEEP=1)"
	wait "$srv" || true
else
	echo "   (the server stops now; DEMO_KEEP=1 make demo keeps it up, or use make run and"
	echo "    build/caller-sim --secret-file .dev-secret http://127.0.0.1:8080/webhooks/answer)"
	stop_server
	echo "== server stopped by SIGTERM, exit status ${srv_status:-?}"
fi
exit "$rc"
