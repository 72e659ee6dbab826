#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench, in the VM: figures, not pass/fail (Documentation/bench.md).
# Medians of ROUNDS unless said otherwise.
#  1. verify through libsectag vs. the same APDUs from a bare client, and
#     a whole tap by the bare client, on each transport: our virtual
#     reader, the real pn533 driver on tests/usb/pn533emu, the real NCI
#     core on virtual_ncidev and tests/nci/ncidevemu, PC/SC (pcscd,
#     vsmartcard-vpcd and tests/pcsc/vpcdbridge);
#  2. tap -> key in the keyring (and -> volume active) through sectagd, as
#     ratios to that transport's bare tap;
#  3. sectagd idle: RSS and wakeups per second, and RSS after the taps;
#  4. scale: SCALE_READERS readers x SCALE_TAGS tags, every reader tapped
#     at once, SCALE_TAGS times: taps handled, p50/p99 tap -> key.
# A table of every figure ends the output. SECTAG_BENCH_TRANSPORTS (default
# "sim pn533 nci pcsc") picks the transports, SECTAG_BENCH_SCALE=0 skips 4.
#
# Another transport: its place/lift and link in bench_tap.c's struct
# transport, its setup here (like nci_setup: a "SPEC|NFC_IDX" variable),
# and one more "proto"/"agent" line.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh
# Two backends at once: PC/SC's backend_start/stop renamed first.
. tests/e2e/backend-pcsc.sh
rename_fn() { eval "$2 () $(declare -f "$1" | tail -n +2)"; }
rename_fn backend_start pcsc_backend_start
rename_fn backend_stop pcsc_backend_stop
. tests/e2e/backend-nci.sh
ROUNDS=${SECTAG_BENCH_ROUNDS:-30}
SCALE_READERS=${SECTAG_BENCH_READERS:-64}
SCALE_TAGS=${SECTAG_BENCH_TAGS:-16}
# Which transports (their setup, sections 1 and 3), and the scale run.
TRANSPORTS=" ${SECTAG_BENCH_TRANSPORTS:-sim pn533 nci pcsc} "
TRANSPORTS=${TRANSPORTS//,/ }
SCALE=${SECTAG_BENCH_SCALE:-1}
want() { [[ $TRANSPORTS == *" $1 "* ]]; }
STORE=$W/store
PASS=$W/passphrase
MARK=bench
UIDHEX=04BE0C40000001
PN_UID=04BE0C40000002
NCI_UID=04BE0C40000003
PCSC_UID=04BE0C40000004
NC=
PC=
LOOP=
AGENT=
EPID=
PDEV=
TABLE=$W/table
cleanup() {
	[ -z "$AGENT" ] || kill "$AGENT" 2>/dev/null
	[ -z "$EPID" ] || kill "$EPID" 2>/dev/null
	backend_stop >/dev/null
	pcsc_backend_stop >/dev/null
	[ -e /dev/mapper/bench ] && cryptsetup close bench
	[ -z "$LOOP" ] || losetup -d "$LOOP"
	# SECTAG_VM_OUTDIR=DIR make bench keeps the agent's log there.
	[ -z "${SECTAG_VM_OUT:-}" ] || cp "$W/agent.log" "$W/emu.log" "$W/nci.log" "$SECTAG_VM_OUT/" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
B=build/bench/bench_tap
row() { printf '%-44s %s\n' "$1" "$2" >>"$TABLE"; }

{ setup_reader >"$LOG" 2>&1 && setup_volume "$W/vol.img" >>"$LOG" 2>&1; } ||
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
SIM="sim:$RID:$T|${DEV#nfc}"

# issue_enrol READER: the tag on it issued and enrolled for the volume.
issue_enrol() {
	$S provision --issuer-key "$W/issuer.key" --reader "$1" --timeout 60 &&
		$S enroll --issuer-key "$W/issuer.key" --luks "$LOOP" \
			--key-file "$PASS" --store "$STORE" --reader "$1" \
			--timeout 60
}

# The real pn533 driver on the emulated PN533, its tag issued and enrolled
# for the same volume (no auto-open); PDEV stays empty if unavailable.
pn533_dev() {
	local d drv
	for d in /sys/class/nfc/nfc*; do
		drv=$(readlink "$d/device/driver" 2>/dev/null) || continue
		[ "${drv##*/}" = pn533_usb ] || continue
		PDEV=${d##*/}
		return 0
	done
	return 1
}
pn533_setup() {
	local m
	for m in dummy_hcd libcomposite usb_f_fs pn533_usb; do
		modprobe "$m" || return 1
	done
	build/usb/pn533emu --uid "$PN_UID" ${SECTAG_PN533EMU_VERBOSE:+--verbose} \
		>"$W/emu.out" 2>"$W/emu.log" &
	EPID=$!
	eventually 60 pn533_dev || return 1
	kill -USR1 "$EPID"
	issue_enrol "$PDEV" || return 1
	kill -USR2 "$EPID"
}
if ! want pn533; then
	PDEV=
elif pn533_setup >>"$LOG" 2>&1; then
	PN="pn533emu:$EPID|${PDEV#nfc}"
else
	echo "# pn533: unavailable, its figures are left out"
	sed 's/^/#   /' "$LOG" | tail -n 5
	PDEV=
fi

# The real NCI core (tests/e2e/backend-nci.sh), its tag issued and
# enrolled for the same volume.
nci_setup() {
	backend_start "$NCI_UID" || return 1
	tag_place
	issue_enrol "$DEV" || return 1
	tag_lift
}
if ! want nci; then
	:
elif nci_setup >>"$LOG" 2>&1; then
	NC="ncidevemu:$NCI_PID|${DEV#nfc}"
else
	echo "# nci: unavailable, its figures are left out"
	sed 's/^/#   /' "$LOG" | tail -n 5
fi

# PC/SC (tests/e2e/backend-pcsc.sh), its tag issued and enrolled for the
# same volume; the bridge places and lifts it on SIGUSR1/SIGUSR2.
pcsc_setup() {
	pcsc_backend_start "$PCSC_UID" || return 1
	kill -USR1 "$BRIDGE_PID"
	issue_enrol "$DEV" || return 1
	kill -USR2 "$BRIDGE_PID"
}
if ! want pcsc; then
	:
elif pcsc_setup >>"$LOG" 2>&1; then
	PC="pcsc:$BRIDGE_PID:$PCSC_READER|0"
else
	echo "# pcsc: unavailable, its figures are left out"
	sed 's/^/#   /' "$LOG" | tail -n 5
fi

# proto NAME TRANSPORT IDX UID: libsectag vs bare; BARE_<NAME> in seconds.
# A failed run is said and tried once more (a lost exchange or discovery
# fails it: figures, not a test).
proto() {
	local out
	out=$($B "${2%|*}" "${2##*|}" "$W/issuer.key" "$3" "$ROUNDS") || {
		echo "# $1: bench_tap failed, once more"
		out=$($B "${2%|*}" "${2##*|}" "$W/issuer.key" "$3" "$ROUNDS")
	} || {
		echo "# $1: bench_tap failed"
		return 1
	}
	grep -v '^bare \|^baretap ' <<<"$out"
	printf -v "BARE_$1" '%s' "$(sed -n 's/^bare //p' <<<"$out")"
	printf -v "BARETAP_$1" '%s' "$(sed -n 's/^baretap //p' <<<"$out")"
	row "tap by the bare client, $1 (discovery + exchange)" \
		"$(awk -v t="$(sed -n 's/^baretap //p' <<<"$out")" 'BEGIN { printf "%.2f ms", t * 1e3 }')"
	grep '^verify on' <<<"$out" |
		sed 's/.*libsectag \([0-9.]*\) ms, bare client \([0-9.]*\) ms, ratio \([0-9.]*\)/\1 \2 \3/' |
		while read -r lib bare ratio; do
			row "verify, $1: libsectag / bare client" \
				"$lib ms / $bare ms = ${ratio}x"
		done
}

echo "== 1. protocol: libsectag vs. bare client ($ROUNDS rounds, median)"
! want sim || proto sim "$SIM" "$UIDHEX"
[ -z "$PDEV" ] || proto pn533 "$PN" "$PN_UID"
[ -z "$NC" ] || proto nci "$NC" "$NCI_UID"
[ -z "$PC" ] || proto pcsc "$PC" "$PCSC_UID"

printf 'store = %s\nsocket = %s/sock\n' "$STORE" "$W" >"$W/conf"
# --debug: its "tap: ... N ms" lines split tap -> key into the reader's
# discovery and the agent's own work.
${SECTAG_BENCH_AGENT_WRAP:-} build/sectagd --foreground --debug --config "$W/conf" 2>"$W/agent.log" &
AGENT=$!
eventually 10 test -S "$W/sock" || bail "agent"

echo "== 2. sectagd idle (10 s after start, no tag)"
ctx() { awk '/^(non)?voluntary_ctxt_switches/ { s += $2 } END { print s }' "/proc/$AGENT/status"; }
rss() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$AGENT/status"; }
sleep 1
c0=$(ctx)
sleep 10
c1=$(ctx)
echo "wakeups: $(( (c1 - c0) / 10 ))/s ($((c1 - c0)) context switches in 10 s)"
awk '/^(VmRSS|RssAnon|RssFile):/ { printf "%s %s KiB  ", $1, $2 } END { print "" }' \
	"/proc/$AGENT/status"
row "sectagd idle: wakeups" "$(( (c1 - c0) / 10 ))/s"
row "sectagd idle: VmRSS (target <= 4096 KiB)" "$(rss VmRSS) KiB"

# agent NAME TRANSPORT IDX UID MODE WHAT: tap -> MODE through sectagd.
agent() {
	local name=$1 tr=$2 uid=$3 mode=$4 what=$5 out v bare baretap how extra=()
	# Tap -> key on our reader: a bare tap before each of the agent's, on
	# the same reader borrowed from the agent (bench_tap --agent-sock),
	# so that the ratio is not two runs minutes apart on a shared machine
	# (one run's section 3 came out 5x slower than its section 1), and
	# both sides run beside the agent's other work (the pn533 reader it
	# keeps polling over USB); bench_tap lends the reader once more
	# before each of the agent's taps, so that both start from a poll
	# begun after one was stopped. Not pn533: lending stops its poll by
	# an abort, after which the next poll finds the tag later, and in one
	# run of 60 lends the driver stopped polling for good ("RF setting
	# error -2", "Polling operation has been stopped"). Not NCI: the NCI
	# core once waited 30 s (NCI_RF_DEACTIVATE_TIMEOUT) for an answer the
	# emulated controller never sent, the agent blocked meanwhile. The
	# others keep section 1's figure, taken before the agent runs.
	if [ "$mode" = agent ] && [ "$name" = sim ]; then
		extra=(--agent-sock "$W/sock")
	fi
	out=$($B "${tr%|*}" "${tr##*|}" "$W/issuer.key" "$uid" "$ROUNDS" "--$mode" "$what" \
		--agent-log "$W/agent.log" "${extra[@]}")
	v=$(sed -n "s/^$mode //p" <<<"$out")
	bare=BARE_$name
	baretap=$(sed -n 's/^baretap //p' <<<"$out")
	how="interleaved with the agent's"
	if [ -z "$baretap" ]; then
		baretap=BARETAP_$name
		baretap=${!baretap:-}
		how="section 1"
	fi
	if [ -z "$v" ] || [ -z "${!bare:-}" ] || [ -z "$baretap" ]; then
		echo "# $name: tap -> $mode failed"
		grep -F "${LOGTAG:-nfc${tr##*|}}:" "$W/agent.log" | tail -n 15 | sed 's/^/#   /'
		return 1
	fi
	# The agent's own share, from its "tap: ..., F frame(s), key(s) in U
	# us at T, N ms" debug lines: connect to the keys in the keyring, and
	# to the end of the tap (auto-open, uevents), medians.
	grep -o 'tap: .* ms$' "$W/agent.log" | tail -n "$ROUNDS" | awk '
		function median(v, n,   i, j, t) {
			for (i = 2; i <= n; i++)
				for (j = i; j > 1 && v[j - 1] > v[j]; j--) {
					t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
				}
			return v[int((n + 1) / 2)]
		}
		{ f = $(NF - 9); k[++n] = $(NF - 5) / 1000; e[n] = $(NF - 1) }
		END { if (n) printf "  (the agent, connect to the key(s) in the keyring: %.2f ms median; to the end of the tap incl. any auto-open: %d ms; %s frames)\n", median(k, n), median(e, n), f }'
	# Of which the exchanges (the reader and the tag): its "exchanges: F
	# in U us" lines.
	grep -F "${LOGTAG:-nfc${tr##*|}}: exchanges: " "$W/agent.log" |
		sed -n 's/.* in \([0-9]*\) us$/\1/p' | tail -n "$ROUNDS" | sort -n |
		awk '{ v[NR] = $1 } END { if (NR) printf "  (of which the exchanges, as the agent timed them: %.2f ms median)\n", v[int((NR + 1) / 2)] / 1000 }'
	awk -v n="$name" -v m="$mode" -v k="$v" -v b="${!bare}" -v t="$baretap" -v h="$how" 'BEGIN {
		printf "%s: tap -> %s: %7.2f ms (%.2f x the bare client'"'"'s tap, %.2f ms, %s; %.2f x its exchange alone, %.2f ms)\n", n, m == "agent" ? "key in keyring" : "volume active", k * 1e3, k / t, t * 1e3, h, k / b, b * 1e3
	}'
	row "tap -> $([ "$mode" = agent ] && echo key || echo volume), $name (x bare client's tap; target <= 1.5)" \
		"$(awk -v k="$v" -v t="$baretap" -v b="${!bare}" 'BEGIN { printf "%.2f ms = %.2fx of %.2f ms (%.2fx the exchange alone)", k * 1e3, k / t, t * 1e3, k / b }')"
}

echo "== 3. sectagd: tap to key, tap to volume ($ROUNDS rounds, median)"
if want sim; then
	agent sim "$SIM" "$UIDHEX" agent "sectag:luks:$UUID"
	agent sim "$SIM" "$UIDHEX" volume bench
fi
[ -z "$PDEV" ] || agent pn533 "$PN" "$PN_UID" agent "sectag:luks:$UUID"
# PC/SC before NCI: an NCI request the emulated controller leaves
# unanswered blocks the agent for 30 s (see above).
[ -z "$PC" ] || LOGTAG="pcsc:$PCSC_READER" agent pcsc "$PC" "$PCSC_UID" agent "sectag:luks:$UUID"
[ -z "$NC" ] || agent nci "$NC" "$NCI_UID" agent "sectag:luks:$UUID"
awk '/^(VmRSS|VmHWM):/ { printf "%s %s KiB  ", $1, $2 } END { print "(after the taps)" }' \
	"/proc/$AGENT/status"
row "sectagd after the taps: VmRSS, VmHWM" "$(rss VmRSS) KiB, $(rss VmHWM) KiB"
kill "$AGENT"
wait "$AGENT" 2>/dev/null
AGENT=
# The emulated reader polls over USB all the time: not during the scale run.
if [ -n "$EPID" ]; then
	kill "$EPID"
	wait "$EPID" 2>/dev/null
	EPID=
fi

if [ "$SCALE" = 0 ]; then
	echo "== summary"
	cat "$TABLE"
	exit 0
fi
echo "== 4. scale: $SCALE_READERS readers x $SCALE_TAGS tags, all readers at once"
mkdir -p "$W/scale"
printf 'store = %s/scale/store\nsocket = %s/scale/sock\n' "$W" "$W" >"$W/scale/conf"
out=$(build/bench/bench_scale "$SCALE_READERS" "$SCALE_TAGS" "$W/issuer.key" \
	"$W/scale/store" -- build/sectagd --foreground --config "$W/scale/conf")
echo "$out"
row "scale: taps handled / expected" "$(sed -n 's/^scale handled //p' <<<"$out")"
row "scale: tap -> key p50, p99" \
	"$(sed -n 's/^scale latency p50 \(.*\) p99 \(.*\) max.*/\1, \2/p' <<<"$out")"
row "scale: sectagd VmRSS, VmHWM after" \
	"$(sed -n 's/^agent memory.*VmHWM:[[:space:]]*\([0-9]*\) kB.*VmRSS:[[:space:]]*\([0-9]*\) kB.*/\2 KiB, \1 KiB/p' <<<"$out")"

echo "== summary"
cat "$TABLE"
