/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Internal: request/response helpers over libnl-genl-3. */
#ifndef SECTAG_GENL_H
#define SECTAG_GENL_H

#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

struct sectag_genl {
	struct nl_sock *sk;
	int family;
};

/* Called for every reply message with its parsed attributes. */
typedef int (*sectag_genl_parse_fn)(struct nlattr **tb, uint8_t cmd,
				    void *arg);
/*
 * The transport seam: called for every reply message with its bytes as
 * received (@len is what the socket layer delivered for this message).
 * The parsers behind it never touch a socket, so they can be fed any
 * bytes (fuzz/fuzz_nfc_reply.c, fuzz/fuzz_sim_reply.c).
 */
typedef int (*sectag_genl_msg_fn)(const struct nlmsghdr *nlh, size_t len,
				  void *arg);

int sectag_genl_open(struct sectag_genl *g, const char *family);
void sectag_genl_close(struct sectag_genl *g);
struct nl_msg *sectag_genl_msg(const struct sectag_genl *g, uint8_t cmd,
			       int flags);
/*
 * Sends and frees @msg, waits for the ack or the end of the dump.
 * -EAGAIN: what a dump lists changed while it was read (the kernel
 * flagged it NLM_F_DUMP_INTR, e.g. a poll found a target meanwhile);
 * what @fn was given is not to be trusted: ask again.
 */
int sectag_genl_call(struct sectag_genl *g, struct nl_msg *msg, int maxattr,
		     sectag_genl_parse_fn fn, void *arg);
/* The same, every reply message handed to @fn as bytes. */
int sectag_genl_request(struct sectag_genl *g, struct nl_msg *msg,
			sectag_genl_msg_fn fn, void *arg);
int sectag_genl_subscribe(struct sectag_genl *g, const char *family,
			  const char *group);
/* Parse one received message for event sockets (no attribute policy). */
int sectag_genl_parse(struct nl_msg *msg, int maxattr, struct nlattr **tb,
		      uint8_t *cmd);
/*
 * Parse the generic netlink message of @len bytes at @nlh, which may be
 * anything: its nlmsg_len must lie within @len and hold the genl header,
 * every attribute within the message, and each attribute that @policy
 * (maxattr + 1 entries, NULL: none) types must have that type's length
 * (strings NUL-terminated). 0, or -EPROTO for a malformed message.
 */
int sectag_genl_parse_msg(const struct nlmsghdr *nlh, size_t len,
			  int maxattr, const struct nla_policy *policy,
			  struct nlattr **tb, uint8_t *cmd);

#endif
