#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The user story end to end, in the VM, as root, through ONE reader
# backend chosen by SECTAG_BACKEND (virtual, pn533, nci, pcsc): the reader
# is listed; a scan shows the virgin tag; it is provisioned, verified
# genuine, enrolled for a LUKS2 volume, a PAM login and a udev "door"
# label; sectagd started on that store releases the LUKS key on a tap and
# `cryptsetup open --token-only` opens the volume; a pamtester login is
# answered by a tap; the door label's tap runs a udev rule; `sectag
# verify` borrows the reader from the running agent; a tag held for 10 s
# is one tap, lifted and placed again a second; idle with no tag the
# agent does not wake up.
#
#   flock /tmp/sectag-vm.lock tests/vm/run --timeout 900 -- tests/e2e/story-pn533.sh
#
# A backend is tests/e2e/backend-NAME.sh, sourced after lib.sh, defining:
#   backend_start UID14HEX  start the reader with ONE virgin NTAG 424 DNA of
#                           that UID, not in the field; set DEV (what
#                           `sectag --reader` takes); wait until usable;
#                           non-zero on failure
#   tag_place, tag_lift     put the tag in the field, take it out (a lift
#                           power-cycles it; its keys stay); return at once
#   backend_stop            stop what it started (idempotent; EXIT trap)
#   BACKEND_DESC            one line: what the reader is
#   BACKEND_UEVENTS=0       (optional) the reader has no kernel NFC device,
#                           so no udev events: their checks are skipped
#
# Taps are counted by the agent's log line for the door binding
# ("binding N (door): released"), removals by "tag removed": every wait
# is on such events; the only sleeps are the 10 s hold and the idle
# window, which are what is measured.
#
# TAP on stdout; the exit status is the number of failures.
# shellcheck disable=SC2317 # helpers are called through t/st
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh

BACKEND=${SECTAG_BACKEND:-virtual}
[ -f "tests/e2e/backend-$BACKEND.sh" ] || bail "no backend $BACKEND"
# shellcheck source=tests/e2e/backend-virtual.sh
. "tests/e2e/backend-$BACKEND.sh"

STORE=$W/store
PASS=$W/passphrase
CONF=$W/sectagd.conf
SOCK=/run/sectag-e2e.$$/sock
ALOG=$W/agent.log
MARK=sectag-story-marker
UID_T=04570000000057
PAMSVC=/etc/pam.d/sectag-story
RULE=/etc/udev/rules.d/71-sectag-story.rules
EVLOG=$W/events		# what the udev rule recorded: LABEL EVENT KIND DEVICE
HOLD_S=10
IDLE_S=3
WAIT=60			# seconds for one step through a slow (emulated) reader
DEV=
LOOP=
AGENT=
UDEVD=

cleanup() {
	[ -z "$AGENT" ] || { kill "$AGENT" && wait "$AGENT"; } 2>/dev/null
	[ -z "$UDEVD" ] || udevadm control --exit >/dev/null 2>&1
	[ -e /dev/mapper/e2e-story ] && cryptsetup close e2e-story
	[ -z "$LOOP" ] || losetup -d "$LOOP"
	backend_stop
	rm -f "$PAMSVC" "$RULE"
	rm -rf "$W" "${SOCK%/*}"
}
trap cleanup EXIT

# The CLI borrows the reader from this agent.
export SECTAG_AGENT_SOCKET=$SOCK

# --------------------------------------------------------------- helpers

# Taps of the tag (the agent released its door binding), removals.
taps() { grep -c ": binding [0-9]* (door): released$" "$ALOG"; }
removals() { grep -c ": tag removed$" "$ALOG"; }
taps_are() { [ "$(taps)" = "$1" ]; }
removals_are() { [ "$(removals)" = "$1" ]; }

# place: the tag in the field, then its tap seen by the agent (one more).
place() {
	local n
	n=$(taps)
	tag_place && eventually "$WAIT" taps_are $((n + 1))
}
# lift: the tag out of the field, then its removal seen by the agent;
# how long that took (ms, to 100 ms) is echoed as a TAP comment.
lift() {
	local n t0=${EPOCHREALTIME//[!0-9]/}
	n=$(removals)
	tag_lift && eventually "$WAIT" removals_are $((n + 1)) || return 1
	echo "# removal noticed $(((${EPOCHREALTIME//[!0-9]/} - t0) / 1000)) ms after the lift" >&3
}

listed() { $S readers | tee /dev/stderr | grep -q "^$DEV "; }
scan_virgin() {
	local out
	out=$($S --json scan --reader "$DEV" --timeout "$WAIT") || return 1
	echo "$out"
	[ "$(json_str uid "$out")" = "$UID_T" ] &&
		[ "$(json_str state "$out")" = virgin ]
}
verify_genuine() {
	local out
	out=$($S --json verify --issuer-key "$W/issuer.key" --reader "$DEV" \
		--timeout "$WAIT") || return 1
	echo "$out"
	grep -q '"genuine":true' <<<"$out"
}
enroll_as() {	# ARGS...: enrol the tag in the field into $STORE
	$S enroll --issuer-key "$W/issuer.key" --store "$STORE" \
		--reader "$DEV" --timeout "$WAIT" "$@"
}
binding_of() {	# TARGET: its binding id
	json_num id "$($S --json list --store "$STORE" |
		grep -o "{[^}]*\"target\":\"$1\"[^}]*}" | head -n 1)"
}

luks_key() { key_serial user "sectag:luks:$UUID"; }
open_read_close() {
	cryptsetup open --token-only "$LOOP" e2e-story &&
		reads_marker e2e-story && cryptsetup close e2e-story
}

