// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the sectag LUKS2 token's JSON, as the token plugin's
 * validate, open and dump read it from a LUKS2 header anyone with the
 * disk may have written (userspace/lib/token.c). The input is the token
 * text (NUL-terminated copy).
 *
 * Oracles, besides no crash, sanitizer report or leak:
 * - a refused token gives a reason and leaves nothing half-parsed;
 * - an accepted token formats (canonically), that text parses to the
 *   same token, and formats again to the same bytes;
 * - its luksDump text never holds the read key or the salt.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "token.h"

static void hex(const uint8_t *p, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 15];
	}
	out[2 * n] = 0;
}

static void check_accepted(const struct sectag_token *t)
{
	char a[SECTAG_TOKEN_JSON_MAX], b[SECTAG_TOKEN_JSON_MAX], dump[512];
	char key[33], salt[65];
	struct sectag_token again;
	const char *why;
	int n;

	n = sectag_token_format(t, a, sizeof(a));
	if (n <= 0 || sectag_token_parse(a, &again, &why) ||
	    memcmp(t, &again, sizeof(again)))
		abort();
	if (sectag_token_format(&again, b, sizeof(b)) != n || strcmp(a, b))
		abort();
	if (sectag_token_describe(t, dump, sizeof(dump)) <= 0)
		abort();
	if (t->mode == SECTAG_MODE_PORTABLE) {
		hex(t->read_key, sizeof(t->read_key), key);
		hex(t->salt, sizeof(t->salt), salt);
		if (strcasestr(dump, key) || strcasestr(dump, salt))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct sectag_token zero;
	struct sectag_token t;
	const char *why = NULL;
	char *s;

	s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	if (sectag_token_parse(s, &t, &why)) {
		if (!why || memcmp(&t, &zero, sizeof(t)))
			abort();
	} else {
		if (why)
			abort();
		check_accepted(&t);
	}
	free(s);
	return 0;
}
