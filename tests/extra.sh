#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check-extra: the VM tests too long or too machine-bound for make
# check, each in its own VM boot(s); the last line is the tally.
#   - tests/e2e/tpm2-other.sh: a tpm2-bound disk under another TPM, then
#     under its own again (3 boots; tests/boot/boot.sh covers the boot
#     path in make check);
#   - tests/nci/race.sh: the 6.1 NCI core's first-poll race (a reproducer:
#     its 0 ms case may not show the race on a fast or idle machine);
#   - tests/nci/closerace.sh: the 30 s stall of a raw socket closed while
#     the driver still holds its exchange (a silent controller: every
#     time; right after a failed exchange: a race), none when the target
#     is deactivated first;
#   - agent.sh and randomid.sh with storms of 1000 taps (make check: 300).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

LOGS=build/logs
mkdir -p "$LOGS"
. tests/lib/tally.sh

run() {	# name cmd...
	local name=$1
	shift
	echo "== $name"
	run_tap "$name" "$LOGS/extra-$name.log" "$@"
}

run tpm2-other tests/e2e/tpm2-other.sh
run nci-race tests/vm/run --timeout 900 -- tests/nci/race.sh 20
run nci-closerace tests/vm/run --timeout 900 -- tests/nci/closerace.sh 20
SECTAG_E2E_TAPS=1000 run agent-storm \
	tests/vm/run --timeout 900 -- tests/e2e/agent.sh
SECTAG_E2E_RID_TAPS=1000 run randomid-storm \
	tests/vm/run --timeout 900 -- tests/e2e/randomid.sh
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
