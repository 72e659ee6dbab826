// SPDX-License-Identifier: LGPL-2.1-or-later
/* Processes holding AF_NFC raw sockets (see holders.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "holders.h"

/* The name net/nfc/rawsock.c gives its struct proto. */
#define RAW_PROTO	"NFC_RAW"

/* A decimal name: a process directory of /proc, or an fd of one. */
static bool numeric(const char *s, long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtol(s, &end, 10);
	return !*end && !errno && *out >= 0;
}

/* Is fd @fd of @pid an AF_NFC raw socket? */
static bool raw_socket(long pid, long fd)
{
	char path[64], link[64], proto[32];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%ld/fd/%ld", pid, fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 8)
		return false;
	link[n] = 0;
	if (strncmp(link, "socket:[", 8))
		return false;
	/* getxattr follows the magic link to the socket's inode. */
	n = getxattr(path, "system.sockprotoname", proto, sizeof(proto) - 1);
	if (n <= 0)
		return false;
	proto[n] = 0;
	return !strcmp(proto, RAW_PROTO);
}

static unsigned int count_raw(long pid)
{
	char path[64];
	struct dirent *e;
	unsigned int k = 0;
	long fd;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%ld/fd", pid);
	d = opendir(path);
	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (numeric(e->d_name, &fd))
			k += raw_socket(pid, fd);
	closedir(d);
	return k;
}

/* Real UID ("Uid:" line) and command name; false if the process is gone. */
static bool describe(long pid, struct sectag_nfc_holder *h)
{
	char path[64], line[256];
	bool found = false;
	size_t i, n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "Uid: %u", &h->uid) == 1;
	fclose(f);
	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	f = fopen(path, "re");
	h->comm[0] = 0;
	if (f) {
		if (!fgets(h->comm, sizeof(h->comm), f))
			h->comm[0] = 0;
		fclose(f);
	}
	/* comm is chosen by the process: keep it printable for the log */
	n = strcspn(h->comm, "\n");
	h->comm[n] = 0;
	for (i = 0; i < n; i++)
		if (h->comm[i] < ' ' || h->comm[i] > '~')
			h->comm[i] = '?';
	h->pid = (pid_t)pid;
	return found;
}

int sectag_nfc_raw_holders(struct sectag_nfc_holder *h, size_t max,
			   size_t *n)
{
	struct dirent *e;
	unsigned int k;
	long pid, self = (long)getpid();
	DIR *d;

	if (!n || (max && !h))
		return -EINVAL;
	*n = 0;
	d = opendir("/proc");
	if (!d)
		return -errno;
	while (*n < max && (e = readdir(d))) {
		if (!numeric(e->d_name, &pid) || pid == self)
			continue;
		k = count_raw(pid);
		if (k && describe(pid, &h[*n])) {
			h[*n].sockets = k;
			(*n)++;
		}
	}
	closedir(d);
	return 0;
}

void sectag_nfc_holders_text(const struct sectag_nfc_holder *h, size_t n,
			     char *buf, size_t size)
{
	size_t i, len = 0;
	int w;

	if (!size)
		return;
	buf[0] = 0;
	if (!n) {
		snprintf(buf, size, "nobody visible");
		return;
	}
	for (i = 0; i < n && len < size; i++) {
		w = snprintf(buf + len, size - len, "%spid %d (%s) uid %u",
			     i ? ", " : "", (int)h[i].pid, h[i].comm,
			     (unsigned int)h[i].uid);
		if (w < 0)
			break;
		len += (size_t)w;
	}
}
