// SPDX-License-Identifier: GPL-2.0
/*
 * --json output through json-c (see jsonout.h). Plain, one line per
 * document: scripts read it with jq or a line at a time. Slashes stay
 * as they are: device paths are easier to read unescaped.
 */
#include <stdio.h>
#include <string.h>

#include "hex.h"
#include "jsonout.h"

#define JOUT_FLAGS	(JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

void jout_print(json_object *o)
{
	puts(json_object_to_json_string_ext(o, JOUT_FLAGS));
	json_object_put(o);
}

void jout_str(json_object *o, const char *key, const char *s)
{
	json_object_object_add(o, key, s ? json_object_new_string(s) : NULL);
}

void jout_int(json_object *o, const char *key, int64_t v)
{
	json_object_object_add(o, key, json_object_new_int64(v));
}

void jout_bool(json_object *o, const char *key, bool v)
{
	json_object_object_add(o, key, json_object_new_boolean(v));
}

void jout_hex(json_object *o, const char *key, const uint8_t *b, size_t len)
{
	char s[2 * 32 + 1];

	if (len > 32)
		len = 32;
	sectag_hex(s, b, len, true);
	jout_str(o, key, s);
	explicit_bzero(s, sizeof(s));	/* verify --show-secret */
}