# A login as alice answered by a tap: pamtester waits for the cue, then
# the tag is placed.
pam_login() {
	local pid rc=0 out=$W/pam.out
	stdbuf -o0 -e0 timeout -s KILL $((WAIT + 30)) \
		pamtester -v sectag-story alice authenticate >"$out" 2>&1 &
	pid=$!
	if eventually "$WAIT" grep -q "Tap your tag" "$out"; then
		tag_place
	fi
	wait "$pid" || rc=$?
	cat "$out"
	[ "$rc" = 0 ] && grep -q "successfully authenticated" "$out"
}

borrowed_and_returned() {
	agent_logged ": lent to pid" &&
		agent_logged ": borrow by pid [0-9]* ended (returned)"
}

start_udevd() {
	/lib/systemd/systemd-udevd --daemon --resolve-names=never || return 1
	UDEVD=1
	eventually 10 udevadm control --ping || return 1
	cat >"$W/record" <<-'EOS'
	#!/bin/sh
	f=$1
	shift
	echo "$*" >>"$f"
	EOS
	chmod 0755 "$W/record"
	# Like udev/examples/70-sectag-automation.rules, for every event.
	cat >"$RULE" <<-EOR
	# written by tests/e2e/story.sh
	ACTION=="change", SUBSYSTEM=="nfc", ENV{SYNTH_ARG_SECTAG}=="?*", \\
	  RUN+="$W/record $EVLOG \$env{SYNTH_ARG_LABEL} \$env{SYNTH_ARG_SECTAG} \$env{SYNTH_ARG_KIND} %k"
	EOR
	udevadm control --reload
}
recorded() { grep -qx "$1" "$EVLOG" 2>/dev/null; }
# ut NAME CMD...: t, or a skip on a backend without udev events (PC/SC).
ut() {
	if [ "${BACKEND_UEVENTS:-1}" = 0 ]; then
		ok "$1 # SKIP no kernel NFC device: no udev events"
	else
		t "$@"
	fi
}
recorded_n() { grep -cx "$1" "$EVLOG" 2>/dev/null; }

setup_host() {
	modprobe loop && modprobe dm_crypt || return 1
	id alice >/dev/null 2>&1 || useradd -M alice || return 1
	setup_volume "$W/vol.img" || return 1
	mkdir -p /etc/pam.d && cat >"$PAMSVC" <<-EOS
	# written by tests/e2e/story.sh
	auth	required	$PWD/build/pam_sectag.so timeout=$WAIT socket=$SOCK cue
	account	required	pam_permit.so
	EOS
	start_udevd
}

# ----------------------------------------------------------------- story

exec 3>&1		# lift's figures, past t's redirection
echo "# work directory $W"
echo "# backend $BACKEND: $BACKEND_DESC"
setup_host >"$LOG" 2>&1 || bail "host setup failed"
backend_start "$UID_T" >"$LOG" 2>&1 || bail "backend $BACKEND did not start"
echo "# reader $DEV, tag $UID_T, volume $LOOP"

t reader_listed listed
tag_place
t scan_shows_virgin_tag scan_virgin
t keygen $S keygen "$W/issuer.key"
t provision $S provision --issuer-key "$W/issuer.key" --reader "$DEV" \
	--timeout "$WAIT"
t verify_genuine verify_genuine
t enroll_luks enroll_as --luks "$LOOP" --key-file "$PASS"
t enroll_pam_user enroll_as --user alice
t enroll_door_label enroll_as --name door
ID_DOOR=$(binding_of door)
tag_lift

# --- the agent: a tap opens the volume
write_conf ""
t agent_starts start_agent
drop_keys
t tap_is_one_tap place
t tap_releases_luks_key eventually "$WAIT" luks_key
t token_only_opens_volume open_read_close
ut door_tap_ran_udev_rule eventually "$WAIT" recorded "door tap name $DEV"
t lift_is_a_removal lift
ut removal_ran_udev_rule eventually "$WAIT" recorded "door removed name $DEV"

# --- a PAM login answered by a tap
t pam_login_by_tap pam_login
t pam_tap_lifted lift

# --- the CLI beside the agent: verify borrows the reader, no EBUSY
t tag_placed_for_borrow place
N=$(taps)
t verify_borrows_reader verify_genuine
t reader_lent_and_returned borrowed_and_returned
# Lent, the agent let the tag go; back, it polls and finds it again.
t agent_taps_again_after_borrow eventually "$WAIT" taps_are $((N + 1))
t lift_after_borrow lift

# --- presence: held 10 s is one tap; lifted and placed again, a second
N=$(taps)
R=$(removals)
t hold_first_tap place
sleep "$HOLD_S"		# the hold itself is what is tested
t held_10s_is_one_tap taps_are $((N + 1))
t held_tag_not_removed removals_are "$R"
udev_taps_are() { [ "$(recorded_n "door tap name $DEV")" = "$1" ]; }
ut held_tag_one_udev_event eventually "$WAIT" udev_taps_are $((N + 1))
t lifted_tag_removed lift
t placed_again_second_tap place
t second_tap_counted taps_are $((N + 2))

# --- idle, no tag: the agent does not wake up
t last_lift lift
t agent_goes_idle eventually "$WAIT" agent_waits
SW0=$(agent_switches)
sleep "$IDLE_S"		# the measurement window
SW1=$(agent_switches)
echo "# idle ${IDLE_S} s: $((SW1 - SW0)) voluntary switches"
t idle_agent_never_wakes test $((SW1 - SW0)) = 0

kill "$AGENT"
wait "$AGENT"
RC=$?
AGENT=
t agent_stops_cleanly test "$RC" = 0
[ "$failed" = 0 ] || tail -n 60 "$ALOG" | sed 's/^/# agent: /'
echo "# binding door $ID_DOOR; $n tests, $failed failed in $SECONDS s"
echo "1..$n"
exit "$failed"
