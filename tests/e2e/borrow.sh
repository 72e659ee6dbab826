#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# One owner per reader, in the VM, as root: with sectagd running, the
# CLI's tag verbs (scan, provision, enroll, verify) borrow the reader
# from the agent (BORROW/RETURN on its socket) instead of failing with
# EBUSY, and the agent polls again afterwards (a tap releases a key); a
# borrow from another user is refused; a CLI killed with SIGKILL in the
# middle of a borrow gives the reader back; a second borrower is told the
# reader is in use; `sectag status` (text and --json) shows the reader,
# the agent and the enrolments, and exits 1 when neard runs.
#
#   flock /tmp/sectag-vm.lock tests/vm/run --timeout 600 -- tests/e2e/borrow.sh
#
# TAP on stdout; the exit status is the number of failures.
# shellcheck disable=SC2317
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh

STORE=$W/store
CONF=$W/sectagd.conf
SOCK=/run/sectag-e2e.$$/sock
ALOG=$W/agent.log
UID_U=04B0000000000B
AGENT=
BG=
NEARD=

cleanup() {
	local p
	for p in "$AGENT" "$BG" "$NEARD"; do
		[ -z "$p" ] || { kill "$p" && wait "$p"; } 2>/dev/null
	done
	rm -rf "$W" "${SOCK%/*}"
}
trap cleanup EXIT

# The CLI finds the agent through this (default /run/sectag/sectagd.sock).
export SECTAG_AGENT_SOCKET=$SOCK

ctl() {	# [--as UID] REQUEST
	local as=
	if [ "$1" = --as ]; then
		as="setpriv --reuid=$2 --regid=$2 --clear-groups"
		shift 2
	fi
	$as build/e2e/ctl "$SOCK" "$1"
}
answers() {	# WANT [--as UID] REQUEST
	local want=$1 out
	shift
	out=$(ctl "$@")
	echo "$out"
	[ "$out" = "$want" ]
}
# How many lines of the agent's log match PATTERN.
logged_n() { grep -c -- "$1" "$ALOG"; }
logged_more() { [ "$(logged_n "$1")" -gt "$2" ]; }
alice_key() { key_serial logon sectag:user:alice; }

