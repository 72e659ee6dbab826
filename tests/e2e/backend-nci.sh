# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# The reader backend "nci" (the contract: tests/e2e/story.sh): the
# distribution's own NCI core (nci.ko, the stack of laptops' built-in
# NXP readers) driving virtual_ncidev.ko (built from linux-source by
# make tests: Debian does not enable it), behind which tests/nci/ncidevemu
# is an NCI 1.0 controller with one NTAG 424 DNA (our engine) in its
# field. Sourced after tests/e2e/lib.sh (for W and eventually).
#
# SECTAG_NCIEMU_VERBOSE=1: every NCI frame in the emulator's log, whose
# last SECTAG_NCIEMU_LOG lines (5) are shown when the backend stops.

# shellcheck disable=SC2034 # for the sourcing suite
BACKEND_DESC="the real NCI core (nci.ko) on virtual_ncidev.ko, answered by tests/nci/ncidevemu (an NCI 1.0 controller, NTAG 424 DNA engine)"
NCI_EMU=build/nci/ncidevemu
NCI_KO=build/nci/virtual_ncidev.ko
NCI_PID=
NCI_LOADED=

nci_ready() { grep -qx ready "$W/nci.out"; }

backend_start() {	# UID14HEX
	modprobe nci || return 1
	if [ ! -e /sys/module/virtual_ncidev ]; then
		insmod "$NCI_KO" || return 1
		NCI_LOADED=1
	fi
	eventually 10 test -c /dev/virtual_nci || return 1
	$NCI_EMU --uid "$1" ${SECTAG_NCIEMU_VERBOSE:+--verbose} ${NCI_EMU_ARGS:+"$NCI_EMU_ARGS"} \
		>"$W/nci.out" 2>"$W/nci.log" &
	NCI_PID=$!
	eventually 30 nci_ready || return 1
	DEV=$(head -n 1 "$W/nci.out")
	[ -e "/sys/class/nfc/$DEV" ]
}

tag_place() { kill -USR1 "$NCI_PID"; }
tag_lift() { kill -USR2 "$NCI_PID"; }

backend_stop() {
	if [ -n "$NCI_PID" ]; then
		kill "$NCI_PID" 2>/dev/null
		wait "$NCI_PID" 2>/dev/null
		NCI_PID=
		tail -n "${SECTAG_NCIEMU_LOG:-5}" "$W/nci.log" 2>/dev/null |
			sed 's/^/# /'
	fi
	if [ -n "$NCI_LOADED" ]; then
		rmmod virtual_ncidev 2>/dev/null
		NCI_LOADED=
	fi
	return 0
}
