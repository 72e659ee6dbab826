#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The guest's half of tests/boot/boot.sh, run by tests/vm/run with
# SECTAG_VM_OUTDIR=DIR (the host's work directory, shared):
#
#   guest.sh prepare DIR   a tag (tagd, state in DIR/tag.state) issued;
#       DIR/root.img: LUKS2 holding a tiny root filesystem (busybox and an
#       /sbin/init printing SECTAG-ROOT-OK), enrolled --bind host;
#       DIR/portable.img: LUKS2 holding a marker, enrolled --bind portable;
#       with a TPM (tests/vm/run's SECTAG_VM_TPM), DIR/tpm2root.img: a copy
#       of the root disk under another UUID, enrolled --bind tpm2 (PCR 7);
#       DIR/store: this host's store (tests/boot/mkinitrd.sh builds the
#       initramfs from it). Prints "# figure NAME VALUE" lines.
#   guest.sh bench DIR     cryptsetup open through the plugin vs --key-file
#       with the same derived secret: "# round N: keyfile MS plugin MS tap MS".
#   guest.sh fresh DIR     a second machine with an empty store: TAP lines
#       (the portable disk through sectag unlock and cryptsetup's plugin,
#       the host-bound disk refused).
#
# TAP on stdout for "fresh"; "prepare" exits non-zero on any failure.
set -u
cd "$(dirname "$0")/../.." || exit 1

# eventually, reads_marker; its t and enroll are redefined below.
. tests/e2e/lib.sh
rmdir "$W"	# lib.sh's work directory: this script keeps its files in DIR
MODE=$1
D=$2
S=build/sectag
UID_T=04B0070000B007
PASS='boot test passphrase'
MARK=sectag-portable-marker
TAGD=
LOOPS=()

cleanup() {
	local l
	[ -z "$TAGD" ] || kill "$TAGD" 2>/dev/null
	for m in bootroot bootport bootroot2 port-unl port-plug; do
		[ -e "/dev/mapper/$m" ] && cryptsetup close "$m"
	done
	for l in "${LOOPS[@]}"; do losetup -d "$l"; done
}
trap cleanup EXIT

ms() { date +%s%3N; }
figure() { echo "# figure $1 $2"; }
T0=$(ms)
step() { echo "# [$(($(ms) - T0)) ms] $*"; }

