#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot tests, for real (issue 11): a guest whose root filesystem is on a
# LUKS2 virtio disk enrolled with a tag boots through Debian's
# initramfs-tools, cryptroot and our hook and keyscript, with a tag that
# survives the reboots (tests/boot/tagd.c: the engine, its memory in a
# state file the guest gets as a second virtio disk).
#
#   flock /tmp/sectag-vm.lock tests/boot/boot.sh
#
# 1. prepare (tests/vm/run, tests/boot/guest.sh prepare, with a TPM:
#    swtpm on state A): tag issued, root and portable disks made and
#    enrolled (host, portable), and a copy of the root disk enrolled
#    --bind tpm2 under TPM A;
# 2. the real mkinitramfs for the VM's kernel with our hook
#    (tests/boot/mkinitrd.sh): this host's, a fresh host's, and this
#    host's for the tpm2 root disk;
# 3. boots (qemu -kernel, that initramfs, the disk): (a) tag on the
#    reader: the cue, root mounted, its init ran; (b) no tag: after the
#    timeout the passphrase typed on the serial console opens it; (d) a
#    fresh host's initramfs: the host-bound disk refused with a clear
#    message, the passphrase still works; (e) the tpm2 root disk under
#    TPM A: tap, root mounted, init ran; (f) the same disk under a fresh
#    TPM B, no tag: refused before any tap ("sealed by a different TPM"),
#    the passphrase still works;
# 4. (c) a second VM boot as a fresh host (empty store): the portable disk
#    through `sectag unlock` and `cryptsetup open` with the plugin.
#
# Does not take the VM lock itself. TAP on stdout; exit status: failures.
# SECTAG_BOOT_KEEP=1 keeps the work directory.
# shellcheck disable=SC1091,SC2317,SC2094 # sourced; called through t; the log is only read
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/boot/lib.sh

W=$(mktemp -d /tmp/sectag-boot.XXXXXX)
PASS='boot test passphrase'
CUE='Tap your tag to unlock root_crypt'
ROOT_OK='SECTAG-ROOT-OK init ran from root-on-luks'
PROMPT='Please unlock disk root_crypt:'
BOOT_S=${SECTAG_BOOT_WAIT:-150}
n=0
failed=0

cleanup() {
	boot_stop
	boot_tpm_stop
	[ "${SECTAG_BOOT_KEEP:-0}" = 1 ] && echo "# kept $W" && return
	rm -rf "$W"
}
trap cleanup EXIT

ok() { n=$((n + 1)); echo "ok $n $1"; }
not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n $1"
	[ -z "${2:-}" ] || tail -n 25 "$2" | sed 's/^/#   /'
}
# t NAME LOG CMD...
t() {
	local name=$1 log=$2
	shift 2
	if "$@"; then ok "$name"; else not_ok "$name" "$log"; fi
}
figure() { echo "# figure $1 $2"; }
prepare() {
	local log=$W/prepare.log
	SECTAG_VM_TPM=$W/tpm-a SECTAG_VM_OUTDIR=$W tests/vm/run --timeout 600 -- \
		tests/boot/guest.sh prepare "$W" >"$log" 2>&1 ||
		{ not_ok prepare "$log"; return 1; }
	grep '^# figure' "$log"
	ok prepare
}

mkinitrd() {	# name mode
	local log=$W/mkinitrd-$1.log t0
	t0=$(date +%s%3N)
	if tests/boot/mkinitrd.sh "$W" "$1" "$2" >"$log" 2>&1 && [ -s "$W/initrd.$1" ]; then
		figure "mkinitramfs_$1_ms" $(($(date +%s%3N) - t0))
		ok "mkinitramfs_$1"
	else
		not_ok "mkinitramfs_$1" "$log"
		return 1
	fi
}

initrd_has() {	# name path
	lsinitramfs "$W/initrd.$1" | grep -qx -- "$2"
}

# (a) the tag on the reader: cue, root, init; no passphrase asked.
boot_tap() {
	local log=$W/console-tap.log
	boot_start "$W" initrd.host placed "$log"
	t boot_tap_shows_cue "$log" boot_wait "$log" "$CUE" "$BOOT_S"
	t boot_tap_root_init_ran "$log" boot_wait "$log" "$ROOT_OK" "$BOOT_S"
	figure boot_to_root_tag_ms "${BOOT_MS:-0}"
	boot_stop
	t boot_tap_asked_no_passphrase "$log" not grep -qF "$PROMPT" "$log"
	t boot_tap_unlocked_by_cryptroot "$log" grep -qF "root_crypt: set up successfully" "$log"
}

# (b) no tag: the timeout, the prompt, the passphrase typed.
boot_passphrase() {
	local log=$W/console-pass.log
	boot_start "$W" initrd.host absent "$log"
	t boot_notag_shows_cue "$log" boot_wait "$log" "$CUE" "$BOOT_S"
	t boot_notag_says_timeout "$log" boot_wait "$log" "no tag unlocked root_crypt" 60
	t boot_notag_prompts "$log" boot_wait "$log" "$PROMPT" 30
	boot_send "$W" "$PASS"
	t boot_notag_passphrase_opens_root "$log" boot_wait "$log" "$ROOT_OK" "$BOOT_S"
	boot_stop
}

