// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: both ends of the agent's control protocol. The first
 * byte picks the side: even, a request as sectagd parses it from a local
 * user; odd, an answer as pam_sectag parses it from whatever listens on
 * the socket. The rest is the message. Whatever a parser accepts must
 * format back and parse again to the same thing (one spelling per
 * value, for requests and answers alike: BORROW, RETURN, STATUS and
 * STATE included), and a parser that refuses leaves nothing half-filled. Success
 * is: no crash, no sanitizer report, no abort.
 *
 * The production file is compiled in (as with the other harnesses'
 * sources), so the Makefile's fuzz rule needs nothing more.
 */
#include <stdlib.h>
#include <string.h>

#include "../userspace/lib/agent.c"

static void check_req(const uint8_t *p, size_t n)
{
	struct sectag_agent_req r, again, zero;
	char buf[SECTAG_AGENT_MSG_MAX + 1];
	int len;

	memset(&zero, 0, sizeof(zero));
	if (sectag_agent_req_parse((const char *)p, n, &r)) {
		if (memcmp(&r, &zero, sizeof(r)))
			abort();
		return;
	}
	len = sectag_agent_req_format(&r, buf, sizeof(buf));
	if (len < 0 || (size_t)len > n ||
	    sectag_agent_req_parse(buf, len, &again) ||
	    memcmp(&r, &again, sizeof(r)))
		abort();
	/* What was accepted is exactly what the formatter writes. */
	if ((size_t)len != n || memcmp(buf, p, n))
		abort();
}

static void check_ans(const uint8_t *p, size_t n)
{
	struct sectag_agent_ans a, again, zero;
	char buf[SECTAG_AGENT_MSG_MAX + 1];
	int len;

	memset(&zero, 0, sizeof(zero));
	if (sectag_agent_ans_parse((const char *)p, n, &a)) {
		if (memcmp(&a, &zero, sizeof(a)))
			abort();
		return;
	}
	len = sectag_agent_ans_format(&a, buf, sizeof(buf));
	if (len < 0 || sectag_agent_ans_parse(buf, len, &again) ||
	    memcmp(&a, &again, sizeof(a)))
		abort();
	/* Answers too have one spelling (STATE: readers by index). */
	if ((size_t)len != n || memcmp(buf, p, n))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	if (data[0] & 1)
		check_ans(data + 1, size - 1);
	else
		check_req(data + 1, size - 1);
	return 0;
}
