// SPDX-License-Identifier: LGPL-2.1-or-later
/* Client of the nfc_sectag generic netlink family. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "genl.h"
#include "sim.h"

struct sectag_sim {
	struct sectag_genl g;
};

int sectag_sim_open(struct sectag_sim **out)
{
	struct sectag_sim *sim = calloc(1, sizeof(*sim));
	int rc;

	if (!sim)
		return -ENOMEM;
	rc = sectag_genl_open(&sim->g, NFC_SECTAG_GENL_NAME);
	if (rc) {
		free(sim);
		return rc;
	}
	*out = sim;
	return 0;
}

void sectag_sim_close(struct sectag_sim *sim)
{
	if (!sim)
		return;
	sectag_genl_close(&sim->g);
	free(sim);
}

int sectag_sim_fd(const struct sectag_sim *sim)
{
	return nl_socket_get_fd(sim->g.sk);
}

/*
 * The attributes we read, typed: a message where one of them is too
 * short (or the name is not terminated) is malformed and rejected whole.
 * A UID or frame of another length than we can hold is left out.
 */
static const struct nla_policy sim_policy[NFC_SECTAG_ATTR_MAX + 1] = {
	[NFC_SECTAG_ATTR_READER_ID]	= { .type = NLA_U32 },
	[NFC_SECTAG_ATTR_NFC_INDEX]	= { .type = NLA_U32 },
	[NFC_SECTAG_ATTR_NAME]		= { .type = NLA_STRING },
	[NFC_SECTAG_ATTR_FLAGS]		= { .type = NLA_U32 },
	[NFC_SECTAG_ATTR_POWERED]	= { .type = NLA_U8 },
	[NFC_SECTAG_ATTR_POLLING]	= { .type = NLA_U8 },
	[NFC_SECTAG_ATTR_TAG_ID]	= { .type = NLA_U32 },
	[NFC_SECTAG_ATTR_PROFILE]	= { .type = NLA_U32 },
	[NFC_SECTAG_ATTR_PERSONALISED]	= { .type = NLA_U8 },
	[NFC_SECTAG_ATTR_RANDOM_ID]	= { .type = NLA_U8 },
	[NFC_SECTAG_ATTR_FAIL_CTR]	= { .type = NLA_U32 },
	[NFC_SECTAG_ATTR_COOKIE]	= { .type = NLA_U64 },
};

static int parse(const void *msg, size_t len, struct nlattr **tb,
		 uint8_t *cmd)
{
	return sectag_genl_parse_msg(msg, len, NFC_SECTAG_ATTR_MAX,
				     sim_policy, tb, cmd);
}

static uint32_t get_u32(struct nlattr **tb, int attr)
{
	return tb[attr] ? nla_get_u32(tb[attr]) : 0;
}

static bool get_flag(struct nlattr **tb, int attr)
{
	return tb[attr] && nla_get_u8(tb[attr]);
}

int sectag_sim_parse_reader(const void *msg, size_t len,
			    struct sectag_sim_reader *r)
{
	struct nlattr *tb[NFC_SECTAG_ATTR_MAX + 1];

	memset(r, 0, sizeof(*r));
	if (parse(msg, len, tb, NULL))
		return -EPROTO;
	r->id = get_u32(tb, NFC_SECTAG_ATTR_READER_ID);
	r->nfc_index = get_u32(tb, NFC_SECTAG_ATTR_NFC_INDEX);
	r->flags = get_u32(tb, NFC_SECTAG_ATTR_FLAGS);
	r->powered = get_flag(tb, NFC_SECTAG_ATTR_POWERED);
	r->polling = get_flag(tb, NFC_SECTAG_ATTR_POLLING);
	if (tb[NFC_SECTAG_ATTR_NAME])
		nla_strlcpy(r->name, tb[NFC_SECTAG_ATTR_NAME], sizeof(r->name));
	return 0;
}

int sectag_sim_parse_tag(const void *msg, size_t len, struct sectag_sim_tag *t)
{
	struct nlattr *tb[NFC_SECTAG_ATTR_MAX + 1];

	memset(t, 0, sizeof(*t));
	if (parse(msg, len, tb, NULL))
		return -EPROTO;
	t->id = get_u32(tb, NFC_SECTAG_ATTR_TAG_ID);
	t->profile = get_u32(tb, NFC_SECTAG_ATTR_PROFILE);
	t->flags = get_u32(tb, NFC_SECTAG_ATTR_FLAGS);
	t->reader_id = get_u32(tb, NFC_SECTAG_ATTR_READER_ID);
	t->personalised = get_flag(tb, NFC_SECTAG_ATTR_PERSONALISED);
	t->random_id = get_flag(tb, NFC_SECTAG_ATTR_RANDOM_ID);
	t->fail_ctr = get_u32(tb, NFC_SECTAG_ATTR_FAIL_CTR);
	if (tb[NFC_SECTAG_ATTR_UID] &&
	    nla_len(tb[NFC_SECTAG_ATTR_UID]) == sizeof(t->uid))
		memcpy(t->uid, nla_data(tb[NFC_SECTAG_ATTR_UID]), sizeof(t->uid));
	return 0;
}

