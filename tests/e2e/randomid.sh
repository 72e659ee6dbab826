#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Random ID end to end, in the VM, as root: a tag issued with
# `provision --random-id` hides its UID, is verified and enrolled through
# the issuer's identification key, and the agent recognises it with at
# most two authentications; a device claiming an all-zero UID costs one
# bounded attempt, a stalling one no more than the per-tap time budget;
# 20 Random ID tags enrolled and a storm of taps (1000 by default): no
# genuine tag's failed-authentication counter grows; a reader held by
# someone else's raw socket is logged with who holds it.
#
#   flock /tmp/sectag-vm.lock tests/vm/run --timeout 600 -- tests/e2e/randomid.sh
#
# SECTAG_E2E_RID_TAPS scales the storm. TAP on stdout; the exit status is
# the number of failures.
# shellcheck disable=SC2317
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh

STORE=$W/store
CONF=$W/sectagd.conf
SOCK=/run/sectag-e2e.$$/sock
ALOG=$W/agent.log
TAPS=${SECTAG_E2E_RID_TAPS:-1000}
NTAGS=20
XTIMEOUT=500		# exchange_timeout_ms: the budget is 4 x this
UID_R=04C0FFEE000001
AGENT=
# One agent log for all its runs: the storm checks count every tap.
AGENT_LOG_APPEND=1

cleanup() {
	[ -z "$AGENT" ] || kill -CONT "$AGENT" 2>/dev/null
	[ -z "$AGENT" ] || kill "$AGENT" 2>/dev/null
	[ -z "${HOLDER:-}" ] || kill "$HOLDER" 2>/dev/null
	rm -rf "$W" "${SOCK%/*}"
}
trap cleanup EXIT

# Failed authentications the simulator counts for tag $1.
fails() {
	local j
	j=$($S --json sim tag list | grep -o "{\"id\":$1,[^}]*}")
	json_num failed_auths "$j"
}
# The last "tap:" debug line of the agent: "N authentication(s), F frame(s),
# key(s) in U us at T, M ms".
last_tap() { grep 'tap: ' "$ALOG" | tail -n 1; }
tap_lines() { grep -c 'tap: ' "$ALOG"; }
field() { sed -n "s/.* \([0-9]*\) $1.*/\1/p" <<<"$2"; }

