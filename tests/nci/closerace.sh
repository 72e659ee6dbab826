#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Reproducer, NOT in make check (make check-extra runs it): a raw socket
# closed the moment a lifted tag's exchange fails stalls the 6.1 NCI core
# for NCI_RF_DEACTIVATE_TIMEOUT (30 s). af_nfc reports the failure before
# its worker drops the socket reference it holds, so the close() leaves
# the target's deactivation to the socket's destructor in that worker,
# on the core's receive workqueue, which then waits for the
# RF_DEACTIVATE_RSP only it can process; the next poll of the device
# waits behind the device lock. Deactivating the target first, from the
# process (NFC_CMD_DEACTIVATE_TARGET, libsectag's sectag_nfc_disconnect(),
# what sectagd and the CLI do), leaves the destructor nothing to do.
# Proposed kernel fix:
# Documentation/upstream/0003-nfc-rawsock-deactivate-in-release.patch.
#
#   flock /tmp/sectag-vm.lock tests/vm/run --timeout 900 -- tests/nci/closerace.sh [ROUNDS]
#
# Each round (build/e2e/closerace): the tag placed, polled, connected,
# selected, lifted, selected again by a process spinning on the socket,
# which closes it at once (or deactivates first), then polls again and
# times that. TAP: "close" expects a stall (> 10 s) within ROUNDS rounds
# (a race: it stops at the first; on some machines it may not show),
# "disconnect" none in ROUNDS.
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

# round MODE: prints the repoll time in ms, or fails
round() {
	local pid ms lifted
	rm -f "$W/in"
	mkfifo "$W/in" || return 1
	build/e2e/closerace "${DEV#nfc}" "$1" <"$W/in" >"$W/cr.out" 2>>"$LOG" &
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

# rounds MODE STOP_AT_STALL: "STALLS ROUNDS_RUN MAX_MS"
rounds() {
	local i ms stalls=0 max=0
	for ((i = 1; i <= ROUNDS; i++)); do
		ms=$(round "$1") || { echo "# round $i ($1) failed" >&2; break; }
		[ "$ms" -gt "$max" ] && max=$ms
		if [ "$ms" -gt "$STALL_MS" ]; then
			stalls=$((stalls + 1))
			[ "$2" = 1 ] && break
		fi
	done
	echo "$stalls $((i > ROUNDS ? ROUNDS : i)) $max"
}

backend_start "$UIDHEX" || bail "NCI backend"
echo "1..2"
t0=$(timeouts)
read -r stalls ran max < <(rounds close 1)
echo "# close: $stalls stall(s) in $ran round(s), longest repoll $max ms, $(($(timeouts) - t0)) NCI request timeout(s) in dmesg"
if [ "$stalls" -gt 0 ]; then ok "close right after EIO: the core stalls"
else not_ok "close right after EIO: the core stalls (a race: not shown here)"; fi
t0=$(timeouts)
read -r stalls ran max < <(rounds disconnect 0)
echo "# disconnect: $stalls stall(s) in $ran round(s), longest repoll $max ms, $(($(timeouts) - t0)) NCI request timeout(s) in dmesg"
if [ "$stalls" = 0 ] && [ "$ran" = "$ROUNDS" ]; then ok "deactivated first: no stall"
else not_ok "deactivated first: no stall"; fi
exit "$failed"
