#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The man pages against the code: every option each program's usage
# names is in its page, every option pam_sectag.c parses is in
# pam_sectag(8), every key config.c accepts is in sectagd.conf(5) and in
# the sample etc/sectagd.conf. (man --warnings runs in tests/check.sh.)
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/host/lib.sh

M=Documentation/man

# in_page NAME PAGE WORD...: each WORD (an option, a key) is in PAGE,
# as roff spells it (\- for -).
in_page() {
	local name=$1 page=$2 w missing=
	shift 2
	for w in "$@"; do
		grep -qF -- "${w//-/\\-}" "$page" || missing+=" $w"
	done
	if [ -z "$missing" ]; then ok "$name"
	else not_ok "$name" "not in $page:$missing"; fi
}

# The long options a usage text names.
long_opts() { grep -oE -- '--[a-z][a-z-]*' | sort -u; }

verbs=$("$B/sectag" --help | sed -n 's/^  \([a-z]\+\) .*/\1/p')
check "sectag --help lists verbs" test -n "$verbs"
for v in $verbs; do
	mapfile -t opts < <("$B/sectag" "$v" --help | long_opts)
	in_page "sectag(1): $v and its options" "$M/sectag.1" \
		"sectag $v" "${opts[@]}"
done
mapfile -t opts < <("$B/sectag" sim --help | long_opts)
in_page "sectag(1): sim's commands and options" "$M/sectag.1" "${opts[@]}" \
	"sim reader add" "sim reader del" "sim reader list" "sim tag new" \
	"sim tag place" "sim tag remove" "sim tag del" "sim tag list"
mapfile -t opts < <("$B/sectagd" --help | long_opts)
in_page "sectagd(8): every option" "$M/sectagd.8" "${opts[@]}"

# pam_sectag.c: "name=" and bare-word options of parse_opts().
mapfile -t opts < <(sed -n '/^static void parse_opts/,/^}/p' userspace/pam/pam_sectag.c |
	grep -oE 'argv\[i\], "[a-z_]+=?"' | sed 's/.*"\(.*\)"/\1/')
check "pam_sectag.c parses options" test "${#opts[@]}" -ge 7
in_page "pam_sectag(8): every option pam_sectag.c parses" "$M/pam_sectag.8" \
	"${opts[@]}"

# config.c: the keys of set_key().
mapfile -t keys < <(sed -n '/^static int set_key/,/^}/p' userspace/agent/config.c |
	grep -oE 'strcmp\(k, "[a-z_]+"\)' | sed 's/.*"\(.*\)".*/\1/')
check "config.c has keys" test "${#keys[@]}" -ge 12
in_page "sectagd.conf(5): every key of config.c" "$M/sectagd.conf.5" \
	"${keys[@]}"
in_page "etc/sectagd.conf: every key of config.c" etc/sectagd.conf "${keys[@]}"

done_testing
