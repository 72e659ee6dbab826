#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: build, static checks, host unit tests, kernel tests in the
# VM. Every test case and every check counts; the last line is the tally.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

LOGS=build/logs
mkdir -p "$LOGS"
. tests/lib/tally.sh

# A check passes when its command succeeds; its log is shown otherwise.
check() {	# name cmd...
	local name=$1 log="$LOGS/$1.log" rc
	shift
	mkdir -p "$(dirname "$log")"
	"$@" >"$log" 2>&1
	rc=$?
	[ $rc = 0 ] || tail -n 40 "$log" | sed 's/^/    /'
	record "$name" $rc
}

# section TITLE: a heading; the previous section's time closes it.
section_t0=
section() {
	[ -z "$section_t0" ] || echo "   ($((SECONDS - section_t0)) s)"
	section_t0=$SECONDS
	[ $# = 0 ] || echo "== $*"
}

# Warnings are errors here; distribution builds leave them warnings.
export WERROR=1

start=$(date +%s)
section "build"
if ! make -s --no-print-directory all tests unit fuzz-build >"$LOGS/build.log" 2>&1; then
	tail -n 60 "$LOGS/build.log"
	record build 1
	echo "$pass passed, $fail failed"
	exit 1
fi
record build 0

# make install-module into a scratch root for the VM's kernel: the .ko
# lands in updates/, and kbuild finds the module built already.
install_module() {
	local root out
	root=$(mktemp -d) || return 1
	out=$(make --no-print-directory install-module DESTDIR="$root" \
		INSTALL_KVER="$(tests/vm/kver)" 2>&1)
	printf '%s\n' "$out"
	find "$root" -path '*/updates/*/nfc_sectag.ko' | grep -q . &&
		! grep -q ' CC \[M\]' <<<"$out"
	local rc=$?
	rm -rf "$root"
	return $rc
}
check install-module install_module

section "static checks (make style)"
check checkpatch make -s --no-print-directory style-checkpatch
check kernel-warnings-and-sparse make -s --no-print-directory style-sparse
check shellcheck make -s --no-print-directory style-shellcheck

section "unit tests (host, ASan+UBSan)"
for t in build/unit/*; do
	[ -x "$t" ] || continue
	run_tap "unit/${t##*/}" "$LOGS/unit-${t##*/}.log" "$t"
done

# The CLI's conventions (usage errors, JSON, completion, man pages
# against the code) and pam_sectag against a fake agent, on the host:
# tests/host, no VM.
section "host tests (CLI conventions, pam_sectag and a fake agent)"
for t in tests/host/*.sh; do
	[ "${t##*/}" != lib.sh ] || continue
	run_tap "host/${t##*/}" "$LOGS/host-${t##*/}.log" bash "$t"
done
man_warnings() {	# page: man --warnings says nothing about it
	local w
	if ! w=$(man --warnings -l -Tutf8 "$1" 2>&1 >/dev/null) || [ -n "$w" ]; then
		printf '%s\n' "$w"
		return 1
	fi
}
for m in Documentation/man/*.[0-9]; do
	check "man --warnings ${m##*/}" man_warnings "$m"
done

# Each harness briefly, from its committed seeds; `make fuzz` runs each
# for 10 million executions (Documentation/fuzzing.md).
section "fuzzing (${SECTAG_FUZZ_SECONDS:-10} s per target; make fuzz for 10M executions)"
# No VM runs yet: the harnesses share the cores, one each.
fuzzers=()
for f in build/fuzz/fuzz_*; do
	{ [ -f "$f" ] && [ -x "$f" ]; } || continue
	fuzzers+=("$f")
	mkdir -p "$LOGS/fuzz"
	while [ "$(jobs -rp | wc -l)" -ge "$(nproc)" ]; do wait -n; done
	{
		fuzz/run.sh --seconds "${SECTAG_FUZZ_SECONDS:-10}" "$f" \
			>"$LOGS/fuzz/${f##*/}.log" 2>&1
		echo $? >"$LOGS/fuzz/${f##*/}.rc"
	} &
done
wait
for f in "${fuzzers[@]}"; do
	rc=$(cat "$LOGS/fuzz/${f##*/}.rc")
	[ "$rc" = 0 ] || tail -n 40 "$LOGS/fuzz/${f##*/}.log" | sed 's/^/    /'
	record "fuzz/${f##*/}" "$rc"
done

section "kernel tests (VM)"
run_tap vm "$LOGS/vm.log" tests/vm/run --timeout "${SECTAG_VM_TIMEOUT:-1200}" \
	-- tests/kselftest/run.sh

