#!/bin/sh
# run-tests.sh -- run the unit and/or integration suites and print one
# closing line CI can read: "N passed, N failed".
#   scripts/run-tests.sh unit BIN...        CMocka binaries
#   scripts/run-tests.sh integration        Python tests against build/caller-echo
#   scripts/run-tests.sh all BIN...         both
# Exit status: 0 only if every test passed and at least one ran.
set -u
cd "$(dirname "$0")/.."
mode=$1; shift
passed=0; failed=0
# Debian's interpreter: it has python3-websockets (a pyenv python3 on PATH may not)
PY=/usr/bin/python3
log=$(mktemp); trap 'rm -f "$log"' EXIT

run_unit() {
	for bin in "$@"; do
		# TAP output: one "ok"/"not ok" line per test, summary read from those
		CMOCKA_MESSAGE_OUTPUT=tap "$bin" >"$log" 2>&1
		rc=$?
		sed 's/^/  /' "$log"
		p=$(grep -c '^ok ' "$log"); f=$(grep -c '^not ok ' "$log")
		planned=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$log" | head -n1)
		# a crash (sanitizer abort) leaves tests unreported: count them as failed
		if [ -n "$planned" ] && [ $((p + f)) -lt "$planned" ]; then f=$((planned - p)); fi
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
		echo "$(basename "$bin"): $p passed, $f failed"
		passed=$((passed + p)); failed=$((failed + f))
	done
}

run_integration() {
	# run.py prints "integration: N passed, N failed" as its last line
	$PY tests/integration/run.py 2>&1 | tee "$log"
	line=$(grep '^integration: ' "$log" | tail -n1)
	p=$(echo "$line" | sed -n 's/^integration: \([0-9]*\) passed.*/\1/p')
	f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
	# no summary line means the runner itself died: that is a failure
	if [ -z "$p" ] || [ -z "$f" ]; then p=${p:-0}; f=1; fi
	passed=$((passed + p)); failed=$((failed + f))
}

case "$mode" in
unit) run_unit "$@" ;;
integration) run_integration ;;
all) run_unit "$@"; run_integration ;;
*) echo "usage: $0 unit|integration|all [BIN...]" >&2; exit 2 ;;
esac

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
