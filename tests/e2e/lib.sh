# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# Shared by the end-to-end tests (sourced): TAP output, simulator, LUKS,
# keyring and agent helpers. Each test runs in the VM as root from the
# repository.
# shellcheck disable=SC2317 # helpers are called through t/st

S=build/sectag
W=$(mktemp -d /tmp/sectag-e2e.XXXXXX)
LOG=$W/log
n=0
failed=0
ON=

# Where a suite's time goes: a test (with the set-up before it) that took
# over 3 s says so, for tests/check.sh's budget.
T_LAST=${EPOCHREALTIME/./}
took() {
	local now=${EPOCHREALTIME/./} ms
	ms=$(((now - T_LAST) / 1000))
	T_LAST=$now
	[ "$ms" -lt 3000 ] || echo "# $ms ms up to: $1"
}
ok() { n=$((n + 1)); echo "ok $n $1"; took "$1"; }
not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n $1"
	tail -n 20 "$LOG" | sed 's/^/#   /'
	took "$1"
}
# t NAME CMD...: passes when CMD succeeds.
t() {
	local name=$1
	shift
	if "$@" >"$LOG" 2>&1; then ok "$name"; else not_ok "$name"; fi
}
# st NAME STATUS CMD...: passes when CMD exits with STATUS.
st() {
	local name=$1 want=$2 rc=0
	shift 2
	"$@" >"$LOG" 2>&1 || rc=$?
	echo "exit status $rc, expected $want" >>"$LOG"
	if [ "$rc" = "$want" ]; then ok "$name"; else not_ok "$name"; fi
}
bail() { echo "Bail out! $*"; sed 's/^/#   /' "$LOG" 2>/dev/null; exit 1; }
not() { ! "$@"; }

# eventually SECONDS CMD...: CMD succeeds within SECONDS (polled).
eventually() {
	local end=$(($(date +%s) + $1))
	shift
	until "$@"; do
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.1
	done
}

# eventually re-runs CMD, but its arguments are expanded once, when it
# is called: `eventually 30 test "$(count)" = 2` compares one stale
# count for 30 s. Counts that must be read again each time go through:
# becomes SECONDS WANT CMD...: CMD's output is WANT within SECONDS.
becomes() {
	local s=$1
	shift
	eventually "$s" output_is "$@"
}
output_is() { local want=$1; shift; [ "$("$@")" = "$want" ]; }
# exceeds SECONDS N CMD...: CMD's output, a number, exceeds N in time.
exceeds() {
	local s=$1
	shift
	eventually "$s" output_above "$@"
}
output_above() { local n=$1; shift; [ "$("$@")" -gt "$n" ]; }

json_num() { sed -n "s/.*\"$1\":\(-\?[0-9]*\).*/\1/p" <<<"$2"; }
json_str() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" <<<"$2"; }

new_tag() { json_num id "$($S --json sim tag new --uid "$1")"; }

# A fresh tap: TAG [FRAMES] is then the only tag on our reader.
tap() {
	[ -z "$ON" ] || $S sim tag remove "$ON" >/dev/null 2>&1
	ON=
	$S sim tag place "$1" "$RID" ${2:+"$2"} && ON=$1
}
untap() {
	[ -z "$ON" ] || $S sim tag remove "$ON" >/dev/null 2>&1
	ON=
}

# provision TAG KEY: issue TAG with issuer key KEY on our reader.
provision() {
	tap "$1" && $S provision --issuer-key "$2" --reader "$DEV" --timeout 10
}

# enroll TAG ARGS...: enrol TAG (issued with $W/issuer.key) into $STORE.
enroll() {
	local tag=$1
	shift
	tap "$tag" && $S enroll --issuer-key "$W/issuer.key" --store "$STORE" \
		--reader "$DEV" --timeout 10 "$@"
}

setup_reader() {
	local r
	modprobe loop && modprobe dm_crypt || return 1
	r=$($S --json sim reader add) || return 1
	RID=$(json_num id "$r")
	DEV=$(json_str device "$r")
	[ -n "$RID" ] && [ -n "$DEV" ]
}

# setup_volume IMAGE: a LUKS2 volume on a loop device holding $MARK.
setup_volume() {
	printf 'correct horse battery staple' >"$PASS"
	truncate -s 32M "$1" || return 1
	LOOP=$(losetup -f --show "$1") || return 1
	cryptsetup luksFormat --batch-mode --type luks2 --pbkdf pbkdf2 \
		--pbkdf-force-iterations 1000 --key-file "$PASS" "$LOOP" ||
		return 1
	# shellcheck disable=SC2034 # for the scripts that source this file
	UUID=$(cryptsetup luksUUID "$LOOP") || return 1
	cryptsetup open --key-file "$PASS" "$LOOP" e2e-pass &&
		printf '%s' "$MARK" | dd of=/dev/mapper/e2e-pass conv=fsync 2>/dev/null &&
		cryptsetup close e2e-pass
}

# The mapping really decrypts: the marker written with the passphrase.
reads_marker() { [ "$(head -c ${#MARK} "/dev/mapper/$1")" = "$MARK" ]; }

# --- keys and the agent (agent.sh, luks.sh, pam.sh, randomid.sh, udev.sh)

