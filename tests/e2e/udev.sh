#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# udev automation end to end, in the VM, as root: systemd-udevd runs with
# udev/60-sectag.rules (an NFC device that appears wants sectagd.service)
# and udev/examples/70-sectag-automation.rules, whose RUN+= is replaced by
# a command that records "LABEL EVENT". sectagd's synthetic uevents: an
# authenticated tap of the "door" tag runs the example's command with
# label "door"; its removal, other labels and users do not; a clone or an
# unknown tag produce no event at all; the agent stopping is a removal;
# "uevents = no" silences the agent.
# A catch-all test rule records every sectag event in order, so that
# "nothing happened" is checked against a marker event, not a sleep.
#
#   flock /tmp/sectag-vm.lock tests/vm/run --timeout 600 -- tests/e2e/udev.sh
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
RULES=/etc/udev/rules.d
DOORLOG=$W/door.log	# what the example rule's command recorded
ALLLOG=$W/all.log	# every sectag uevent: LABEL EVENT KIND BINDING DEVICE
UID_DOOR=04D4000000000D
UID_OTHER=04E4000000000E
UID_USER=04F4000000000F
UID_UNK=04C400000000CC
AGENT=
UDEVD=

cleanup() {
	[ -z "$AGENT" ] || kill "$AGENT" 2>/dev/null
	[ -z "$UDEVD" ] || udevadm control --exit >/dev/null 2>&1
	rm -f "$RULES/60-sectag.rules" "$RULES/70-sectag-automation.rules" \
		"$RULES/71-sectag-e2e.rules"
	rm -rf "$W" "${SOCK%/*}"
}
trap cleanup EXIT

binding_id() {	# target
	local b
	b=$($S --json list --store "$STORE" |
		grep -o "{[^}]*\"target\":\"$1\"[^}]*}" | head -n 1)
	json_num id "$b"
}

start_udevd() {
	/lib/systemd/systemd-udevd --daemon --resolve-names=never || return 1
	UDEVD=1
	eventually 10 udevadm control --ping
}

# What udev stored for an nfc device.
udev_props() { udevadm info --query=property "/sys/class/nfc/$1"; }
wants_agent() {	# device
	local p
	p=$(udev_props "$1")
	echo "$p"
	grep -qx 'SYSTEMD_WANTS=sectagd.service' <<<"$p" &&
		grep -q '^TAGS=.*:systemd:' <<<"$p"
}
add_reader() {	# prints the new reader's device
	local r
	r=$($S --json sim reader add) || return 1
	json_str device "$r"
}

install_rules() {
	local run
	cat >"$W/record" <<-'EOS'
	#!/bin/sh
	# record FILE WORDS...: appends the words as one line
	f=$1
	shift
	echo "$*" >>"$f"
	EOS
	chmod 0755 "$W/record"
	: >"$DOORLOG"
	: >"$ALLLOG"
	# The example exactly, but for its command.
	run="RUN+=\"$W/record $DOORLOG \$env{SYNTH_ARG_LABEL} \$env{SYNTH_ARG_SECTAG}\""
	sed "/^[^#]/s|RUN+=\"[^\"]*\"|$run|" udev/examples/70-sectag-automation.rules \
		>"$RULES/70-sectag-automation.rules"
	[ "$(grep -c '^[^#].*RUN+=' "$RULES/70-sectag-automation.rules")" = 1 ] &&
		grep -qF "$run" "$RULES/70-sectag-automation.rules" || return 1
	diff <(grep -v '^[^#].*RUN+=' udev/examples/70-sectag-automation.rules) \
		<(grep -v '^[^#].*RUN+=' "$RULES/70-sectag-automation.rules") || return 1
	cat >"$RULES/71-sectag-e2e.rules" <<-EOR
	# written by tests/e2e/udev.sh: every sectag event, in order
	ACTION=="change", SUBSYSTEM=="nfc", ENV{SYNTH_ARG_SECTAG}=="?*", \\
	  RUN+="$W/record $ALLLOG \$env{SYNTH_ARG_LABEL} \$env{SYNTH_ARG_SECTAG} \$env{SYNTH_ARG_KIND} \$env{SYNTH_ARG_BINDING} %k"
	EOR
	udevadm control --reload
}

setup_all() {
	start_udevd || return 1
	# A reader that appears before 60-sectag.rules is installed: the
	# control for the one that appears after.
	CTRL=$(add_reader) && [ -n "$CTRL" ] || return 1
	udevadm settle --timeout=30 || return 1
	cp udev/60-sectag.rules "$RULES/" && udevadm control --reload || return 1
	setup_reader || return 1
	udevadm settle --timeout=30 || return 1
	$S keygen "$W/issuer.key" && $S keygen "$W/other.key" || return 1
	id alice >/dev/null 2>&1 || useradd -M alice || return 1
	DOOR=$(new_tag $UID_DOOR) && OTHER=$(new_tag $UID_OTHER) &&
		USR=$(new_tag $UID_USER) && CLONE=$(new_tag $UID_DOOR) &&
		UNK=$(new_tag $UID_UNK) || return 1
	provision "$DOOR" "$W/issuer.key" && provision "$OTHER" "$W/issuer.key" &&
		provision "$USR" "$W/issuer.key" &&
		provision "$CLONE" "$W/other.key" &&
		provision "$UNK" "$W/issuer.key" || return 1
	enroll "$DOOR" --name door && enroll "$OTHER" --name other &&
		enroll "$USR" --user alice || return 1
	untap
	ID_DOOR=$(binding_id door) && ID_OTHER=$(binding_id other) &&
		ID_USER=$(binding_id alice) || return 1
	[ -n "$ID_DOOR" ] && [ -n "$ID_OTHER" ] && [ -n "$ID_USER" ] || return 1
	cat >"$CONF" <<-EOC
	# written by tests/e2e/udev.sh
	store = $STORE
	socket = $SOCK
	EOC
	install_rules
}

