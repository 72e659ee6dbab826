#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# PC/SC readers for real, in the VM, as root: Debian's pcscd with the
# vsmartcard-vpcd driver, tests/pcsc/vpcdbridge's NTAG 424 DNA behind
# it (tests/e2e/backend-pcsc.sh). sectag lists the reader, scans,
# provisions, verifies and enrols through it; sectagd watches it: a tap
# releases the key, a removal and an unplugged reader are seen, the CLI
# borrows the reader from the agent, and the agent runs without pcscd.
#
#   flock /tmp/sectag-vm.lock tests/vm/run --timeout 600 -- tests/e2e/pcsc.sh
#
# TAP on stdout; the exit status is the number of failures.
# shellcheck disable=SC2317 # helpers are called through t/st
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh
. tests/e2e/backend-pcsc.sh

UID_T=04C5C500000042
STORE=$W/store
CONF=$W/sectagd.conf
SOCK=/run/sectag-e2e.$$/sock
export SECTAG_AGENT_SOCKET=$SOCK
AGENT_LOG_APPEND=1	# every run's log in $ALOG
ALOG=$W/agent.log
AGENT=

cleanup() {
	[ -z "$AGENT" ] || { kill "$AGENT" 2>/dev/null; wait "$AGENT" 2>/dev/null; }
	backend_stop
	drop_keys
	rm -rf "$W" "${SOCK%/*}"
}
trap cleanup EXIT

scan_json() { $S --json scan --reader "$DEV" --timeout "$1" >"$W/scan" 2>>"$LOG"; }
scanned() { [ "$(json_str "$1" "$(cat "$W/scan")")" = "$2" ]; }
scan_virgin() { scan_json 20 && scanned uid "$UID_T" && scanned state virgin; }
json_lists() { $S --json readers 2>/dev/null | jq -e --arg n "$DEV" \
	'any(.[]; .name == $n and .pcsc == true)'; }