setup_all() {
	setup_reader || return 1
	NFC=${DEV#nfc}
	$S keygen "$W/issuer.key" && $S keygen "$W/other.key" || return 1
	cat >"$CONF" <<-EOC
	# written by tests/e2e/randomid.sh
	store = $STORE
	socket = $SOCK
	key_timeout = 60
	exchange_timeout_ms = $XTIMEOUT
	EOC
}

provision_rid() {	# TAG KEY: its output also in $W/prov.out
	tap "$1" && $S provision --random-id --yes --issuer-key "$2" \
		--reader "$DEV" --timeout 10 >"$W/prov.out" 2>&1
	local rc=$?
	cat "$W/prov.out"
	return "$rc"
}
stop_agent() {
	kill "$AGENT" && wait "$AGENT"
	local rc=$?
	AGENT=
	return "$rc"
}

echo "# work directory $W"
T0=$(date +%s)
mark() { echo "# at $(($(date +%s) - T0)) s: $1"; }
setup_all >"$LOG" 2>&1 || bail "setup failed"

# --- one tag, issued with Random ID
R=$(new_tag $UID_R)
t provision_random_id provision_rid "$R" "$W/issuer.key"
t provision_said_random_id grep -q "enabling Random ID" "$W/prov.out"
t tag_has_random_id eventually 5 sh -c "$S --json sim tag list | grep -q '\"id\":$R,[^}]*\"random_id\":true'"
hides_uid() {
	local j
	tap "$R" && j=$($S --json scan --reader "$DEV" --timeout 10) || return 1
	echo "$j"
	[ "$(json_str uid "$j")" = 00000000000000 ] &&
		grep -q '"random_id":true' <<<"$j"
}
t scan_without_key_shows_no_uid hides_uid
scan_finds_uid() {
	local j
	tap "$R" && j=$($S --json scan --issuer-key "$W/issuer.key" \
		--reader "$DEV" --timeout 10) || return 1
	echo "$j"
	[ "$(json_str uid "$j")" = "$UID_R" ] &&
		[ "$(json_str state "$j")" = issued ] &&
		grep -q '"verified":true' <<<"$j" &&
		grep -q '"ident_key":true' <<<"$j"
}
t scan_with_issuer_key_finds_real_uid scan_finds_uid
verify_rid() {
	tap "$R" && $S verify --issuer-key "$W/issuer.key" --reader "$DEV" \
		--timeout 10 | tee /dev/stderr | grep -q "^genuine $UID_R"
}
t verify_random_id_tag verify_rid
st verify_with_other_issuer_refused 4 sh -c "$S sim tag remove $R; $S sim tag place $R $RID &&
	$S verify --issuer-key $W/other.key --reader $DEV --timeout 10"
ON=$R
F0=$(fails "$R")
echo "# the refused verify counted $F0 failed authentication(s) on the tag itself"
t enroll_random_id_tag enroll "$R" --name rid0
t store_keeps_identification_key grep -q '^ident-key [0-9a-f]\{32\}$' "$STORE"
t store_is_version_2 grep -qx 'sectag-store 2' "$STORE"
t store_has_no_issuer_key not grep -q "$(cat "$W/issuer.key")" "$STORE"
untap

mark "CLI done"
# --- the agent: two authentications, a key in the keyring
t agent_starts start_agent
tap "$R"
t random_id_tap_releases_key eventually 20 key_serial logon sectag:name:rid0
LINE=$(last_tap)
echo "# agent: $LINE"
t random_id_tap_two_authentications test "$(field 'authentication' "$LINE")" = 2
t random_id_tap_no_failure test "$(fails "$R")" -le "$F0"
untap

# --- a device claiming an all-zero UID: one bounded attempt
zero_uid() {	# [DELAY_MS]: runs the relay, its result line in $ZOUT
	local n
	n=$(tap_lines)
	ZOUT=$(build/e2e/zerouid "$RID" "$@") || return 1
	echo "$ZOUT"
	exceeds 20 "$n" tap_lines
}
t zero_uid_device_tapped zero_uid
echo "# relay: $(tail -n 1 <<<"$ZOUT"); agent: $(last_tap)"
t zero_uid_costs_one_authentication grep -q 'auths=1 ' <<<"$ZOUT"
t zero_uid_agent_counted_one test "$(field 'authentication' "$(last_tap)")" = 1
t zero_uid_refused_clearly eventually 10 agent_logged "refused: Random ID tag refused the identification key"
BUDGET=$((4 * XTIMEOUT))
t stalling_device_tapped zero_uid $((XTIMEOUT * 4 / 5))
LINE=$(last_tap)
MS=$(sed -n 's/.* \([0-9]*\) ms$/\1/p' <<<"$LINE")
echo "# stalling relay: $(tail -n 1 <<<"$ZOUT"); agent: $LINE (budget $BUDGET ms)"
t stalling_device_at_most_one_authentication test "$(field 'authentication' "$LINE")" -le 1
t stalling_device_within_time_budget test "$MS" -le $((BUDGET + XTIMEOUT))
t stalling_device_few_frames test "$(field 'frame' "$LINE")" -le 6
drop_keys
tap "$R"
t agent_works_after_hostile_devices eventually 20 key_serial logon sectag:name:rid0
untap

mark "hostile devices done"
# --- 20 Random ID tags, a foreign Random ID tag, a storm of taps
TAGS=()
# The CLI's provision and enroll were tested above with tag R; for the
# other twenty, one process does the same (a process start per tag is
# slow under emulation).
enroll_many() {
	untap
	mapfile -t TAGS < <(build/e2e/ridmany "$RID" "$NFC" "$W/issuer.key" \
		"$STORE" "$NTAGS" 04C10000) && [ "${#TAGS[@]}" = "$NTAGS" ]
}
# The agent would take every tag presented for enrolment: stop it meanwhile.
t agent_stops_for_enrolment stop_agent
SECONDS=0
t enroll_20_random_id_tags enroll_many
echo "# 20 Random ID tags provisioned and enrolled in ${SECONDS} s"
FOREIGN=$(new_tag 04F0000000000F)
t foreign_random_id_tag provision_rid "$FOREIGN" "$W/other.key"
untap
t agent_restarts start_agent
t store_lists_21_bindings test "$($S --json list --store "$STORE" | grep -o '"id":' | wc -l)" = 21
before=()
for tg in "$R" "${TAGS[@]}"; do before+=("$(fails "$tg")"); done
N0=$(tap_lines)
SECONDS=0
t storm_of_taps build/e2e/taps "$RID" "$TAPS" "$R" "${TAGS[@]}" "$FOREIGN"
grep '^#' "$LOG"
drop_keys
tap "${TAGS[0]}"
t agent_drains_storm eventually 120 key_serial logon sectag:name:rid1
echo "# storm of $TAPS taps and the agent done in ${SECONDS} s"
untap
no_genuine_failure() {
	local i=0 tg bad=0 f
	for tg in "$R" "${TAGS[@]}"; do
		f=$(fails "$tg")
		[ "$f" -le "${before[$i]}" ] || { echo "tag $tg: ${before[$i]} -> $f"; bad=1; }
		i=$((i + 1))
	done
	return "$bad"
}
t storm_no_genuine_failed_authentication no_genuine_failure
AUTHS=$(grep 'tap: ' "$ALOG" | tail -n +"$((N0 + 1))" |
	sed -n 's/.* \([0-9]*\) authentication.*/\1/p' | sort -n | uniq -c | tr '\n' ' ')
echo "# agent taps during the storm: $(($(tap_lines) - N0)); authentications per tap (count value): $AUTHS"
echo "# foreign tag: $(fails "$FOREIGN") failed authentication(s) (its own taps)"
max_auths() {
	grep 'tap: ' "$ALOG" | sed -n 's/.* \([0-9]*\) authentication.*/\1/p' |
		sort -n | tail -n 1
}
t storm_at_most_two_authentications_per_tap test "$(max_auths)" -le 2
each_recognised() {
	local i=1 tg
	for tg in "${TAGS[@]}"; do
		drop_keys
		tap "$tg" || return 1
		eventually 20 key_serial logon "sectag:name:rid$i" >/dev/null ||
			{ echo "rid$i not released"; return 1; }
		i=$((i + 1))
	done
}
mark "storm checked"
t every_random_id_tag_recognised_after_storm each_recognised
mark "every tag recognised"
untap

# --- a reader held through someone else's raw socket: who is logged
hold() {
	local word pid
	kill -STOP "$AGENT"
	tap "$R" || return 1
	coproc build/e2e/holdtag "$NFC"
	HOLDER=$COPROC_PID
	read -r -t 30 word <&"${COPROC[0]}" && [ "$word" = held ] || return 1
	kill -CONT "$AGENT"
	eventually 20 agent_logged "raw sockets are held by pid [0-9]* (holdtag) uid 0" ||
		return 1
	pid=$(sed -n 's/.*held by pid \([0-9]*\) (holdtag).*/\1/p' "$ALOG" | tail -n 1)
	echo "holder $HOLDER, logged $pid"
	[ "$(cat "/proc/$pid/comm")" = holdtag ]
}
t busy_reader_logs_holder hold
grep 'held by' "$ALOG" | tail -n 1 | sed 's/^/# /'
[ -z "${HOLDER:-}" ] || { kill "$HOLDER" 2>/dev/null; wait "$HOLDER" 2>/dev/null; }
HOLDER=
untap

kill "$AGENT"
wait "$AGENT"
RC=$?
AGENT=
t agent_stops_cleanly test "$RC" = 0
[ "$failed" = 0 ] || tail -n 60 "$ALOG" | sed 's/^/# agent: /'
echo "# $n tests, $failed failed"
exit "$failed"
