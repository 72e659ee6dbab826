#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The distribution's own NCI core (nci.ko: the stack of laptops' built-in
# NXP readers), for real, in the VM, as root: virtual_ncidev.ko (built
# from linux-source, Debian does not enable it) with tests/nci/ncidevemu,
# an NCI 1.0 controller with an NTAG 424 DNA engine in its field, behind
# it (tests/e2e/backend-nci.sh). The core registers an nfcN; sectag scans
# the virgin tag through it, provisions and verifies it; a tag lifted
# mid-session fails the next exchange (CORE_INTERFACE_ERROR_NTF, RF
# timeout); a lifted tag is not found; placed again it works. sectagd: a
# tap releases the key; a tag held for 10 s is one tap; the agent's own
# presence check notices the lift (the NCI core has no check_presence,
# so no TARGET_LOST ever comes) and the next placement is a second tap.
#
#   flock /tmp/sectag-vm.lock tests/vm/run --timeout 600 -- tests/e2e/nci.sh
#
# TAP on stdout; the exit status is the number of failures.
# shellcheck disable=SC2317 # helpers are called through t/st
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh
. tests/e2e/backend-nci.sh

UID_T=044E4349000001
STORE=$W/store
CONF=$W/sectagd.conf
SOCK=/run/sectag-e2e.$$/sock
ALOG=$W/agent.log
HOLD_S=10
LIMIT_MS=5000		# removal noticed within this (TCG is slow)
DEV=
AGENT=

cleanup() {
	[ -z "$AGENT" ] || { kill "$AGENT" 2>/dev/null; wait "$AGENT"; }
	backend_stop
	drop_keys
	rm -rf "$W" "${SOCK%/*}"
}
trap cleanup EXIT

scan_json() { $S --json scan --reader "$DEV" --timeout "$1" >"$W/scan" 2>>"$LOG"; }
scanned() { # FIELD VALUE: the last scan printed "FIELD":"VALUE"
	[ "$(json_str "$1" "$(cat "$W/scan")")" = "$2" ]
}
scan_virgin() { scan_json 60 && scanned uid "$UID_T" && scanned state virgin; }
listed() { $S readers | grep -q "^$DEV "; }
rf_timeouts() { grep -c 'RF_TIMEOUT_ERROR' "$W/nci.log"; }
lifts() { grep -c 'tag lifted$' "$W/nci.log"; }
# A session on a new target; the tag lifted before its second exchange,
# which must fail: the controller answers RF_TIMEOUT_ERROR, the core
# completes the exchange with EIO.
lift_mid_session() {
	local lm lifted rc=0
	mkfifo "$W/in" || return 1
	build/e2e/liftmid "${DEV#nfc}" <"$W/in" >"$W/lm.out" &
	lm=$!
	exec 3>"$W/in"
	if eventually 60 grep -qx selected "$W/lm.out"; then
		lifted=$(lifts)
		tag_lift
		# A signal: the emulator lifts the tag when it gets to it.
		eventually 10 test "$(lifts)" -gt "$lifted"
		echo go >&3
	fi
	exec 3>&-
	wait "$lm" || rc=$?
	cat "$W/lm.out"
	[ "$rc" = 0 ] && [ "$(rf_timeouts)" -ge 1 ]
}

# --- sectagd
taps() { grep -c ': released$' "$ALOG"; }
removals() { grep -c ": $DEV: tag removed\$" "$ALOG"; }
ms() { echo $(($(date +%s%N) / 1000000)); }
name_key() { key_serial logon sectag:name:nci; }
removed_soon() {
	local end=$(($(ms) + 30000))
	until [ "$(removals)" -ge "$1" ]; do
		[ "$(ms)" -lt "$end" ] || return 1
		sleep 0.02
	done
}
enroll_name() {
	$S enroll --issuer-key "$W/issuer.key" --store "$STORE" \
		--reader "$DEV" --timeout 60 --name nci
}
agent_conf() {
	cat >"$CONF" <<-EOC
	# written by tests/e2e/nci.sh
	store = $STORE
	socket = $SOCK
	EOC
}

echo "1..21"
echo "# $BACKEND_DESC"
# SECTAG_NCIEMU_VERBOSE=1: every NCI frame in the emulator's log.
t "NCI core and virtual_ncidev loaded, emulator answering" backend_start "$UID_T"
[ -n "$DEV" ] || bail "no NCI device"
echo "# NCI device $DEV"
t "the NCI core registered $DEV, listed by sectag readers" listed
st "no tag in the field: scan times out" 5 \
	$S scan --reader "$DEV" --timeout 2

tag_place
t "scan through the NCI core: a virgin NTAG 424 with its UID" scan_virgin
t "keygen" $S keygen "$W/issuer.key"
t "provision through the NCI core" $S provision --issuer-key "$W/issuer.key" \
	--reader "$DEV" --timeout 60
t "verify through the NCI core: genuine" $S verify \
	--issuer-key "$W/issuer.key" --reader "$DEV" --timeout 60

t "tag lifted mid-session: the next exchange fails (RF timeout -> EIO)" \
	lift_mid_session
st "tag lifted: scan times out" 5 $S scan --reader "$DEV" --timeout 3
tag_place
t "placed again: verify works" $S verify --issuer-key "$W/issuer.key" \
	--reader "$DEV" --timeout 60
t "enrol the tag (a label binding)" enroll_name
tag_lift

# --- the agent, with only its own presence checks on this reader
agent_conf
drop_keys
t "sectagd starts" start_agent
tag_place
t "agent tap: the label's key in root's keyring" eventually 30 name_key
sleep "$HOLD_S"		# the hold itself is what is tested
t "held ${HOLD_S} s: one tap" output_is 1 taps
t "held: not taken for a removal" output_is 0 removals
tag_lift
T0=$(ms)
removed_soon 1
LAT=$(($(ms) - T0))
echo "# removal noticed ${LAT} ms after the lift (bound ${LIMIT_MS} ms)"
t "lifted: the agent's presence check notices" output_is 1 removals
t "removal within the bound" test "$LAT" -lt "$LIMIT_MS"
drop_keys
tag_place
t "placed again: a second tap" becomes 30 2 taps
t "second tap: the key again" eventually 10 name_key
tag_lift
t "lifted again: a second removal" becomes 30 2 removals

kill "$AGENT"
wait "$AGENT"
RC=$?
AGENT=
t "sectagd stops cleanly" test "$RC" = 0
[ "$failed" = 0 ] || tail -n 60 "$ALOG" | sed 's/^/# agent: /'
exit "$failed"
