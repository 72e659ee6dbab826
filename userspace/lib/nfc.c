// SPDX-License-Identifier: LGPL-2.1-or-later
/* The kernel NFC API: "nfc" generic netlink family and AF_NFC sockets. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/nfc.h>

#include "hex.h"
#include "genl.h"
#include "nfc.h"

struct sectag_nfc {
	struct sectag_genl cmd;
	struct sectag_genl ev;
};

int sectag_nfc_open(struct sectag_nfc **out)
{
	struct sectag_nfc *nfc = calloc(1, sizeof(*nfc));
	int rc;

	if (!nfc)
		return -ENOMEM;
	rc = sectag_genl_open(&nfc->cmd, NFC_GENL_NAME);
	if (rc)
		goto err;
	rc = sectag_genl_open(&nfc->ev, NFC_GENL_NAME);
	if (rc)
		goto err_cmd;
	rc = sectag_genl_subscribe(&nfc->ev, NFC_GENL_NAME,
				   NFC_GENL_MCAST_EVENT_NAME);
	if (rc)
		goto err_ev;
	nl_socket_set_nonblocking(nfc->ev.sk);
	/* Room for bursts of events; an overrun is still reported. */
	nl_socket_set_buffer_size(nfc->ev.sk, 1 << 20, 0);
	*out = nfc;
	return 0;
err_ev:
	sectag_genl_close(&nfc->ev);
err_cmd:
	sectag_genl_close(&nfc->cmd);
err:
	free(nfc);
	return rc;
}

void sectag_nfc_close(struct sectag_nfc *nfc)
{
	if (!nfc)
		return;
	sectag_genl_close(&nfc->ev);
	sectag_genl_close(&nfc->cmd);
	free(nfc);
}

int sectag_nfc_event_fd(const struct sectag_nfc *nfc)
{
	return nl_socket_get_fd(nfc->ev.sk);
}

/*
 * The attributes we read, typed: a message where one of them is too
 * short (or a string is not terminated) is malformed and rejected whole.
 * NFCID1 is variable-length: one longer than we can hold is left out.
 */
static const struct nla_policy nfc_policy[NFC_ATTR_MAX + 1] = {
	[NFC_ATTR_DEVICE_INDEX]		= { .type = NLA_U32 },
	[NFC_ATTR_DEVICE_NAME]		= { .type = NLA_STRING },
	[NFC_ATTR_PROTOCOLS]		= { .type = NLA_U32 },
	[NFC_ATTR_TARGET_INDEX]		= { .type = NLA_U32 },
	[NFC_ATTR_TARGET_SENS_RES]	= { .type = NLA_U16 },
	[NFC_ATTR_TARGET_SEL_RES]	= { .type = NLA_U8 },
	[NFC_ATTR_DEVICE_POWERED]	= { .type = NLA_U8 },
};

static int parse(const void *msg, size_t len, struct nlattr **tb,
		 uint8_t *cmd)
{
	return sectag_genl_parse_msg(msg, len, NFC_ATTR_MAX, nfc_policy, tb,
				     cmd);
}

static uint32_t get_u32(struct nlattr **tb, int attr)
{
	return tb[attr] ? nla_get_u32(tb[attr]) : 0;
}

int sectag_nfc_parse_dev(const void *msg, size_t len,
			 struct sectag_nfc_dev *dev)
{
	struct nlattr *tb[NFC_ATTR_MAX + 1];

	memset(dev, 0, sizeof(*dev));
	if (parse(msg, len, tb, NULL))
		return -EPROTO;
	dev->idx = get_u32(tb, NFC_ATTR_DEVICE_INDEX);
	dev->protocols = get_u32(tb, NFC_ATTR_PROTOCOLS);
	dev->powered = tb[NFC_ATTR_DEVICE_POWERED] &&
		       nla_get_u8(tb[NFC_ATTR_DEVICE_POWERED]);
	if (tb[NFC_ATTR_DEVICE_NAME])
		nla_strlcpy(dev->name, tb[NFC_ATTR_DEVICE_NAME],
			    sizeof(dev->name));
	return 0;
}

int sectag_nfc_parse_target(const void *msg, size_t len, uint32_t dev_idx,
			    struct sectag_nfc_target *tg)
{
	struct nlattr *tb[NFC_ATTR_MAX + 1];
	struct nlattr *id;

