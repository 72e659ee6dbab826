# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Reader backend for tests/e2e/story.sh (sourced after lib.sh): the
# distribution's own pn533_usb/pn533 drivers bound to tests/usb/pn533emu,
# a PN533 emulated on dummy_hcd through USB gadget configfs and FunctionFS,
# with one NTAG 424 DNA (our engine) behind its firmware. The tag is placed
# and lifted with SIGUSR1 and SIGUSR2. No nfc_sectag reader is involved.
# SECTAG_PN533EMU_VERBOSE=1 logs every frame; the emulator's last
# SECTAG_PN533EMU_LOG (5) log lines are shown when it stops.
# shellcheck disable=SC2317 # called by story.sh

# shellcheck disable=SC2034 # story.sh's
BACKEND_DESC="Debian's pn533_usb/pn533 drivers on an emulated PN533 (tests/usb/pn533emu: dummy_hcd, FunctionFS)"
EMU_PID=

backend_start() {	# UID14HEX
	local m
	for m in dummy_hcd libcomposite usb_f_fs pn533_usb; do
		modprobe "$m" || return 1
	done
	build/usb/pn533emu --uid "$1" ${SECTAG_PN533EMU_VERBOSE:+--verbose} \
		>"$W/emu.out" 2>"$W/emu.log" &
	EMU_PID=$!
	eventually 30 grep -qx ready "$W/emu.out" &&
		eventually 60 nfc_dev_of pn533_usb &&
		eventually 30 pn533_listed
}
pn533_listed() { $S readers | grep -q "^$DEV "; }
tag_place() { kill -USR1 "$EMU_PID"; }
tag_lift() { kill -USR2 "$EMU_PID"; }
backend_stop() {
	[ -n "$EMU_PID" ] || return 0
	kill "$EMU_PID" 2>/dev/null
	wait "$EMU_PID" 2>/dev/null
	EMU_PID=
	tail -n "${SECTAG_PN533EMU_LOG:-5}" "$W/emu.log" | sed 's/^/# pn533emu: /'
}
