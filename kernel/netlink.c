// SPDX-License-Identifier: GPL-2.0
/*
 * The "nfc_sectag" generic netlink family: create, delete, list readers
 * and tags, place and remove tags, and relay frames of relay tags.
 * Attributes describe objects, never their secrets: the engine has no
 * way to hand out a key, and nothing here asks for one. The real UID of a
 * Random-ID tag is a secret too, for anyone but CAP_NET_ADMIN: GET and
 * dumps show it only to such a requester, events never.
 */
#include <linux/notifier.h>
#include <linux/slab.h>
#include <net/genetlink.h>
#include <linux/nfc_sectag.h>

#include "sectag.h"

static const struct nla_policy sectag_policy[NFC_SECTAG_ATTR_MAX + 1] = {
	[NFC_SECTAG_ATTR_READER_ID]	= { .type = NLA_U32 },
	[NFC_SECTAG_ATTR_NFC_INDEX]	= { .type = NLA_REJECT },
	[NFC_SECTAG_ATTR_NAME]		= { .type = NLA_REJECT },
	[NFC_SECTAG_ATTR_FLAGS]		= NLA_POLICY_MASK(NLA_U32,
							  __NFC_SECTAG_F_ALL),
	[NFC_SECTAG_ATTR_POWERED]	= { .type = NLA_REJECT },
	[NFC_SECTAG_ATTR_POLLING]	= { .type = NLA_REJECT },
	[NFC_SECTAG_ATTR_TAG_ID]	= { .type = NLA_U32 },
	[NFC_SECTAG_ATTR_PROFILE]	= NLA_POLICY_RANGE(NLA_U32, 1,
						NFC_SECTAG_PROFILE_MAX),
	[NFC_SECTAG_ATTR_UID]		= NLA_POLICY_EXACT_LEN(NFC_SECTAG_UID_LEN),
	[NFC_SECTAG_ATTR_PERSONALISED]	= { .type = NLA_REJECT },
	[NFC_SECTAG_ATTR_RANDOM_ID]	= { .type = NLA_REJECT },
	[NFC_SECTAG_ATTR_FAIL_CTR]	= { .type = NLA_REJECT },
	[NFC_SECTAG_ATTR_FRAME]		= { .type = NLA_BINARY,
					    .len = NFC_SECTAG_RAPDU_MAX },
	[NFC_SECTAG_ATTR_COOKIE]	= { .type = NLA_U64 },
	[NFC_SECTAG_ATTR_ERRNO]		= NLA_POLICY_RANGE(NLA_U32, 1, 4095),
	[NFC_SECTAG_ATTR_PAD]		= { .type = NLA_REJECT },
	[NFC_SECTAG_ATTR_FRAMES_LEFT]	= NLA_POLICY_MIN(NLA_U32, 1),
};

static struct genl_family sectag_genl_family;

enum { SECTAG_MCGRP_EVENTS };

static const struct genl_multicast_group sectag_mcgrps[] = {
	/* Joining needs CAP_NET_ADMIN (genl_bind(), 6.1) */
	[SECTAG_MCGRP_EVENTS] = { .name = NFC_SECTAG_GENL_MCGRP_EVENTS,
				  .flags = GENL_MCAST_CAP_NET_ADMIN },
};

static int fill_reader(struct sk_buff *msg, void *obj, bool priv)
{
	struct sectag_reader *reader = obj;

	lockdep_assert_held(&sectag_lock);
	if (nla_put_u32(msg, NFC_SECTAG_ATTR_READER_ID, reader->id) ||
	    nla_put_u32(msg, NFC_SECTAG_ATTR_NFC_INDEX, reader->nfc->idx) ||
	    nla_put_string(msg, NFC_SECTAG_ATTR_NAME,
			   dev_name(&reader->nfc->dev)) ||
	    nla_put_u32(msg, NFC_SECTAG_ATTR_FLAGS, reader->flags) ||
	    nla_put_u8(msg, NFC_SECTAG_ATTR_POWERED, reader->powered) ||
	    nla_put_u8(msg, NFC_SECTAG_ATTR_POLLING, reader->polling))
		return -EMSGSIZE;
	return 0;
}

