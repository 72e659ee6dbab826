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

int sectag_genl_open(struct sectag_genl *g, const char *family);
void sectag_genl_close(struct sectag_genl *g);
struct nl_msg *sectag_genl_msg(const struct sectag_genl *g, uint8_t cmd,
			       int flags);
/* Sends and frees @msg, waits for the ack or the end of the dump. */
int sectag_genl_call(struct sectag_genl *g, struct nl_msg *msg, int maxattr,
		     sectag_genl_parse_fn fn, void *arg);
int sectag_genl_subscribe(struct sectag_genl *g, const char *family,
			  const char *group);
/* Parse one received message for event sockets. */
int sectag_genl_parse(struct nl_msg *msg, int maxattr, struct nlattr **tb,
		      uint8_t *cmd);

#endif
