#!/bin/sh
# fuzz.sh -- run or replay the libFuzzer harnesses built by the Makefile
# (build/fuzz/fuzz_<name>, sources in tests/fuzz/).
#   scripts/fuzz.sh run NAME...     fuzz each for $FUZZ_SECONDS (default 60) from
#                                   tests/fuzz/corpus/NAME + regressions/NAME; new
#                                   inputs go to build/fuzz/corpus/NAME, crashes to
#                                   build/fuzz/artifacts/NAME/; prints executions,
#                                   coverage and what was found
#   scripts/fuzz.sh replay NAME...  run every committed corpus and regression input
#                                   once (what `make test` does); one line per harness
# Exit status: 0 only if no harness crashed (or failed to run).
set -u
cd "$(dirname "$0")/.."
mode=${1:-}; shift
B=build/fuzz
secs=${FUZZ_SECONDS:-60}
rc=0

# longest input worth trying per harness (a token, a request, a fragment sequence)
max_len() {
	case "$1" in
	auth_jwt) echo 4096 ;; answer) echo 4096 ;; vonage_msg) echo 8192 ;; audio_msg) echo 32768 ;;
	addr) echo 20000 ;; voice) echo 65536 ;;
	*) echo 4096 ;;
	esac
}

inputs() {
	for d in tests/fuzz/corpus/"$1" tests/fuzz/regressions/"$1"; do
		[ -d "$d" ] && find "$d" -type f ! -name '.*' | sort
	done
}

case "$mode" in
run)
	for n in "$@"; do
		bin=$B/fuzz_$n
		mkdir -p "$B/corpus/$n" "$B/artifacts/$n" tests/fuzz/corpus/"$n"
		dict=""
		[ -f tests/fuzz/"$n".dict ] && dict="-dict=tests/fuzz/$n.dict"
		regs=""
		[ -d tests/fuzz/regressions/"$n" ] && regs=tests/fuzz/regressions/"$n"
		log=$B/fuzz_$n.log
		echo "fuzz_$n: ${secs} s ..."
		# shellcheck disable=SC2086
		nice "$bin" -max_total_time="$secs" -max_len="$(max_len "$n")" -timeout=10 \
			-print_final_stats=1 -artifact_prefix="$B/artifacts/$n/" $dict \
			"$B/corpus/$n" tests/fuzz/corpus/"$n" $regs >"$log" 2>&1
		r=$?
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -n1)
		corp=$(grep -o 'corp: [0-9]*/[0-9]*[a-zA-Z]*' "$log" | tail -n1)
		found=$(find "$B/artifacts/$n" -type f | wc -l)
		echo "fuzz_$n: exit $r, ${execs:-?} executions in ${secs} s, ${cov:-cov ?}, ${corp:-corp ?}, $found crash/leak/timeout inputs in $B/artifacts/$n/ (log $log)"
		if [ "$r" -ne 0 ]; then
			grep -E '^(==[0-9]+==ERROR|SUMMARY|invariant failed|.*runtime error)' "$log" | head -n 5
			rc=1
		fi
	done
	;;
replay)
	for n in "$@"; do
		bin=$B/fuzz_$n
		files=$(inputs "$n")
		count=$(printf '%s\n' "$files" | grep -c .)
		if [ "$count" -eq 0 ]; then
			echo "fuzz_$n: no corpus inputs: failed"
			rc=1
			continue
		fi
		log=$B/replay_$n.log
		# shellcheck disable=SC2086
		"$bin" $files >"$log" 2>&1
		r=$?
		if [ "$r" -eq 0 ]; then
			echo "fuzz_$n: $count inputs replayed: ok"
		else
			echo "fuzz_$n: replay of $count inputs failed (exit $r):"
			grep -E '^(Running:|==[0-9]+==ERROR|SUMMARY|invariant failed|.*runtime error)' "$log" | tail -n 6 | sed 's/^/  /'
			rc=1
		fi
	done
	;;
*)
	echo "usage: $0 run|replay NAME..." >&2
	exit 2
	;;
esac
exit $rc