/*
 * @priv: the requester has CAP_NET_ADMIN. Without it a Random-ID tag's
 * real UID is left out: hiding it is what Random ID is for, and the UID
 * is what readers and agents trust to tell tags apart.
 */
static int fill_tag(struct sk_buff *msg, void *obj, bool priv)
{
	struct sectag_tag *tag = obj;

	lockdep_assert_held(&sectag_lock);
	if (nla_put_u32(msg, NFC_SECTAG_ATTR_TAG_ID, tag->id) ||
	    nla_put_u32(msg, NFC_SECTAG_ATTR_PROFILE, tag->profile) ||
	    nla_put_u32(msg, NFC_SECTAG_ATTR_FLAGS, tag->flags))
		return -EMSGSIZE;
	if ((priv || !tag->info.random_id) &&
	    nla_put(msg, NFC_SECTAG_ATTR_UID, NFC_SECTAG_UID_LEN, tag->uid))
		return -EMSGSIZE;
	if (nla_put_u8(msg, NFC_SECTAG_ATTR_PERSONALISED,
		       tag->info.personalised) ||
	    nla_put_u8(msg, NFC_SECTAG_ATTR_RANDOM_ID, tag->info.random_id) ||
	    nla_put_u32(msg, NFC_SECTAG_ATTR_FAIL_CTR, tag->info.tot_fail_ctr))
		return -EMSGSIZE;
	if (tag->reader &&
	    nla_put_u32(msg, NFC_SECTAG_ATTR_READER_ID, tag->reader->id))
		return -EMSGSIZE;
	return 0;
}

typedef int (*fill_fn)(struct sk_buff *msg, void *obj, bool priv);

/* One message describing @obj; sectag_lock held. */
static struct sk_buff *build_msg(u8 cmd, u32 portid, u32 seq, fill_fn fill,
				 void *obj, bool priv)
{
	struct sk_buff *msg;
	void *hdr;

	msg = nlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return NULL;
	hdr = genlmsg_put(msg, portid, seq, &sectag_genl_family, 0, cmd);
	if (!hdr || fill(msg, obj, priv)) {
		nlmsg_free(msg);
		return NULL;
	}
	genlmsg_end(msg, hdr);
	return msg;
}

static void notify(u8 cmd, fill_fn fill, void *obj)
{
	struct sk_buff *msg;

	/* Events are never privileged, whoever may join the group. */
	mutex_lock(&sectag_lock);
	msg = build_msg(cmd, 0, 0, fill, obj, false);
	mutex_unlock(&sectag_lock);
	if (msg)
		genlmsg_multicast(&sectag_genl_family, msg, 0,
				  SECTAG_MCGRP_EVENTS, GFP_KERNEL);
}

void sectag_notify_reader(struct sectag_reader *reader, u8 cmd)
{
	notify(cmd, fill_reader, reader);
}

void sectag_notify_tag(struct sectag_tag *tag, u8 cmd)
{
	notify(cmd, fill_tag, tag);
}

static int reply_reader(struct genl_info *info, u32 id)
{
	struct sectag_reader *reader;
	struct sk_buff *msg = NULL;

	mutex_lock(&sectag_lock);
	reader = sectag_reader_find(id);
	if (reader)
		msg = build_msg(NFC_SECTAG_CMD_NEW_READER, info->snd_portid,
				info->snd_seq, fill_reader, reader, false);
	mutex_unlock(&sectag_lock);
	if (!reader)
		return -ENODEV;
	return msg ? genlmsg_reply(msg, info) : -ENOMEM;
}