door_key() { key_serial logon sectag:name:door; }
no_door_key() { ! door_key; }
inserted() { [ "$(grep -c "pcsc:$PCSC_READER: card inserted$" "$ALOG")" = "$1" ]; }
added() { [ "$(grep -c "pcsc:$PCSC_READER: reader added$" "$ALOG")" = "$1" ]; }
gone_with_pcscd() { removed 4 && agent_logged "pcsc:$PCSC_READER: reader removed"; }
removed() { [ "$(grep -c "pcsc:$PCSC_READER: card removed$" "$ALOG")" = "$1" ]; }
agent_alive() { kill -0 "$AGENT"; }
ping() { [ "$(build/e2e/ctl "$SOCK" PING)" = "OK sectagd 2" ]; }
stop_agent() { kill "$AGENT" && wait "$AGENT"; AGENT=; }
agent_waits() { grep -q epoll "/proc/$AGENT/wchan"; }
# Voluntary context switches of the agent's main thread (its event loop)
# and of all its threads (the PC/SC watch thread included).
main_switches() {
	awk '/^voluntary_ctxt_switches:/ { print $2 }' "/proc/$AGENT/status"
}
all_switches() {
	cat "/proc/$AGENT"/task/*/status |
		awk '/^voluntary_ctxt_switches:/ { s += $2 } END { print s }'
}
# Settled: no thread switched for half a second (the removal handled).
settled() {
	local s0
	s0=$(all_switches)
	sleep 0.5
	[ "$(all_switches)" = "$s0" ]
}
# Idle: the event loop never wakes. The watch thread blocks in
# SCardGetStatusChange; pcsc-lite's client wakes inside it whenever pcscd
# signals any reader event and waits again if nothing changed for us, so
# a stray switch there is pcscd's doing: busy polling would be dozens.
idle_quiet() {
	local m0 m1 s0 s1
	eventually 10 agent_waits && eventually 10 settled || return 1
	m0=$(main_switches)
	s0=$(all_switches)
	sleep 3		# the measurement window
	m1=$(main_switches)
	s1=$(all_switches)
	echo "# idle 3 s, no card: event loop $((m1 - m0)), PC/SC watch" \
		"$((s1 - s0 - m1 + m0)) voluntary switches" >&3
	[ "$m1" = "$m0" ] && [ $((s1 - s0)) -le 2 ]
}
verify() { $S verify --issuer-key "$W/issuer.key" --reader "$DEV" --timeout 20; }

echo "1..31"
echo "# $BACKEND_DESC"
exec 3>&1	# figures, past t's redirection
modprobe nfc 2>/dev/null
backend_start "$UID_T" >"$LOG" 2>&1 || bail "cannot start pcscd and the bridge"
t "pcscd lists the vpcd reader: sectag readers shows $DEV" pcsc_listed
t "sectag --json readers lists it as a PC/SC reader" json_lists
st "no tag on the reader: scan times out" 5 $S scan --reader "$DEV" --timeout 2
st "an unknown PC/SC reader is unavailable" 3 $S scan --reader "pcsc:nonesuch" --timeout 2

tag_place
t "scan over PC/SC: a virgin NTAG 424 with its UID (GET DATA)" scan_virgin
t "keygen" $S keygen "$W/issuer.key"
t "provision over PC/SC" $S provision --issuer-key "$W/issuer.key" \
	--reader "$DEV" --timeout 20
t "verify over PC/SC: genuine" verify
t "enroll over PC/SC (a label)" $S enroll --issuer-key "$W/issuer.key" \
	--store "$STORE" --reader "$DEV" --timeout 20 --name door

# --- the agent
tag_lift
# pcscd sees a lift on its next presence check (vpcd: every 400 ms); a
# card it still reports is a tap for an agent starting now.
eventually 10 pcsc_no_card
mkdir -p "${SOCK%/*}"
printf 'store = %s\nsocket = %s\nkey_timeout = 60\n' "$STORE" "$SOCK" >"$CONF"
drop_keys
t "sectagd starts and watches PC/SC readers" start_agent
t "the agent saw the reader" eventually 10 agent_logged "pcsc:$PCSC_READER: reader added"
tag_place
t "tap on the PC/SC reader: the key is in root's keyring" eventually 10 door_key
t "one insertion, one tap" inserted 1
tag_lift
t "lift: the agent logs the removal" eventually 10 removed 1
drop_keys
tag_place
t "placed again: a second tap releases the key again" eventually 10 door_key
t "two insertions seen" inserted 2
tag_lift
t "lifted again" eventually 10 removed 2
# Before any control connection: a closed one's idle deadline (3 s) may
# still fire once, and that is ctl.c's, not the idle PC/SC path's.
t "idle, no card: the event loop never wakes, the PC/SC watch at most twice in 3 s" idle_quiet
drop_keys
verify >"$W/verify.out" 2>&1 &
VPID=$!
t "while sectagd runs, verify borrows the reader" eventually 10 agent_logged "lent to pid"
tag_place
t "... and finds the tag genuine" wait "$VPID"
t "the tag presented to verify was no tap while lent" inserted 2
t "back from the borrow, the agent takes the card left there" eventually 10 door_key
tag_lift
t "... and sees it lifted" eventually 10 removed 3
drop_keys
tag_place
t "then a tap is a tap again" eventually 10 inserted 3
# The tap's end (its key), not its start, before pcscd goes: a tap cut
# short by pcscd leaves no card held, so no removal to see.
eventually 10 door_key
pcscd_stop
t "pcscd stopped: the card and the reader are gone for the agent" \
	eventually 10 gone_with_pcscd
t "... which lives on and answers" ping
pcscd_start >>"$LOG" 2>&1
t "pcscd back: the agent sees the reader plugged again" eventually 20 \
	added 2
drop_keys
tag_lift
eventually 10 pcsc_no_card
tag_place
t "a tap on the new pcscd releases the key" eventually 10 door_key
bridge_stop
t "bridge gone: the card is removed" eventually 10 removed 5
stop_agent >>"$LOG" 2>&1
pcscd_stop
# shellcheck disable=SC2119 # start_agent without a config line
start_ping() { start_agent && ping; }
t "without pcscd, sectagd starts and answers" start_ping
t "... and says why no PC/SC reader is watched" eventually 10 \
	agent_logged "pcscd is not running"
if [ "$failed" != 0 ]; then
	tail -n "${SECTAG_PCSC_LOG:-40}" "$ALOG" | sed 's/^/# agent: /'
	tail -n "${SECTAG_PCSC_LOG:-30}" "$PCSC_DIR/pcscd.log" | sed 's/^/# pcscd: /'
	tail -n "${SECTAG_PCSC_LOG:-30}" "$PCSC_DIR/bridge.log" | sed 's/^/# bridge: /'
fi
exit "$failed"