int sectag_sim_parse_frame(const void *msg, size_t len,
			   struct sectag_sim_frame *f)
{
	struct nlattr *tb[NFC_SECTAG_ATTR_MAX + 1];
	struct nlattr *frame;
	uint8_t cmd;

	memset(f, 0, sizeof(*f));
	if (parse(msg, len, tb, &cmd))
		return -EPROTO;
	frame = tb[NFC_SECTAG_ATTR_FRAME];
	if (cmd != NFC_SECTAG_CMD_RELAY_FRAME || !tb[NFC_SECTAG_ATTR_TAG_ID] ||
	    !tb[NFC_SECTAG_ATTR_COOKIE] || !frame ||
	    nla_len(frame) > (int)sizeof(f->data))
		return 0;
	f->tag_id = nla_get_u32(tb[NFC_SECTAG_ATTR_TAG_ID]);
	f->cookie = nla_get_u64(tb[NFC_SECTAG_ATTR_COOKIE]);
	f->len = nla_len(frame);
	memcpy(f->data, nla_data(frame), f->len);
	return 1;
}

/* Collects replies into a growing array of @size-byte records. */
struct collect {
	void *items;
	size_t n;
	size_t size;
	int (*parse)(const void *msg, size_t len, void *item);
};

static int collect_one(const struct nlmsghdr *nlh, size_t len, void *arg)
{
	struct collect *c = arg;
	void *items;

	items = realloc(c->items, (c->n + 1) * c->size);
	if (!items)
		return -ENOMEM;
	c->items = items;
	/* A record that fails to parse is not counted. */
	if (c->parse(nlh, len, (char *)items + c->n * c->size))
		return -EPROTO;
	c->n++;
	return 0;
}

static int parse_reader_v(const void *msg, size_t len, void *item)
{
	return sectag_sim_parse_reader(msg, len, item);
}

static int parse_tag_v(const void *msg, size_t len, void *item)
{
	return sectag_sim_parse_tag(msg, len, item);
}

/* Sends @msg; a single reply, if any, is parsed into @out. */
static int request(struct sectag_sim *sim, struct nl_msg *msg,
		   int (*parse)(const void *, size_t, void *), void *out,
		   size_t size)
{
	struct collect c = { .size = size, .parse = parse };
	int rc;

	if (!msg)
		return -ENOMEM;
	rc = sectag_genl_request(&sim->g, msg, parse ? collect_one : NULL, &c);
	if (!rc && out && c.n != 1)
		rc = -EPROTO;
	if (!rc && out)
		memcpy(out, c.items, size);
	free(c.items);
	return rc;
}

static int dump(struct sectag_sim *sim, uint8_t cmd,
		int (*parse)(const void *, size_t, void *), size_t size,
		void **items, size_t *n)
{
	struct collect c = { .size = size, .parse = parse };
	struct nl_msg *msg = sectag_genl_msg(&sim->g, cmd, NLM_F_DUMP);
	int rc;

	if (!msg)
		return -ENOMEM;
	rc = sectag_genl_request(&sim->g, msg, collect_one, &c);
	if (rc) {
		free(c.items);
		return rc;
	}
	*items = c.items;
	*n = c.n;
	return 0;
}

static struct nl_msg *msg_u32(struct sectag_sim *sim, uint8_t cmd, int attr,
			      uint32_t val)
{
	struct nl_msg *msg = sectag_genl_msg(&sim->g, cmd, 0);

	if (msg && nla_put_u32(msg, attr, val)) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return msg;
}

int sectag_sim_reader_add(struct sectag_sim *sim, uint32_t flags,
			  struct sectag_sim_reader *out)
{
	struct sectag_sim_reader r;
	struct nl_msg *msg;

	msg = msg_u32(sim, NFC_SECTAG_CMD_NEW_READER, NFC_SECTAG_ATTR_FLAGS,
		      flags);
	return request(sim, msg, parse_reader_v, out ? out : &r, sizeof(r));
}

int sectag_sim_reader_del(struct sectag_sim *sim, uint32_t id)
{
	return request(sim, msg_u32(sim, NFC_SECTAG_CMD_DEL_READER,
				    NFC_SECTAG_ATTR_READER_ID, id),
		       NULL, NULL, 0);
}

int sectag_sim_reader_get(struct sectag_sim *sim, uint32_t id,
			  struct sectag_sim_reader *out)
{
	return request(sim, msg_u32(sim, NFC_SECTAG_CMD_GET_READER,
				    NFC_SECTAG_ATTR_READER_ID, id),
		       parse_reader_v, out, sizeof(*out));
}

int sectag_sim_reader_list(struct sectag_sim *sim,
			   struct sectag_sim_reader **readers, size_t *n)
{
	return dump(sim, NFC_SECTAG_CMD_GET_READER, parse_reader_v,
		    sizeof(**readers), (void **)readers, n);
}

int sectag_sim_tag_add(struct sectag_sim *sim, uint32_t profile,
		       const uint8_t *uid, uint32_t flags,
		       struct sectag_sim_tag *out)
{
	struct sectag_sim_tag t;
	struct nl_msg *msg;