static int reply_tag(struct genl_info *info, u32 id, bool priv)
{
	struct sectag_tag *tag;
	struct sk_buff *msg = NULL;

	mutex_lock(&sectag_lock);
	tag = sectag_tag_find(id);
	if (tag)
		msg = build_msg(NFC_SECTAG_CMD_NEW_TAG, info->snd_portid,
				info->snd_seq, fill_tag, tag, priv);
	mutex_unlock(&sectag_lock);
	if (!tag)
		return -ENOENT;
	return msg ? genlmsg_reply(msg, info) : -ENOMEM;
}

/* Optional attributes read as 0; required ones are checked first. */
static u32 attr_u32(struct genl_info *info, int attr)
{
	struct nlattr *a = info->attrs[attr];

	return a ? nla_get_u32(a) : 0;
}

static int sectag_new_reader(struct sk_buff *skb, struct genl_info *info)
{
	struct sectag_reader *reader;
	u32 flags = attr_u32(info, NFC_SECTAG_ATTR_FLAGS);

	reader = sectag_reader_create(flags, info->snd_portid,
				      NETLINK_CB(skb).sk);
	if (IS_ERR(reader))
		return PTR_ERR(reader);
	return reply_reader(info, reader->id);
}

static int sectag_del_reader(struct sk_buff *skb, struct genl_info *info)
{
	if (GENL_REQ_ATTR_CHECK(info, NFC_SECTAG_ATTR_READER_ID))
		return -EINVAL;
	return sectag_reader_destroy(attr_u32(info, NFC_SECTAG_ATTR_READER_ID), 0);
}

static int sectag_get_reader(struct sk_buff *skb, struct genl_info *info)
{
	if (GENL_REQ_ATTR_CHECK(info, NFC_SECTAG_ATTR_READER_ID))
		return -EINVAL;
	return reply_reader(info,
			    attr_u32(info, NFC_SECTAG_ATTR_READER_ID));
}

/* Starts one object's message in a dump part; NULL once @skb is full. */
static void *dump_put(struct sk_buff *skb, struct netlink_callback *cb, u8 cmd)
{
	return genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			   &sectag_genl_family, NLM_F_MULTI, cmd);
}

/*
 * Dumps resume after the last id sent (cb->args[0]): ids only grow and
 * the lists are in creation order, so objects created or destroyed
 * between two parts of a dump never make it skip or repeat another.
 */
static int sectag_dump_readers(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct sectag_reader *reader = NULL;
	void *hdr;

	mutex_lock(&sectag_lock);
	while ((reader = sectag_reader_next(reader, cb->args[0]))) {
		hdr = dump_put(skb, cb, NFC_SECTAG_CMD_GET_READER);
		if (!hdr)
			break;
		if (fill_reader(skb, reader, false)) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
		cb->args[0] = reader->id;
	}
	mutex_unlock(&sectag_lock);
	return skb->len;
}

static int sectag_new_tag(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *uid = info->attrs[NFC_SECTAG_ATTR_UID];
	struct sectag_tag *tag;
	const char *why;
	u32 flags = attr_u32(info, NFC_SECTAG_ATTR_FLAGS);
	u32 profile;

	if (GENL_REQ_ATTR_CHECK(info, NFC_SECTAG_ATTR_PROFILE))
		return -EINVAL;
	if (flags & ~NFC_SECTAG_TAG_FLAGS) {
		NL_SET_ERR_MSG_ATTR(info->extack,
				    info->attrs[NFC_SECTAG_ATTR_FLAGS],
				    "flag not valid for a tag");
		return -EINVAL;
	}
	profile = attr_u32(info, NFC_SECTAG_ATTR_PROFILE);
	if (uid && !sectag_uid_valid(profile, nla_data(uid), &why)) {
		/* @why is a string literal: what NL_SET_ERR_MSG keeps */
		if (info->extack) {
			info->extack->_msg = why;
			info->extack->bad_attr = uid;
		}
		return -EINVAL;
	}
	tag = sectag_tag_create(profile, uid ? nla_data(uid) : NULL, flags,
				info->snd_portid, NETLINK_CB(skb).sk);
	if (IS_ERR(tag))
		return PTR_ERR(tag);
	return reply_tag(info, tag->id, true);
}

