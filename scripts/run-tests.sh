#!/bin/sh
# run-tests.sh -- run the unit and/or integration suites and print the
# skipped tests with their reasons, then one closing line CI can read:
# "N passed, N failed, N skipped".
#   scripts/run-tests.sh unit BIN...        CMocka binaries
#   scripts/run-tests.sh integration        Python tests against build/caller-echo
#   scripts/run-tests.sh fuzz               replay tests/fuzz/corpus + regressions
#                                           through build/fuzz/fuzz_* (one test each)
#   scripts/run-tests.sh asan               the integration suite against
#                                           build/asan/caller-echo (ASan+UBSan)
#   scripts/run-tests.sh valgrind           a subset of it under valgrind memcheck
#   scripts/run-tests.sh all BIN...         all of the above (what `make test` runs;
#                                           the plain and ASan suites run at once)
# Exit status: 0 only if every test passed and at least one ran.
set -u
cd "$(dirname "$0")/.."
mode=$1; shift
passed=0; failed=0; skipped=0
# Debian's interpreter: it has python3-websockets (a pyenv python3 on PATH may not)
PY=/usr/bin/python3
log=$(mktemp); skips=$(mktemp); trap 'rm -f "$log" "$skips"' EXIT

run_unit() {
	for bin in "$@"; do
		# TAP output: one "ok"/"not ok" line per test, summary read from those
		# a pointer kept to a returned function's stack is found, not read as stale bytes
		ASAN_OPTIONS=${ASAN_OPTIONS:-detect_stack_use_after_return=1} CMOCKA_MESSAGE_OUTPUT=tap "$bin" >"$log" 2>&1
		rc=$?
		sed 's/^/  /' "$log"
		# TAP: a skipped test is "ok N - name # SKIP" (or "not ok ... # SKIP")
		s=$(grep -c '^\(not \)\?ok .*# SKIP' "$log")
		grep '^\(not \)\?ok .*# SKIP' "$log" | sed "s|^|skipped: $(basename "$bin"): |" >>"$skips"
		p=$(grep '^ok ' "$log" | grep -vc '# SKIP'); f=$(grep '^not ok ' "$log" | grep -vc '# SKIP')
		planned=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$log" | head -n1)
		# a crash (sanitizer abort) leaves tests unreported: count them as failed
		if [ -n "$planned" ] && [ $((p + f + s)) -lt "$planned" ]; then f=$((planned - p - s)); fi
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
		echo "$(basename "$bin"): $p passed, $f failed, $s skipped"
		passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
	done
}

# run.py [ARGS...] under the environment given before it; run.py prints a
# "skipped: ..." line per skip, then "integration[ [sanitizer]]: N passed,
# N failed, N skipped" as its last line
run_integration() {
	$PY tests/integration/run.py "$@" 2>&1 | tee "$log"
	count_integration "$log"
}

count_integration() {
	grep '^skipped: ' "$1" >>"$skips"
	line=$(grep '^integration[^:]*: [0-9]' "$1" | tail -n1)
	p=$(echo "$line" | sed -n 's/^integration[^:]*: \([0-9]*\) passed.*/\1/p')
	f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
	s=$(echo "$line" | sed -n 's/.* \([0-9]*\) skipped.*/\1/p')
	# no summary line means the runner itself died: that is a failure
	if [ -z "$p" ] || [ -z "$f" ]; then p=${p:-0}; f=1; fi
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + ${s:-0}))
}

run_fuzz() {
	# each harness replays its corpus and regression inputs once: one test each
	scripts/fuzz.sh replay $FUZZERS >"$log" 2>&1
	cat "$log"
	p=$(grep -c '^fuzz_.*: ok$' "$log"); f=$(grep -c '^fuzz_.*failed' "$log")
	[ $((p + f)) -eq 0 ] && f=1
	passed=$((passed + p)); failed=$((failed + f))
}

# The whole integration suite against the ASan+UBSan build; harness.py
# fails any test whose server printed a sanitizer report (leaks at exit too).
run_asan() {
	echo "--- integration suite against build/asan/caller-echo (ASan+UBSan) ---"
	CALLER_ECHO_SANITIZER=asan CALLER_ECHO_BIN="$PWD/build/asan/caller-echo" run_integration
}

# `make test`: the plain and the ASan suites at once. Each spends most of
# its time waiting on paced audio and timeouts (about 25 s of CPU in a
# 6-minute run), so together they take little longer than one; each has its
# own port range (harness.py) and temporary directory. Logs are printed
# whole, one after the other, when both are done.
run_integration_and_asan() {
	echo "--- integration suite against build/caller-echo and, at the same time, build/asan/caller-echo (ASan+UBSan) ---"
	plain=$(mktemp); asan=$(mktemp)
	CALLER_ECHO_PORTS=20000-25999 $PY tests/integration/run.py >"$plain" 2>&1 &
	bg=$!
	# same priority for both: a niced ASan suite was starved for 20 ms and
	# more while the plain one ran its load tests, and missed its own timing
	CALLER_ECHO_PORTS=26000-31999 CALLER_ECHO_SANITIZER=asan CALLER_ECHO_BIN="$PWD/build/asan/caller-echo" \
		$PY tests/integration/run.py >"$asan" 2>&1
	wait "$bg"
	echo "--- integration suite against build/caller-echo ---"; cat "$plain"
	echo "--- integration suite against build/asan/caller-echo (ASan+UBSan) ---"; cat "$asan"
	count_integration "$plain"; count_integration "$asan"
	rm -f "$plain" "$asan"
}

# One representative run under valgrind memcheck: HTTP routes and webhook
# bodies, TLS, an echoed call, every kind of bad token, text events, the
# server closing (1009 limits, SIGTERM mid-call), the apps that allocate
# (delay and parrot buffers, switched in and out). Zero errors and zero
# definite/indirect leaks, or the test fails (harness.py).
VALGRIND_TESTS="test_http.AnswerDefaults test_http.Events test_http.StatsHealthRouting test_http.Tls
test_ws.ValidCall.test_paced_call_500_frames test_ws.Refusals test_ws.Limits
test_ws.TextEvents.test_dtmf_and_invalid_json_do_not_disturb_echo test_ws.Shutdown.test_sigterm_during_call
test_apps.DelayApp.test_bursts_kept_whole test_apps.ParrotApp.test_bursts_played_back_whole
test_apps.AppMemory.test_switch_refused_past_the_budget"
run_valgrind() {
	echo "--- integration subset under valgrind memcheck (build/caller-echo) ---"
	# shellcheck disable=SC2086
	CALLER_ECHO_SANITIZER=valgrind run_integration --names $VALGRIND_TESTS
}

# the harness list is the Makefile's (tests/fuzz/fuzz_*.cpp), exported by make
FUZZERS=${FUZZERS:-$(make -s --no-print-directory -C . print-fuzzers 2>/dev/null)}

case "$mode" in
unit) run_unit "$@" ;;
integration) run_integration ;;
fuzz) run_fuzz ;;
asan) run_asan ;;
valgrind) run_valgrind ;;
all) run_unit "$@"; run_fuzz; run_integration_and_asan; run_valgrind ;;
*) echo "usage: $0 unit|integration|fuzz|asan|valgrind|all [BIN...]" >&2; exit 2 ;;
esac

if [ -s "$skips" ]; then
	echo "--- skipped ($skipped), with the reasons ---"
	cat "$skips"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