setup_all() {
	setup_reader || return 1
	IDX=${DEV#nfc}
	$S keygen "$W/issuer.key" || return 1
	id alice >/dev/null 2>&1 || useradd -M alice || return 1
	U=$(new_tag $UID_U) || return 1
	mkdir -p "${SOCK%/*}"
	cat >"$CONF" <<-EOC
	# written by tests/e2e/borrow.sh
	store = $STORE
	socket = $SOCK
	key_timeout = 30
	EOC
}

echo "# work directory $W"
setup_all >"$LOG" 2>&1 || bail "setup failed"
echo "# reader $DEV (index $IDX), tag $U, socket $SOCK"

t agent_starts start_agent

# --- every tag verb with the agent watching the reader (a tag on it)
tap "$U"
t agent_holds_the_tag eventually 10 agent_logged "$UID_U"
# Without borrowing (an agent the CLI does not know of): EBUSY, and who.
unborrowed_scan() {
	local rc=0
	SECTAG_AGENT_SOCKET=$W/nowhere $S scan --reader "$DEV" --timeout 10 \
		2>"$W/busy.log" || rc=$?
	cat "$W/busy.log"
	[ "$rc" = 1 ] && grep -q "Device or resource busy" "$W/busy.log" &&
		grep -q "(sectagd) uid 0" "$W/busy.log" &&
		grep -q "sectagd holds it: .*stop sectagd" "$W/busy.log"
}
t unborrowed_scan_says_sectagd_holds_it unborrowed_scan
t scan_borrows_the_reader $S scan --reader "$DEV" --timeout 10
t scan_was_lent_by_the_agent agent_logged "nfc$IDX: lent to pid"
t provision_with_agent_running $S provision --issuer-key "$W/issuer.key" \
	--reader "$DEV" --timeout 10
t verify_with_agent_running $S verify --issuer-key "$W/issuer.key" \
	--reader "$DEV" --timeout 10
drop_keys
t enroll_with_agent_running $S enroll --issuer-key "$W/issuer.key" \
	--store "$STORE" --reader "$DEV" --timeout 10 --user alice
t every_borrow_returned eventually 10 \
	test "$(logged_n "nfc$IDX: lent to pid")" = "$(logged_n "nfc$IDX: borrow by pid [0-9]* ended (returned)")"

# --- the agent polls again: a tap releases alice's key
drop_keys
untap
tap "$U"
t agent_resumes_tap_releases_key eventually 15 alice_key

# --- who may borrow
t nobody_may_not_borrow answers "FAIL denied" --as 65534 "BORROW nfc$IDX 1000"
t nobody_may_not_ask_status answers "FAIL denied" --as 65534 STATUS
t borrow_without_reader_number_refused answers "FAIL bad-request" "BORROW nfc 1000"
t borrow_forever_refused answers "FAIL bad-request" "BORROW nfc$IDX 0"
state_has() {	# WORD: root's STATUS answer lists it
	local out
	out=$(ctl STATUS)
	echo "$out"
	[[ $out == "STATE 0 "* ]] && [[ " $out " == *" $1 "* ]]
}
t root_status_lists_the_reader eventually 10 state_has "nfc$IDX=tag"

# --- status
status_text() {
	local out
	out=$($S status --store "$STORE") || return 1
	echo "$out"
	grep -q "^  $DEV .*driver nfc_sectag (virtual)  powered  .*agent: " <<<"$out" &&
		grep -q "^agent: running, protocol 2, 0 pending request(s)" <<<"$out" &&
		grep -q "^enrolments: 1 (luks 0, user 1, name 0)" <<<"$out" &&
		grep -q "^status: healthy" <<<"$out"
}
t status_text_healthy status_text
status_json() {
	local out
	out=$($S --json status --store "$STORE") || return 1
	echo "$out"
	jq -e --arg dev "$DEV" '.healthy == true and .agent.running == true and
		.agent.protocol == 2 and .agent.pending == 0 and
		.enrolments.total == 1 and .enrolments.user == 1 and
		.conflicts.neard == 0 and .problems == [] and
		([.readers[] | select(.name == $dev and .driver == "nfc_sectag"
			and .virtual and .powered and .borrowed == false)]
			| length == 1)' <<<"$out"
}
t status_json_valid_and_healthy status_json
# Every control character escaped (none left raw, as JSON requires):
# the value comes back byte for byte.
status_escapes() {
	local odd=$W/$'a\x01b\tc"d\\e\x7f\x1f' out
	out=$($S --json status --store "$odd") || true
	echo "$out"
	! LC_ALL=C grep -qP '[\x00-\x1f]' <<<"$out" &&
		[ "$(jq -r .enrolments.store <<<"$out")" = "$odd" ]
}
t status_json_escapes_control_characters status_escapes
st status_usage_error 2 $S status --bogus

# --- a CLI killed in the middle of a borrow gives the reader back
drop_keys
untap
ended=$(logged_n "nfc$IDX: borrow by pid [0-9]* ended (connection closed)")
$S scan --reader "$DEV" --timeout 60 >"$W/bg.log" 2>&1 &
BG=$!
t waiting_cli_borrowed eventually 15 agent_logged "nfc$IDX: lent to pid $BG "
borrowed_json() {
	$S --json status --store "$STORE" | tee /dev/stderr |
		jq -e --arg dev "$DEV" '.readers[] | select(.name == $dev) |
			.borrowed == true and .agent == "borrowed"'
}
t status_shows_borrowed borrowed_json
second_borrower() {
	local rc=0
	$S scan --reader "$DEV" --timeout 2 2>"$W/second.log" || rc=$?
	cat "$W/second.log"
	[ "$rc" = 3 ] && grep -q "nfc$IDX is in use by another sectag command (uid 0)" "$W/second.log"
}
t second_borrower_told_in_use second_borrower
kill -9 "$BG"
wait "$BG" 2>/dev/null
BG=
t killed_cli_borrow_ended eventually 15 logged_more \
	"nfc$IDX: borrow by pid [0-9]* ended (connection closed)" "$ended"
tap "$U"
t tap_after_killed_cli_releases_key eventually 20 alice_key

# --- conflicts: a process named neard
cp /bin/sleep "$W/neard"
"$W/neard" 120 &
NEARD=$!
status_neard() {
	local rc=0
	$S status --store "$STORE" >"$W/neard.log" || rc=$?
	cat "$W/neard.log"
	[ "$rc" = 1 ] && grep -q "^problem: neard is running (pid $NEARD)" "$W/neard.log" &&
		grep -q "^status: 1 problem(s)" "$W/neard.log"
}
t status_exit_1_names_neard status_neard
neard_json() {
	$S --json status --store "$STORE" | tee /dev/stderr |
		jq -e --argjson p "$NEARD" '.healthy == false and
			.conflicts.neard == $p and (.problems | length) == 1'
}
t status_json_names_neard neard_json
kill -9 "$NEARD"
wait "$NEARD" 2>/dev/null
NEARD=
t status_healthy_again $S status --store "$STORE"

t agent_still_alive kill -0 "$AGENT"
echo "# $SECONDS s"
echo "1..$n"
exit "$failed"
