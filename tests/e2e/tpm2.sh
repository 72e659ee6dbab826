#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# End to end, in the VM with a TPM2 (tests/vm/run's SECTAG_VM_TPM: swtpm
# behind the guest's tpm_tis), as root: `sectag enroll --bind tpm2`, the
# sealed token, opening through the plugin and `sectag unlock` with and
# without sectagd, the agent's auto-open, a PCR of the policy extended
# (refused, saying which PCR; the passphrase and other bindings still
# work), re-enrolment after such a change, a PCR-less seal, the TPM
# cleared while sectagd answers (FAIL sealed after the tap), revoke.
# Prints the enrol and open times of tpm2 against host bindings.
#
#   SECTAG_VM_TPM=/tmp/tpm-a flock /tmp/sectag-vm.lock \
#	tests/vm/run --timeout 600 -- tests/e2e/tpm2.sh
#
# With an argument it is one step of tests/e2e/tpm2-other.sh (a disk
# enrolled under one TPM, then booted under another):
#   tpm2.sh enrol-image IMG   a tpm2 volume on IMG, opened here once
#   tpm2.sh open-image IMG    sectag unlock on IMG, no tag: its exit
#                             status and messages (1 and "different TPM"
#                             under another TPM, 5 "no tap" under this)
#
# TAP on stdout ("ok N name"); the exit status is the number of failures.
# shellcheck disable=SC2317 # helpers are called through t/st
set -u
cd "$(dirname "$0")/../.." || exit 1

. tests/e2e/lib.sh
token_env sectag-tpm2-marker
UID_A=04C2000000000A
UID_H=04C200000000BB
UID_B=04C200000000CC
export TPM2TOOLS_TCTI=device:/dev/tpmrm0
trap 'token_cleanup e2e e2e-pass e2e-unl e2e-auto e2e-host' EXIT

# --------------------------------------------------------------- helpers

meta() { cryptsetup luksDump --dump-json-metadata "$LOOP"; }
sectag_token() {	# keyslot: the id of its sectag token ("" if none)
	meta | jq -r --arg ks "$1" '.tokens | to_entries[] |
		select(.value.type == "sectag" and .value.keyslots == [$ks]) |
		.key'
}
token_json() {	# keyslot
	meta | jq -c --arg ks "$1" '.tokens[] |
		select(.type == "sectag" and .keyslots == [$ks])'
}
has_keyslot() { meta | jq -e --arg ks "$1" '.keyslots | has($ks)' >/dev/null; }

# A tpm2 token: PCRS (jq array) in its policy, the sealed object, and
# neither salt nor read key.
tpm2_token_is() {	# keyslot pcrs
	local j
	j=$(token_json "$1") || return 1
	echo "$j"
	jq -e --argjson p "$2" '.bind == "tpm2" and .tpm2_pcrs == $p and
		(.tpm2_pcr_values | length) == ($p | length) and
		(.tpm2_public | length) > 0 and (.tpm2_private | length) > 0 and
		(has("salt") or has("read_key") | not)' <<<"$j"
}

# The token's PCR 7 value is what the TPM's PCR 7 holds now.
pcr7_now() {
	tpm2_pcrread sha256:7 -o "$W/pcr7" >/dev/null &&
		od -An -tx1 "$W/pcr7" | tr -d ' \n'
}
token_pcr7_current() {
	local want have
	want=$(pcr7_now) || return 1
	have=$(token_json "$KS_A" | jq -r '.tpm2_pcr_values[0]')
	echo "TPM $want, token $have"
	[ -n "$want" ] && [ "$want" = "$have" ]
}

dump_shows() {	# pattern...
	local out p
	out=$(cryptsetup luksDump "$LOOP") || return 1
	echo "$out"
	for p; do grep -q -- "$p" <<<"$out" || return 1; done
}

import_refused() {	# file reason
	local out rc=0
	out=$(cryptsetup token import --json-file "$1" "$LOOP" 2>&1) || rc=$?
	echo "$out (exit $rc)"
	[ "$rc" != 0 ] && grep -q -- "$2" <<<"$out"
}
broken() {	# name jq-filter: A's token, edited
	token_json "$KS_A" | jq -c "$2" >"$W/$1.json"
}

