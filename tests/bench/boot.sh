#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot benchmark (issue 11), runnable alone; prints figures, passes or
# fails nothing:
#
#   flock /tmp/sectag-vm.lock tests/bench/boot.sh
#
# 1. cryptsetup open through the sectag token plugin vs cryptsetup open
#    --key-file with the same derived secret (the host-bound root disk of
#    tests/boot, in a tests/vm/run guest): medians and their ratio
#    (target <= 1.2); the plugin's time includes the tap, which is also
#    timed alone (sectag keyscript: tap, authentication, derivation).
# 2. Boot time to root (qemu start to the root's init), the same disk:
#    the passphrase from a key file in the initramfs (no sectag) vs a tap
#    (the tag on the reader from the start).
#
# SECTAG_BENCH_N rounds (default 5) for 1, SECTAG_BENCH_BOOTS (3) for 2.
# Like tests/boot/boot.sh it does not take the VM lock itself.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/boot/lib.sh

W=$(mktemp -d /tmp/sectag-bench-boot.XXXXXX)
ROOT_OK='SECTAG-ROOT-OK'
BOOTS=${SECTAG_BENCH_BOOTS:-3}
trap 'boot_stop; rm -rf "$W"' EXIT

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
die() { echo "tests/bench/boot.sh: $*" >&2; exit 1; }

SECTAG_VM_OUTDIR=$W tests/vm/run --timeout 600 -- \
	tests/boot/guest.sh prepare "$W" >"$W/prepare.log" 2>&1 ||
	{ tail -n 30 "$W/prepare.log"; die "prepare failed"; }
tests/boot/mkinitrd.sh "$W" host host >"$W/mk-host.log" 2>&1 ||
	die "mkinitramfs (sectag) failed"
tests/boot/mkinitrd.sh "$W" keyfile keyfile >"$W/mk-keyfile.log" 2>&1 ||
	die "mkinitramfs (key file) failed"

echo "== cryptsetup open: token plugin vs --key-file (same secret), ms"
SECTAG_VM_OUTDIR=$W tests/vm/run --timeout 600 -- \
	tests/boot/guest.sh bench "$W" >"$W/open.log" 2>&1 ||
	{ tail -n 30 "$W/open.log"; die "open benchmark failed"; }
grep '^# round' "$W/open.log"
kf=$(awk '/^# round/ { print $5 }' "$W/open.log" | median)
pl=$(awk '/^# round/ { print $7 }' "$W/open.log" | median)
tap=$(awk '/^# round/ { print $9 }' "$W/open.log" | median)
echo "open_keyfile_ms $kf"
echo "open_plugin_ms $pl (tap included)"
echo "tap_alone_ms $tap (sectag keyscript: tap, authentication, derivation)"
awk -v p="$pl" -v k="$kf" -v t="$tap" 'BEGIN {
	printf "ratio_plugin_keyfile %.2f (tap included)\n", p / k
	printf "ratio_plugin_minus_tap_keyfile %.2f (target <= 1.2)\n", (p - t) / k }'

echo "== boot to root (qemu start to the root's init), ms, $BOOTS boots each"
boot_once() {	# initrd tag
	boot_start "$W" "$1" "$2" "$W/console.log"
	boot_wait "$W/console.log" "$ROOT_OK" 300 || { boot_stop; return 1; }
	echo "$BOOT_MS"
	boot_stop
}
for kind in keyfile:initrd.keyfile:off sectag:initrd.host:placed; do
	IFS=: read -r name initrd tag <<<"$kind"
	: >"$W/boot-$name"
	for _ in $(seq "$BOOTS"); do
		boot_once "$initrd" "$tag" >>"$W/boot-$name" ||
			die "boot ($name) did not reach root: $(tail -n 5 "$W/console.log")"
	done
	echo "boot_to_root_${name}_ms $(median <"$W/boot-$name") (runs: $(tr '\n' ' ' <"$W/boot-$name"))"
done