	memset(tg, 0, sizeof(*tg));
	if (parse(msg, len, tb, NULL))
		return -EPROTO;
	id = tb[NFC_ATTR_TARGET_NFCID1];
	tg->dev_idx = dev_idx;
	tg->idx = get_u32(tb, NFC_ATTR_TARGET_INDEX);
	tg->protocols = get_u32(tb, NFC_ATTR_PROTOCOLS);
	if (tb[NFC_ATTR_TARGET_SENS_RES])
		tg->sens_res = nla_get_u16(tb[NFC_ATTR_TARGET_SENS_RES]);
	if (tb[NFC_ATTR_TARGET_SEL_RES])
		tg->sel_res = nla_get_u8(tb[NFC_ATTR_TARGET_SEL_RES]);
	if (id && nla_len(id) <= (int)sizeof(tg->nfcid1)) {
		tg->nfcid1_len = nla_len(id);
		memcpy(tg->nfcid1, nla_data(id), tg->nfcid1_len);
	}
	return 0;
}

int sectag_nfc_parse_event(const void *msg, size_t len,
			   struct sectag_nfc_event *ev)
{
	static const struct {
		uint8_t cmd;
		enum sectag_nfc_event_type type;
	} map[] = {
		{ NFC_EVENT_DEVICE_ADDED, SECTAG_NFC_EV_DEVICE_ADDED },
		{ NFC_EVENT_DEVICE_REMOVED, SECTAG_NFC_EV_DEVICE_REMOVED },
		{ NFC_EVENT_TARGETS_FOUND, SECTAG_NFC_EV_TARGETS_FOUND },
		{ NFC_EVENT_TARGET_LOST, SECTAG_NFC_EV_TARGET_LOST },
	};
	struct nlattr *tb[NFC_ATTR_MAX + 1];
	uint8_t cmd;
	size_t i;

	memset(ev, 0, sizeof(*ev));
	if (parse(msg, len, tb, &cmd))
		return -EPROTO;
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (map[i].cmd == cmd)
			ev->type = map[i].type;
	/* TARGET_LOST may name the device ("nfcN") instead of indexing it. */
	if (tb[NFC_ATTR_DEVICE_INDEX])
		ev->dev_idx = nla_get_u32(tb[NFC_ATTR_DEVICE_INDEX]);
	else if (!tb[NFC_ATTR_DEVICE_NAME] ||
		 sscanf(nla_get_string(tb[NFC_ATTR_DEVICE_NAME]), "nfc%u",
			&ev->dev_idx) != 1)
		ev->type = 0;
	if (!ev->type) {
		memset(ev, 0, sizeof(*ev));
		return 0;
	}
	ev->target_idx = get_u32(tb, NFC_ATTR_TARGET_INDEX);
	return 1;
}

struct devs {
	struct sectag_nfc_dev *v;
	size_t n;
};

