#!/bin/bash
# demo.sh -- what `make demo` does: the whole call path, without a Vonage
# account, a phone number or a tunnel.
#
# For each voice app -- echo, delay, parrot (docs/apps.md) -- it
# 1. starts build/caller-echo --app APP on a free loopback port with the
#    development secret (.dev-secret, made once as scripts/run-dev.sh does);
# 2. places one simulated call with build/caller-sim the way Vonage would:
#    answer webhook -> NCCO -> WebSocket with a signed JWT -> 20 ms audio
#    frames, with Vonage's playback buffer, clear and notify, and checks it:
#      echo    every frame back bit for bit (two DTMF digits on the way)
#      delay   every frame heard --delay-ms (1 s) later
#      parrot  a scripted caller (1.5 s of talk, 3 s pause) hears each
#              utterance back, notifies answered in order
# 3. prints the simulator's result, the server's log of the call, its
#    /stats.json totals and the stats page URL;
# 4. stops the server with SIGTERM.
# Exit status: 0 when every check held, else the first failing caller-sim's.
#   DEMO_SECONDS=3 make demo    shorter calls (parrot gets at least 9 s)
#   DEMO_APPS=parrot make demo  one app
#   DEMO_KEEP=1 make demo       keep the server up afterwards (Ctrl-C stops it)
# The server's configuration variables (PUBLIC_URL, TLS_CERT, ...) are
# ignored here so the demo behaves the same on every machine.
set -eu
cd "$(dirname "$0")/.."

SECONDS_PER_CALL=${DEMO_SECONDS:-10}
APPS=${DEMO_APPS:-echo delay parrot}

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

# One app: start the server, place the call, show what happened. Sets rc.
run_app() {
	local app=$1 port="" p sim_args secs
	# A random high port nobody answers on; the server's own bind is the final
	# word, so a lost race just means another try.
	port=""
	for _ in 1 2 3 4 5; do
		p=$((20000 + RANDOM % 40000))
		listening "$p" && continue
		build/caller-echo --listen 127.0.0.1 --port "$p" --secret-file .dev-secret --app "$app" >"$log" 2>&1 &
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
	case $app in
	echo) sim_args=(--duration "$SECONDS_PER_CALL" --dtmf 7#) ;;
	delay) sim_args=(--duration "$SECONDS_PER_CALL" --expect delay=1000) ;;
	parrot) secs=$((SECONDS_PER_CALL < 9 ? 9 : SECONDS_PER_CALL))
		sim_args=(--duration "$secs" --expect parrot --talk 1500 --pause 3000) ;;
	esac
	echo "== caller-echo --app $app is listening on $base (development secret from .dev-secret)"
	echo "== placing one call: build/caller-sim ${sim_args[*]} $base/webhooks/answer"
	echo
	set +e
	build/caller-sim --secret-file .dev-secret "${sim_args[@]}" "$base/webhooks/answer"
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
}

status=0
last=${APPS##* }
for app in $APPS; do
	echo
	echo "######## $app"
	run_app "$app"
	[ "$status" -ne 0 ] || status=$rc
	if [ "${DEMO_KEEP:-0}" != 1 ] || [ "$app" != "$last" ]; then
		stop_server
		echo "== server stopped by SIGTERM, exit status ${srv_status:-?}"
	fi
done

echo
if [ "${DEMO_KEEP:-0}" = 1 ] && [ -n "$srv" ]; then
	echo "== the $last server stays up until Ctrl-C (DEMO_KEEP=1): stats page $base/stats"
	wait "$srv" || true
else
	echo "== every app took a call; try one yourself: make run ARGS=\"--app parrot\" and"
	echo "   build/caller-sim --secret-file .dev-secret --expect parrot --talk 1500 --pause 3000 \\"
	echo "     --record heard.wav http://127.0.0.1:8080/webhooks/answer"
fi
exit "$status"
