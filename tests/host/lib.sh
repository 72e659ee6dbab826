# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Shared by the host tests (sourced): TAP output. These run the built
# programs on the host, without the VM: nothing here needs a reader.

B=${SECTAG_BUILD:-build}
export B
n=0
failed=0
T=$(mktemp -d /tmp/sectag-host.XXXXXX)
trap 'rm -rf "$T"' EXIT

ok() { n=$((n + 1)); echo "ok $n $1"; }
not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n $1"
	[ -z "${2:-}" ] || printf '%s\n' "$2" | head -n 20 | sed 's/^/#   /'
}
# check NAME CMD...: passes when CMD succeeds.
check() {
	local name=$1
	shift
	if "$@" >"$T/check.log" 2>&1; then ok "$name"
	else not_ok "$name" "$(cat "$T/check.log")"; fi
}
done_testing() { echo "1..$n"; exit "$failed"; }