static int add_dev(const struct nlmsghdr *nlh, size_t len, void *arg)
{
	struct sectag_nfc_dev dev, *v;
	struct devs *d = arg;
	int rc;

	rc = sectag_nfc_parse_dev(nlh, len, &dev);
	if (rc)
		return rc;
	v = realloc(d->v, (d->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	d->v = v;
	v[d->n++] = dev;
	return 0;
}

static struct nl_msg *dev_msg(struct sectag_nfc *nfc, uint8_t cmd, int flags,
			      uint32_t idx)
{
	struct nl_msg *msg = sectag_genl_msg(&nfc->cmd, cmd, flags);

	if (msg && nla_put_u32(msg, NFC_ATTR_DEVICE_INDEX, idx)) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return msg;
}

static int call(struct sectag_nfc *nfc, struct nl_msg *msg,
		sectag_genl_msg_fn fn, void *arg)
{
	if (!msg)
		return -ENOMEM;
	return sectag_genl_request(&nfc->cmd, msg, fn, arg);
}

/*
 * A dump the kernel says was interrupted (-EAGAIN: a device or target
 * came or went while it was read) is asked for again, a few times: a
 * poll that finds a tag in that moment is no error. Before each try,
 * reset() drops what the last one collected in arg; it does so too when
 * the dump fails for good. idx: the device the dump is of, or NULL.
 */
#define DUMP_TRIES	5

static int dump(struct sectag_nfc *nfc, uint8_t cmd, const uint32_t *idx,
		sectag_genl_msg_fn fn, void *arg, void (*reset)(void *arg))
{
	struct nl_msg *msg;
	int rc = -EAGAIN, tries;

	for (tries = 0; rc == -EAGAIN && tries < DUMP_TRIES; tries++) {
		reset(arg);
		if (idx)
			msg = dev_msg(nfc, cmd, NLM_F_DUMP, *idx);
		else
			msg = sectag_genl_msg(&nfc->cmd, cmd, NLM_F_DUMP);
		rc = call(nfc, msg, fn, arg);
	}
	if (rc)
		reset(arg);
	return rc;
}

static void reset_devs(void *arg)
{
	struct devs *d = arg;

	free(d->v);
	*d = (struct devs){ 0 };
}

int sectag_nfc_list(struct sectag_nfc *nfc, struct sectag_nfc_dev **devs,
		    size_t *n)
{
	struct devs d = { 0 };
	int rc;

	rc = dump(nfc, NFC_CMD_GET_DEVICE, NULL, add_dev, &d, reset_devs);
	if (rc)
		return rc;
	*devs = d.v;
	*n = d.n;
	return 0;
}

int sectag_nfc_get(struct sectag_nfc *nfc, uint32_t idx,
		   struct sectag_nfc_dev *dev)
{
	struct devs d = { 0 };
	int rc;

	rc = call(nfc, dev_msg(nfc, NFC_CMD_GET_DEVICE, 0, idx), add_dev, &d);
	if (!rc && d.n != 1)
		rc = -EPROTO;
	if (!rc)
		*dev = d.v[0];
	free(d.v);
	return rc;
}

int sectag_nfc_dev_up(struct sectag_nfc *nfc, uint32_t idx)
{
	return call(nfc, dev_msg(nfc, NFC_CMD_DEV_UP, 0, idx), NULL, NULL);
}

int sectag_nfc_dev_down(struct sectag_nfc *nfc, uint32_t idx)
{
	return call(nfc, dev_msg(nfc, NFC_CMD_DEV_DOWN, 0, idx), NULL, NULL);
}

/* dev_msg() with one more u32 attribute. */
static struct nl_msg *dev_msg_u32(struct sectag_nfc *nfc, uint8_t cmd,
				  uint32_t idx, int attr, uint32_t v)
{
	struct nl_msg *msg = dev_msg(nfc, cmd, 0, idx);

	if (msg && nla_put_u32(msg, attr, v)) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return msg;
}

int sectag_nfc_start_poll(struct sectag_nfc *nfc, uint32_t idx,
			  uint32_t protocols)
{
	return call(nfc, dev_msg_u32(nfc, NFC_CMD_START_POLL, idx,
				     NFC_ATTR_IM_PROTOCOLS, protocols),
		    NULL, NULL);
}

int sectag_nfc_stop_poll(struct sectag_nfc *nfc, uint32_t idx)
{
	return call(nfc, dev_msg(nfc, NFC_CMD_STOP_POLL, 0, idx), NULL, NULL);
}

struct targets {
	struct sectag_nfc_target *v;
	size_t n;
	uint32_t dev_idx;
};

static int add_target(const struct nlmsghdr *nlh, size_t len, void *arg)
{
	struct sectag_nfc_target tg, *v;
	struct targets *t = arg;
	int rc;

	rc = sectag_nfc_parse_target(nlh, len, t->dev_idx, &tg);
	if (rc)
		return rc;
	v = realloc(t->v, (t->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	t->v = v;
	v[t->n++] = tg;
	return 0;
}

static void reset_targets(void *arg)
{
	struct targets *t = arg;

	free(t->v);
	*t = (struct targets){ .dev_idx = t->dev_idx };
}

int sectag_nfc_targets(struct sectag_nfc *nfc, uint32_t idx,
		       struct sectag_nfc_target **targets, size_t *n)
{
	struct targets t = { .dev_idx = idx };
	int rc;

	rc = dump(nfc, NFC_CMD_GET_TARGET, &idx, add_target, &t,
		  reset_targets);
	if (rc)
		return rc;
	*targets = t.v;
	*n = t.n;
	return 0;
}

struct wait {
	const uint32_t *idx;	/* the devices waited on */
	size_t n;
	uint32_t gone;		/* bit i: device idx[i] went away */
	int found;		/* 1: targets found, -ENODEV: all gone */
};

static int on_event(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct sectag_nfc_event ev;
	struct wait *w = arg;
	size_t i;

	if (sectag_nfc_parse_event(nlh, nlh->nlmsg_len, &ev) != 1)
		return NL_OK;
	for (i = 0; i < w->n && ev.dev_idx != w->idx[i]; i++)
		;
	if (i == w->n)
		return NL_OK;
	if (ev.type == SECTAG_NFC_EV_TARGETS_FOUND) {
		w->found = 1;
	} else if (ev.type == SECTAG_NFC_EV_DEVICE_REMOVED) {
		w->gone |= 1u << i;
		if (w->gone == (1u << w->n) - 1)
			w->found = -ENODEV;
	}
	return NL_OK;
}

/* Multicast events carry sequence number 0: never check it. */
static int no_seq_check(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK;
}

static struct nl_cb *event_cb(nl_recvmsg_msg_cb_t fn, void *arg)
{
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);

	if (!cb)
		return NULL;
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, no_seq_check, NULL);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, fn, arg);
	return cb;
}

/* Drain pending events; returns what they said about w's devices. */
static int read_events(struct sectag_nfc *nfc, struct wait *w)
{
	struct nl_cb *cb = event_cb(on_event, w);
	int rc;

	if (!cb)
		return -ENOMEM;
	do {
		rc = nl_recvmsgs(nfc->ev.sk, cb);
	} while (rc >= 0 && !w->found);
	nl_cb_put(cb);
	/* -NLE_AGAIN: drained. -NLE_NOMEM: overrun, events were lost. */
	return rc == -NLE_NOMEM ? 1 : 0;
}

int sectag_nfc_wait_target(struct sectag_nfc *nfc, uint32_t idx,
			   int timeout_ms, struct sectag_nfc_target *target)
{
	return sectag_nfc_wait_new_target(nfc, idx, 0, timeout_ms, target);
}

/* A target numbered @min or later that device @idx lists: 1, 0, -errno. */
static int listed(struct sectag_nfc *nfc, uint32_t idx, uint32_t min,
		  struct sectag_nfc_target *target)
{
	struct sectag_nfc_target *v;
	size_t i, n;
	int rc;

	rc = sectag_nfc_targets(nfc, idx, &v, &n);
	if (rc)
		return rc;
	for (i = 0; i < n && v[i].idx < min; i++)
		;
	if (i < n)
		*target = v[i];
	free(v);
	return i < n;
}

int sectag_nfc_wait_any_target(struct sectag_nfc *nfc, const uint32_t *idx,
			       size_t n, uint32_t min_target, int timeout_ms,
			       size_t *which, struct sectag_nfc_target *target)
{
	struct pollfd pfd = { .fd = sectag_nfc_event_fd(nfc), .events = POLLIN };
	int64_t deadline = sectag_now_ms() + timeout_ms;
	struct wait w = { .idx = idx, .n = n };
	size_t i;
	int rc, left;

	if (!n || n > 16)
		return -EINVAL;
	for (;;) {
		/* Targets may already be there (found before we listened). */
		for (i = 0; i < n; i++) {
			if (w.gone & (1u << i))
				continue;
			rc = listed(nfc, idx[i], min_target, target);
			if (rc == -ENODEV)
				w.gone |= 1u << i;
			if (rc == 1) {
				*which = i;
				return 0;
			}
		}
		if (w.gone == (1u << n) - 1)
			return -ENODEV;
		if (w.found < 0)
			return w.found;

		w.found = 0;
		left = timeout_ms < 0 ? -1 : (int)(deadline - sectag_now_ms());
		if (timeout_ms >= 0 && left <= 0)
			return -ETIMEDOUT;
		rc = poll(&pfd, 1, left);
		if (rc < 0 && errno != EINTR)
			return -errno;
		if (rc > 0)
			read_events(nfc, &w);
	}
}

int sectag_nfc_wait_new_target(struct sectag_nfc *nfc, uint32_t idx,
			       uint32_t min_target, int timeout_ms,
			       struct sectag_nfc_target *target)
{
	size_t which;

	return sectag_nfc_wait_any_target(nfc, &idx, 1, min_target,
					  timeout_ms, &which, target);
}

int sectag_nfc_connect(uint32_t dev_idx, uint32_t target_idx)
{
	struct sockaddr_nfc addr = {
		.sa_family = AF_NFC,
		.dev_idx = dev_idx,
		.target_idx = target_idx,
		.nfc_protocol = NFC_PROTO_ISO14443,
	};
	int fd, err;

	fd = socket(AF_NFC, SOCK_SEQPACKET | SOCK_CLOEXEC, NFC_SOCKPROTO_RAW);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/*
 * Closing a connected raw socket deactivates its target, in whichever
 * context drops the socket's last reference. That is the driver's own
 * worker when an exchange is still pending (we gave up waiting), and
 * can be after a failed one: af_nfc's completion wakes us with the
 * error and only then lets go of the socket (rawsock.c,
 * rawsock_data_exchange_complete()). In 6.1 the NCI core then waits for its
 * RF_DEACTIVATE_RSP on the very workqueue that would deliver it, for
 * NCI_RF_DEACTIVATE_TIMEOUT (30 s) with the device lock held, and pn533
 * for its InRelease answer the same way, without a timeout. Deactivating
 * here first, in process context, leaves the release nothing to do.
 */
int sectag_nfc_disconnect(struct sectag_nfc *nfc, uint32_t dev_idx,
			  uint32_t target_idx, int fd)
{
	int rc;

	rc = call(nfc, dev_msg_u32(nfc, NFC_CMD_DEACTIVATE_TARGET, dev_idx,
				   NFC_ATTR_TARGET_INDEX, target_idx),
		  NULL, NULL);
	close(fd);
	/* Not connected (any more): the core forgot the target already. */
	return rc == -ENOTCONN ? 0 : rc;
}

int sectag_nfc_transceive(int fd, const uint8_t *capdu, size_t clen,
			  uint8_t *rapdu, size_t rsize, size_t *rlen,
			  int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	/* Raw sockets prepend a one-byte header to every frame received. */
	uint8_t buf[1 + 1024];
	ssize_t n;
	int rc;

	if (send(fd, capdu, clen, MSG_NOSIGNAL) != (ssize_t)clen)
		return errno ? -errno : -EIO;
	do {
		rc = poll(&pfd, 1, timeout_ms);
	} while (rc < 0 && errno == EINTR);
	if (rc < 0)
		return -errno;
	if (rc == 0)
		return -ETIMEDOUT;
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0)
		return -errno;
	if (n < 1)
		return -EPROTO;
	if ((size_t)n - 1 > rsize)
		return -EMSGSIZE;
	memcpy(rapdu, buf + 1, n - 1);
	*rlen = n - 1;
	return 0;
}

int sectag_nfc_link_xfer(void *link, const uint8_t *capdu, size_t clen,
			 uint8_t *rapdu, size_t rsize, size_t *rlen)
{
	const struct sectag_nfc_link *l = link;

	return sectag_nfc_transceive(l->fd, capdu, clen, rapdu, rsize, rlen,
				     l->timeout_ms);
}

struct ev_ctx {
	sectag_nfc_event_fn fn;
	void *arg;
};

static int on_any_event(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct ev_ctx *c = arg;
	struct sectag_nfc_event ev;

	if (sectag_nfc_parse_event(nlh, nlh->nlmsg_len, &ev) == 1)
		c->fn(&ev, c->arg);
	return NL_OK;
}

int sectag_nfc_read_events(struct sectag_nfc *nfc, sectag_nfc_event_fn fn,
			   void *arg)
{
	struct ev_ctx c = { fn, arg };
	struct nl_cb *cb = event_cb(on_any_event, &c);
	int rc;

	if (!cb)
		return -ENOMEM;
	do {
		rc = nl_recvmsgs(nfc->ev.sk, cb);
	} while (rc >= 0);
	nl_cb_put(cb);
	if (rc == -NLE_NOMEM) {
		/* The socket overran: the caller must look at the devices. */
		struct sectag_nfc_event ev = { .type = SECTAG_NFC_EV_OVERRUN };

		fn(&ev, arg);
	}
	return rc == -NLE_AGAIN || rc == -NLE_NOMEM ? 0 : -EIO;
}
