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
	$PY -m unittest discover -s tests/integration -p 'test_*.py' -v >"$log" 2>&1
	rc=$?
	cat "$log"
	total=$(sed -n 's/^Ran \([0-9]*\) tests\{0,1\} in .*/\1/p' "$log" | tail -n1)
	total=${total:-0}
	f=$(sed -n 's/^FAILED (\(.*\))$/\1/p' "$log" | tr ',' '\n' | sed -n 's/.*=\([0-9]*\)/\1/p' |
		awk '{s+=$1} END {print s+0}')
	skipped=$(sed -n 's/.*skipped=\([0-9]*\).*/\1/p' "$log" | tail -n1)
	# "skipped=N" is inside FAILED(...) too; it is not a failure
	f=$((f - ${skipped:-0}))
	if [ "$rc" -ne 0 ] && [ "$f" -le 0 ]; then f=1; fi
	p=$((total - f - ${skipped:-0}))
	echo "integration: $p passed, $f failed"
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