# An end-to-end script in its own VM boot: e2e NAME TIMEOUT TITLE
e2e() {
	section "$3 (VM)"
	run_tap "e2e-$1" "$LOGS/e2e-$1.log" tests/vm/run \
		--timeout "${SECTAG_E2E_TIMEOUT:-$2}" -- "tests/e2e/$1.sh"
}
# The tap storms of agent.sh and randomid.sh at 300 taps here; make
# check-extra runs them at 1000 (tests/extra.sh).
export SECTAG_E2E_TAPS=${SECTAG_E2E_TAPS:-300}
export SECTAG_E2E_RID_TAPS=${SECTAG_E2E_RID_TAPS:-300}
e2e luks 600 "LUKS2 enrolment and unlock, end to end"
e2e provision 600 "CLI: scan, provision, verify, interruptions, two tags"
e2e cli 300 "CLI: --reader by name or index, sim readers by id or name, --json anywhere"
e2e agent 900 "sectagd: taps release keys, LUKS token unlock, clones refused"
e2e pam 900 "pam_sectag: pamtester, taps, fallback, seats, remote, session keyring"
e2e udev 600 "udev: systemd-udevd runs the rules on authenticated taps"
e2e randomid 600 "Random ID: identification key, two authentications, hostile devices, 20 tags"
e2e borrow 600 "One owner per reader: the CLI borrows the reader from sectagd; sectag status"
e2e presence 600 "sectagd checks presence itself on a pn533-like reader: held = one tap, lifted = removal, idle = no wakeups"
e2e pn533 400 "The real pn533_usb driver on an emulated PN533 (dummy_hcd, FunctionFS): scan, provision, verify, lifts"
e2e nci 600 "The real NCI core on virtual_ncidev with an emulated NCI controller: scan, provision, verify, lifts, sectagd taps and presence"
e2e pcsc 600 "PC/SC: real pcscd + vsmartcard-vpcd + our NTAG 424 engine: readers, scan, provision, verify, enroll, agent taps, pcscd restarts"
e2e story-virtual 600 "The user story on our virtual reader: provision, enrol, agent, LUKS, PAM, udev, borrow, presence"
e2e story-pn533 900 "The user story through the real pn533 driver: provision, enrol, agent, LUKS, PAM, udev, borrow, presence"
e2e story-pcsc 900 "The user story through PC/SC (pcscd + vsmartcard-vpcd): provision, enrol, agent, LUKS, PAM, borrow, presence"
e2e story-nci 900 "The user story through the real NCI core (virtual_ncidev, emulated controller): provision, enrol, agent, LUKS, PAM, udev, borrow, presence"
e2e token 600 "LUKS2 token plugin and sectag unlock: host and portable bindings, with and without the agent"
SECTAG_VM_INIT=systemd e2e systemd 600 "systemd as PID 1: udev starts sectagd.service, notify, sandboxed auto-open, journal once, socket activation"
# bind tpm2: the guest's TPM is swtpm on a fresh state dir (tests/vm/run)
export SECTAG_VM_TPM; SECTAG_VM_TPM=$(mktemp -d /tmp/sectag-tpm.XXXXXX)
e2e tpm2 600 "bind tpm2: the tag and the TPM2 (swtpm), plugin, unlock, agent, PCR change refused, re-seal"
rm -rf "$SECTAG_VM_TPM"; unset SECTAG_VM_TPM
# The same disk under another TPM: tests/boot/boot.sh boots it (refused
# before any tap, the passphrase opens it; under its own TPM a tap does)
# and tpm2.sh checks the TPM alone opens nothing, in boots made anyway;
# tests/e2e/tpm2-other.sh (3 more VM boots) stays for a run by hand.
section "Boot: root on LUKS2, the real mkinitramfs with our hook, tap / passphrase / fresh host / tpm2 under its TPM and another (VM boots)"
run_tap boot "$LOGS/boot.log" tests/boot/boot.sh
# The packages are built on the host (make deb: lintian errors fail it),
# then installed in a VM booted without our freshly built module.
section "Debian packages (make deb, lintian)"
check deb-build make -s --no-print-directory deb
SECTAG_VM_NOMODULE=1 e2e deb 900 "Debian packages: dpkg -i, DKMS build, the story on the installed paths, dpkg -r/--purge"
section
echo "== $(( $(date +%s) - start )) s"
for f in "${failed[@]}"; do echo "failed: $f"; done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
