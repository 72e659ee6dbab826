# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Reader backend for tests/e2e/story.sh (sourced after lib.sh): our
# nfc_sectag module's virtual reader with one simulated NTAG 424 DNA. The
# contract (backend_start, tag_place, tag_lift, backend_stop,
# BACKEND_DESC) is in story.sh.
# shellcheck disable=SC2317 # called by story.sh

# shellcheck disable=SC2034 # story.sh's
BACKEND_DESC="nfc_sectag's virtual reader (sectag sim) with a simulated NTAG 424 DNA"
VREADER=
VTAG=

backend_start() {	# UID14HEX
	local r
	r=$($S --json sim reader add) || return 1
	VREADER=$(json_num id "$r")
	DEV=$(json_str device "$r")
	[ -n "$VREADER" ] && [ -n "$DEV" ] || return 1
	VTAG=$(new_tag "$1") && [ -n "$VTAG" ] || return 1
	eventually 10 test -e "/sys/class/nfc/$DEV"
}
tag_place() { $S sim tag place "$VTAG" "$VREADER" >/dev/null; }
# Removing the tag from the field power-cycles it; its files stay.
tag_lift() { $S sim tag remove "$VTAG" >/dev/null 2>&1 || true; }
backend_stop() {
	[ -z "$VREADER" ] || $S sim reader del "$VREADER" >/dev/null 2>&1
	VREADER=
}
