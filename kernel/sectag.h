/* SPDX-License-Identifier: GPL-2.0 */
/*
 * nfc_sectag internals: virtual readers, emulated tags, netlink.
 *
 * Locking, outermost first:
 *   sectag_rf_lock   serialises everything that changes what a reader's
 *                    field holds (place, remove, delete, target reports)
 *                    and may call into the NFC core (device_lock).
 *   device_lock      the NFC core holds it around every nfc_ops call.
 *   tag->lock        one command at a time per tag; state is committed
 *                    under it, which is what makes commands atomic.
 *   sectag_lock      the object lists, placement and reader RF state;
 *                    taken briefly, never across a call into the core.
 *   tag->relay_lock  (spinlock) the relay wait state of one tag.
 * nfc_ops callbacks therefore take only tag->lock and sectag_lock, and
 * objects found under sectag_lock are pinned (kref) before it is dropped.
 *
 * Targets: a reader reports at most one tag per poll to the NFC core (the
 * first placed), as an anticollision loop selects one card. nfc_target_lost() clears the
 * core's active target and shifts its target array whichever target is
 * lost, so with a single reported target the core and reader->active
 * always agree. Every activation starts a fresh ISO-DEP session.
 *
 * Owned objects belong to a netlink socket: its portid and its struct
 * sock (owner_sk, referenced). The NETLINK_URELEASE chain is a blocking
 * notifier chain in 6.1 (net/netlink/af_netlink.c), called in process
 * context after the socket is unhashed and orphaned (SOCK_DEAD), holding
 * no lock of ours: the owned objects are destroyed right there. A socket
 * that rebinds the same portid is never taken for the owner: ownership
 * and relay answers are matched on owner_sk, and only objects whose
 * owner_sk is dead go. Relay frames are not sent to a dead owner.
 *
 * The relay wait runs in xfer_work (a kworker, no signals): it is bounded
 * by relay_timeout_ms (clamped to 10..10000 ms) and aborted at once when
 * the tag is lifted, deactivated or destroyed, or its owner goes.
 */
#ifndef _SECTAG_H
#define _SECTAG_H

#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/skbuff.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <net/nfc/nfc.h>
#include <linux/nfc_sectag.h>

#include "ntag424.h"

/* The engine's limits are the uapi's: frames pass between them as is. */
static_assert(NTAG424_UID_LEN == NFC_SECTAG_UID_LEN);
static_assert(NTAG424_MAX_CAPDU == NFC_SECTAG_CAPDU_MAX);
static_assert(NTAG424_MAX_RAPDU == NFC_SECTAG_RAPDU_MAX);

extern struct mutex sectag_lock;
extern struct mutex sectag_rf_lock;
extern struct workqueue_struct *sectag_wq;
extern unsigned int sectag_relay_timeout_ms;
extern bool sectag_restrict_connect;

#define SECTAG_RELAY_TIMEOUT_MIN_MS	10
#define SECTAG_RELAY_TIMEOUT_MAX_MS	10000

struct sock;

struct sectag_tag;

struct sectag_reader {
	struct list_head list;		/* sectag_readers, sectag_lock */
	u32 id;
	u32 flags;			/* NFC_SECTAG_F_* */
	u32 owner;			/* netlink portid when owned */
	struct sock *owner_sk;		/* its socket (held), or NULL */
	struct nfc_dev *nfc;

	/* sectag_lock */
	struct list_head tags;		/* tags lying on this reader */
	struct sectag_tag *active;	/* activated target */
	bool dead;
	bool powered;
	bool polling;
	/*
	 * NFC_SECTAG_F_PN533 readers only, as pn533.c keeps them: a target
	 * is activated in the core (tgt_active_prot), whether or not the tag
	 * is still there; a poll reported a target that was not activated
	 * since (tgt_available_prots).
	 */
	bool engaged;
	bool available;

	struct work_struct poll_work;	/* reports targets to the core */

