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
	c->presence_interval_ms = 300;
	c->max_failures = 5;
	c->uevents = true;
	c->max_conn_per_uid = 4;
	snprintf(c->seat, sizeof(c->seat), "seat0");
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

/* A seat name as logind spells them: letters, digits, '-', '_'. */
static int parse_seat(const char *v, char *out, size_t size)
{
	size_t i, n = strlen(v);

	if (!n || n >= size)
		return -1;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)v[i]) && v[i] != '-' && v[i] != '_')
			return -1;
	memmove(out, v, n + 1);
	return 0;
}

/* "nfcN SEAT": reader nfcN is on SEAT (a later line for N wins). */
static int parse_reader_seat(struct config *c, const char *v)
{
	char dev[16], seat[SECTAGD_SEAT_LEN], extra;
	unsigned int idx;
	int i;

	if (sscanf(v, "nfc%10[0-9] %31s %c", dev, seat, &extra) != 2 ||
	    parse_uint(dev, 0, 1000000, &idx) ||
	    parse_seat(seat, seat, sizeof(seat)))
		return -1;
	for (i = 0; i < c->n_reader_seat; i++)
		if (c->reader_seat[i].idx == idx)
			break;
	if (i == SECTAGD_MAX_READERS)
		return -1;
	if (i == c->n_reader_seat)
		c->n_reader_seat++;
	c->reader_seat[i].idx = idx;
	memcpy(c->reader_seat[i].seat, seat, sizeof(seat));
	return 0;
}

/* "sshd, login": PAM service names, comma or blank separated. */
static int parse_services(struct config *c, const char *v)
{
	char buf[512], *tok, *save;

	snprintf(buf, sizeof(buf), "%s", v);
	c->n_remote = 0;
	for (tok = strtok_r(buf, ", \t", &save); tok;
	     tok = strtok_r(NULL, ", \t", &save)) {
		if (c->n_remote == SECTAGD_MAX_REMOTE ||
		    strlen(tok) >= sizeof(c->remote[0]))
			return -1;
		snprintf(c->remote[c->n_remote++], sizeof(c->remote[0]), "%s",
			 tok);
	}
	return 0;
}

const char *config_reader_seat(const struct config *c, uint32_t idx)
{
	int i;

	for (i = 0; i < c->n_reader_seat; i++)
		if (c->reader_seat[i].idx == idx)
			return c->reader_seat[i].seat;
	return c->seat;
}

/* Is there (by configuration) a reader on @seat? */
bool config_seat_known(const struct config *c, const char *seat)
{
	int i;

	if (!strcmp(seat, c->seat))
		return true;
	for (i = 0; i < c->n_reader_seat; i++)
		if (!strcmp(c->reader_seat[i].seat, seat))
			return true;
	return false;
}

bool config_remote_ok(const struct config *c, const char *service)
{
	int i;

	for (i = 0; i < c->n_remote; i++)
		if (!strcmp(c->remote[i], service))
			return true;
	return false;
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
	if (!strcmp(k, "presence_interval_ms"))
		return parse_uint(v, 100, 5000, &c->presence_interval_ms);
	if (!strcmp(k, "max_failures_per_minute"))
		return parse_uint(v, 1, 1000, &c->max_failures);
	if (!strcmp(k, "revoke_on_removal"))
		return parse_bool(v, &c->revoke_on_removal);
	if (!strcmp(k, "uevents"))
		return parse_bool(v, &c->uevents);
	if (!strcmp(k, "max_connections_per_user"))
		return parse_uint(v, 1, SECTAGD_MAX_CLIENTS - SECTAGD_ROOT_RESERVE,
				  &c->max_conn_per_uid);
	if (!strcmp(k, "seat"))
		return parse_seat(v, c->seat, sizeof(c->seat));
	if (!strcmp(k, "reader_seat"))
		return parse_reader_seat(c, v);
	if (!strcmp(k, "remote_services"))
		return parse_services(c, v);
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
		agent_log(LOG_ERR, "%s:%d: expected 'key = value'", path, n);
		return -1;
	}
	*eq = 0;
	k = trim(k);
	v = trim(eq + 1);
	rc = set_key(c, k, v);
	if (rc == -2)
		agent_log(LOG_ERR, "%s:%d: unknown setting '%s'", path, n, k);
	else if (rc)
		agent_log(LOG_ERR, "%s:%d: bad value '%s' for %s", path, n, v, k);
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
		agent_log(LOG_ERR, "%s: %m", path);
		return -1;
	}
	while (!rc && fgets(line, sizeof(line), f)) {
		n++;
		if (!strchr(line, '\n') && !feof(f)) {
			agent_log(LOG_ERR, "%s:%d: line too long", path, n);
			rc = -1;
			break;
		}
		rc = config_line(c, line, path, n);
	}
	fclose(f);
	return rc;
}
