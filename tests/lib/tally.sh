# SPDX-License-Identifier: GPL-2.0
#
# The tally of tests/check.sh and tests/extra.sh (sourced): each test case
# and each check counts, as a line "PASS  name" or "FAIL  name"; the
# caller prints "$pass passed, $fail failed" last. failed: the names of
# the failures.
# shellcheck shell=bash
pass=0
fail=0
failed=()

record() {	# name status
	if [ "$2" = 0 ]; then
		pass=$((pass + 1))
		echo "PASS  $1"
	else
		fail=$((fail + 1))
		failed+=("$1")
		echo "FAIL  $1"
	fi
}

# Counts TAP lines ("ok N name" / "not ok N name") of a test stream.
tally_tap() {	# prefix log
	local line
	while IFS= read -r line; do
		case $line in
		"not ok "*) record "$1: ${line#not ok }" 1 ;;
		"ok "*) record "$1: ${line#ok }" 0 ;;
		esac
	done < <(grep -E '^(not )?ok [0-9]+ ' "$2")
}

# A test program: each TAP case counts; a crash or non-zero exit with no
# failing case counts as one more failure.
run_tap() {	# name log cmd...
	local name=$1 log=$2 rc
	shift 2
	"$@" 2>&1 | tee "$log" | grep -E '^(not ok|# FAIL|#  )' | head -n 40
	rc=${PIPESTATUS[0]}
	tally_tap "$name" "$log"
	if [ "$rc" != 0 ] && ! grep -q '^not ok ' "$log"; then
		tail -n 40 "$log" | sed 's/^/    /'
		record "$name: exit status $rc" 1
	fi
}