static int sectag_del_tag(struct sk_buff *skb, struct genl_info *info)
{
	if (GENL_REQ_ATTR_CHECK(info, NFC_SECTAG_ATTR_TAG_ID))
		return -EINVAL;
	return sectag_tag_destroy(attr_u32(info, NFC_SECTAG_ATTR_TAG_ID));
}

static int sectag_get_tag(struct sk_buff *skb, struct genl_info *info)
{
	if (GENL_REQ_ATTR_CHECK(info, NFC_SECTAG_ATTR_TAG_ID))
		return -EINVAL;
	return reply_tag(info, attr_u32(info, NFC_SECTAG_ATTR_TAG_ID),
			 netlink_capable(skb, CAP_NET_ADMIN));
}

static int sectag_dump_tags(struct sk_buff *skb, struct netlink_callback *cb)
{
	bool priv = netlink_capable(cb->skb, CAP_NET_ADMIN);
	struct sectag_tag *tag = NULL;
	void *hdr;

	mutex_lock(&sectag_lock);
	while ((tag = sectag_tag_next(tag, cb->args[0]))) {
		hdr = dump_put(skb, cb, NFC_SECTAG_CMD_GET_TAG);
		if (!hdr)
			break;
		if (fill_tag(skb, tag, priv)) {
			genlmsg_cancel(skb, hdr);
			break;
		}
		genlmsg_end(skb, hdr);
		cb->args[0] = tag->id;
	}
	mutex_unlock(&sectag_lock);
	return skb->len;
}

static int sectag_place_tag(struct sk_buff *skb, struct genl_info *info)
{
	if (GENL_REQ_ATTR_CHECK(info, NFC_SECTAG_ATTR_TAG_ID) ||
	    GENL_REQ_ATTR_CHECK(info, NFC_SECTAG_ATTR_READER_ID))
		return -EINVAL;
	return sectag_tag_place(attr_u32(info, NFC_SECTAG_ATTR_TAG_ID),
			attr_u32(info, NFC_SECTAG_ATTR_READER_ID),
			attr_u32(info, NFC_SECTAG_ATTR_FRAMES_LEFT));
}

static int sectag_remove_tag(struct sk_buff *skb, struct genl_info *info)
{
	if (GENL_REQ_ATTR_CHECK(info, NFC_SECTAG_ATTR_TAG_ID))
		return -EINVAL;
	return sectag_tag_remove(attr_u32(info, NFC_SECTAG_ATTR_TAG_ID));
}

static int sectag_relay_frame(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *frame = info->attrs[NFC_SECTAG_ATTR_FRAME];
	struct nlattr *err = info->attrs[NFC_SECTAG_ATTR_ERRNO];

	if (GENL_REQ_ATTR_CHECK(info, NFC_SECTAG_ATTR_TAG_ID) ||
	    GENL_REQ_ATTR_CHECK(info, NFC_SECTAG_ATTR_COOKIE))
		return -EINVAL;
	if (!frame == !err) {
		GENL_SET_ERR_MSG(info, "need exactly one of FRAME and ERRNO");
		return -EINVAL;
	}
	return sectag_relay_answer(attr_u32(info, NFC_SECTAG_ATTR_TAG_ID),
			info->snd_portid, NETLINK_CB(skb).sk,
			nla_get_u64(info->attrs[NFC_SECTAG_ATTR_COOKIE]),
			err ? nla_get_u32(err) : 0,
			frame ? nla_data(frame) : NULL,
			frame ? nla_len(frame) : 0);
}

