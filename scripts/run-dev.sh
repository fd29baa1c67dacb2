#!/bin/sh
# run-dev.sh -- what `make run` does: start build/caller-echo on :8080 with a
# development secret when none is configured.
# The secret lives in .dev-secret (git-ignored, mode 600), made once from
# /dev/urandom. Set VONAGE_SIGNATURE_SECRET (your account's signature secret)
# to use the real one instead. Extra flags: make run ARGS="--port 9000".
set -eu
cd "$(dirname "$0")/.."
if [ -z "${VONAGE_SIGNATURE_SECRET:-}" ] && [ -z "${VONAGE_SIGNATURE_SECRET_FILE:-}" ]; then
	if [ ! -s .dev-secret ]; then
		umask 077
		head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > .dev-secret
		echo "make run: created a random development secret in .dev-secret" >&2
	fi
	echo "make run: using the development secret in .dev-secret." >&2
	echo "  A token signed with it: make sim && VONAGE_SIGNATURE_SECRET_FILE=.dev-secret build/caller-sim --print-token" >&2
	echo "  For real calls set VONAGE_SIGNATURE_SECRET to your Vonage signature secret." >&2
	export VONAGE_SIGNATURE_SECRET_FILE="$PWD/.dev-secret"
fi
# shellcheck disable=SC2086
exec build/caller-echo ${ARGS:-}