	/* one exchange in flight at most, as the NFC core guarantees */
	spinlock_t xfer_lock;
	struct work_struct xfer_work;
	struct sk_buff *xfer_skb;
	data_exchange_cb_t xfer_cb;
	void *xfer_ctx;
	u32 xfer_target;
};

struct sectag_tag {
	struct kref ref;
	struct list_head list;		/* sectag_tags, sectag_lock */
	struct list_head on_reader;	/* reader->tags, sectag_lock */
	u32 id;
	u32 profile;			/* NFC_SECTAG_PROFILE_* */
	u32 flags;
	u32 owner;
	struct sock *owner_sk;		/* held; NULL if not owned */
	u8 uid[NFC_SECTAG_UID_LEN];

	/* sectag_lock */
	struct sectag_reader *reader;
	u32 target_idx;			/* valid when reported */
	bool reported;
	struct ntag424_rf rf;		/* what anticollision answers */
	struct ntag424_info info;	/* snapshot for netlink */

	struct mutex lock;		/* serialises commands */
	struct ntag424 *ntag;		/* NTAG424 profile */
	u32 frames_left;		/* tag->lock; 0: stays in the field */
	bool pulled;			/* tag->lock; left after frames_left */
	struct work_struct pull_work;	/* lifts a pulled tag */

	/* relay profile: one frame out at a time, tag->lock held */
	spinlock_t relay_lock;
	wait_queue_head_t relay_wq;
	u64 relay_cookie;
	bool relay_waiting;
	int relay_err;
	u8 *relay_resp;
	size_t relay_len;
};

/* reader.c */
struct sectag_reader *sectag_reader_create(u32 flags, u32 owner,
					   struct sock *owner_sk);
int sectag_reader_destroy(u32 id, u32 owner_or_0);
struct sectag_reader *sectag_reader_find(u32 id);
void sectag_reader_kick(struct sectag_reader *reader);
void sectag_destroy_owned(u32 portid);
bool sectag_owner_gone(struct sock *owner_sk);
void sectag_destroy_all(void);
struct sectag_reader *sectag_reader_next(struct sectag_reader *prev,
					 u32 after);

/* tag.c */
struct sectag_tag *sectag_tag_create(u32 profile, const u8 *uid, u32 flags,
				     u32 owner, struct sock *owner_sk);
bool sectag_uid_valid(u32 profile, const u8 *uid, const char **why);
int sectag_tag_destroy(u32 id);
struct sectag_tag *sectag_tag_find(u32 id);
int sectag_tag_place(u32 tag_id, u32 reader_id, u32 frames_left);
int sectag_tag_remove(u32 tag_id);
void sectag_tag_lift(struct sectag_tag *tag);
void sectag_tag_get_rf(struct sectag_tag *tag, struct nfc_target *target);
int sectag_tag_transceive(struct sectag_tag *tag, const u8 *capdu,
			  size_t len, u8 *rapdu, size_t *rlen);
void sectag_tag_power_cycle(struct sectag_tag *tag);
void sectag_tag_deselect(struct sectag_tag *tag);
void sectag_relay_abort(struct sectag_tag *tag);
void sectag_tag_put(struct sectag_tag *tag);
int sectag_relay_answer(u32 tag_id, u32 portid, struct sock *sk, u64 cookie,
			int err, const u8 *frame, size_t len);
unsigned int sectag_relay_timeout(void);
struct sectag_tag *sectag_tag_next(struct sectag_tag *prev, u32 after);
bool sectag_tags_owned_by(u32 portid);
void sectag_tags_destroy(bool all, u32 portid);

/* netlink.c */
int sectag_genl_init(void);
void sectag_genl_exit(void);
void sectag_notify_reader(struct sectag_reader *reader, u8 cmd);
void sectag_notify_tag(struct sectag_tag *tag, u8 cmd);
int sectag_relay_send(struct sectag_tag *tag, u64 cookie, const u8 *frame,
		      size_t len);

#endif /* _SECTAG_H */
