#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# CLI conventions that need readers, in the VM, as root: --reader takes
# a reader's name (nfcN) or its NFC index alike, and when none matches
# the error lists the readers; the simulator's --on and READER take a
# virtual reader's id or name; --json anywhere on the line gives the same
# document, which jq parses (the host tests, tests/host, cover usage
# errors and JSON escaping without readers).
#
#   flock /tmp/sectag-vm.lock tests/vm/run --timeout 600 -- tests/e2e/cli.sh
#
# shellcheck disable=SC2317
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/lib.sh

trap 'untap; rm -rf "$W"' EXIT
export SECTAG_AGENT_SOCKET=$W/nosocket

r=$($S --json sim reader add) || bail "no virtual reader"
RID=$(jq -r .id <<<"$r")
DEV=$(jq -r .device <<<"$r")
IDX=$(jq -r .nfc_index <<<"$r")
echo "# reader $RID: $DEV, NFC index $IDX"
T1=$(new_tag 04C11000000001)
T2=$(new_tag 04C11000000002)

# out_is JQ CMD...: CMD succeeds and jq JQ holds on its stdout.
out_is() {
	local prog=$1
	shift
	"$@" >"$W/out" && jq -e "$prog" "$W/out" >/dev/null
}
# fails_listing STATUS WORD CMD...: CMD exits STATUS, says WORD on stderr.
fails_listing() {
	local want=$1 word=$2 rc=0
	shift 2
	"$@" >"$W/out" 2>"$W/err" || rc=$?
	cat "$W/err"
	[ "$rc" = "$want" ] && [ ! -s "$W/out" ] && grep -qF -- "$word" "$W/err"
}

tap "$T1" || bail "cannot place tag"
t scan_by_name out_is ".reader == \"$DEV\" and .uid == \"04C11000000001\"" \
	$S scan --reader "$DEV" --timeout 10 --json
t scan_by_index out_is ".reader == \"$DEV\" and .uid == \"04C11000000001\"" \
	$S --json scan --reader "$IDX" --timeout 10
t scan_json_after_options out_is ".state == \"virgin\"" \
	$S scan --timeout 10 --reader "$DEV" --json
t unknown_reader_lists_readers fails_listing 3 "$DEV (index $IDX)" \
	$S scan --reader nosuch --timeout 2
t unknown_index_lists_readers fails_listing 3 "readers:" \
	$S scan --reader 4242 --timeout 2
t readers_json_has_it out_is "any(.[]; .name == \"$DEV\" and .index == $IDX)" \
	$S readers --json
untap

# The simulator: a virtual reader by id or by name.
t tag_new_on_name out_is ".reader == $RID" $S sim tag new --on "$DEV" --json
ON=$(jq -r .id "$W/out")
untap
t tag_new_on_id out_is ".reader == $RID" $S --json sim tag new --on "$RID"
ON=$(jq -r .id "$W/out")
untap
t tag_new_on_nothing_lists fails_listing 3 "$RID ($DEV)" \
	$S sim tag new --on nfc999
t place_by_name $S sim tag place "$T2" "$DEV"
ON=$T2
t placed_on_the_reader out_is "any(.[]; .id == $T2 and .reader == $RID)" \
	$S sim tag list --json
untap
t place_by_unknown_lists fails_listing 3 "virtual readers:" \
	$S sim tag place "$T2" 4242

# --json anywhere: one document, the same wherever it is.
$S --json sim reader list >"$W/a"
$S sim --json reader list >"$W/b"
$S sim reader list --json >"$W/c"
# shellcheck disable=SC2016 # the inner bash expands them
t sim_json_anywhere_same bash -c 'jq -e "length >= 1" "$1" && cmp "$1" "$2" &&
	cmp "$1" "$3"' _ "$W/a" "$W/b" "$W/c"
$S sim tag del "$T1" && $S sim tag del "$T2"
t reader_del_by_name $S sim reader del "$DEV"
t reader_gone fails_listing 3 "virtual readers:" $S sim reader del "$DEV"

echo "1..$n"
exit "$failed"