int sectag_relay_send(struct sectag_tag *tag, u64 cookie, const u8 *frame,
		      size_t len)
{
	struct sk_buff *msg;
	void *hdr;

	/*
	 * A dead owner's portid may already belong to another socket: the
	 * frame would reach that one. It cannot answer (see
	 * sectag_relay_answer()), and it must not read the frame either.
	 */
	if (sectag_owner_gone(tag->owner_sk))
		return -ENOTCONN;
	msg = nlmsg_new(nla_total_size(len) + NLMSG_GOODSIZE / 4, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put(msg, 0, 0, &sectag_genl_family, 0,
			  NFC_SECTAG_CMD_RELAY_FRAME);
	if (!hdr ||
	    nla_put_u32(msg, NFC_SECTAG_ATTR_TAG_ID, tag->id) ||
	    nla_put_u64_64bit(msg, NFC_SECTAG_ATTR_COOKIE, cookie,
			      NFC_SECTAG_ATTR_PAD) ||
	    nla_put(msg, NFC_SECTAG_ATTR_FRAME, len, frame)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_unicast(&init_net, msg, tag->owner);
}

static const struct genl_ops sectag_ops[] = {
	{
		.cmd = NFC_SECTAG_CMD_NEW_READER,
		.doit = sectag_new_reader,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = NFC_SECTAG_CMD_DEL_READER,
		.doit = sectag_del_reader,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = NFC_SECTAG_CMD_GET_READER,
		.doit = sectag_get_reader,
		.dumpit = sectag_dump_readers,
	},
	{
		.cmd = NFC_SECTAG_CMD_NEW_TAG,
		.doit = sectag_new_tag,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = NFC_SECTAG_CMD_DEL_TAG,
		.doit = sectag_del_tag,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = NFC_SECTAG_CMD_GET_TAG,
		.doit = sectag_get_tag,
		.dumpit = sectag_dump_tags,
	},
	{
		.cmd = NFC_SECTAG_CMD_PLACE_TAG,
		.doit = sectag_place_tag,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = NFC_SECTAG_CMD_REMOVE_TAG,
		.doit = sectag_remove_tag,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = NFC_SECTAG_CMD_RELAY_FRAME,
		.doit = sectag_relay_frame,
		.flags = GENL_ADMIN_PERM,
	},
};

static struct genl_family sectag_genl_family __ro_after_init = {
	.name = NFC_SECTAG_GENL_NAME,
	.version = NFC_SECTAG_GENL_VERSION,
	.maxattr = NFC_SECTAG_ATTR_MAX,
	.policy = sectag_policy,
	.module = THIS_MODULE,
	.ops = sectag_ops,
	.n_ops = ARRAY_SIZE(sectag_ops),
	.mcgrps = sectag_mcgrps,
	.n_mcgrps = ARRAY_SIZE(sectag_mcgrps),
};

/*
 * Objects owned by a socket go with it, as mac80211_hwsim radios do.
 * netlink_chain is a blocking notifier chain in 6.1, called from
 * netlink_release() in process context with no lock held that the
 * teardown takes, after the socket is unhashed and marked SOCK_DEAD:
 * the teardown runs here and allocates nothing. By the time close()
 * returns the objects are gone; until then, owner_sk (dead) keeps relay
 * frames and answers away from a socket that rebinds the portid, and
 * only objects of a dead socket are destroyed, never a new owner's.
 */
static int sectag_netlink_notify(struct notifier_block *nb,
				 unsigned long state, void *data)
{
	struct netlink_notify *n = data;

	if (state != NETLINK_URELEASE || n->protocol != NETLINK_GENERIC ||
	    !net_eq(n->net, &init_net))
		return NOTIFY_DONE;

	might_sleep();
	sectag_destroy_owned(n->portid);
	return NOTIFY_DONE;
}

static struct notifier_block sectag_netlink_notifier = {
	.notifier_call = sectag_netlink_notify,
};

int sectag_genl_init(void)
{
	int rc;

	rc = genl_register_family(&sectag_genl_family);
	if (rc)
		return rc;
	rc = netlink_register_notifier(&sectag_netlink_notifier);
	if (rc)
		genl_unregister_family(&sectag_genl_family);
	return rc;
}

void sectag_genl_exit(void)
{
	netlink_unregister_notifier(&sectag_netlink_notifier);
	genl_unregister_family(&sectag_genl_family);
}
