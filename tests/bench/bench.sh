#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench, in the VM: figures, not pass/fail. Medians of ROUNDS.
#  1. verify through libsectag vs. the same APDUs from a bare client;
#  2. tap -> key in the keyring, tap -> volume active, through sectagd,
#     as ratios to the bare protocol exchange;
#  3. sectagd idle: RSS and wakeups per second.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh
ROUNDS=${SECTAG_BENCH_ROUNDS:-30}
STORE=$W/store
PASS=$W/passphrase
MARK=bench
UIDHEX=04BE0C4000000001
UIDHEX=${UIDHEX:0:14}
LOOP=
AGENT=
cleanup() {
	[ -z "$AGENT" ] || kill "$AGENT" 2>/dev/null
	[ -e /dev/mapper/bench ] && cryptsetup close bench
	[ -z "$LOOP" ] || losetup -d "$LOOP"
	rm -rf "$W"
}
trap cleanup EXIT
B=build/bench/bench_tap

setup_reader >"$LOG" 2>&1 && setup_volume "$W/vol.img" >>"$LOG" 2>&1 ||
	bail "setup"
$S keygen "$W/issuer.key" >/dev/null
T=$(new_tag "$UIDHEX")
tap "$T"
$S provision --issuer-key "$W/issuer.key" --reader "$DEV" --timeout 10 \
	>>"$LOG" 2>&1 || bail "provision"
$S enroll --issuer-key "$W/issuer.key" --luks "$LOOP" --key-file "$PASS" \
	--auto-open bench --store "$STORE" --reader "$DEV" --timeout 10 \
	>>"$LOG" 2>&1 || bail "enroll"
untap
IDX=${DEV#nfc}

echo "== 1. protocol: libsectag vs. bare client ($ROUNDS rounds, median)"
out=$($B "$RID" "$IDX" "$T" "$W/issuer.key" "$UIDHEX" "$ROUNDS") || bail "bench"
grep -v '^bare ' <<<"$out"
BARE=$(sed -n 's/^bare //p' <<<"$out")
$S sim tag remove "$T" >/dev/null 2>&1

printf 'store = %s\nsocket = %s/sock\n' "$STORE" "$W" >"$W/conf"
build/sectagd --foreground --config "$W/conf" 2>"$W/agent.log" &
AGENT=$!
eventually 10 test -S "$W/sock" || bail "agent"

echo "== 2. sectagd: tap to key, tap to volume ($ROUNDS rounds, median)"
K=$($B "$RID" "$IDX" "$T" "$W/issuer.key" "$UIDHEX" "$ROUNDS" --agent \
	"sectag:luks:$UUID" | awk '{ print $2 }') || bail "tap to key"
V=$($B "$RID" "$IDX" "$T" "$W/issuer.key" "$UIDHEX" "$ROUNDS" --volume bench |
	awk '{ print $2 }') || bail "tap to volume"
awk -v k="$K" -v v="$V" -v b="$BARE" 'BEGIN {
	printf "tap -> key in keyring:   %7.2f ms (%.2f x the bare exchange, %.2f ms)\n", k * 1e3, k / b, b * 1e3
	printf "tap -> volume active:    %7.2f ms (%.2f x the bare exchange)\n", v * 1e3, v / b
}'

echo "== 3. sectagd idle (10 s, no tag)"
ctx() { awk '/^(non)?voluntary_ctxt_switches/ { s += $2 } END { print s }' "/proc/$AGENT/status"; }
sleep 1
c0=$(ctx)
sleep 10
c1=$(ctx)
echo "wakeups: $(( (c1 - c0) / 10 ))/s ($((c1 - c0)) context switches in 10 s)"
awk '/^(VmRSS|RssAnon|RssFile):/ { printf "%s %s KiB  ", $1, $2 } END { print "" }' \
	"/proc/$AGENT/status"