plugin_open() {	# name [store]
	SECTAG_STORE=${2:-$STORE} cryptsetup open --token-only \
		--token-type sectag "$LOOP" "$1"
}
opens() {	# name cmd...
	local name=$1
	shift
	"$@" && reads_marker "$name" && cryptsetup close "$name"
}
ms() { echo $(($(date +%s%N) / 1000000)); }
# timed VAR CMD...: CMD's status; VAR its duration in ms.
timed() {
	local var=$1 t0 rc=0
	shift
	t0=$(ms)
	"$@" || rc=$?
	printf -v "$var" '%d' $(($(ms) - t0))
	return $rc
}

enroll_json() {	# mode [args]: the tag is on the reader
	local mode=$1
	shift
	$S --json enroll --issuer-key "$W/issuer.key" --luks "$LOOP" \
		--key-file "$PASS" --store "$STORE" --reader "$DEV" \
		--timeout 10 --bind "$mode" "$@"
}
# enrol_a [args]: tag A with --bind tpm2; ID_A, KS_A; ENROL_MS its time.
enrol_a() {
	local out
	tap "$A" || return 1
	timed ENROL_MS enroll_json tpm2 --auto-open e2e-auto "$@" \
		>"$W/enr" || return 1
	out=$(cat "$W/enr")
	echo "$out"
	ID_A=$(json_num id "$out")
	KS_A=$(json_num keyslot "$out")
	[ "$(json_str bind "$out")" = tpm2 ] && [ -n "$KS_A" ]
}

stop_agent() {
	[ -z "$AGENT" ] || { kill "$AGENT"; wait "$AGENT"; }
	AGENT=
}
close_auto() {
	[ ! -e /dev/mapper/e2e-auto ] || cryptsetup close e2e-auto
}
auto_opened() {
	eventually 20 test -e /dev/mapper/e2e-auto && reads_marker e2e-auto &&
		cryptsetup close e2e-auto
}
agent_rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$AGENT/status"; }
# Idle, as Documentation/bench.md measures it: at most 4 MiB.
agent_idle_small() {
	local kib
	kib=$(agent_rss_kib)
	echo "sectagd idle VmRSS $kib kB"
	[ "$kib" -le 4096 ]
}
agent_maps_no_tss2() { ! grep tss2 "/proc/$AGENT/maps"; }

# The refusal names the PCR and comes before any tap (exit 1, not 5).
refused_pcr7() {	# cmd...
	local out rc=0
	out=$("$@" 2>&1) || rc=$?
	echo "$out (exit $rc)"
	[ "$rc" != 0 ] && [ "$rc" != 5 ] &&
		grep -q "measured state changed since enrolment: PCR 7" <<<"$out"
}

setup_all() {
	token_setup "$W/vol.img" || return 1
	H=$(new_tag $UID_H) && C=$(new_tag $UID_A) && B=$(new_tag $UID_B) ||
		return 1
	provision "$H" "$W/issuer.key" && provision "$C" "$W/other.key" &&
		provision "$B" "$W/issuer.key" || return 1
	write_conf "key_timeout = 30"
}

# ------------------------------------------- tests/e2e/tpm2-other.sh's

if [ "${1:-}" = enrol-image ]; then
	token_setup "$2" >"$LOG" 2>&1 || bail "setup failed"
	t enrol_tpm2_on_image enrol_a
	tap "$A"
	t opens_under_this_tpm opens e2e-unl $S unlock "$LOOP" e2e-unl \
		--store "$EMPTY" --reader "$DEV"
	exit "$failed"
fi
if [ "${1:-}" = open-image ]; then
	setup_reader >"$LOG" 2>&1 || bail "no reader"
	mkdir -p "${EMPTY%/*}" "$TOKENDIR"
	LOOP=$(losetup -f --show "$2") || bail "losetup $2"
	rc=0
	$S unlock "$LOOP" e2e-unl --store "$EMPTY" --reader "$DEV" \
		--timeout 3 || rc=$?
	exit $rc
fi

# ------------------------------------------------------------ the suite

