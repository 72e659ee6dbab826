#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# pam_sectag end to end, in the VM, as root: pamtester against PAM
# services written here that load build/pam_sectag.so, with sectagd and
# simulated NTAG 424 DNA tags. Alice's tag tapped while the module waits
# authenticates alice; bob's, an unknown and a cloned tag tapped during
# the wait do not end it (alice's tag then succeeds), and without
# alice's tag the wait times out; one tap answers one request, the
# oldest; a second request for alice while one is pending is refused
# at once, naming the pending one; remote requests (PAM_RHOST) are
# refused unless the service is allowed; an unprivileged user holding
# 1000 connections locks nobody out; a stopped agent is
# PAM_AUTHINFO_UNAVAIL (a password line takes over); nouserok ignores
# users without a tag; the session keyring gets alice's logon key only
# after a tap in the same transaction. The module against a fake agent
# (garbage, hang-ups, silence, an agent not root's; valgrind) is
# tests/host/pam-fake.sh, on the host.
#
#   flock /tmp/sectag-vm.lock tests/vm/run --timeout 600 -- tests/e2e/pam.sh
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
SO=$PWD/build/pam_sectag.so
# timeout= of the services: long enough for several taps under
# emulation; short for the tests of the timeout itself.
TO=20
STO=4
UID_A=04A2000000000A
UID_B=04B2000000000B
UID_D=04D200000000DD
PT_OUT=$W/pamtester.out
AGENT=
SERVICES="sectag-test sectag-short sectag-fallback sectag-nouserok sectag-remote"
FLOOD=

# pamtester, unbuffered (the cue is our signal to tap), never hanging.
PT=(stdbuf -o0 -e0 timeout -s KILL 60 pamtester -v)

cleanup() {
	local s
	[ -z "$AGENT" ] || kill "$AGENT" 2>/dev/null
	[ -z "$FLOOD" ] || kill "$FLOOD" 2>/dev/null
	for s in $SERVICES; do rm -f "/etc/pam.d/$s"; done
	rm -rf "$W" "${SOCK%/*}"
}
trap cleanup EXIT

as() {	# USER CMD...: CMD as USER, like a screen locker
	local u
	u=$(id -u "$1") || return 1
	shift
	setpriv --reuid="$u" --regid="$u" --clear-groups "$@"
}

services() {
	mkdir -p /etc/pam.d
	cat >/etc/pam.d/sectag-test <<-EOS
	# written by tests/e2e/pam.sh
	auth	required	$SO timeout=$TO socket=$SOCK cue debug
	account	required	pam_permit.so
	session	optional	$SO session_key
	session	required	pam_permit.so
	EOS
	cat >/etc/pam.d/sectag-short <<-EOS
	auth	required	$SO timeout=$STO socket=$SOCK cue
	EOS
	# Allowed to ask for remote sessions (remote_services).
	cat >/etc/pam.d/sectag-remote <<-EOS
	auth	required	$SO timeout=$TO socket=$SOCK cue
	EOS
	# A tap, or else the next method (pam_permit standing for a
	# password) only when the agent is unavailable.
	cat >/etc/pam.d/sectag-fallback <<-EOS
	auth	[success=done authinfo_unavail=ignore default=die]	$SO timeout=$TO socket=$SOCK cue
	auth	required	pam_permit.so
	EOS
	cat >/etc/pam.d/sectag-nouserok <<-EOS
	auth	[success=done ignore=ignore default=die]	$SO timeout=$STO socket=$SOCK cue nouserok
	auth	required	pam_permit.so
	EOS
	chmod 0644 /etc/pam.d/sectag-*
}

setup_all() {
	local u
	setup_reader || return 1
	$S keygen "$W/issuer.key" && $S keygen "$W/other.key" || return 1
	for u in alice bob carol; do
		id "$u" >/dev/null 2>&1 || useradd -M "$u" || return 1
	done
	A=$(new_tag $UID_A) && B=$(new_tag $UID_B) && C=$(new_tag $UID_A) &&
		D=$(new_tag $UID_D) || return 1
	provision "$A" "$W/issuer.key" && provision "$B" "$W/issuer.key" &&
		provision "$C" "$W/other.key" &&
		provision "$D" "$W/issuer.key" || return 1
	enroll "$A" --user alice && enroll "$A" --name door &&
		enroll "$B" --user bob || return 1
	untap
	cat >"$CONF" <<-EOC
	# written by tests/e2e/pam.sh
	store = $STORE
	socket = $SOCK
	remote_services = sectag-remote
	# our reader stays on seat0; seat1 has a reader that is not there
	reader_seat = nfc99 seat1
	EOC
	services
	# The insession helper: CMD in a fresh session keyring, then what
	# that keyring holds.
	cat >"$W/insession" <<-'EOS'
	#!/bin/sh
	"$@"
	rc=$?
	echo "session keyring: $(keyctl rlist @s)"
	exit $rc
	EOS
	chmod 0755 "$W/insession"
}

