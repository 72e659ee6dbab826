#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# pam_sectag against a fake agent (build/e2e/fakeagent) that answers
# garbage, oversized and malformed replies, hangs up, never answers, or
# is not root's: every time the module fails cleanly, in time, and
# valgrind sees no memory error. The module's client side needs no
# reader and no kernel module, so this runs on the host (natively, not
# under the VM's emulation), as root, in a mount namespace of its own
# whose /etc/pam.d is a tmpfs holding only the service written here.
# tests/e2e/pam.sh covers the module against the real agent.
#
#   sudo bash tests/host/pam-fake.sh
#
# TAP on stdout; the exit status is the number of failures.
# shellcheck disable=SC2317 # helpers are called through check
set -u
cd "$(dirname "$0")/../.." || exit 1

if [ "${SECTAG_PAMFAKE_NS:-}" != 1 ]; then
	if [ "$(id -u)" != 0 ] || ! command -v pamtester >/dev/null ||
		! command -v unshare >/dev/null; then
		echo "1..0 # SKIP needs root, pamtester and unshare"
		exit 0
	fi
	SECTAG_PAMFAKE_NS=1 exec unshare -m --propagation private bash "$0" "$@"
fi
. tests/host/lib.sh

SO=$PWD/build/pam_sectag.so
FAKEAGENT=$PWD/build/e2e/fakeagent
RUN=$(mktemp -d /run/sectag-host.XXXXXX) || exit 1
FSOCK=$RUN/fake
FTO=2		# the service's timeout=
GRACE=1000	# pam_sectag's wait for an answer past its timeout
PT_OUT=$T/pamtester.out
FAKE=
PT=(stdbuf -o0 -e0 timeout -s KILL 60 pamtester -v)
OK_MSG="successfully authenticated"
AUTH_ERR="Authentication failure"
UNAVAIL="Authentication service cannot retrieve authentication info"
BUSY="another request for it is pending"

cleanup() {
	[ -z "$FAKE" ] || kill "$FAKE" 2>/dev/null
	rm -rf "$T" "$RUN"
}
trap cleanup EXIT

if [ ! -x "$FAKEAGENT" ] || [ ! -f "$SO" ]; then
	echo "Bail out! build first: make all tests"
	exit 1
fi
mount -t tmpfs -o mode=0755 sectag-pam /etc/pam.d || {
	echo "Bail out! cannot mount a tmpfs on /etc/pam.d"
	exit 1
}
cat >/etc/pam.d/sectag-fake <<-EOS
# written by tests/host/pam-fake.sh
auth	required	$SO timeout=$FTO socket=$FSOCK cue
EOS

