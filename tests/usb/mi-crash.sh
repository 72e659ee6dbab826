#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Reproducer, NOT in make check: a chained (MI) PN533 answer read through an
# AF_NFC raw socket crashes Debian's 6.1 kernel. pn533_build_response()
# joins the chained frames into an skb allocated with no headroom, and
# rawsock_add_header() then pushes its one-byte header in front of it:
# skb_under_panic, an oops in the pn533 workqueue (Documentation/readers.md,
# pn533). The fix proposed upstream is
# Documentation/upstream/0001-nfc-pn533-headroom-for-chained-frames.patch.
#
#   flock /tmp/sectag-vm.lock tests/vm/run --timeout 300 -- tests/usb/mi-crash.sh
#   flock /tmp/sectag-vm.lock tests/vm/run --timeout 300 -- tests/usb/mi-crash.sh --patched
#
# In the VM, as root (needs make tests): pn533emu --chain-answers stands
# for the PN533 with a virgin NTAG 424 DNA on it, build/e2e/longread reads
# the tag's 256-byte NDEF file in one ISOReadBinary, whose 258-byte answer
# comes in five chained frames.
#   (default)   the distribution's pn533: expects the oops, and passes
#               when it is in the kernel log. tests/vm/run then exits 125
#               all the same (it fails any run whose kernel log shows an
#               oops): read the TAP lines.
#   --patched   pn533.ko rebuilt from linux-source-6.1 with the patch (the
#               distribution's pn533_usb binds to it: same symbol CRCs):
#               expects the whole answer, 90 00, and no oops.
#
# TAP on stdout; the exit status is the number of failures.
# shellcheck disable=SC2317 # helpers are called through t/st
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh

PATCH=$PWD/Documentation/upstream/0001-nfc-pn533-headroom-for-chained-frames.patch
SRC=/usr/src/linux-source-6.1.tar.xz
EMU=build/usb/pn533emu
PATCHED=
EPID=
CRASHED=

case ${1:-} in
--patched) PATCHED=1 ;;
"") ;;
*) echo "usage: $0 [--patched]" >&2; exit 2 ;;
esac

cleanup() {
	# After the oops the driver's work never ends: unbinding it would
	# hang, so the emulator is left to the VM's power-off.
	if [ -n "$EPID" ] && [ -z "$CRASHED" ]; then
		kill "$EPID" 2>/dev/null
		wait "$EPID" 2>/dev/null
	fi
	[ -n "$CRASHED" ] || rm -rf "$W"
}
trap cleanup EXIT

# pn533.ko with the patch, built out of tree against the running kernel.
build_patched() {
	local kdir d=$W/pn533
	kdir=/usr/src/linux-headers-$(uname -r)
	mkdir -p "$d" && tar -xJf "$SRC" -C "$W" linux-source-6.1/drivers/nfc/pn533 ||
		return 1
	cp "$W"/linux-source-6.1/drivers/nfc/pn533/pn533.[ch] "$d/" &&
		patch -d "$d" -p4 <"$PATCH" || return 1
	echo 'obj-m += pn533.o' >"$d/Kbuild"
	make -s -C "$kdir" M="$d" modules
}

load_modules() {
	local m
	modprobe nfc || return 1
	if [ -n "$PATCHED" ]; then
		insmod "$W/pn533/pn533.ko" || return 1
	fi
	for m in dummy_hcd libcomposite usb_f_fs pn533_usb; do
		modprobe "$m" || return 1
	done
}

oopsed() { dmesg | grep -q "skb_under_panic"; }
# Ours is out of tree (taint O), the distribution's is not.
pn533_is_ours() { grep -q O /sys/module/pn533/taint; }
pn533_as_wanted() {
	if [ -n "$PATCHED" ]; then pn533_is_ours; else not pn533_is_ours; fi
}

echo "1..4"
KIND="the distribution's"
[ -z "$PATCHED" ] || KIND="patched, built out of tree"
echo "# pn533: $KIND; kernel $(uname -r)"
if [ -n "$PATCHED" ]; then
	build_patched >"$LOG" 2>&1 || bail "cannot build the patched pn533.ko"
fi
load_modules >"$LOG" 2>&1 || bail "cannot load the modules"
t "pn533 module: $KIND" pn533_as_wanted
$EMU --chain-answers --tag-present >"$W/emu.out" 2>"$W/emu.log" &
EPID=$!
t "emulated PN533 (chaining answers) probed by pn533_usb" \
	eventually 60 nfc_dev_of pn533_usb
[ -n "$DEV" ] || bail "no pn533 device"

timeout 60 build/e2e/longread "${DEV#nfc}" 20000 >"$W/read.out" 2>&1 &
RPID=$!
# Either the answer comes (fixed) or the oops does (not fixed).
ended() { ! kill -0 "$RPID" 2>/dev/null || oopsed; }
eventually 90 ended
echo "# longread: $(tr '\n' ' ' <"$W/read.out")"
cat "$W/read.out" >"$LOG"
if [ -n "$PATCHED" ]; then
	wait "$RPID"
	t "the 258-byte chained answer read whole, 90 00" \
		grep -qx "read 258 bytes, SW 9000" "$W/read.out"
	t "no skb_under_panic" not oopsed
else
	t "the application and NDEF file selected" grep -qx selected "$W/read.out"
	oopsed && CRASHED=1
	{ cat "$W/read.out"; dmesg | grep -m1 -A2 "skb_under_panic"; } >"$LOG"
	t "reading the chained answer oopses: skb_under_panic (unpatched)" oopsed
	[ -z "$CRASHED" ] || sed 's/^/# /' "$LOG"
fi
exit "$failed"