echo "# work directory $W"
[ -c /dev/tpmrm0 ] || bail "no /dev/tpmrm0: run with SECTAG_VM_TPM=<state dir>"
setup_all >"$LOG" 2>&1 || bail "setup failed"
export SECTAG_READER=$DEV
echo "# reader $DEV, tags A=$A host=$H clone=$C B=$B, $LOOP $UUID"

# --- enrolment
t tpm_device_present test -c /dev/tpmrm0
tap "$A"
st enroll_refuses_pcr_24 2 enroll_json tpm2 --tpm2-pcrs 24
st enroll_refuses_pcrs_without_tpm2 2 enroll_json host --tpm2-pcrs 7
t enroll_tpm2_default_pcr7 enrol_a
TPM2_ENROL_MS=$ENROL_MS
t tpm2_token_pcr7_sealed tpm2_token_is "$KS_A" '[7]'
t token_pcr7_value_current token_pcr7_current
t store_keeps_no_host_secret grep -q "id=$ID_A .*host-secret=tpm2\$" "$STORE"
tap "$H"
timed HOST_ENROL_MS enroll_json host >"$W/enr-h"
t enroll_host_beside_tpm2 grep -q '"bind":"host"' "$W/enr-h"
KS_H=$(json_num keyslot "$(cat "$W/enr-h")")
list_modes() {
	local out
	out=$($S list --store "$STORE") || return 1
	echo "$out"
	grep -q "$UID_A.*bind tpm2" <<<"$out" &&
		grep -q "$UID_H.*bind host" <<<"$out"
}
t list_shows_tpm2 list_modes
# B: a second tpm2 binding, without auto-open (A's tap opens e2e-auto,
# and a volume is mapped once): the plugin and unlock through the agent
tap "$B"
enroll_json tpm2 >"$W/enr-b"
t enroll_second_tpm2 grep -q '"bind":"tpm2"' "$W/enr-b"
ID_B=$(json_num id "$(cat "$W/enr-b")")
KS_B=$(json_num keyslot "$(cat "$W/enr-b")")
t luksdump_shows_tpm2 dump_shows "bind:       tpm2" "tpm2 PCRs:  7" \
	"sealed by the TPM"

# --- validate
broken salt '. + {salt: ("00" * 32)}'
t validate_refuses_tpm2_with_salt import_refused "$W/salt.json" \
	'tpm2 token has no'
broken noblob 'del(.tpm2_private)'
t validate_refuses_tpm2_without_blob import_refused "$W/noblob.json" \
	'tpm2 token needs'
broken count '.tpm2_pcrs = [0, 7]'
t validate_refuses_pcr_value_count import_refused "$W/count.json" \
	'one value for each'
broken unordered '.tpm2_pcrs = [7, 0] | .tpm2_pcr_values += ["00" * 32]'
t validate_refuses_unordered_pcrs import_refused "$W/unordered.json" \
	'ascending'

# --- what the initramfs hook learns and copies (sectag initramfs-store)
ID_H=$(json_num id "$(cat "$W/enr-h")")
modes_are() {	# store want
	local out
	out=$($S initramfs-store --modes --store "$1" "$UUID") || return 1
	echo "$out"
	[ "$out" = "$2" ]
}
t initramfs_modes_from_store modes_are "$STORE" "$(printf 'host\ntpm2')"
# From the header alone (udev's by-uuid link, made here if missing).
by_uuid() {
	mkdir -p /dev/disk/by-uuid &&
		{ [ -e "/dev/disk/by-uuid/$UUID" ] ||
			ln -s "$LOOP" "/dev/disk/by-uuid/$UUID"; }
}
header_modes() { by_uuid && modes_are "$EMPTY" "$(printf 'host\ntpm2')"; }
t initramfs_modes_from_header header_modes
# Only the host binding: a tpm2 binding's read key stays off /boot.
store_copy_host_only() {
	local n
	n=$($S initramfs-store --store "$STORE" --out "$W/istore" "$UUID") ||
		return 1
	echo "$n binding(s):"
	grep -o '^binding id=[0-9]*' "$W/istore"
	[ "$n" = 1 ] && grep -q "^binding id=$ID_H " "$W/istore" &&
		! grep -q "host-secret=tpm2" "$W/istore"
}
t initramfs_store_copies_no_tpm2_binding store_copy_host_only
rm -f "$W/istore"