eventually() {	# SECONDS CMD...
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.05
	done
}
start_fake() {	# MODE [USER]
	${2:+setpriv --reuid=$2 --regid=$2 --clear-groups} \
		"$FAKEAGENT" "$FSOCK" "$1" "$RANDOM" >"$T/fake.log" 2>&1 &
	FAKE=$!
	eventually 10 grep -q "^mode" "$T/fake.log"
}
stop_fake() {
	kill "$FAKE" 2>/dev/null
	wait "$FAKE" 2>/dev/null
	FAKE=
	rm -f "$FSOCK"
}
# pam_try CMD...: sets RC and MS (elapsed); the output is in $PT_OUT.
pam_try() {
	local t0=${EPOCHREALTIME//[!0-9]/}
	RC=0
	"$@" >"$PT_OUT" 2>&1 || RC=$?
	MS=$(((${EPOCHREALTIME//[!0-9]/} - t0) / 1000))
}
# outcome RC MESSAGE MAX-MS: the last pam_try ended so.
outcome() {
	cat "$PT_OUT"
	echo "exit status $RC in $MS ms; expected $1, '$2', < $3 ms"
	[ "$RC" = "$1" ] && grep -q -- "$2" "$PT_OUT" && [ "$MS" -lt "$3" ]
}

# fake MODE RUNS: RUNS pamtesters against the fake agent in MODE, each a
# clean failure: exit status 1 with one of the two messages (not a crash,
# 128 + signal, not a success), and connected no longer than the timeout
# and its grace (by the fake agent's clock).
fake() {
	local mode=$1 runs=$2 i bad=0 ms out conns
	start_fake "$mode"
	for ((i = 1; i <= runs; i++)); do
		pam_try "${PT[@]}" sectag-fake alice authenticate
		mapfile -t out <"$PT_OUT"
		echo "run $i: ${out[*]}; exit status $RC in $MS ms"
		if [ "$RC" != 1 ] || [ "$MS" -ge $(((FTO + 5) * 1000)) ] ||
			[[ ! ${out[*]} =~ $AUTH_ERR|$UNAVAIL ]]; then
			bad=$((bad + 1))
		fi
	done
	stop_fake
	sed 's/^/fake: /' "$T/fake.log" | tail -n 30
	while read -r ms; do
		[ "$ms" -le $((FTO * 1000 + GRACE + 500)) ] || bad=$((bad + 1))
	done < <(sed -n 's/^conn [0-9]*: closed after \([0-9]*\) ms$/\1/p' "$T/fake.log")
	# Each run did talk to the fake agent (the backlog one accepts none).
	conns=$(sed -n 's/^conn \([0-9]*\):.*/\1/p' "$T/fake.log" | sort -u | wc -l)
	echo "$conns connections for $runs runs"
	[ "$mode" = backlog ] && [ "$conns" != 0 ] && bad=$((bad + 1))
	[ "$mode" != backlog ] && [ "$conns" != "$runs" ] && bad=$((bad + 1))
	[ "$bad" = 0 ]
}

# The controls: the fake agent speaks the protocol right.
answers() {	# MODE RC MESSAGE
	start_fake "$1" || return 1
	pam_try "${PT[@]}" sectag-fake alice authenticate
	stop_fake
	outcome "$2" "$3" $((FTO * 1000))
}
check fake_agent_ok_is_success answers ok 0 "$OK_MSG"
check fake_agent_busy_is_authinfo_unavail answers busy 1 "$UNAVAIL"
check busy_names_the_pending_request grep -q "$BUSY (su on pts/3, uid 0)" "$PT_OUT"
check fake_agent_timeout_is_auth_err answers timeout 1 "$AUTH_ERR"

# An agent socket that is not root's: refused before any request.
not_root_fake() {
	local rc
	chmod 0777 "$RUN"
	start_fake ok 65534 || return 1
	pam_try "${PT[@]}" sectag-fake alice authenticate
	rc=$RC
	stop_fake
	chmod 0700 "$RUN"
	cat "$PT_OUT" "$T/fake.log"
	[ "$rc" = 1 ] && grep -q "$UNAVAIL" "$PT_OUT" &&
		grep -q "^conn 0: closed after" "$T/fake.log" &&
		! grep -q -- "->" "$T/fake.log"
}
check agent_not_run_by_root_refused not_root_fake

NEAR=$("$FAKEAGENT" --malformed-count)
check fake_hangs_up fake close 2
check fake_hangs_up_on_wait fake close-wait 2
check fake_never_answers fake silent 1
check fake_never_answers_wait fake silent-wait 1
check fake_random_bytes fake garbage 10
check fake_random_bytes_on_wait fake garbage-wait 10
check fake_oversized fake oversized 2
check fake_oversized_on_wait fake oversized-wait 2
check fake_near_misses fake malformed-has "$NEAR"
check fake_near_misses_on_wait fake malformed-wait "$NEAR"
check fake_sends_a_descriptor fake fds 2
check fake_answers_twice fake double 2
check fake_answers_without_waiting fake nowaiting 2
check fake_full_backlog fake backlog 1

# --- and valgrind: no memory error in the module on any of it
vg() {	# MODE...
	local mode rc
	for mode in "$@"; do
		start_fake "$mode" || return 1
		rc=0
		timeout -s KILL 120 valgrind -q --error-exitcode=99 \
			pamtester sectag-fake alice authenticate || rc=$?
		stop_fake
		echo "valgrind, $mode: exit status $rc"
		[ "$rc" = 1 ] || return 1
	done
}
if command -v valgrind >/dev/null; then
	check valgrind_clean_on_bad_answers vg oversized-wait garbage-wait fds
else
	echo "ok $((n += 1)) valgrind_clean_on_bad_answers # SKIP no valgrind"
fi
done_testing
