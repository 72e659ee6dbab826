#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Reproducer, NOT in make check (make check-extra runs it): closing a
# raw socket whose exchange is still held by the driver stalls the 6.1
# NCI core for NCI_RF_DEACTIVATE_TIMEOUT (30 s). The socket's destructor
# deactivates the target; when the last reference to the socket is the
# one af_nfc's worker holds for an exchange, that is in the NCI core's
# receive workqueue, which then waits for the RF_DEACTIVATE_RSP only it
# can process; the next poll of the device waits behind the device lock.
# Deactivating the target first, from the process (NFC_CMD_DEACTIVATE_
# TARGET, libsectag's sectag_nfc_disconnect(), what sectagd and the CLI
# do), leaves the destructor nothing to do. Proposed kernel fix:
# Documentation/upstream/0003-nfc-rawsock-deactivate-in-release.patch.
#
#   flock /tmp/sectag-vm.lock tests/vm/run --timeout 900 -- tests/nci/closerace.sh [ROUNDS]
#
# Each round (build/e2e/closerace): the tag placed, polled, connected,
# selected, lifted, selected again; then the socket closed at once (or
# the target deactivated first), and the device polled again, timed.
#  1. A controller that says nothing about the lifted tag (ncidevemu
#     --silent-lift): the client gives up after 500 ms and closes; the
#     core's data timer (3 s) fails the exchange in the worker, which
#     then holds the last reference. Deterministic: a stall every time.
#  2. The same, deactivated first: no stall (5 rounds).
#  3. An RF timeout reported at once (as NCI says a controller must),
#     the socket closed by a process spinning on it the moment the error
#     shows, racing the worker's last reference: a stall within ROUNDS
#     rounds, or SKIP (a race; not seen here in 180 rounds).
#  4. The same, deactivated first: none in ROUNDS.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh
. tests/e2e/backend-nci.sh
ROUNDS=${1:-20}
UIDHEX=04C1053E000001
STALL_MS=10000

trap 'backend_stop; rm -rf "$W"' EXIT

timeouts() { dmesg | grep -c 'wait_for_completion_interruptible_timeout failed'; }
lifts() { grep -c 'tag lifted$' "$W/nci.log"; }

# round MODE [WAIT_MS]: prints the repoll time in ms, or fails
round() {
	local pid ms lifted
	rm -f "$W/in"
	mkfifo "$W/in" || return 1
	build/e2e/closerace "${DEV#nfc}" "$@" <"$W/in" >"$W/cr.out" 2>>"$LOG" &
	pid=$!
	exec 3>"$W/in"
	tag_place
	if ! eventually 30 grep -qx selected "$W/cr.out"; then
		exec 3>&-
		wait "$pid"
		return 1
	fi
	lifted=$(lifts)
	tag_lift
	eventually 10 test "$(lifts)" -gt "$lifted"
	echo go >&3
	exec 3>&-
	wait "$pid" || return 1
	ms=$(sed -n 's/^repoll //p' "$W/cr.out")
	[ -n "$ms" ] && echo "$ms"
}

# rounds N STOP_AT_STALL MODE [WAIT_MS]: "STALLS ROUNDS_RUN MAX_MS"
rounds() {
	local i ms stalls=0 max=0 runs=$1 stop=$2
	shift 2
	for ((i = 1; i <= runs; i++)); do
		ms=$(round "$@") || { echo "# round $i ($*) failed" >&2; break; }
		[ "$ms" -gt "$max" ] && max=$ms
		if [ "$ms" -gt "$STALL_MS" ]; then
			stalls=$((stalls + 1))
			[ "$stop" = 1 ] && break
		fi
	done
	echo "$stalls $((i > runs ? runs : i)) $max"
}

# case NAME RUNS STOP_AT_STALL MODE [WAIT_MS]: one line of figures
case_() {
	local name=$1 t0
	shift
	t0=$(timeouts)
	read -r stalls ran max < <(rounds "$@")
	echo "# $name: $stalls stall(s) in $ran round(s), longest repoll $max ms, $(($(timeouts) - t0)) NCI request timeout(s) in dmesg"
}

echo "1..4"
NCI_EMU_ARGS=--silent-lift
backend_start "$UIDHEX" || bail "NCI backend"
case_ "silent, close" 1 1 close 500
if [ "$stalls" = 1 ]; then ok "silent controller, socket closed: the core stalls"
else not_ok "silent controller, socket closed: the core stalls"; fi
case_ "silent, disconnect" 5 0 disconnect 500
if [ "$stalls" = 0 ] && [ "$ran" = 5 ]; then ok "silent controller, deactivated first: no stall"
else not_ok "silent controller, deactivated first: no stall"; fi
backend_stop
NCI_EMU_ARGS=
backend_start "$UIDHEX" || bail "NCI backend"
case_ "race, close" "$ROUNDS" 1 close
if [ "$stalls" -gt 0 ]; then ok "RF timeout, closed at once: the core stalls"
else echo "ok $((n += 1)) RF timeout, closed at once: the core stalls # SKIP the race did not show in $ran rounds"; fi
case_ "race, disconnect" "$ROUNDS" 0 disconnect
if [ "$stalls" = 0 ] && [ "$ran" = "$ROUNDS" ]; then ok "RF timeout, deactivated first: no stall"
else not_ok "RF timeout, deactivated first: no stall"; fi
exit "$failed"
