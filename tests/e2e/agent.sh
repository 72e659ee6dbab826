#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# sectagd end to end, in the VM, as root: taps of simulated NTAG 424 DNA
# tags release keys into the kernel keyring; cryptsetup's token opens the
# volume; clones, unknown and revoked tags release nothing; keys expire;
# unprivileged users get nothing; a storm of taps leaves the agent's
# memory where it was; enrolment killed at any moment leaves a store.
#
#   flock /tmp/sectag-vm.lock tests/vm/run --timeout 900 -- tests/e2e/agent.sh
#
# TAP on stdout; the exit status is the number of failures.
# shellcheck disable=SC2317
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh

STORE=$W/store
PASS=$W/passphrase
CONF=$W/sectagd.conf
SOCK=/run/sectag-e2e.$$/sock
ALOG=$W/agent.log
MARK=sectag-agent-marker
UID_A=04A1000000000A
UID_B=04B1000000000B
UID_D=04D100000000DD
UID_U=04E100000000EE
TAPS=${SECTAG_E2E_TAPS:-1000}
LOOP=
AGENT=

cleanup() {
	local m
	[ -z "$AGENT" ] || kill "$AGENT" 2>/dev/null
	for m in e2e e2e-auto e2e-pass; do
		[ -e "/dev/mapper/$m" ] && cryptsetup close "$m"
	done
	[ -z "$LOOP" ] || losetup -d "$LOOP"
	rm -rf "$W" "${SOCK%/*}"
}
trap cleanup EXIT

luks_key() { key_serial user "sectag:luks:$UUID"; }
no_luks_key() { ! luks_key; }
open_read_close() {
	cryptsetup open --token-only "$LOOP" "$1" && reads_marker "$1" &&
		cryptsetup close "$1"
}
agent_alive() { kill -0 "$AGENT"; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$AGENT/status"; }

# A request on the agent's socket, as root or as another user.
ctl() {	# [--as UID] REQUEST
	local as=
	if [ "$1" = --as ]; then
		as="setpriv --reuid=$2 --regid=$2 --clear-groups"
		shift 2
	fi
	$as build/e2e/ctl "$SOCK" "$1"
}

setup_all() {
	setup_reader && setup_volume "$W/vol.img" || return 1
	$S keygen "$W/issuer.key" && $S keygen "$W/other.key" || return 1
	id alice >/dev/null 2>&1 || useradd -M alice || return 1
	A=$(new_tag $UID_A) && B=$(new_tag $UID_B) && C=$(new_tag $UID_A) &&
		D=$(new_tag $UID_D) && U=$(new_tag $UID_U) || return 1
	provision "$A" "$W/issuer.key" && provision "$B" "$W/issuer.key" &&
		provision "$C" "$W/other.key" &&
		provision "$D" "$W/issuer.key" &&
		provision "$U" "$W/issuer.key" || return 1
	enroll "$A" --luks "$LOOP" --key-file "$PASS" &&
		enroll "$B" --luks "$LOOP" --key-file "$PASS" --auto-open e2e-auto &&
		enroll "$U" --user alice && enroll "$U" --name door || return 1
	untap
	cat >"$CONF" <<-EOC
	# written by tests/e2e/agent.sh
	store = $STORE
	socket = $SOCK
	key_timeout = 5
	EOC
}

echo "# work directory $W"
setup_all >"$LOG" 2>&1 || bail "setup failed"
echo "# reader $DEV, tags A=$A B=$B clone=$C unknown=$D user=$U, $LOOP"

t agent_starts start_agent
t agent_answers_ping ctl PING
st agent_refuses_bad_config 2 build/sectagd --config /etc/hostname

# --- the tap that opens the volume
tap "$A"
t tap_releases_luks_key eventually 10 luks_key
t token_only_opens_volume open_read_close e2e
t key_expires_after_timeout eventually 10 no_luks_key

# --- a spare tag with --auto-open
drop_keys
tap "$B"
t spare_releases_key eventually 10 luks_key
t auto_open_activates_volume eventually 10 test -e /dev/mapper/e2e-auto
t auto_opened_volume_reads reads_marker e2e-auto
cryptsetup close e2e-auto >"$LOG" 2>&1

# --- what must release nothing
drop_keys
tap "$C"
t clone_is_refused eventually 10 agent_logged "tag $UID_A refused: authentication failed"
t clone_released_nothing no_luks_key
tap "$D"
t unknown_tag_is_refused eventually 10 agent_logged "tag $UID_D refused: not enrolled"
t unknown_released_nothing no_luks_key
t refusal_logs_no_secret not grep -qi "$(grep -o 'host-secret=[0-9a-f]*' "$STORE" | head -1 | cut -d= -f2)" "$ALOG"

# --- users and labels: logon keys, and who may ask the agent
tap "$U"
t user_tap_releases_logon_key eventually 10 key_serial logon sectag:user:alice
t label_tap_releases_logon_key key_serial logon sectag:name:door
t logon_key_unreadable_even_by_root not keyctl print "$(key_serial logon sectag:user:alice)"
t nobody_cannot_read_luks_keys not setpriv --reuid=65534 --regid=65534 --clear-groups \
	keyctl print "$(luks_key || echo 0)"
answers() {	# WANT [--as UID] REQUEST
	local want=$1 out
	shift
	out=$(ctl "$@")
	echo "$out"
	[ "$out" = "$want" ]
}
t ping_says_protocol_2 answers "OK sectagd 2" PING
t nobody_may_not_wait_for_alice \
	answers "FAIL denied" --as 65534 "AUTH user alice 1000"
t nobody_may_not_wait_for_label \
	answers "FAIL denied" --as 65534 "AUTH name door 1000"
t alice_may_ask_about_herself answers "OK 1" --as "$(id -u alice)" "HAS user alice"
t alice_may_not_ask_about_root answers "FAIL denied" \
	--as "$(id -u alice)" "HAS user root"
t auth_waits_then_times_out answers $'WAITING\nTIMEOUT' "AUTH user alice 300"
t bad_request_refused answers "FAIL bad-request" "AUTH user"
t wait_forever_refused answers "FAIL bad-request" "AUTH user alice 0"
t wait_beyond_maximum_refused answers "FAIL bad-request" "AUTH user alice 600001"
t protocol_1_wait_refused answers "FAIL bad-request" "WAIT user alice 1000"
t unknown_key_refused answers "FAIL bad-request" "AUTH user alice 300 color=red"
t remote_request_refused answers "FAIL remote" "AUTH user alice 300 service=sshd rhost=example.org"
t request_on_a_seat_without_reader_refused answers "FAIL noseat" \
	"AUTH user alice 300 service=login seat=seat7"
# A connection that sends nothing is closed after the idle timeout (3 s).
idle_closed() {
	local out t0=$SECONDS
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
		timeout 30 build/e2e/ctl "$SOCK" --idle 2>&1)
	echo "$out after $((SECONDS - t0)) s"
	[ "$out" = CLOSED ] && [ $((SECONDS - t0)) -ge 2 ]
}
t idle_connection_closed idle_closed

