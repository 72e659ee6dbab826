#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# sectagd under a real systemd, in the VM booted with systemd as PID 1
# (SECTAG_VM_INIT=systemd, tests/vm/init-systemd), as root: `make install`
# puts the units and the udev rule in place; a new NFC reader makes udev
# start sectagd.service; systemd sees it ready (Type=notify, StatusText);
# a tap releases the LUKS key into root's keyring and the sandboxed agent
# auto-opens the volume; the journal holds each agent line once, with its
# priority; with sectagd.socket listening and the service stopped, a
# client starts it (socket activation); stopping leaves no process.
# Figures: boot time, `systemd-analyze security` exposure, idle VmRSS.
#
#   SECTAG_VM_INIT=systemd flock /tmp/sectag-vm.lock \
#       tests/vm/run --timeout 600 -- tests/e2e/systemd.sh
#
# Every wait is on a systemd state or a journal line, bounded in time.
# TAP on stdout; the exit status is the number of failures.
# shellcheck disable=SC2317,SC2016 # helpers called through t/st; eval
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh

STORE=/var/lib/sectag/store	# the defaults: the unit's own paths
CONF=/etc/sectag/sectagd.conf
SOCK=/run/sectag/sectagd.sock
PASS=$W/passphrase
MARK=sectag-systemd-marker
UID_B=04B2000000000B
UID_G=04C2000000000C
UID_D=04D200000000DD
UNIT=sectagd.service
WAIT=60
EXPOSURE_MAX=3.0	# systemd-analyze security: 5.1 before the sandbox work
RSS_MAX_KIB=4096
LOOP=
LOOP_GONE=

cleanup() {
	systemctl stop sectagd.socket "$UNIT" >/dev/null 2>&1
	[ -e /dev/mapper/e2e-auto ] && cryptsetup close e2e-auto
	[ -z "$LOOP" ] || losetup -d "$LOOP"
	rm -rf "$W"
}
trap cleanup EXIT

# The agent's journal lines since it last started: MESSAGE PRIORITY.
invocation() { systemctl show -p InvocationID --value "$UNIT"; }
journal() {	# [journalctl args]
	journalctl -q --no-pager _SYSTEMD_INVOCATION_ID="$(invocation)" "$@"
}
journal_has() { journal -o cat | grep -q -- "$1"; }
# journal_once TEXT PRIO: exactly one line holds TEXT, at priority PRIO,
# and it came through the stream (stderr), not syslog.
journal_once() {
	local lines
	lines=$(journal -o json | grep -F -- "$1")
	echo "$lines"
	[ "$(grep -c . <<<"$lines")" = 1 ] &&
		grep -q "\"PRIORITY\":\"$2\"" <<<"$lines" &&
		grep -q '"_TRANSPORT":"stdout"' <<<"$lines"
}
# How many of the agent's lines hold TEXT.
journal_count() { journal -o cat | grep -cF -- "$1"; }
# Since boot, no agent line came through syslog (the second copy there
# would be), and none kept a "<N>" prefix journald did not read.
journal_clean() {
	local all
	all=$(journalctl -q --no-pager -b SYSLOG_IDENTIFIER=sectagd -o json)
	echo "$all"
	[ -n "$all" ] && ! grep -q '"_TRANSPORT":"syslog"' <<<"$all" &&
		! grep -q '"MESSAGE":"<[0-7]>' <<<"$all"
}
prop() { systemctl show -p "$1" --value "$UNIT"; }
active() { systemctl is-active --quiet "$1"; }
inactive() { [ "$(systemctl is-active "$1")" = inactive ]; }
luks_key() { key_serial user "sectag:luks:$UUID"; }
main_pid() { prop MainPID; }
# No process left in the unit's cgroup, and no sectagd anywhere.
no_stray() {
	local cg=/sys/fs/cgroup/system.slice/$UNIT
	! pgrep -x sectagd && { [ ! -e "$cg" ] || [ -z "$(cat "$cg/cgroup.procs")" ]; }
}
exposure() {
	systemd-analyze security "$UNIT" 2>/dev/null |
		sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p'
}
below() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 <= b + 0) }'; }

installed() {
	local dir
	dir=$(pkg-config --variable=systemdsystemunitdir systemd)
	# Not the module (this guest runs the build tree's): install-module's
	# depmod -a alone takes 46 s under emulation; check.sh checks that
	# target on the host (install-module).
	make -s --no-print-directory install INSTALL_MODULE=0 \
		PREFIX=/usr/local || return 1
	[ -f "$dir/sectagd.service" ] && [ -f "$dir/sectagd.socket" ] &&
		grep -qx "ExecStart=/usr/local/sbin/sectagd" "$dir/sectagd.service" &&
		systemctl daemon-reload && udevadm control --reload
}