# --- without the agent: the plugin and unlock unseal, then read the tag
# Timed through one token each: the tpm2 one unseals, the host one not.
plugin_open_id() {	# name token [store]
	SECTAG_STORE=${3:-$STORE} cryptsetup open --token-only --token-id "$2" \
		"$LOOP" "$1"
}
tap "$A"
t plugin_opens_tpm2_empty_store timed TPM2_PLUGIN_MS opens e2e \
	plugin_open_id e2e "$(sectag_token "$KS_A")" "$EMPTY"
tap "$H"
t plugin_opens_host timed HOST_PLUGIN_MS opens e2e-host \
	plugin_open_id e2e-host "$(sectag_token "$KS_H")"
# The agent's unseal: 48 secret bytes, not for the log.
unseal_quiet() { build/sectag-open --unseal "$@" >/dev/null; }
t helper_unseals timed UNSEAL_MS unseal_quiet "$UUID" "$LOOP" "$KS_A" \
	"${UID_A,,}"
tap "$A"
t unlock_opens_tpm2_empty_store timed TPM2_UNLOCK_MS opens e2e-unl \
	$S unlock "$LOOP" e2e-unl --store "$EMPTY"
tap "$H"
t unlock_opens_host timed HOST_UNLOCK_MS opens e2e-unl \
	$S unlock "$LOOP" e2e-unl --store "$STORE"
tap "$C"
st unlock_refuses_clone 4 $S unlock "$LOOP" e2e-unl --store "$EMPTY"
# The TPM unseals, and that alone opens nothing: no tag, no key.
untap
st tpm_alone_never_suffices 5 $S unlock "$LOOP" e2e-unl --store "$EMPTY" \
	--timeout 2

# --- with sectagd: auto-open unseals through sectag-open, not the agent
untap
t agent_starts start_agent
t agent_idle_rss_le_4mib agent_idle_small
tap "$A"
t agent_auto_opens_tpm2 auto_opened
t agent_logged_release agent_logged "binding $ID_A (.*): released"
t agent_maps_no_tss2_after_tpm2_tap agent_maps_no_tss2
drop_keys
# Through B's token: the agent releases whichever tag is tapped, and
# cryptsetup tries a token's passphrase on that token's keyslot only.
# The plugin's own TPM commands (writes to /dev/tpmrm0, strace -y): the
# agent unseals after the tap, the plugin only reads the PCRs of the
# policy (an unseal of its own would be 6 commands and more: primary
# key, salted session, load, policy session, PolicyPCR, Unseal).
tpm_commands() { grep -c '</dev/tpmrm0>' "$W/plugin.strace"; }
plugin_left_unseal_to_agent() {
	local k
	k=$(tpm_commands)
	echo "the plugin sent $k TPM commands"
	[ "$k" -ge 1 ] && [ "$k" -le 3 ]
}
t plugin_asks_agent_tpm2 with_agent_tap "$B" e2e \
	strace -f -y -qq -e trace=write -o "$W/plugin.strace" \
	env SECTAG_STORE="$STORE" cryptsetup open --token-only --token-id \
	"$(sectag_token "$KS_B")" "$LOOP" e2e
t agent_answered_request agent_logged "answered by binding $ID_B"
t plugin_left_unseal_to_agent plugin_left_unseal_to_agent
drop_keys
t unlock_asks_agent_tpm2 with_agent_tap "$B" e2e-unl $S unlock "$LOOP" \
	e2e-unl --store "$STORE"
t agent_still_alive kill -0 "$AGENT"
stop_agent
drop_keys

# --- the measured state changes: PCR 7 extended
untap
t pcr7_extended tpm2_pcrextend \
	7:sha256=00000000000000000000000000000000000000000000000000000000000000aa
t unlock_refused_pcr7_before_tap refused_pcr7 $S unlock "$LOOP" e2e-unl \
	--store "$EMPTY" --timeout 30
t plugin_refused_pcr7 refused_pcr7 env SECTAG_STORE="$EMPTY" \
	cryptsetup open --token-only --token-id "$(sectag_token "$KS_A")" \
	"$LOOP" e2e
