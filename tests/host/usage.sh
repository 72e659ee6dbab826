#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Usage errors, program by program and verb by verb: an unknown verb or
# option, a missing or extra argument, a bad value exits 2 with a reason
# and the usage on stderr and nothing on stdout, before anything touches
# a reader, the simulator, a store or a volume; --help prints the usage
# on stdout and exits 0. Runs on the host (no VM, no NFC needed).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/host/lib.sh

# One bad command line per row: program, then its arguments (| apart).
BAD=(
	"sectag"
	"sectag|--bogus"
	"sectag|bogus"
	"sectag|-x|list"
	"sectag|readers|extra"
	"sectag|readers|--bogus"
	"sectag|scan|--bogus"
	"sectag|scan|extra"
	"sectag|scan|--reader"
	"sectag|scan|--timeout|soon"
	"sectag|scan|--timeout|999999"
	"sectag|scan|--lock"
	"sectag|scan|--json=yes"
	"sectag|provision"
	"sectag|provision|--issuer-key|k|extra"
	"sectag|provision|--issuer-key|k|--yes"
	"sectag|provision|--issuer-key"
	"sectag|provision|--issuer-key|k|--timeout|-1"
	"sectag|verify"
	"sectag|verify|--issuer-key|k|--lock"
	"sectag|verify|--issuer-key|k|--bogus"
	"sectag|keygen"
	"sectag|keygen|a|b"
	"sectag|keygen|--yes|f"
	"sectag|enroll"
	"sectag|enroll|--issuer-key|k"
	"sectag|enroll|--issuer-key|k|--luks|/dev/x|--user|root"
	"sectag|enroll|--user|root"
	"sectag|enroll|--issuer-key|k|--user|root|--key-file|f"
	"sectag|enroll|--issuer-key|k|--luks|/dev/x|--bind|nowhere"
	"sectag|enroll|--issuer-key|k|--name|x|extra"
	"sectag|enroll|--issuer-key|k|--name|x|--timeout|x"
	"sectag|enroll|--issuer-key|k|--name|bad label"
	"sectag|enroll|--issuer-key|k|--name|x|--bogus"
	"sectag|list|extra"
	"sectag|list|--force"
	"sectag|list|--store"
	"sectag|revoke"
	"sectag|revoke|one"
	"sectag|revoke|0"
	"sectag|revoke|1|2"
	"sectag|revoke|1|--bogus"
	"sectag|unlock"
	"sectag|unlock|a|b|c"
	"sectag|unlock|/dev/x|--timeout|x"
	"sectag|unlock|/dev/x|--bogus"
	"sectag|status|extra"
	"sectag|status|--store"
	"sectag|status|--bogus"
	"sectag|sim"
	"sectag|sim|bogus"
	"sectag|sim|reader"
	"sectag|sim|reader|bogus"
	"sectag|sim|reader|add|extra"
	"sectag|sim|reader|del"
	"sectag|sim|reader|list|extra"
	"sectag|sim|tag"
	"sectag|sim|tag|bogus"
	"sectag|sim|tag|new|extra"
	"sectag|sim|tag|new|--uid|0411"
	"sectag|sim|tag|new|--uid|zz112233445566"
	"sectag|sim|tag|new|--on"
	"sectag|sim|tag|new|--bogus"
	"sectag|sim|tag|list|extra"
	"sectag|sim|tag|del"
	"sectag|sim|tag|del|x"
	"sectag|sim|tag|remove|1|2"
	"sectag|sim|tag|place|1"
	"sectag|sim|tag|place|x|1"
	"sectag|sim|tag|place|1|1|0"
	"sectag|sim|tag|place|1|1|2|3"
	"sectagd|--bogus"
	"sectagd|extra"
	"sectagd|--config"
	"sectag-open"
	"sectag-open|--bogus"
	"sectag-open|u|/dev/x|0"
	"sectag-open|u|/dev/x|0|n|extra"
	"sectag-open|u|/dev/x|zero|n"
	"sectag-open||/dev/x|0|n"
	"sectag-open|u|/dev/x|0|"
)

# --help of each program and verb: usage on stdout, exit 0.
HELP=(
	"sectag|--help" "sectag|-h" "sectag|readers|--help" "sectag|scan|--help"
	"sectag|provision|--help" "sectag|verify|--help" "sectag|keygen|--help"
	"sectag|enroll|--help" "sectag|list|--help" "sectag|revoke|--help"
	"sectag|unlock|--help" "sectag|status|--help" "sectag|sim|--help"
	"sectag|list|--json|--help" "sectagd|--help" "sectag-open|--help"
	"sectag|--version" "sectagd|--version" "sectag-open|--version"
)

# run ROW: the program of ROW with its arguments; out, err, rc in $T.
run() {
	local -a args
	IFS='|' read -r -a args <<<"$1"
	# A trailing empty argument ("a|") is one more, empty, argument.
	[ "${1: -1}" != "|" ] || args+=("")
	# No agent, no store: nothing a usage error could reach by mistake.
	SECTAG_AGENT_SOCKET=$T/nosocket "$B/${args[0]}" "${args[@]:1}" \
		</dev/null >"$T/out" 2>"$T/err"
	echo $? >"$T/rc"
}

for row in "${BAD[@]}"; do
	run "$row"
	rc=$(cat "$T/rc")
	name="usage error: ${row//|/ }"
	if [ "$rc" = 2 ] && [ -s "$T/err" ] && [ ! -s "$T/out" ] &&
	   grep -q '^usage:' "$T/err"; then
		ok "$name"
	else
		not_ok "$name" "exit $rc; stdout: $(head -c 300 "$T/out"); stderr: $(head -n 3 "$T/err")"
	fi
done

for row in "${HELP[@]}"; do
	run "$row"
	rc=$(cat "$T/rc")
	name="help: ${row//|/ }"
	if [ "$rc" = 0 ] && [ -s "$T/out" ] && [ ! -s "$T/err" ]; then
		ok "$name"
	else
		not_ok "$name" "exit $rc; stderr: $(head -n 3 "$T/err")"
	fi
done

# The reason comes first, on one line, before the usage.
run "sectag|scan|--bogus"
check "the reason leads: sectag scan --bogus" \
	grep -qx "sectag scan: unknown option '--bogus'" <(head -n 1 "$T/err")
run "sectag|keygen"
check "the reason leads: sectag keygen" \
	grep -qx "sectag keygen: FILE is missing" <(head -n 1 "$T/err")

done_testing
