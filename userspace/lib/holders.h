/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Who holds a reader: the processes with an AF_NFC raw socket open.
 *
 * In Linux 6.1 any local user may open an AF_NFC raw socket and connect
 * it to a target (no capability is checked); while connected, the NFC
 * core refuses everyone else's connect with -EBUSY. The core does not
 * say who holds it, and nothing maps a socket to its reader, so this
 * lists every process holding a socket of the "NFC_RAW" protocol
 * (net/nfc/rawsock.c): readlink /proc/PID/fd/N gives "socket:[inode]",
 * and the socket's "system.sockprotoname" extended attribute its
 * protocol's name. Needs root to see other users' processes.
 */
#ifndef SECTAG_HOLDERS_H
#define SECTAG_HOLDERS_H

#include <stddef.h>
#include <sys/types.h>

/* At most this many holders are reported. */
#define SECTAG_HOLDERS_MAX	32

struct sectag_nfc_holder {
	pid_t pid;
	uid_t uid;			/* real UID */
	char comm[17];			/* /proc/PID/comm, sanitised */
	unsigned int sockets;		/* NFC_RAW sockets it holds */
};

/*
 * Fills @h (room for @max) with the processes other than this one that
 * hold an AF_NFC raw socket; *@n gets how many. 0 or -errno (/proc not
 * readable). Processes that vanish meanwhile are skipped.
 */
int sectag_nfc_raw_holders(struct sectag_nfc_holder *h, size_t max,
			   size_t *n);

/*
 * "pid 123 (nfc-tool) uid 1000, pid 456 (...) uid 0" into @buf, or
 * "nobody visible" when *@n is 0. Always NUL-terminated.
 */
void sectag_nfc_holders_text(const struct sectag_nfc_holder *h, size_t n,
			     char *buf, size_t size);

#endif