# (d) a fresh host's initramfs: the tag is refused (host binding), the
# passphrase still opens it.
boot_fresh() {
	local log=$W/console-fresh.log
	boot_start "$W" initrd.fresh placed "$log"
	t boot_fresh_host_refuses_clearly "$log" boot_wait "$log" "bound to the host" "$BOOT_S"
	t boot_fresh_host_prompts "$log" boot_wait "$log" "$PROMPT" 60
	boot_send "$W" "$PASS"
	t boot_fresh_host_passphrase_opens_root "$log" boot_wait "$log" "$ROOT_OK" "$BOOT_S"
	boot_stop
}

# (e) the tpm2 root disk under the TPM it was sealed to (A): a tap opens
# it, as (a) does for the host binding.
boot_tpm2() {
	local log=$W/console-tpm2.log
	boot_tpm_start "$W/tpm-a" || { not_ok boot_tpm2_swtpm_a; return; }
	BOOT_ROOT=tpm2root.img boot_start "$W" initrd.tpm2 placed "$log"
	t boot_tpm2_shows_cue "$log" boot_wait "$log" "$CUE" "$BOOT_S"
	t boot_tpm2_root_init_ran "$log" boot_wait "$log" "$ROOT_OK" "$BOOT_S"
	figure boot_to_root_tpm2_tag_ms "${BOOT_MS:-0}"
	boot_stop
	boot_tpm_stop
	t boot_tpm2_asked_no_passphrase "$log" not grep -qF "$PROMPT" "$log"
	t boot_tpm2_unlocked_by_cryptroot "$log" \
		grep -qF "root_crypt: set up successfully" "$log"
}

# (f) the same disk and initramfs under another TPM (a fresh state B),
# no tag on the reader: refused before any tap (token_open() unseals
# first), so the prompt comes without the tap's timeout; the passphrase
# opens it.
boot_tpm2_other() {
	local log=$W/console-tpm2-other.log
	boot_tpm_start "$W/tpm-b" || { not_ok boot_tpm2_swtpm_b; return; }
	BOOT_ROOT=tpm2root.img boot_start "$W" initrd.tpm2 absent "$log"
	t boot_other_tpm_refuses_clearly "$log" boot_wait "$log" \
		"(bind tpm2): sealed by a different TPM" "$BOOT_S"
	t boot_other_tpm_prompts "$log" boot_wait "$log" "$PROMPT" 60
	t boot_other_tpm_refused_before_any_tap "$log" \
		not grep -q "no tag on .* within" "$log"
	boot_send "$W" "$PASS"
	t boot_other_tpm_passphrase_opens_root "$log" boot_wait "$log" \
		"$ROOT_OK" "$BOOT_S"
	boot_stop
	boot_tpm_stop
}

# (c) a second machine with an empty store, in its own VM boot.
fresh_machine() {
	local log=$W/fresh.log line
	SECTAG_VM_OUTDIR=$W tests/vm/run --timeout 300 -- \
		tests/boot/guest.sh fresh "$W" >"$log" 2>&1
	while IFS= read -r line; do
		case $line in
		"ok "*) ok "fresh_machine_${line#ok [0-9]* }" ;;
		"not ok "*) not_ok "fresh_machine_${line#not ok [0-9]* }" "$log" ;;
		"Bail out!"*) not_ok "fresh_machine: $line" "$log" ;;
		esac
	done <"$log"
	grep -q '^1\.\.' "$log" || not_ok fresh_machine_ran "$log"
}

not() { ! "$@"; }

echo "# work directory $W"
prepare || { echo "1..$n"; exit "$failed"; }
mkinitrd host host && mkinitrd fresh fresh && mkinitrd tpm2 tpm2
t initramfs_has_sectag "$W/mkinitrd-host.log" initrd_has host usr/local/bin/sectag
t initramfs_has_keyscript "$W/mkinitrd-host.log" initrd_has host usr/lib/sectag/keyscript
t initramfs_has_host_store "$W/mkinitrd-host.log" initrd_has host var/lib/sectag/store
t initramfs_has_nfc_module "$W/mkinitrd-host.log" \
	eval "lsinitramfs '$W/initrd.host' | grep -q 'kernel/net/nfc/nfc.ko'"
t fresh_initramfs_has_no_store "$W/mkinitrd-fresh.log" not initrd_has fresh var/lib/sectag/store
t prepare_enrolled_tpm2_root "$W/prepare.log" test -s "$W/tpm2root.uuid"
t initramfs_tpm2_has_device_tcti "$W/mkinitrd-tpm2.log" \
	eval "lsinitramfs '$W/initrd.tpm2' | grep -q '/libtss2-tcti-device\.so\.0\$'"
t initramfs_host_has_no_tcti "$W/mkinitrd-host.log" \
	not eval "lsinitramfs '$W/initrd.host' | grep -q 'libtss2-tcti-device'"
# A tpm2 binding keeps the tag's read key in the store: never in /boot.
t initramfs_tpm2_has_no_store "$W/mkinitrd-tpm2.log" \
	not initrd_has tpm2 var/lib/sectag/store
boot_tap
boot_passphrase
boot_fresh
boot_tpm2
boot_tpm2_other
fresh_machine
echo "1..$n"
exit "$failed"