stop_agent() {	# SIGTERM: a clean exit
	local rc=0
	kill "$AGENT" || rc=1
	wait "$AGENT" || rc=$?
	AGENT=
	return "$rc"
}

# A synthetic uevent of our own on the reader: once the catch-all rule
# recorded it, every event written before it has been handled.
MARKS=0
marker() {
	MARKS=$((MARKS + 1))
	echo "change $(cat /proc/sys/kernel/random/uuid) SECTAG=marker LABEL=m$MARKS KIND=test BINDING=0" \
		>"/sys/class/nfc/$DEV/uevent" || return 1
	eventually 15 grep -qx "m$MARKS marker test 0 $DEV" "$ALLLOG"
}

# The files hold exactly these lines (after a marker).
holds() {	# file lines...
	local f=$1
	shift
	echo "--- $f:"
	cat "$f"
	echo "--- expected:"
	printf '%s\n' "$@"
	diff <(printf '%s\n' "$@") "$f" >/dev/null
}
recorded() { grep -qx "$1" "$ALLLOG"; }

echo "# work directory $W"
setup_all >"$LOG" 2>&1 || bail "setup failed"
echo "# readers $CTRL (control) and $DEV; tags door=$DOOR other=$OTHER" \
	"alice=$USR clone=$CLONE unknown=$UNK; bindings $ID_DOOR $ID_OTHER $ID_USER"

# --- 60-sectag.rules: a new NFC device wants the agent
t control_reader_wants_nothing not wants_agent "$CTRL"
t new_reader_wants_sectagd wants_agent "$DEV"
t rule_sets_wants_on_add eval "udevadm test --action=add /sys/class/nfc/$CTRL 2>/dev/null |
	grep -qx SYSTEMD_WANTS=sectagd.service"
t rule_ignores_change not eval "udevadm test --action=change /sys/class/nfc/$CTRL 2>/dev/null |
	grep -q SYSTEMD_WANTS"

# --- the example rule, driven by the agent's synthetic uevents
t agent_starts start_agent
t marker_events_are_recorded marker
E=("m1 marker test 0 $DEV")
tap "$DOOR"
t door_tap_runs_example_command eventually 15 grep -qx "door tap" "$DOORLOG"
E+=("door tap name $ID_DOOR $DEV")
t door_tap_event_has_kind_binding_device eventually 15 recorded "${E[-1]}"
tap "$OTHER"
E+=("door removed name $ID_DOOR $DEV" "other tap name $ID_OTHER $DEV")
t door_removal_is_an_event eventually 15 recorded "${E[-2]}"
t other_tap_is_an_event eventually 15 recorded "${E[-1]}"
tap "$USR"
E+=("other removed name $ID_OTHER $DEV" "alice tap user $ID_USER $DEV")
t user_tap_is_an_event eventually 15 recorded "${E[-1]}"
untap
E+=("alice removed user $ID_USER $DEV")
t user_removal_is_an_event eventually 15 recorded "${E[-1]}"
t all_events_in_order holds "$ALLLOG" "${E[@]}"
t example_ran_once_for_door_only holds "$DOORLOG" "door tap"

# --- refused tags: no event at all
tap "$CLONE"
t clone_is_refused eventually 15 agent_logged "tag $UID_DOOR refused: authentication failed"
tap "$UNK"
t unknown_is_refused eventually 15 agent_logged "tag $UID_UNK refused: not enrolled"
untap
t marker_after_refused_tags marker
E+=("m$MARKS marker test 0 $DEV")
t refused_tags_made_no_event holds "$ALLLOG" "${E[@]}"
t example_did_not_run_for_refused holds "$DOORLOG" "door tap"

# --- the same tag again, then the agent with uevents = no
tap "$DOOR"
E+=("door tap name $ID_DOOR $DEV")
t door_tap_runs_example_again eventually 15 holds "$DOORLOG" "door tap" "door tap"
# The agent stops while the tag lies there: it no longer vouches for it.
t agent_stops stop_agent
E+=("door removed name $ID_DOOR $DEV")
t agent_stop_is_a_removal eventually 15 holds "$ALLLOG" "${E[@]}"
untap
t quiet_agent_starts start_agent "uevents = no"
tap "$DOOR"
t quiet_agent_releases eventually 15 agent_logged "binding $ID_DOOR (door): released"
untap
t marker_after_quiet_agent marker
E+=("m$MARKS marker test 0 $DEV")
t quiet_agent_made_no_event holds "$ALLLOG" "${E[@]}"
t agent_stops_again stop_agent

[ "$failed" = 0 ] || tail -n 40 "$ALOG" | sed 's/^/# agent: /'
echo "# $n tests, $failed failed in $SECONDS s"
exit "$failed"
