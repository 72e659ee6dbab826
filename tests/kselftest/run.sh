#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Runs inside the VM: every kernel test program, in order.
rc=0
for t in build/kselftest/*; do
	[ -x "$t" ] || continue
	echo "# ${t##*/}"
	"$t" || rc=1
	# Each program starts from a freshly loaded module.
	lsmod | grep -q '^nfc_sectag ' || insmod "${SECTAG_KO:-kernel/nfc_sectag.ko}"
done
exit $rc
