#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs libFuzzer harnesses built by `make fuzz-build`, one after another
# (the machine is shared: no -jobs), each from its committed seeds
# (fuzz/corpus/<harness>/, read only) and its run corpus
# (build/fuzz/corpus-<harness>/, where new inputs go). Crash inputs land
# in build/fuzz/ as <harness>-crash-*. Prints executions and exec/s per
# harness and appends them to build/fuzz/figures.txt.
#
#   fuzz/run.sh --runs N [--max-seconds S] HARNESS...
#	each for N executions; S (default 7200) only bounds a run that is
#	far too slow, and stopping on it counts as a failure
#   fuzz/run.sh --seconds S HARNESS...
#	each for S seconds (make check)
#
# Exit status: 0 when every harness ran clean (and, with --runs, for
# all N executions); 1 otherwise.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

runs=0 seconds=0 max_seconds=7200
while [ $# -gt 0 ]; do
	case $1 in
	--runs) runs=$2; shift 2 ;;
	--seconds) seconds=$2; shift 2 ;;
	--max-seconds) max_seconds=$2; shift 2 ;;
	--) shift; break ;;
	-*) echo "usage: $0 --runs N [--max-seconds S] | --seconds S HARNESS..." >&2
	    exit 2 ;;
	*) break ;;
	esac
done
if [ $# = 0 ] || { [ "$runs" = 0 ] && [ "$seconds" = 0 ]; }; then
	echo "usage: $0 --runs N [--max-seconds S] | --seconds S HARNESS..." >&2
	exit 2
fi

out=build/fuzz
mkdir -p "$out"
status=0
for bin in "$@"; do
	name=${bin##*/}
	log=$out/$name.log
	corpus=$out/corpus-$name
	mkdir -p "$corpus"
	dirs=("$corpus")
	[ -d "fuzz/corpus/$name" ] && dirs+=("fuzz/corpus/$name")
	if [ "$runs" != 0 ]; then
		limits=(-runs="$runs" -max_total_time="$max_seconds")
	else
		limits=(-max_total_time="$seconds")
	fi
	start=$(date +%s)
	"$bin" "${limits[@]}" -print_final_stats=1 \
		-artifact_prefix="$out/$name-" "${dirs[@]}" >"$log" 2>&1
	rc=$?
	elapsed=$(( $(date +%s) - start ))
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
	verdict=ok
	if [ "$rc" != 0 ]; then
		verdict="FAILED (exit status $rc, see $log)"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error)' "$log" |
			head -n 5 | sed 's/^/    /'
		status=1
	elif [ "$runs" != 0 ] && [ "${execs:-0}" -lt "$runs" ]; then
		verdict="SHORT: stopped by the ${max_seconds} s bound"
		status=1
	fi
	line=$(printf '%-22s %12s execs %8s exec/s %6s s  %s' "$name" \
		"${execs:-?}" "${rate:-?}" "$elapsed" "$verdict")
	echo "$line"
	echo "$(date -u +%FT%TZ) $line" >>"$out/figures.txt"
done
exit $status
