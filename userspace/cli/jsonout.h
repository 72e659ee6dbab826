/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The CLI's --json output: objects built with json-c and printed by it,
 * one compact line each, so that every string is escaped as JSON wants
 * (quotes, backslashes, control characters) and nothing is hand-rolled.
 */
#ifndef SECTAG_CLI_JSONOUT_H
#define SECTAG_CLI_JSONOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

/* Prints @o and a newline on stdout, then drops it; NULL prints null. */
void jout_print(json_object *o);

/* Members of @o; a NULL @s is JSON null. */
void jout_str(json_object *o, const char *key, const char *s);
void jout_int(json_object *o, const char *key, int64_t v);
void jout_bool(json_object *o, const char *key, bool v);
/* @len bytes as upper-case hex. */
void jout_hex(json_object *o, const char *key, const uint8_t *b, size_t len);

#endif
