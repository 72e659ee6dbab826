#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The sectag CLI against emulated tags, in the VM
# (tests/vm/run -- tests/e2e/provision.sh):
# scan, provision, verify, wrong issuer key, second provision, --lock,
# a tag pulled away after every frame of a provisioning, two tags on one
# reader. Output is TAP. Needs root, nfc and nfc_sectag loaded.
# $KEY and $R are option lists, split into words on purpose; has() is
# called through t().
# shellcheck disable=SC2086,SC2317
set -u
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/e2e/lib.sh
. tests/e2e/lib.sh
S=${SECTAG:-build/sectag}
T=$W
trap 'rm -rf "$W"' EXIT

# expect NAME STATUS CMD...: the command exits with STATUS; output kept
expect() {
	local name=$1 want=$2 rc
	shift 2
	"$@" >"$T/out" 2>"$T/err" </dev/null
	rc=$?
	cat "$T/out" "$T/err" >"$LOG"
	if [ "$rc" = "$want" ]; then
		ok "$name"
	else
		not_ok "$name (exit $rc, want $want)"
	fi
}
has() { grep -q -- "$1" "$T/$2"; }

json_get() { jq -r "$1" "$T/out"; }

virgin_tag() {	# prints the id of a fresh virgin tag, placed on $READER
	"$S" --json sim tag new --on "$READER" | jq -r .id
}

expect "keygen" 0 "$S" keygen "$T/issuer.key"
t "key file is 0600" [ "$(stat -c %a "$T/issuer.key")" = 600 ]
expect "keygen refuses to overwrite" 1 "$S" keygen "$T/issuer.key"
expect "another issuer's key" 0 "$S" keygen "$T/other.key"
KEY="--issuer-key $T/issuer.key"

expect "a reader" 0 "$S" --json sim reader add
READER=$(json_get .id)
DEV=$(json_get .device)
R="--reader $DEV --timeout 10"

expect "no tag: exit 5" 5 "$S" scan --reader "$DEV" --timeout 1

TAG=$(virgin_tag)
expect "scan a virgin tag" 0 "$S" scan $R
t "  says virgin" has "virgin" out
expect "scan --json" 0 "$S" scan --json $R
t "  state virgin" [ "$(json_get .state)" = virgin ]
UID_=$(json_get .uid)

expect "verify a virgin tag: not genuine" 4 "$S" verify $KEY $R
expect "provision --lock without a tty or --yes refused" 2 \
	"$S" provision $KEY --lock $R
expect "provision" 0 "$S" provision $KEY $R
t "  prints the UID" has "issued $UID_" out
t "  progress on stderr" has "changing key 0" err
expect "verify" 0 "$S" verify $KEY $R
t "  genuine" has "genuine $UID_" out
t "  no secret printed" bash -c "! grep -qi secret '$T/out'"
expect "verify --show-secret --json" 0 "$S" verify --json --show-secret $KEY $R
t "  a 32-byte secret" [ "$(json_get .secret | tr -d '\n' | wc -c)" = 64 ]
expect "verify with another issuer key: not genuine" 4 \
	"$S" verify --issuer-key "$T/other.key" $R
t "  says so" has "NOT GENUINE" out
expect "second provision refused" 4 "$S" provision $KEY $R
t "  already issued" has "already issued" err
expect "scan --issuer-key" 0 "$S" scan --json $KEY $R
t "  issued and ours" [ "$(json_get .state).$(json_get .verified)" = issued.true ]
"$S" sim tag del "$TAG"

TAG=$(virgin_tag)
expect "provision --lock --yes" 0 "$S" provision $KEY --lock --yes $R
expect "scan shows it locked" 0 "$S" scan --json $R
t "  change never" [ "$(json_get .locked)" = true ]
expect "verify a locked tag" 0 "$S" verify $KEY $R
"$S" sim tag del "$TAG"

# Pulled away after every number of frames a provisioning answers, then
# presented again: provisioning again finishes, and the tag verifies.
fails=0
for frames in $(seq 1 30); do
	TAG=$(virgin_tag)
	"$S" sim tag remove "$TAG"
	"$S" sim tag place "$TAG" "$READER" "$frames"
	"$S" provision $KEY $R >/dev/null 2>"$T/err1" </dev/null
	first=$?
	"$S" sim tag place "$TAG" "$READER" 2>/dev/null
	"$S" provision $KEY $R >/dev/null 2>"$T/err2" </dev/null
	second=$?
	"$S" verify $KEY $R >/dev/null 2>&1 </dev/null
	v=$?
	if [ "$first" = 0 ]; then
		last=$frames	# answered everything: nothing to resume
	elif [ "$second" != 0 ] && [ "$second" != 4 ] || [ "$v" != 0 ]; then
		fails=$((fails + 1))
		echo "#   pulled after $frames frames: exit $first, then" \
			"$second, verify $v"
		sed 's/^/#     /' "$T/err1" "$T/err2" | tail -n 6
	fi
	"$S" sim tag del "$TAG"
	[ "$first" = 0 ] && break
done
t "pulled away after every frame (1..$((${last:-0} - 1))), resumed" \
	test "$fails" = 0 -a -n "${last:-}"
echo "# a provisioning answers ${last:-more than 30} frames"

# Two tags on one reader: the reader reports one (the first placed), as
# anticollision selects one card; scan and provision use the same one.
A=$(virgin_tag)
B=$(virgin_tag)
expect "two tags: scan uses one" 0 "$S" scan --json $R
FIRST=$(json_get .uid)
expect "two tags: provision" 0 "$S" provision $KEY $R
t "  the same one" has "issued $FIRST" out
"$S" sim tag del "$A"
"$S" sim tag del "$B"

"$S" sim reader del "$READER"
echo "1..$n"
exit "$failed"