	msg = msg_u32(sim, NFC_SECTAG_CMD_NEW_TAG, NFC_SECTAG_ATTR_PROFILE,
		      profile);
	if (msg && (nla_put_u32(msg, NFC_SECTAG_ATTR_FLAGS, flags) ||
		    (uid && nla_put(msg, NFC_SECTAG_ATTR_UID, NFC_SECTAG_UID_LEN, uid)))) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return request(sim, msg, parse_tag_v, out ? out : &t, sizeof(t));
}

int sectag_sim_tag_del(struct sectag_sim *sim, uint32_t id)
{
	return request(sim, msg_u32(sim, NFC_SECTAG_CMD_DEL_TAG,
				    NFC_SECTAG_ATTR_TAG_ID, id),
		       NULL, NULL, 0);
}

int sectag_sim_tag_get(struct sectag_sim *sim, uint32_t id,
		       struct sectag_sim_tag *out)
{
	return request(sim, msg_u32(sim, NFC_SECTAG_CMD_GET_TAG,
				    NFC_SECTAG_ATTR_TAG_ID, id),
		       parse_tag_v, out, sizeof(*out));
}

int sectag_sim_tag_list(struct sectag_sim *sim, struct sectag_sim_tag **tags,
			size_t *n)
{
	return dump(sim, NFC_SECTAG_CMD_GET_TAG, parse_tag_v, sizeof(**tags),
		    (void **)tags, n);
}

int sectag_sim_tag_place(struct sectag_sim *sim, uint32_t tag_id,
			 uint32_t reader_id)
{
	return sectag_sim_tag_place_n(sim, tag_id, reader_id, 0);
}

int sectag_sim_tag_place_n(struct sectag_sim *sim, uint32_t tag_id,
			   uint32_t reader_id, uint32_t frames_left)
{
	struct nl_msg *msg;

	msg = msg_u32(sim, NFC_SECTAG_CMD_PLACE_TAG, NFC_SECTAG_ATTR_TAG_ID,
		      tag_id);
	if (msg && (nla_put_u32(msg, NFC_SECTAG_ATTR_READER_ID, reader_id) ||
		    (frames_left &&
		     nla_put_u32(msg, NFC_SECTAG_ATTR_FRAMES_LEFT,
				 frames_left)))) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return request(sim, msg, NULL, NULL, 0);
}

int sectag_sim_tag_remove(struct sectag_sim *sim, uint32_t tag_id)
{
	return request(sim, msg_u32(sim, NFC_SECTAG_CMD_REMOVE_TAG,
				    NFC_SECTAG_ATTR_TAG_ID, tag_id),
		       NULL, NULL, 0);
}

struct relay_rx {
	struct sectag_sim_frame *f;
	int got;
};

static int accept_any_seq(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK;
}

static int on_relay_frame(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct relay_rx *rx = arg;

	if (rx->got || sectag_sim_parse_frame(nlh, nlh->nlmsg_len, rx->f) != 1)
		return NL_OK;
	rx->got = 1;
	return NL_STOP;
}

int sectag_sim_relay_recv(struct sectag_sim *sim, struct sectag_sim_frame *f,
			  int timeout_ms)
{
	struct pollfd pfd = { .fd = sectag_sim_fd(sim), .events = POLLIN };
	struct relay_rx rx = { .f = f };
	struct nl_cb *cb;
	int rc = 0;

	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb)
		return -ENOMEM;
	/* Frames are unsolicited: they match no request's sequence. */
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, accept_any_seq, NULL);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_relay_frame, &rx);
	while (!rx.got) {
		rc = poll(&pfd, 1, timeout_ms);
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc <= 0) {
			rc = rc ? -errno : -ETIMEDOUT;
			break;
		}
		rc = nl_recvmsgs(sim->g.sk, cb);
		if (rc < 0 && rc != -NLE_AGAIN) {
			rc = -EIO;
			break;
		}
		rc = 0;
	}
	nl_cb_put(cb);
	return rx.got ? 0 : rc;
}

int sectag_sim_relay_answer(struct sectag_sim *sim, uint32_t tag_id,
			    uint64_t cookie, const uint8_t *resp, size_t len,
			    int err)
{
	struct nl_msg *msg = nlmsg_alloc();
	int rc = -ENOMEM;

	if (!msg)
		return rc;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, sim->g.family, 0, 0,
			 NFC_SECTAG_CMD_RELAY_FRAME, 1) ||
	    nla_put_u32(msg, NFC_SECTAG_ATTR_TAG_ID, tag_id) ||
	    nla_put_u64(msg, NFC_SECTAG_ATTR_COOKIE, cookie) ||
	    (err > 0 ? nla_put_u32(msg, NFC_SECTAG_ATTR_ERRNO, err) :
		       nla_put(msg, NFC_SECTAG_ATTR_FRAME, len, resp)))
		goto out;
	rc = nl_send_auto(sim->g.sk, msg) < 0 ? -EIO : 0;
out:
	nlmsg_free(msg);
	return rc;
}
