#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# sectagd's own presence checks, in the VM, as root, on a reader with the
# pn533 personality (no presence check in the driver, so no TARGET_LOST
# ever: Documentation/uapi.md): a tag held on it for 10 s is one tap;
# lifted, the agent notices within a bound and polls again, so the next
# tap is a second one; an idle agent does not wake up at all. On our
# usual reader, where TARGET_LOST and the agent's check race, a removal
# still counts once.
#
#   flock /tmp/sectag-vm.lock tests/vm/run --timeout 600 -- tests/e2e/presence.sh
#
# TAP on stdout; the exit status is the number of failures.
# shellcheck disable=SC2317 # helpers are called through t/st
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh

STORE=$W/store
CONF=$W/sectagd.conf
SOCK=/run/sectag-e2e.$$/sock
ALOG=$W/agent.log
UID_T=04A5000000000A
HOLD_S=10
IDLE_S=5
LIMIT_MS=5000		# removal noticed within this (TCG is slow)
AGENT=
PRID=

cleanup() {
	[ -z "$AGENT" ] || kill "$AGENT" 2>/dev/null
	[ -z "$PRID" ] || $S sim reader del "$PRID" >/dev/null 2>&1
	rm -rf "$W" "${SOCK%/*}"
}
trap cleanup EXIT

# Taps that released the tag's binding, removals the agent saw on DEVICE.
taps() { grep -c ': released$' "$ALOG"; }
removals() { grep -c ": $1: tag removed\$" "$ALOG"; }
polls() { grep -c ": $1: poll: 0\$" "$ALOG"; }
ms() { echo $(($(date +%s%N) / 1000000)); }
# Voluntary context switches of the agent: each is one wakeup of its loop
# (it runs one thread) or one wait for an exchange's answer.
switches() { awk '/^voluntary_ctxt_switches:/ { print $2 }' "/proc/$AGENT/status"; }
# The agent waits in epoll_wait for its next event.
agent_waits() { grep -q epoll "/proc/$AGENT/wchan"; }

setup_all() {
	local p
	setup_reader || return 1
	p=$(build/e2e/pn533reader) || return 1
	read -r PRID PDEV <<<"$p"
	[ -n "$PRID" ] && [ -n "$PDEV" ] || return 1
	$S keygen "$W/issuer.key" || return 1
	T=$(new_tag $UID_T) || return 1
	provision "$T" "$W/issuer.key" && enroll "$T" --name pres || return 1
	untap
	cat >"$CONF" <<-EOC
	# written by tests/e2e/presence.sh
	store = $STORE
	socket = $SOCK
	EOC
}

echo "# work directory $W"
setup_all >"$LOG" 2>&1 || bail "setup failed"
echo "# our reader $DEV, pn533-like reader $PDEV (id $PRID), tag $T"

# (timeout: an agent that took the value would run on)
st interval_below_100_refused 2 timeout 20 build/sectagd --config \
	<(echo "presence_interval_ms = 99")
st interval_above_5000_refused 2 timeout 20 build/sectagd --config \
	<(echo "presence_interval_ms = 5001")
t agent_starts start_agent

# --- a tag held on the pn533-like reader: one tap
$S sim tag place "$T" "$PRID" >"$LOG" 2>&1
t tap_on_pn533_reader becomes 30 1 taps
SW0=$(switches)
sleep "$HOLD_S"		# the hold itself is what is tested
SW1=$(switches)
echo "# held ${HOLD_S} s: $((SW1 - SW0)) voluntary switches," \
	"$(((SW1 - SW0) / HOLD_S))/s (presence checks every 300 ms)"
t held_tag_is_one_tap test "$(taps)" = 1
t held_tag_not_removed test "$(removals "$PDEV")" = 0
t held_tag_is_checked test $((SW1 - SW0)) -ge "$HOLD_S"

# --- lifted: noticed by the agent's check, the poll restarts
# Measured from the lift's return, with a tight loop (eventually's
# steps are 100 ms); bounded by the 30 s of the next test's wait.
removed_soon() {
	local end=$(($(ms) + 30000))
	until grep -q ": $PDEV: tag removed\$" "$ALOG"; do
		[ "$(ms)" -lt "$end" ] || return 1
		sleep 0.02
	done
}
P0=$(polls "$PDEV")
$S sim tag remove "$T" >"$LOG" 2>&1
T0=$(ms)
removed_soon
LAT=$(($(ms) - T0))
echo "# removal noticed ${LAT} ms after the lift (bound ${LIMIT_MS} ms)"
t lifted_tag_removed_once test "$(removals "$PDEV")" = 1
t removal_within_bound test "$LAT" -lt "$LIMIT_MS"
t poll_restarted exceeds 10 "$P0" polls "$PDEV"

# --- idle, no tag anywhere: no wakeup at all
t agent_goes_idle eventually 10 agent_waits
SW0=$(switches)
sleep "$IDLE_S"		# the measurement window
SW1=$(switches)
echo "# idle ${IDLE_S} s: $((SW1 - SW0)) voluntary switches"
t idle_agent_never_wakes test $((SW1 - SW0)) = 0

# --- tapped again: a second tap; lifted again: a second removal
$S sim tag place "$T" "$PRID" >"$LOG" 2>&1
t second_tap_counts becomes 30 2 taps
$S sim tag remove "$T" >"$LOG" 2>&1
t second_removal becomes 30 2 removals "$PDEV"

# --- our reader: TARGET_LOST and the agent's check race; one removal
$S sim tag place "$T" "$RID" >"$LOG" 2>&1
t tap_on_our_reader becomes 30 3 taps
$S sim tag remove "$T" >"$LOG" 2>&1
t our_reader_removal becomes 30 1 removals "$DEV"
# A later tap is the marker: every event of the removal came before it.
$S sim tag place "$T" "$RID" >"$LOG" 2>&1
t our_reader_next_tap becomes 30 4 taps
t our_reader_removal_counted_once test "$(removals "$DEV")" = 1
$S sim tag remove "$T" >"$LOG" 2>&1
t our_reader_second_removal becomes 30 2 removals "$DEV"
t pn533_reader_untouched test "$(removals "$PDEV")" = 2

kill "$AGENT"
wait "$AGENT"
RC=$?
AGENT=
t agent_stops_cleanly test "$RC" = 0
[ "$failed" = 0 ] || tail -n 60 "$ALOG" | sed 's/^/# agent: /'
echo "# $n tests, $failed failed"
exit "$failed"