# LUKS volume B (auto-opened) and a second one whose loop device is gone
# by the time its tag is tapped: the agent's auto-open fails (an error).
setup_all() {
	modprobe loop && modprobe dm_crypt || return 1
	setup_volume "$W/gone.img" || return 1
	LOOP_GONE=$LOOP UUID_GONE=$UUID
	setup_volume "$W/vol.img" || return 1
	$S keygen "$W/issuer.key" || return 1
	mkdir -p "${CONF%/*}"
	printf 'store = %s\nsocket = %s\nkey_timeout = 60\n' "$STORE" "$SOCK" >"$CONF"
}

enrol_all() {
	B=$(new_tag "$UID_B") && G=$(new_tag "$UID_G") && D=$(new_tag "$UID_D") ||
		return 1
	provision "$B" "$W/issuer.key" && provision "$G" "$W/issuer.key" &&
		provision "$D" "$W/issuer.key" || return 1
	enroll "$B" --luks "$LOOP" --key-file "$PASS" --auto-open e2e-auto &&
		enroll "$G" --luks "$LOOP_GONE" --key-file "$PASS" \
			--auto-open e2e-gone || return 1
	untap
	losetup -d "$LOOP_GONE"
	[ -n "$UUID_GONE" ]
}

echo "# work directory $W"
t systemd_is_pid1 test "$(cat /proc/1/comm)" = systemd
[ "$(cat /proc/1/comm)" = systemd ] ||
	bail "PID 1 is not systemd: run with SECTAG_VM_INIT=systemd"
t default_target_reached eventually $WAIT active sectag-vm.target
t system_running eventually $WAIT eval \
	'[ "$(systemctl is-system-running)" = running ]'
echo "# boot: $(systemd-analyze time | head -n 1)"
setup_all >"$LOG" 2>&1 || bail "setup failed"
t make_install_puts_units installed
t agent_not_running_yet inactive "$UNIT"

# --- udev: a reader appears, the agent starts
t reader_added setup_reader
t udev_starts_sectagd eventually $WAIT active "$UNIT"
t notify_type test "$(prop Type)" = notify
t status_text_says_ready eventually $WAIT eval \
	'prop StatusText | grep -qxE "Ready: [1-9][0-9]* NFC readers?, socket $SOCK"'
t agent_ready_logged eventually $WAIT journal_once "ready: store $STORE, socket $SOCK" 6
t sandbox_applied eval 'grep -q "^CapBnd:.*0000000000201000$" /proc/$(main_pid)/status'
RSS=$(awk '/^VmRSS:/ { print $2 }' "/proc/$(main_pid)/status")
echo "# idle sectagd under systemd: VmRSS $RSS KiB"
t idle_rss_within_budget test "$RSS" -le $RSS_MAX_KIB

# --- enrolment with the agent stopped, then taps through it
t agent_stops systemctl stop "$UNIT"
t stop_leaves_no_process_1 eventually $WAIT no_stray
t tags_enrolled enrol_all
t agent_starts systemctl start "$UNIT"
t agent_started_active active "$UNIT"
t enrolled_binding_file_root_only test "$(stat -c %a "$STORE")" = 600
tap "$B"
t tap_releases_luks_key eventually $WAIT luks_key
t sandboxed_agent_auto_opens eventually $WAIT test -e /dev/mapper/e2e-auto
t auto_opened_volume_reads reads_marker e2e-auto
t open_logged_info eventually $WAIT journal_once "/dev/mapper/e2e-auto open" 6
tap "$D"
t unknown_tag_refused_notice eventually $WAIT journal_once \
	"tag $UID_D refused: not enrolled" 5
tap "$G"
t failed_auto_open_logged_err eventually $WAIT journal_once \
	"cannot open e2e-gone" 3
untap
t three_removals_logged becomes $WAIT 3 journal_count "$DEV: tag removed"
t journal_has_each_line_once journal_clean

# --- socket activation
t service_stops systemctl stop "$UNIT"
t stop_leaves_no_process_2 eventually $WAIT no_stray
t socket_listens systemctl start sectagd.socket
t socket_file_is_systemds test -S "$SOCK"
t service_still_stopped inactive "$UNIT"
t client_starts_agent "$S" status
t socket_activated eventually $WAIT active "$UNIT"
t agent_uses_passed_socket eventually $WAIT journal_has "control socket passed by systemd"
t activated_agent_answers "$S" status
t activated_status_text eventually $WAIT eval 'prop StatusText | grep -qE "^Ready: [1-9][0-9]* NFC reader"'
t stop_all systemctl stop "$UNIT" sectagd.socket
t stop_all_leaves_no_process eventually $WAIT no_stray
t socket_removed_on_stop not test -e "$SOCK"

# --- the sandbox, as systemd rates it
E=$(exposure)
echo "# systemd-analyze security $UNIT: exposure $E (5.1 before)"
t exposure_at_most_$EXPOSURE_MAX below "$E" $EXPOSURE_MAX

[ "$failed" = 0 ] || journalctl -u "$UNIT" --no-pager -o short-monotonic |
	tail -n 40 | sed 's/^/# journal: /'
echo "# $n tests, $failed failed in $SECONDS s"
exit "$failed"