t agent_starts_again start_agent
# sectagd knows the volume: the plugin leaves it the unsealing, yet a
# PCR read still refuses before the tap.
t plugin_with_agent_refused_pcr7 refused_pcr7 env SECTAG_STORE="$STORE" \
	cryptsetup open --token-only --token-id "$(sectag_token "$KS_A")" \
	"$LOOP" e2e
tap "$A"
t agent_refuses_auto_open_pcr7 eventually 20 agent_logged \
	"measured state changed since enrolment: PCR 7"
t agent_released_nothing not test -e /dev/mapper/e2e-auto
stop_agent
tap "$H"
t host_binding_still_opens opens e2e-unl $S unlock "$LOOP" e2e-unl \
	--store "$STORE"
t passphrase_still_opens opens e2e-pass cryptsetup open --key-file "$PASS" \
	"$LOOP" e2e-pass

# --- re-enrolment seals to the new state; a PCR-less seal ignores PCRs
t revoke_stale_tpm2 $S revoke "$ID_A" --store "$STORE"
t revoke_removed_tpm2_token test -z "$(sectag_token "$KS_A")"
t reenrol_tpm2_pcr7 enrol_a
tap "$A"
t reenrolled_opens opens e2e-unl $S unlock "$LOOP" e2e-unl --store "$EMPTY"
t revoke_again $S revoke "$ID_A" --store "$STORE"
t enroll_tpm2_no_pcrs enrol_a --tpm2-pcrs ""
t tpm2_token_no_pcrs tpm2_token_is "$KS_A" '[]'
t pcr7_extended_again tpm2_pcrextend \
	7:sha256=00000000000000000000000000000000000000000000000000000000000000bb
tap "$A"
t no_pcr_seal_opens_after_extend opens e2e-unl $S unlock "$LOOP" e2e-unl \
	--store "$EMPTY"

# --- the TPM cleared, sectagd answering: the plugin's PCR read passes
# (A's seal has no PCR), the agent's unseal after the tap fails, and the
# request is told so at once (FAIL sealed) rather than left waiting for
# its 600 s (bounded here by timeout 120, whose 124 fails the test).
plugin_told_sealed() {
	local job rc=0
	untap
	timeout 120 env SECTAG_STORE="$STORE" SECTAG_TOKEN_TIMEOUT=600 \
		cryptsetup open --token-only --token-id "$(sectag_token "$KS_A")" \
		"$LOOP" e2e >"$W/sealed.out" 2>&1 &
	job=$!
	eventually 15 pending 1 || { kill "$job"; return 1; }
	tap "$A"
	wait "$job" || rc=$?
	cat "$W/sealed.out"
	echo "(exit $rc)"
	[ "$rc" != 0 ] && [ "$rc" != 124 ] &&
		grep -q "the TPM did not unseal this tag's tpm2 binding" "$W/sealed.out"
}
t tpm_cleared tpm2_clear
t agent_starts_after_clear start_agent
t plugin_told_tpm_refused_after_tap plugin_told_sealed
t agent_logged_sealed agent_logged "failed: the TPM did not unseal binding $ID_A"
t agent_opened_nothing not test -e /dev/mapper/e2e
stop_agent

# --- revoke
t revoke_tpm2 $S revoke "$ID_A" --store "$STORE"
t revoke_second_tpm2 $S revoke "$ID_B" --store "$STORE"
t revoke_removed_keyslot not has_keyslot "$KS_A"
t revoke_removed_token test -z "$(sectag_token "$KS_A")"
t host_keyslot_kept has_keyslot "$KS_H"
t list_has_no_tpm2 not grep -q "host-secret=tpm2" "$STORE"

echo "# figures (ms, this VM): enrol tpm2 $TPM2_ENROL_MS host $HOST_ENROL_MS;" \
	"cryptsetup open via plugin tpm2 ${TPM2_PLUGIN_MS:-?} host ${HOST_PLUGIN_MS:-?};" \
	"sectag unlock tpm2 ${TPM2_UNLOCK_MS:-?} host ${HOST_UNLOCK_MS:-?}" \
	"(both unseal A's token); sectag-open --unseal ${UNSEAL_MS:-?}"
echo "# $n tests, $failed failed"
exit "$failed"