# --- revoking one tag leaves the spare working
drop_keys
t revoke_tag_a $S revoke "$(sectag_id=$($S --json list --store "$STORE" |
	grep -o "{[^}]*\"$UID_A\"[^}]*}" | head -1); json_num id "$sectag_id")" --store "$STORE"
tap "$A"
t revoked_tag_is_refused eventually 10 agent_logged "tag $UID_A refused: not enrolled"
t revoked_tag_released_nothing no_luks_key
tap "$B"
t spare_still_opens_after_revoke eventually 10 luks_key
cryptsetup close e2e-auto >"$LOG" 2>&1

# --- a storm of taps: enrolled, unknown, clones, pulled away mid-way
untap
RSS0=$(rss_kib)
t storm_of_taps build/e2e/taps "$RID" "$TAPS" "$A" "$B" "$C" "$D" "$U"
grep '^#' "$LOG"
t agent_survives_storm agent_alive
drop_keys
[ -e /dev/mapper/e2e-auto ] && cryptsetup close e2e-auto
tap "$B"
# The agent may still be working through the storm's events: it must get
# to this tap, however long that takes under emulation.
SECONDS=0
t agent_still_works_after_storm eventually 60 luks_key
echo "# the tap after the storm released its key after ${SECONDS} s"
RSS1=$(rss_kib)
echo "# agent RSS ${RSS0} KiB before, ${RSS1} KiB after $TAPS taps"
t memory_stable_over_storm test $((RSS1 - RSS0)) -lt 512
[ -e /dev/mapper/e2e-auto ] && cryptsetup close e2e-auto

# --- enrolment killed at random moments never breaks the store
untap
killed_enrolments() {
	local i pid
	for i in $(seq 1 15); do
		tap "$U" || return 1
		$S enroll --issuer-key "$W/issuer.key" --store "$STORE" \
			--reader "$DEV" --timeout 5 --name "k$i" >/dev/null 2>&1 &
		pid=$!
		sleep "0.$((RANDOM % 4))$((RANDOM % 10))"
		kill -9 "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		$S list --store "$STORE" >/dev/null || return 1
		[ "$(stat -c %a "$STORE")" = 600 ] || return 1
	done
}
t store_survives_sigkill_during_enrolment killed_enrolments
t agent_reads_store_after_kills eventually 10 agent_alive

# --- the agent killed outright in the middle of taps comes back clean
untap
build/e2e/taps "$RID" 40 "$A" "$B" "$D" >/dev/null 2>&1 &
TAPPER=$!
sleep 1
kill -9 "$AGENT"
wait "$AGENT" 2>/dev/null
wait "$TAPPER"
t store_usable_after_agent_sigkill $S list --store "$STORE"
t agent_restarts_after_sigkill start_agent
drop_keys
[ -e /dev/mapper/e2e-auto ] && cryptsetup close e2e-auto
tap "$B"
t restarted_agent_releases eventually 10 luks_key
[ -e /dev/mapper/e2e-auto ] && eventually 10 test -e /dev/mapper/e2e-auto &&
	cryptsetup close e2e-auto
untap

kill "$AGENT"
wait "$AGENT"
RC=$?
AGENT=
t agent_stops_cleanly_on_sigterm test "$RC" = 0
t agent_removed_its_socket test ! -e "$SOCK"
[ "$failed" = 0 ] || tail -n 60 "$ALOG" | sed 's/^/# agent: /'
echo "# $n tests, $failed failed"
exit "$failed"
