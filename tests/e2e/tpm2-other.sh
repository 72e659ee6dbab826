#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# On the host (it boots the VM three times; run it under the VM lock, it
# does not take the lock itself): a disk enrolled with --bind tpm2 under
# one TPM refuses to open under another, and still opens under its own.
#
#   1. TPM A (a fresh swtpm state): tpm2.sh enrol-image puts a LUKS2
#      volume on a disk image kept in SECTAG_VM_OUTDIR, enrols a tag
#      with --bind tpm2 and opens it once;
#   2. TPM B (another fresh state), the same image: sectag unlock is
#      refused before any tap (exit 1, "sealed by a different TPM");
#   3. TPM A again: the seal opens, and unlock waits for the tag, which
#      did not survive the reboot (exit 5, no tap): the TPM alone never
#      suffices.
#
#   flock /tmp/sectag-vm.lock tests/e2e/tpm2-other.sh
#
# TAP on stdout; the exit status is the number of failures.
# shellcheck disable=SC2317 # helpers are called through check
set -u
cd "$(dirname "$0")/../.." || exit 1

OUT=${SECTAG_VM_OUTDIR:-}
KEEP=1
if [ -z "$OUT" ]; then
	OUT=$(mktemp -d /tmp/sectag-tpm2-other.XXXXXX)
	KEEP=0
fi
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
IMG=$OUT/tpm2-disk.img
n=0
failed=0
trap '[ "$KEEP" = 1 ] || rm -rf "$OUT"' EXIT

ok() { n=$((n + 1)); echo "ok $n $1"; }
not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n $1"
	sed 's/^/#   /' "$OUT/boot.log" | tail -n 30
}

# boot TPM-DIR STEP: tests/e2e/tpm2.sh STEP on the image in a VM whose
# TPM is swtpm on TPM-DIR; its output in $OUT/boot.log, RC its status.
boot() {
	RC=0
	SECTAG_VM_TPM=$1 SECTAG_VM_OUTDIR=$OUT tests/vm/run --timeout 300 -- \
		tests/e2e/tpm2.sh "$2" "$IMG" >"$OUT/boot.log" 2>&1 || RC=$?
	cat "$OUT/boot.log" >>"$OUT/boots.log"
}
check() {	# name condition...
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}
logged() { grep -q -- "$1" "$OUT/boot.log"; }
not_logged() { ! logged "$1"; }

rm -rf "$OUT/tpm-a" "$OUT/tpm-b" "$IMG" "$OUT/boots.log"
boot "$OUT/tpm-a" enrol-image
check enrolled_and_opened_under_tpm_a test "$RC" = 0
boot "$OUT/tpm-b" open-image
check refused_under_tpm_b test "$RC" = 1
check says_different_tpm logged "sealed by a different TPM"
check refused_before_any_tap not_logged "Tap your tag"
boot "$OUT/tpm-a" open-image
check unseals_under_tpm_a_then_waits_for_tag test "$RC" = 5
check asked_for_the_tag logged "Tap your tag"
echo "# image $IMG, TPM states $OUT/tpm-a $OUT/tpm-b"
echo "# $n tests, $failed failed"
exit "$failed"
