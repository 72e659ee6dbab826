/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the generic netlink reply harnesses (fuzz_nfc_reply.c,
 * fuzz_sim_reply.c): what a parser must refuse, how to encode a message
 * again the way the kernel does, and how one recvmsg() worth of bytes is
 * fed to a harness: whole, then message by message.
 */
#ifndef SECTAG_FUZZ_GENL_FEED_H
#define SECTAG_FUZZ_GENL_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

/* Largest input fed: bigger ones are skipped. */
#define GENL_FEED_MAX	65536

/* nlmsg_len does not fit the bytes, or cannot hold the genl header. */
static inline bool genl_feed_must_refuse(const struct nlmsghdr *nlh,
					 size_t len)
{
	return len < NLMSG_HDRLEN || nlh->nlmsg_len > len ||
	       nlh->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN;
}

/* A new message with a genl header for @cmd; aborts if out of memory. */
static inline struct nl_msg *genl_feed_new_msg(int family, uint8_t cmd)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg || !genlmsg_put(msg, 0, 0, family, 0, 0, cmd, 1))
		abort();
	return msg;
}

/*
 * Hand @data to @one: all of it as one message (nlmsg_len may claim more
 * or less), then message by message, as libnl splits a datagram.
 */
static inline void genl_feed(const uint8_t *data, size_t size,
			     void (*one)(const struct nlmsghdr *nlh,
					 size_t len))
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)data;
	int rem = (int)size;

	if (size > GENL_FEED_MAX)
		return;
	one(nlh, size);
	for (; nlmsg_ok(nlh, rem); nlh = nlmsg_next(nlh, &rem))
		one(nlh, nlh->nlmsg_len);
}

#endif