# tagd on the state file, until its reader is up: DEV (nfcN).
start_tagd() {
	local line
	coproc TAGD_IO { exec build/boot/tagd --state "$D/tag.state" --uid "$UID_T"; }
	TAGD=$TAGD_IO_PID
	read -r -t 20 line <&"${TAGD_IO[0]}" || return 1
	echo "# tagd: $line"
	DEV=${line##*device=}
	DEV=${DEV%% *}
}
# A fresh tap: lift and place again; waits until the reader has it.
retap() {
	kill -USR2 "$TAGD" && eventually_tag_gone && kill -USR1 "$TAGD" &&
		eventually 10 tag_on
}
tag_on() { $S --json sim tag list | grep -q '"reader":[1-9]'; }
eventually_tag_gone() { eventually 10 not_tag_on; }
not_tag_on() { ! tag_on; }

# losetup IMAGE: LOOP.
attach() {
	LOOP=$(losetup -f --show "$1") || return 1
	LOOPS+=("$LOOP")
}

luks_format() {	# loop
	printf '%s' "$PASS" >"$D/pass"
	# A 4 MiB header (keyslots area 3 MiB) keeps the images small.
	cryptsetup luksFormat --batch-mode --type luks2 --pbkdf pbkdf2 \
		--pbkdf-force-iterations 1000 --luks2-keyslots-size 3M \
		--key-file "$D/pass" "$1"
}

# The root filesystem: static busybox and an init that says it ran.
make_root() {
	local mnt=$D/mnt
	truncate -s 32M "$D/root.img" && attach "$D/root.img" &&
		luks_format "$LOOP" || return 1
	ROOT_LOOP=$LOOP
	cryptsetup open --key-file "$D/pass" "$LOOP" bootroot &&
		mkfs.ext4 -q -L sectag-root /dev/mapper/bootroot || return 1
	mkdir -p "$mnt" && mount /dev/mapper/bootroot "$mnt" || return 1
	mkdir -p "$mnt"/{bin,sbin,dev,proc,sys,etc}
	cp /bin/busybox "$mnt/bin/busybox"
	cat >"$mnt/sbin/init" <<-'EOF'
	#!/bin/busybox sh
	/bin/busybox mount -t proc proc /proc 2>/dev/null
	echo "SECTAG-ROOT-OK init ran from $(/bin/busybox cat /etc/marker)" >/dev/console
	/bin/busybox sync
	/bin/busybox poweroff -f
	EOF
	chmod 0755 "$mnt/sbin/init"
	echo "root-on-luks" >"$mnt/etc/marker"
	umount "$mnt" && cryptsetup close bootroot
}

# The tpm2 root disk: root.img's copy (same filesystem), another UUID.
make_tpm2_root() {
	cp --sparse=always "$D/root.img" "$D/tpm2root.img" &&
		attach "$D/tpm2root.img" || return 1
	TPM2_LOOP=$LOOP
	cryptsetup luksUUID --batch-mode \
		--uuid "$(cat /proc/sys/kernel/random/uuid)" "$LOOP" &&
		cryptsetup luksUUID "$LOOP" >"$D/tpm2root.uuid"
}

make_portable() {
	truncate -s 20M "$D/portable.img" && attach "$D/portable.img" &&
		luks_format "$LOOP" || return 1
	PORT_LOOP=$LOOP
	cryptsetup open --key-file "$D/pass" "$LOOP" bootport &&
		printf '%s' "$MARK" | dd of=/dev/mapper/bootport conv=fsync 2>/dev/null &&
		cryptsetup close bootport
}

enroll() {	# loop mode
	retap && $S enroll --issuer-key "$D/issuer.key" --luks "$1" \
		--key-file "$D/pass" --bind "$2" --reader "$DEV" --timeout 20
}

prepare() {
	local t0
	set -e
	modprobe loop
	modprobe dm_crypt
	rm -rf /var/lib/sectag /etc/sectag
	truncate -s 4096 "$D/tag.state"
	step start; start_tagd
	$S keygen "$D/issuer.key"
	$S provision --issuer-key "$D/issuer.key" --reader "$DEV" --timeout 20
	step provisioned; make_root
	step root; make_portable
	ROOT_UUID=$(cryptsetup luksUUID "$ROOT_LOOP")
	echo "$ROOT_UUID" >"$D/root.uuid"
	rm -f "$D/tpm2root.img" "$D/tpm2root.uuid"
	[ ! -c /dev/tpmrm0 ] || make_tpm2_root
	t0=$(ms)
	enroll "$ROOT_LOOP" host
	figure enroll_ms $(($(ms) - t0))
	enroll "$PORT_LOOP" portable
	if [ -n "${TPM2_LOOP:-}" ]; then
		t0=$(ms)
		enroll "$TPM2_LOOP" tpm2
		figure enroll_tpm2_ms $(($(ms) - t0))
	fi
	# The host bindings, for tests/boot/mkinitrd.sh (this overlay goes).
	install -m 0600 /var/lib/sectag/store "$D/store"
	kill "$TAGD"
	wait "$TAGD" 2>/dev/null || true
	TAGD=
	step enrolled
	echo "# prepared"
}

# --------------------------------------------------------------- fresh

n=0
failed=0
LOG=$D/fresh-case.log
t() {
	local name=$1
	shift
	n=$((n + 1))
	if "$@" >"$LOG" 2>&1; then
		echo "ok $n $name"
	else
		failed=$((failed + 1))
		echo "not ok $n $name"
		tail -n 20 "$LOG" | sed 's/^/#   /'
	fi
}
opens() {	# name cmd...
	local name=$1
	shift
	retap && "$@" && reads_marker "$name" && cryptsetup close "$name"
}
host_refused() {
	local out rc=0
	retap || return 1
	out=$($S unlock "$ROOT_LOOP" bootroot --store "$EMPTY" --reader "$DEV" \
		--timeout 20 2>&1) ||
		rc=$?
	echo "$out (exit $rc)"
	[ "$rc" = 1 ] && grep -q "bound to the host" <<<"$out"
}

fresh() {
	local tokdir
	EMPTY=$D/fresh-host/store
	mkdir -p "${EMPTY%/*}"
	rm -rf /var/lib/sectag
	if ! modprobe loop || ! modprobe dm_crypt; then echo "Bail out! modules"; exit 1; fi
	start_tagd || { echo "Bail out! tagd"; exit 1; }
	attach "$D/portable.img" && PORT_LOOP=$LOOP
	attach "$D/root.img" && ROOT_LOOP=$LOOP
	tokdir=$(cryptsetup --help |
		sed -n 's/^LUKS2 external token plugin path: \(.*\)\.$/\1/p')
	mkdir -p "$tokdir"
	install -m 0644 build/libcryptsetup-token-sectag.so "$tokdir/"
	echo "# fresh host: empty store $EMPTY, reader $DEV"
	t fresh_host_store_is_empty test ! -e "$EMPTY"
	t portable_opens_with_sectag_unlock opens port-unl \
		$S unlock "$PORT_LOOP" port-unl --store "$EMPTY" --reader "$DEV" --timeout 20
	t portable_opens_with_cryptsetup_plugin opens port-plug \
		env SECTAG_STORE="$EMPTY" SECTAG_READER="$DEV" cryptsetup open \
		--token-only --token-type sectag "$PORT_LOOP" port-plug
	t host_bound_root_refused_clearly host_refused
	t passphrase_still_opens_host_bound_root \
		cryptsetup open --test-passphrase --key-file "$D/pass" "$ROOT_LOOP"
	echo "1..$n"
	exit "$failed"
}

# ---------------------------------------------------------------- bench

# bench: cryptsetup open through the plugin vs --key-file with the same
# secret, on the host-bound root disk, this host's store; SECTAG_BENCH_N
# rounds. The secret comes from `sectag keyscript` (one tap): the tap's
# own time is that, reported separately.
bench_round() {
	local t0 t1 t2 t3 t4 t5
	t0=$(ms)
	# Tokens off: with a sectag token in the header, cryptsetup 2.6 runs
	# the plugin (a tap) before it reads --key-file.
	cryptsetup open --disable-external-tokens --key-file "$D/secret" \
		--key-slot "$KS" "$ROOT_LOOP" bench-kf
	t1=$(ms)
	cryptsetup close bench-kf
	retap
	t2=$(ms)
	SECTAG_READER=$DEV cryptsetup open --token-only --token-type sectag \
		"$ROOT_LOOP" bench-pl
	t3=$(ms)
	cryptsetup close bench-pl
	retap
	t4=$(ms)
	CRYPTTAB_SOURCE=$ROOT_LOOP CRYPTTAB_NAME=bench SECTAG_READER=$DEV \
		$S keyscript timeout=20 >/dev/null
	t5=$(ms)
	echo "keyfile $((t1 - t0)) plugin $((t3 - t2)) tap $((t5 - t4))"
}

bench() {
	local tokdir i
	set -e
	modprobe loop
	modprobe dm_crypt
	mkdir -p /var/lib/sectag
	install -m 0600 "$D/store" /var/lib/sectag/store
	start_tagd
	attach "$D/root.img"
	ROOT_LOOP=$LOOP
	tokdir=$(cryptsetup --help |
		sed -n 's/^LUKS2 external token plugin path: \(.*\)\.$/\1/p')
	mkdir -p "$tokdir"
	install -m 0644 build/libcryptsetup-token-sectag.so "$tokdir/"
	export SECTAG_READER=$DEV
	retap
	CRYPTTAB_SOURCE=$ROOT_LOOP CRYPTTAB_NAME=bench SECTAG_READER=$DEV \
		$S keyscript timeout=20 >"$D/secret"
	KS=$(cryptsetup luksDump --dump-json-metadata "$ROOT_LOOP" |
		jq -r '[.tokens[] | select(.type == "sectag")][0].keyslots[0]')
	cryptsetup open --test-passphrase --disable-external-tokens \
		--key-file "$D/secret" --key-slot "$KS" "$ROOT_LOOP"
	for i in $(seq "${SECTAG_BENCH_N:-5}"); do
		echo "# round $i: $(bench_round)"
	done
	rm -f "$D/secret"
}

case $MODE in
prepare) prepare ;;
fresh) fresh ;;
bench) bench ;;
*) echo "usage: guest.sh prepare|fresh|bench DIR" >&2; exit 2 ;;
esac
