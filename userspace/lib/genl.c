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

int sectag_genl_parse_msg(const struct nlmsghdr *nlh, size_t len,
			  int maxattr, const struct nla_policy *policy,
			  struct nlattr **tb, uint8_t *cmd)
{
	struct nlmsghdr *h = (struct nlmsghdr *)nlh;

	if (!nlh || len < NLMSG_HDRLEN || nlh->nlmsg_len > len ||
	    nlh->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN)
		return -EPROTO;
	/* Checks every attribute's header and, with @policy, its length. */
	if (genlmsg_parse(h, 0, tb, maxattr, (struct nla_policy *)policy))
		return -EPROTO;
	if (cmd)
		*cmd = ((const struct genlmsghdr *)nlmsg_data(h))->cmd;
	return 0;
}

int sectag_genl_parse(struct nl_msg *msg, int maxattr, struct nlattr **tb,
		      uint8_t *cmd)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);

	/* libnl sized the message after nlmsg_len when it received it. */
	return sectag_genl_parse_msg(nlh, nlh->nlmsg_len, maxattr, NULL, tb,
				     cmd);
}

struct call {
	int err;
	int done;
	sectag_genl_msg_fn fn;
	void *arg;
};

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct call *c = arg;
	int rc;

	if (!c->fn || c->err)
		return NL_OK;
	rc = c->fn(nlh, nlh->nlmsg_len, c->arg);
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

int sectag_genl_request(struct sectag_genl *g, struct nl_msg *msg,
			sectag_genl_msg_fn fn, void *arg)
{
	struct call c = { .fn = fn, .arg = arg };
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
	if (rc == -NLE_DUMP_INTR)
		return -EAGAIN;
	if (rc < 0 && !c.err)
		return -EIO;
	return c.err;
}

/* sectag_genl_call() on top of sectag_genl_request(). */
struct attrs_call {
	int maxattr;
	sectag_genl_parse_fn fn;
	void *arg;
};

static int on_attrs(const struct nlmsghdr *nlh, size_t len, void *arg)
{
	struct attrs_call *a = arg;
	struct nlattr *tb[a->maxattr + 1];
	uint8_t cmd;
	int rc;

	rc = sectag_genl_parse_msg(nlh, len, a->maxattr, NULL, tb, &cmd);
	return rc ? rc : a->fn(tb, cmd, a->arg);
}

int sectag_genl_call(struct sectag_genl *g, struct nl_msg *msg, int maxattr,
		     sectag_genl_parse_fn fn, void *arg)
{
	struct attrs_call a = { .maxattr = maxattr, .fn = fn, .arg = arg };

	return sectag_genl_request(g, msg, fn ? on_attrs : NULL, &a);
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
