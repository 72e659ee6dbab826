# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Reader backend (see the contract in tests/e2e/story.sh): PC/SC for real.
# pcscd (Debian's) with the vsmartcard-vpcd driver, whose virtual reader
# has tests/pcsc/vpcdbridge's NTAG 424 DNA engine behind it: libsectag ->
# libpcsclite -> pcscd -> vpcd -> the tag. pcscd runs on a private
# reader.conf.d (one vpcd reader on PCSC_PORT), so that the suite can
# unplug the reader (pcsc_unplug) and nothing of the host's is used.
# Sourced after tests/e2e/lib.sh.
# shellcheck disable=SC2317,SC2034 # functions and variables are the suites'

# PC/SC readers have no /sys/class/nfc device: sectagd sends no uevents.
BACKEND_UEVENTS=0
BACKEND_DESC="PC/SC: pcscd + vsmartcard-vpcd, an NTAG 424 DNA engine behind tests/pcsc/vpcdbridge"
PCSC_PORT=${PCSC_PORT:-35963}
PCSC_NAME="sectag vpcd"
# vpcd exposes two slots per port; the bridge talks to the first.
PCSC_READER="$PCSC_NAME 00 00"
PCSC_DIR=
PCSCD_PID=
BRIDGE_PID=

pcsc_listed() { $S readers 2>/dev/null | grep -qF "pcsc:$PCSC_READER "; }
pcsc_no_card() { $S readers 2>/dev/null | grep -qF "pcsc:$PCSC_READER  (PC/SC)  no card"; }

pcsc_conf() {
	mkdir -p "$PCSC_DIR/conf.d" || return 1
	cat >"$PCSC_DIR/conf.d/sectag-vpcd" <<-EOC
	FRIENDLYNAME "$PCSC_NAME"
	DEVICENAME   /dev/null:$PCSC_PORT
	LIBPATH      /usr/lib/pcsc/drivers/serial/libifdvpcd.so
	CHANNELID    $PCSC_PORT
	EOC
}

# pcscd in the foreground (no auto-exit), on our configuration only.
pcscd_start() {
	[ -n "$PCSC_DIR" ] || PCSC_DIR=$(mktemp -d /tmp/sectag-pcsc.XXXXXX)
	pcsc_conf || return 1
	# SECTAG_PCSC_DEBUG=1: pcscd logs every APDU, the bridge every control.
	pcscd --foreground --config "$PCSC_DIR/conf.d" \
		${SECTAG_PCSC_DEBUG:+--debug --apdu} \
		>>"$PCSC_DIR/pcscd.log" 2>&1 &
	PCSCD_PID=$!
	eventually 30 pcsc_listed
}

pcscd_stop() {
	[ -n "$PCSCD_PID" ] || return 0
	kill "$PCSCD_PID" 2>/dev/null
	wait "$PCSCD_PID" 2>/dev/null
	PCSCD_PID=
}

# The reader unplugged, for real as pcscd sees it: its configuration
# removed and pcscd told to re-read it (pcscd --hotplug).
pcsc_unplug() {
	rm -f "$PCSC_DIR/conf.d/sectag-vpcd" && pcscd --hotplug
}

bridge_start() { # UID14HEX
	build/pcsc/vpcdbridge --uid "$1" --port "$PCSC_PORT" \
		${SECTAG_PCSC_DEBUG:+--verbose} \
		>"$PCSC_DIR/bridge.out" 2>>"$PCSC_DIR/bridge.log" &
	BRIDGE_PID=$!
	eventually 10 grep -qx ready "$PCSC_DIR/bridge.out"
}

bridge_stop() {
	[ -n "$BRIDGE_PID" ] || return 0
	kill "$BRIDGE_PID" 2>/dev/null
	wait "$BRIDGE_PID" 2>/dev/null
	BRIDGE_PID=
}

backend_start() { # UID14HEX
	pcscd_start || return 1
	bridge_start "$1" || return 1
	DEV="pcsc:$PCSC_READER"
}

tag_place() { kill -USR1 "$BRIDGE_PID"; }
tag_lift() { kill -USR2 "$BRIDGE_PID"; }

backend_stop() {
	bridge_stop
	pcscd_stop
	if [ -n "$PCSC_DIR" ]; then
		tail -n 3 "$PCSC_DIR/bridge.log" 2>/dev/null | sed 's/^/# /'
		rm -rf "$PCSC_DIR"
		PCSC_DIR=
	fi
	return 0
}
