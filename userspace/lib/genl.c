// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Generic netlink plumbing shared by the nfc and nfc_sectag clients.
 * Kernel errors come back as negative errno values, not libnl codes, so
 * callers can tell EPERM from ENODEV.
 */
#include <errno.h>
#include <string.h>

#include <netlink/genl/ctrl.h>

#include "genl.h"

int sectag_genl_open(struct sectag_genl *g, const char *family)
{
	int rc;

	g->sk = nl_socket_alloc();
	if (!g->sk)
		return -ENOMEM;
	rc = genl_connect(g->sk);
	if (rc < 0)
		goto err;
	/* Replies to large dumps must not be truncated. */
	nl_socket_set_buffer_size(g->sk, 1 << 20, 1 << 20);
	g->family = genl_ctrl_resolve(g->sk, family);
	if (g->family < 0) {
		rc = g->family;
		goto err;
	}
	return 0;
err:
	nl_socket_free(g->sk);
	g->sk = NULL;
	return rc == -NLE_OBJ_NOTFOUND ? -ENOENT : -ENOTCONN;
}

void sectag_genl_close(struct sectag_genl *g)
{
	nl_socket_free(g->sk);
	g->sk = NULL;
}

struct nl_msg *sectag_genl_msg(const struct sectag_genl *g, uint8_t cmd,
			       int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (msg && !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, g->family, 0,
				flags | NLM_F_ACK, cmd, 1)) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return msg;
}

int sectag_genl_parse(struct nl_msg *msg, int maxattr, struct nlattr **tb,
		      uint8_t *cmd)
{
	struct genlmsghdr *gh = nlmsg_data(nlmsg_hdr(msg));

	if (cmd)
		*cmd = gh->cmd;
	return genlmsg_parse(nlmsg_hdr(msg), 0, tb, maxattr, NULL) ? -EPROTO : 0;
}

struct call {
	int err;
	int done;
	int maxattr;
	sectag_genl_parse_fn fn;
	void *arg;
};

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct call *c = arg;
	struct nlattr *tb[c->maxattr + 1];
	uint8_t cmd;
	int rc;

	if (!c->fn || c->err)
		return NL_OK;
	rc = sectag_genl_parse(msg, c->maxattr, tb, &cmd);
	if (!rc)
		rc = c->fn(tb, cmd, c->arg);
	if (rc)
		c->err = rc;
	return NL_OK;
}

static int on_finish(struct nl_msg *msg, void *arg)
{
	(void)msg;
	((struct call *)arg)->done = 1;
	return NL_STOP;
}

static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct call *c = arg;

	(void)nla;
	if (!c->err)
		c->err = e->error;
	c->done = 1;
	return NL_STOP;
}

int sectag_genl_call(struct sectag_genl *g, struct nl_msg *msg, int maxattr,
		     sectag_genl_parse_fn fn, void *arg)
{
	struct call c = { .maxattr = maxattr, .fn = fn, .arg = arg };
	struct nl_cb *cb;
	int rc;

	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, &c);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_finish, &c);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_finish, &c);
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, &c);

	rc = nl_send_auto(g->sk, msg);
	nlmsg_free(msg);
	while (rc >= 0 && !c.done)
		rc = nl_recvmsgs(g->sk, cb);
	nl_cb_put(cb);
	if (rc < 0 && !c.err)
		return -EIO;
	return c.err;
}

int sectag_genl_subscribe(struct sectag_genl *g, const char *family,
			  const char *group)
{
	int grp = genl_ctrl_resolve_grp(g->sk, family, group);

	if (grp < 0)
		return -ENOENT;
	nl_socket_disable_seq_check(g->sk);
	return nl_socket_add_membership(g->sk, grp) ? -EIO : 0;
}
