#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The distribution's own pn533_usb/pn533 drivers, for real, in the VM, as
# root: tests/usb/pn533emu is a PN533 on dummy_hcd (USB gadget configfs +
# FunctionFS) with an NTAG 424 DNA engine behind it. The driver probes it
# and registers an nfcN; sectag scans the virgin tag through it, provisions
# and verifies it; a tag lifted mid-session fails the next exchange; a
# lifted tag is not found.
#
#   flock /tmp/sectag-vm.lock tests/vm/run --timeout 400 -- tests/e2e/pn533.sh
#
# TAP on stdout; the exit status is the number of failures.
# shellcheck disable=SC2317 # helpers are called through t/st
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh

UID_T=04E53300000001
EMU=build/usb/pn533emu
EPID=
DEV=

cleanup() {
	if [ -n "$EPID" ]; then
		kill "$EPID" 2>/dev/null
		wait "$EPID" 2>/dev/null
		tail -n "${SECTAG_PN533EMU_LOG:-5}" "$W/emu.log" | sed 's/^/# /'
	fi
	rm -rf "$W"
}
trap cleanup EXIT

# The nfcN whose parent is bound to pn533_usb, if any.
pn533_dev() {
	local d drv
	for d in /sys/class/nfc/nfc*; do
		[ -e "$d" ] || continue
		drv=$(readlink "$d/device/driver" 2>/dev/null) || continue
		[ "${drv##*/}" = pn533_usb ] || continue
		DEV=${d##*/}
		return 0
	done
	return 1
}
emu_ready() { grep -qx ready "$W/emu.out"; }
scan_json() { $S --json scan --reader "$DEV" --timeout "$1" >"$W/scan" 2>>"$LOG"; }
scanned() { # FIELD VALUE: the last scan printed "FIELD":"VALUE"
	[ "$(json_str "$1" "$(cat "$W/scan")")" = "$2" ]
}
scan_virgin() { scan_json 60 && scanned uid "$UID_T" && scanned state virgin; }
fw_logged() { dmesg | grep -q "NXP PN533 firmware ver 2.7"; }
listed() { $S readers | grep -q "^$DEV "; }
lifts() { grep -c 'tag lifted$' "$W/emu.log"; }
# A session on a new target; the tag lifted before its second exchange,
# which must fail (InDataExchange answers status 01h, timeout).
lift_mid_session() {
	local lm lifted rc=0
	mkfifo "$W/in" || return 1
	build/e2e/liftmid "${DEV#nfc}" <"$W/in" >"$W/lm.out" &
	lm=$!
	exec 3>"$W/in"
	if eventually 60 grep -qx selected "$W/lm.out"; then
		lifted=$(lifts)
		kill -USR2 "$EPID"
		# A signal: the emulator lifts the tag when it gets to it.
		eventually 10 test "$(lifts)" -gt "$lifted"
		echo go >&3
	fi
	exec 3>&-
	wait "$lm" || rc=$?
	cat "$W/lm.out"
	return "$rc"
}

echo "1..11"
for m in dummy_hcd libcomposite usb_f_fs pn533_usb; do
	modprobe "$m" || bail "cannot load $m"
done
# SECTAG_PN533EMU_VERBOSE=1: every frame in the emulator's log, whose
# last SECTAG_PN533EMU_LOG lines (5) are shown at the end.
$EMU --uid $UID_T ${SECTAG_PN533EMU_VERBOSE:+--verbose} >"$W/emu.out" 2>"$W/emu.log" &
EPID=$!
t "emulator bound to dummy_udc.0" eventually 30 emu_ready
t "pn533_usb probed it and registered an NFC device" eventually 60 pn533_dev
[ -n "$DEV" ] || bail "no pn533 device"
t "the driver read the firmware version" fw_logged
t "sectag readers lists $DEV" listed
st "no tag on the reader: scan times out" 5 \
	$S scan --reader "$DEV" --timeout 2

kill -USR1 "$EPID"
t "scan through pn533: a virgin NTAG 424 with its UID" scan_virgin
t "keygen" $S keygen "$W/issuer.key"
t "provision through pn533" $S provision --issuer-key "$W/issuer.key" \
	--reader "$DEV" --timeout 60
t "verify through pn533: genuine" $S verify --issuer-key "$W/issuer.key" \
	--reader "$DEV" --timeout 60

t "tag lifted mid-session: the next exchange fails" lift_mid_session
st "tag lifted: scan times out" 5 $S scan --reader "$DEV" --timeout 3
exit "$failed"