# key_serial TYPE DESC: the serial of that key in root's user keyring.
key_serial() { keyctl search @u "$1" "$2" 2>/dev/null; }
# Every key in root's user keyring invalidated; always succeeds.
drop_keys() {
	local s
	for s in $(keyctl rlist @u 2>/dev/null); do
		keyctl invalidate "$s" 2>/dev/null
	done
	return 0
}

# agent_logged PATTERN: the agent's log $ALOG matches PATTERN.
agent_logged() { grep -q -- "$1" "$ALOG"; }

# start_agent [CONFIG LINE]: sectagd in the foreground on $CONF (with
# CONFIG LINE added to it first), $AGENT its pid, until its socket $SOCK
# is there. Its debug log goes to $ALOG, started afresh each time unless
# AGENT_LOG_APPEND is set (then the log of every run is kept).
start_agent() {
	[ $# = 0 ] || echo "$1" >>"$CONF"
	if [ -n "${AGENT_LOG_APPEND:-}" ]; then
		build/sectagd --foreground --debug --config "$CONF" 2>>"$ALOG" &
	else
		build/sectagd --foreground --debug --config "$CONF" 2>"$ALOG" &
	fi
	# shellcheck disable=SC2034 # the caller's: cleanup, stop_agent
	AGENT=$!
	eventually 10 test -S "$SOCK"
}

# write_conf [LINE]...: the agent's config $CONF for store $STORE and
# socket $SOCK, with each LINE after them.
write_conf() {
	{
		echo "# written by tests/e2e/${0##*/}"
		echo "store = $STORE"
		echo "socket = $SOCK"
		[ $# = 0 ] || printf '%s\n' "$@"
	} >"$CONF"
}

# --- the LUKS2 token plugin (token.sh, tpm2.sh)

# token_env MARK: the work files, the agent's socket and config, the
# plugin's path in libcryptsetup's token directory; the CLI and the
# plugin ask the agent on $SOCK and take any reader unless told.
token_env() {
	STORE=$W/store
	EMPTY=$W/empty/store
	PASS=$W/passphrase
	CONF=$W/sectagd.conf
	SOCK=/run/sectag-e2e.$$/sock
	ALOG=$W/agent.log
	MARK=$1
	TOKENDIR=$(cryptsetup --help |
		sed -n 's/^LUKS2 external token plugin path: \(.*\)\.$/\1/p')
	PLUGIN=$TOKENDIR/libcryptsetup-token-sectag.so
	LOOP=
	AGENT=
	export SECTAG_AGENT_SOCKET=$SOCK SECTAG_READER=''
}

# token_cleanup MAPPING...: (on exit) the agent stopped, each MAPPING and
# luks-$UUID closed, the loop device, plugin, work directory and socket
# directory gone.
token_cleanup() {
	local m
	[ -z "$AGENT" ] || kill "$AGENT" 2>/dev/null
	for m in "$@" "luks-${UUID:-x}"; do
		[ -e "/dev/mapper/$m" ] && cryptsetup close "$m"
	done
	[ -z "$LOOP" ] || losetup -d "$LOOP"
	rm -f "$PLUGIN"
	rm -rf "$W" "${SOCK%/*}"
}

# token_setup IMAGE: our reader, a LUKS2 volume on IMAGE, the keys
# $W/issuer.key and $W/other.key, tag A ($UID_A) issued with the first,
# the plugin installed.
token_setup() {
	setup_reader && setup_volume "$1" || return 1
	$S keygen "$W/issuer.key" && $S keygen "$W/other.key" || return 1
	A=$(new_tag "$UID_A") && provision "$A" "$W/issuer.key" || return 1
	mkdir -p "$TOKENDIR" "${EMPTY%/*}" "${SOCK%/*}" &&
		install -m 0644 build/libcryptsetup-token-sectag.so "$PLUGIN"
}

# pending N: the agent on $SOCK has N requests waiting for a tap.
pending() { build/e2e/ctl "$SOCK" STATUS | grep -q "^STATE $1"; }

# with_agent_tap TAG NAME CMD...: CMD in the background must wait for
# the agent's AUTH (pending), then a tap of TAG answers it; CMD opens
# /dev/mapper/NAME, which reads $MARK. Its exit status is the job's.
with_agent_tap() {
	local tag=$1 name=$2 job
	shift 2
	untap
	"$@" >>"$LOG" 2>&1 &
	job=$!
	eventually 15 pending 1 || { kill "$job"; return 1; }
	tap "$tag"
	wait "$job" && reads_marker "$name" && cryptsetup close "$name"
}

# nfc_dev_of DRIVER: sets DEV to the nfcN whose parent device is bound to
# DRIVER (pn533_usb, ...); fails while there is none.
nfc_dev_of() {
	local d drv
	for d in /sys/class/nfc/nfc*; do
		[ -e "$d" ] || continue
		drv=$(readlink "$d/device/driver" 2>/dev/null) || continue
		[ "${drv##*/}" = "$1" ] || continue
		DEV=${d##*/}
		return 0
	done
	return 1
}

# The agent's ($AGENT) voluntary context switches: each is one wakeup of
# its single-threaded loop or one wait for an exchange's answer.
agent_switches() {
	awk '/^voluntary_ctxt_switches:/ { print $2 }' "/proc/$AGENT/status"
}
# The agent sleeps in epoll_wait for its next event.
agent_waits() { grep -q epoll "/proc/$AGENT/wchan"; }