# The agent's log since line $1, matching $2.
logged_since() { tail -n "+$(($1 + 1))" "$ALOG" | grep -q -- "$2"; }

# pam_try [--tap TAG [--seen PATTERN]]... CMD...: runs CMD (a pamtester)
# in the background; once the module cues (the agent queued the
# request), taps each TAG in turn, after each waiting until the agent's
# log shows PATTERN if one is given (that tap was processed); then waits
# for CMD. Sets RC and MS, the elapsed milliseconds; the output is in
# $PT_OUT.
pam_try() {
	local taps=() t0=${EPOCHREALTIME//[!0-9]/} pid i mark=0
	while [ "$1" = --tap ] || [ "$1" = --seen ]; do
		taps+=("$1" "$2")
		shift 2
	done
	untap
	"$@" >"$PT_OUT" 2>&1 &
	pid=$!
	if [ ${#taps[@]} -gt 0 ] && eventually 20 grep -q "Tap your tag" "$PT_OUT"; then
		for ((i = 0; i < ${#taps[@]}; i += 2)); do
			if [ "${taps[i]}" = --tap ]; then
				mark=$(wc -l <"$ALOG")
				tap "${taps[i + 1]}"
			else
				eventually 20 logged_since "$mark" "${taps[i + 1]}" ||
					echo "no '${taps[i + 1]}' in the agent's log" >>"$PT_OUT"
			fi
		done
	fi
	RC=0
	wait "$pid" || RC=$?
	MS=$(((${EPOCHREALTIME//[!0-9]/} - t0) / 1000))
}

# outcome RC MESSAGE MAX-MS [MIN-MS]: the last pam_try ended so.
outcome() {
	cat "$PT_OUT"
	echo "exit status $RC in $MS ms; expected $1, '$2', < $3 ms, >= ${4:-0} ms"
	[ "$RC" = "$1" ] && grep -q -- "$2" "$PT_OUT" &&
		[ "$MS" -lt "$3" ] && [ "$MS" -ge "${4:-0}" ]
}

OK_MSG="successfully authenticated"
AUTH_ERR="Authentication failure"
UNAVAIL="Authentication service cannot retrieve authentication info"
BUSY="another request for it is pending"
BEFORE_TIMEOUT=$((TO * 1000))
# A wait of STO s that timed out ends by then (pamtester's start-up and
# the tap under emulation included).
TMAX=$(((STO + 6) * 1000))

answers() {	# WANT REQUEST: the agent's answers, one a line
	local out
	out=$(build/e2e/ctl "$SOCK" "$2")
	echo "$out"
	[ "$out" = "$1" ]
}
# The session keyring pamtester left holds exactly KEY (or nothing: -).
session_holds() {	# KEY
	local got
	got=$(sed -n 's/^session keyring: *//p' "$PT_OUT")
	echo "session keyring holds '$got', expected '${1#-}'"
	[ "$got" = "${1#-}" ]
}

echo "# work directory $W"
setup_all >"$LOG" 2>&1 || bail "setup failed"
echo "# reader $DEV, tags alice=$A bob=$B clone=$C unknown=$D"
t agent_starts start_agent

echo "# ${SECONDS} s"
# --- the tap that logs alice in, and the ones that must not
pam_try --tap "$A" "${PT[@]}" -I tty=tty2 sectag-test alice authenticate
t alice_tag_authenticates_alice outcome 0 "$OK_MSG" "$BEFORE_TIMEOUT"
t cue_says_what_the_tap_is_for \
	grep -qx "Tap your tag to authenticate alice for sectag-test on tty2" "$PT_OUT"
# Bob's tag (released for bob), an unknown tag and a clone during alice's
# wait: none of them answers it; alice's tag then does.
pam_try --tap "$B" --seen "(bob): released" \
	--tap "$D" --seen "tag $UID_D refused: not enrolled" \
	--tap "$C" --seen "tag $UID_A refused: authentication failed" \
	--tap "$A" "${PT[@]}" sectag-test alice authenticate
t foreign_taps_do_not_fail_the_wait outcome 0 "$OK_MSG" "$BEFORE_TIMEOUT"
t foreign_taps_were_all_seen not grep -q "no '.*' in the agent's log" "$PT_OUT"
pam_try --tap "$B" --seen "(bob): released" "${PT[@]}" sectag-short alice authenticate
t bob_tag_leaves_alice_waiting_until_timeout \
	outcome 1 "$AUTH_ERR" $TMAX $((STO * 1000))
pam_try --tap "$B" "${PT[@]}" sectag-test bob authenticate
t bob_tag_authenticates_bob outcome 0 "$OK_MSG" "$BEFORE_TIMEOUT"
pam_try "${PT[@]}" sectag-short alice authenticate
t no_tap_fails_after_timeout outcome 1 "$AUTH_ERR" $TMAX $((STO * 1000))

echo "# ${SECONDS} s"
# --- users: unknown names, users without a tag, nouserok
pam_try "${PT[@]}" sectag-test carol authenticate
t user_without_tag_fails_at_once outcome 1 "$AUTH_ERR" "$BEFORE_TIMEOUT"
pam_try "${PT[@]}" sectag-nouserok carol authenticate
t nouserok_ignores_user_without_tag outcome 0 "$OK_MSG" "$BEFORE_TIMEOUT"
pam_try --tap "$B" "${PT[@]}" sectag-nouserok alice authenticate
t nouserok_still_wants_alice_tag outcome 1 "$AUTH_ERR" $TMAX $((STO * 1000))
pam_try "${PT[@]}" sectag-test "no such user" authenticate
t bad_user_name_is_unknown outcome 1 "User not known" "$BEFORE_TIMEOUT"

echo "# ${SECONDS} s"
# --- a screen locker runs as the user: only her own binding is hers
pam_try --tap "$A" as alice "${PT[@]}" sectag-test alice authenticate
t alice_unlocks_her_screen outcome 0 "$OK_MSG" "$BEFORE_TIMEOUT"
pam_try as alice "${PT[@]}" sectag-test bob authenticate
t alice_cannot_ask_about_bob outcome 1 "$UNAVAIL" "$BEFORE_TIMEOUT"

echo "# ${SECONDS} s"
# --- one tap, one request
# Two logins for alice: root's (like su, on pts/7) waits; alice's own
# screen locker is refused at once, told who holds the pending request;
# one tap answers root's.
two_logins() {
	local pid1 rc1=0 out1=$W/first.out
	untap
	"${PT[@]}" -I tty=/dev/pts/7 sectag-test alice authenticate >"$out1" 2>&1 &
	pid1=$!
	eventually 20 grep -q "Tap your tag" "$out1" || return 1
	pam_try as alice "${PT[@]}" sectag-test alice authenticate
	echo "second login: exit status $RC in $MS ms"
	cat "$PT_OUT"
	[ "$RC" = 1 ] && grep -q "$UNAVAIL" "$PT_OUT" &&
		grep -q "$BUSY (sectag-test on /dev/pts/7, uid 0)" "$PT_OUT" &&
		[ "$MS" -lt $((STO * 1000)) ] || return 1
	tap "$A"
	wait "$pid1" || rc1=$?
	echo "first login: exit status $rc1"
	cat "$out1"
	[ "$rc1" = 0 ] && grep -q "$OK_MSG" "$out1"
}
t second_request_for_alice_refused_first_answered two_logins
# One tap releases alice's two bindings (user alice, name door): of two
# pending requests it answers only the older; the other keeps waiting
# and times out.
older_answered() {	# FIRST: login or door
	local cpid dpid out=$W/ctl.out rc=0
	untap
	if [ "$1" = login ]; then
		"${PT[@]}" sectag-test alice authenticate >"$PT_OUT" 2>&1 &
		cpid=$!
		eventually 20 grep -q "Tap your tag" "$PT_OUT" || return 1
		build/e2e/ctl "$SOCK" "AUTH name door $((STO * 1000))" >"$out" 2>&1 &
		eventually 20 grep -q WAITING "$out" || return 1
		dpid=$!
		tap "$A"
		wait "$cpid" || rc=$?
		wait "$dpid"
		cat "$PT_OUT" "$out"
		[ "$rc" = 0 ] && [ "$(cat "$out")" = $'WAITING\nTIMEOUT' ]
	else
		build/e2e/ctl "$SOCK" "AUTH name door $((TO * 1000))" >"$out" 2>&1 &
		cpid=$!
		eventually 20 grep -q WAITING "$out" || return 1
		pam_try --tap "$A" "${PT[@]}" sectag-short alice authenticate
		wait "$cpid"
		cat "$out"
		outcome 1 "$AUTH_ERR" "$TMAX" $((STO * 1000)) &&
			grep -qx "OK [0-9]*" <(sed -n 2p "$out")
	fi
}
t older_login_answered_newer_door_times_out older_answered login
t older_door_answered_newer_login_times_out older_answered door
# A reader on another seat: our reader is on seat0, a request from
# seat1 is not answered by it.
pam_try --tap "$A" --seen "(alice): released" "${PT[@]}" -E XDG_SEAT=seat1 \
	sectag-short alice authenticate
t tap_on_other_seat_does_not_answer outcome 1 "$AUTH_ERR" $TMAX $((STO * 1000))
pam_try "${PT[@]}" -E XDG_SEAT=seat5 sectag-test alice authenticate
t seat_without_reader_is_unavailable outcome 1 "$UNAVAIL" "$BEFORE_TIMEOUT"

echo "# ${SECONDS} s"
# --- remote sessions: refused, unless the service is allowed
pam_try "${PT[@]}" -I rhost=mallory.example sectag-test alice authenticate
t remote_request_refused outcome 1 "$UNAVAIL" "$BEFORE_TIMEOUT"
t remote_request_not_cued not grep -q "Tap your tag" "$PT_OUT"
t agent_logged_remote_refusal grep -q "refused remote request (remote host): user alice for sectag-test.*from mallory.example" "$ALOG"
pam_try --tap "$A" "${PT[@]}" -I rhost=localhost sectag-test alice authenticate
t localhost_is_local outcome 0 "$OK_MSG" "$BEFORE_TIMEOUT"
pam_try --tap "$A" "${PT[@]}" -I rhost=alice.example sectag-remote alice authenticate
t remote_request_allowed_for_its_service outcome 0 "$OK_MSG" "$BEFORE_TIMEOUT"
t cue_names_the_remote_host grep -q "for sectag-remote from alice.example" "$PT_OUT"

# Sessions as logind records them: CMD in a new audit session (its own
# /proc/self/sessionid) described by /run/systemd/sessions/ID.
in_session() {	# USER REMOTE SEAT CMD...
	local u r=$2 seat=$3
	u=$(id -u "$1") || return 1
	shift 3
	sh -c 'echo "$1" >/proc/self/loginuid || exit 99
		sid=$(cat /proc/self/sessionid)
		mkdir -p /run/systemd/sessions
		printf "UID=%s\nUSER=x\nREMOTE=%s\nSEAT=%s\nCLASS=user\n" \
			"$1" "$2" "$3" >"/run/systemd/sessions/$sid"
		shift 3
		exec "$@"' sh "$u" "$r" "$seat" "$@"
}
# mallory (carol) at the machine types "su alice" and waits for alice's
# next tap: refused, it is not alice's session.
pam_try in_session carol 0 seat0 "${PT[@]}" sectag-test alice authenticate
t su_from_another_users_session_refused outcome 1 "$UNAVAIL" "$BEFORE_TIMEOUT"
t agent_logged_foreign_session grep -q "refused remote request (another user's session): user alice" "$ALOG"
# su alice inside an ssh session (no PAM_RHOST, logind says remote).
pam_try in_session carol 1 "" "${PT[@]}" sectag-test alice authenticate
t su_in_remote_session_refused outcome 1 "$UNAVAIL" "$BEFORE_TIMEOUT"
t agent_logged_remote_session grep -q "refused remote request (remote session): user alice" "$ALOG"
# sudo in alice's own session on seat0: her tap answers it.
pam_try --tap "$A" in_session alice 0 seat0 "${PT[@]}" sectag-test alice authenticate
t sudo_in_own_session_answered outcome 0 "$OK_MSG" "$BEFORE_TIMEOUT"
# ... and on seat1, a tap on our seat0 reader does not.
pam_try --tap "$A" --seen "(alice): released" in_session alice 0 seat1 \
	"${PT[@]}" sectag-short alice authenticate
t own_session_on_other_seat_not_answered outcome 1 "$AUTH_ERR" $TMAX $((STO * 1000))
rm -rf /run/systemd/sessions

echo "# ${SECONDS} s"
# --- session: alice's logon key joins the session keyring only after a
# tap in the same transaction
drop_keys
pam_try keyctl session - "$W/insession" "${PT[@]}" sectag-test alice open_session
t session_without_released_key_links_nothing outcome 0 "successfully opened" 10000
t session_keyring_empty_without_key session_holds -
tap "$A"
t alice_tap_releases_alice_key eventually 10 key_serial logon sectag:user:alice
untap
pam_try keyctl session - "$W/insession" "${PT[@]}" sectag-test alice open_session
t released_key_not_linked_without_tap_in_transaction session_holds -
tap "$B"
t bob_tap_releases_bob_key eventually 10 key_serial logon sectag:user:bob
pam_try keyctl session - "$W/insession" "${PT[@]}" sectag-test alice open_session
t bob_key_not_linked_for_alice session_holds -
drop_keys
pam_try --tap "$A" keyctl session - "$W/insession" "${PT[@]}" sectag-test \
	alice authenticate open_session
t tap_then_session outcome 0 "successfully opened" $(((TO + 5) * 1000))
KEY=$(key_serial logon sectag:user:alice)
echo "# alice's logon key: ${KEY:-none}"
t session_keyring_holds_alice_key session_holds "${KEY:-none}"

echo "# ${SECONDS} s"
# --- an unprivileged user holding 1000 connections locks nobody out
flood_start() {
	setpriv --reuid="$(id -u carol)" --regid="$(id -u carol)" --clear-groups \
		build/e2e/flood "$SOCK" 1000 >"$W/flood.out" 2>&1 &
	FLOOD=$!
	eventually 10 grep -q "^flood: 1000" "$W/flood.out"
}
t flood_starts flood_start
pam_try --tap "$A" "${PT[@]}" sectag-test alice authenticate
t root_login_during_flood outcome 0 "$OK_MSG" "$BEFORE_TIMEOUT"
pam_try --tap "$A" as alice "${PT[@]}" sectag-test alice authenticate
t alice_login_during_flood outcome 0 "$OK_MSG" "$BEFORE_TIMEOUT"
t agent_answers_during_flood answers "OK sectagd 2" PING
flood_dropped() {
	local d
	kill -TERM "$FLOOD"
	wait "$FLOOD"
	FLOOD=
	cat "$W/flood.out"
	d=$(sed -n 's/.*dropped \([0-9]*\),.*/\1/p' "$W/flood.out")
	echo "the agent dropped ${d:-?} of the flooder's connections"
	[ -n "$d" ] && [ "$d" -ge 1000 ]
}
t flooder_connections_dropped flood_dropped
grep '^flood:' "$W/flood.out" | sed 's/^/# /'

echo "# ${SECONDS} s"
# --- fallback: a password line takes over only when the agent is away
pam_try --tap "$A" "${PT[@]}" sectag-fallback alice authenticate
t fallback_stack_takes_tap outcome 0 "$OK_MSG" "$BEFORE_TIMEOUT"
# Someone holds a request for alice (here root, for 8 s): her tag login
# is unavailable, and the stack goes on to her password.
busy_falls_back() {
	local cpid out=$W/ctl.out
	build/e2e/ctl "$SOCK" "AUTH user alice 8000 service=su tty=pts/3" >"$out" 2>&1 &
	cpid=$!
	eventually 20 grep -q WAITING "$out" || return 1
	pam_try "${PT[@]}" sectag-fallback alice authenticate
	wait "$cpid"
	outcome 0 "$OK_MSG" 5000 && grep -q "$BUSY (su on pts/3, uid 0)" "$PT_OUT"
}
t busy_tag_login_falls_back_to_password busy_falls_back
kill -KILL "$AGENT"
wait "$AGENT" 2>/dev/null
AGENT=
# The killed agent left its socket: connection refused.
pam_try "${PT[@]}" sectag-test alice authenticate
t dead_agent_is_authinfo_unavail outcome 1 "$UNAVAIL" "$BEFORE_TIMEOUT"
pam_try "${PT[@]}" sectag-fallback alice authenticate
t dead_agent_falls_back_to_password outcome 0 "$OK_MSG" "$BEFORE_TIMEOUT"
rm -f "$SOCK"
pam_try "${PT[@]}" sectag-test alice authenticate
t no_agent_socket_is_authinfo_unavail outcome 1 "$UNAVAIL" "$BEFORE_TIMEOUT"

[ "$failed" = 0 ] || tail -n 40 "$ALOG" | sed 's/^/# agent: /'
echo "# $n tests, $failed failed in $SECONDS s"
exit "$failed"
