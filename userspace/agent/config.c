// SPDX-License-Identifier: GPL-2.0
/*
 * /etc/sectag/sectagd.conf: "key = value" lines, '#' comments. Every
 * line is validated; the first bad one stops the agent with its file
 * and line number, rather than running with a setting it misread.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "agent.h"
#include "store.h"

void config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->store, sizeof(c->store), "%s", SECTAG_STORE_DEFAULT);
	snprintf(c->socket, sizeof(c->socket), "%s", SECTAGD_SOCKET);
	c->key_timeout_s = 60;
	c->exchange_timeout_ms = 1000;
	c->max_failures = 5;
	c->uevents = true;
}

static int parse_uint(const char *v, unsigned int min, unsigned int max,
		      unsigned int *out)
{
	unsigned long n;
	char *end;

	if (!isdigit((unsigned char)*v))
		return -1;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || *end || n < min || n > max)
		return -1;
	*out = n;
	return 0;
}

static int parse_bool(const char *v, bool *out)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1"))
		*out = true;
	else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0"))
		*out = false;
	else
		return -1;
	return 0;
}

static int parse_path(const char *v, char *out, size_t size)
{
	if (v[0] != '/' || strlen(v) >= size)
		return -1;
	snprintf(out, size, "%s", v);
	return 0;
}

static int set_key(struct config *c, const char *k, const char *v)
{
	if (!strcmp(k, "store"))
		return parse_path(v, c->store, sizeof(c->store));
	if (!strcmp(k, "socket"))
		return parse_path(v, c->socket, sizeof(c->socket));
	if (!strcmp(k, "key_timeout"))
		return parse_uint(v, 0, 86400, &c->key_timeout_s);
	if (!strcmp(k, "exchange_timeout_ms"))
		return parse_uint(v, 50, 10000, &c->exchange_timeout_ms);
	if (!strcmp(k, "max_failures_per_minute"))
		return parse_uint(v, 1, 1000, &c->max_failures);
	if (!strcmp(k, "revoke_on_removal"))
		return parse_bool(v, &c->revoke_on_removal);
	if (!strcmp(k, "uevents"))
		return parse_bool(v, &c->uevents);
	return -2;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

static int config_line(struct config *c, char *line, const char *path,
		       int n)
{
	char *eq, *k, *v;
	int rc;

	line[strcspn(line, "#")] = 0;
	k = trim(line);
	if (!*k)
		return 0;
	eq = strchr(k, '=');
	if (!eq) {
		syslog(LOG_ERR, "%s:%d: expected 'key = value'", path, n);
		return -1;
	}
	*eq = 0;
	k = trim(k);
	v = trim(eq + 1);
	rc = set_key(c, k, v);
	if (rc == -2)
		syslog(LOG_ERR, "%s:%d: unknown setting '%s'", path, n, k);
	else if (rc)
		syslog(LOG_ERR, "%s:%d: bad value '%s' for %s", path, n, v, k);
	return rc ? -1 : 0;
}

int config_load(struct config *c, const char *path, bool must_exist)
{
	char line[512];
	FILE *f;
	int n = 0, rc = 0;

	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT && !must_exist)
			return 0;
		syslog(LOG_ERR, "%s: %m", path);
		return -1;
	}
	while (!rc && fgets(line, sizeof(line), f)) {
		n++;
		if (!strchr(line, '\n') && !feof(f)) {
			syslog(LOG_ERR, "%s:%d: line too long", path, n);
			rc = -1;
			break;
		}
		rc = config_line(c, line, path, n);
	}
	fclose(f);
	return rc;
}
