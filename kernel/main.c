// SPDX-License-Identifier: GPL-2.0
/*
 * nfc_sectag: virtual NFC readers with emulated secure tags, for the
 * NFC subsystem what mac80211_hwsim is for wireless.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <net/genetlink.h>

#include "sectag.h"

/*
 * A simulator: loaded, it creates nothing unless told to, so a machine
 * with the module installed (sectag-dkms) never grows a virtual reader
 * that sectagd or neard would then use. Readers come from nr_readers or
 * from NFC_SECTAG_CMD_NEW_READER, which needs CAP_NET_ADMIN.
 */
static unsigned int nr_readers;
module_param(nr_readers, uint, 0444);
MODULE_PARM_DESC(nr_readers, "Number of readers to create at load (default 0)");

unsigned int sectag_relay_timeout_ms = 1000;

/* Out-of-range values are clamped, never refused: 0 would mean "no wait". */
static int relay_timeout_set(const char *val, const struct kernel_param *kp)
{
	unsigned int ms;
	int rc;

	rc = kstrtouint(val, 0, &ms);
	if (rc)
		return rc;
	WRITE_ONCE(*(unsigned int *)kp->arg,
		   clamp_t(unsigned int, ms, SECTAG_RELAY_TIMEOUT_MIN_MS,
			   SECTAG_RELAY_TIMEOUT_MAX_MS));
	return 0;
}

static const struct kernel_param_ops relay_timeout_ops = {
	.set = relay_timeout_set,
	.get = param_get_uint,
};

module_param_cb(relay_timeout_ms, &relay_timeout_ops,
		&sectag_relay_timeout_ms, 0644);
MODULE_PARM_DESC(relay_timeout_ms,
		 "How long a relay tag waits for its owner's answer (ms, clamped to 10..10000, default 1000)");

/* Clamped at use as well: the setter is the only writer, but be sure. */
unsigned int sectag_relay_timeout(void)
{
	return clamp_t(unsigned int, READ_ONCE(sectag_relay_timeout_ms),
		       SECTAG_RELAY_TIMEOUT_MIN_MS,
		       SECTAG_RELAY_TIMEOUT_MAX_MS);
}

bool sectag_restrict_connect = true;
module_param_named(restrict_connect, sectag_restrict_connect, bool, 0644);
MODULE_PARM_DESC(restrict_connect,
		 "Refuse to activate a target (AF_NFC connect) for a task without CAP_NET_ADMIN (default on)");

/* Object lists, placement, reader RF state: see sectag.h */
DEFINE_MUTEX(sectag_lock);
/* Serialises changes to what lies in a reader's field */
DEFINE_MUTEX(sectag_rf_lock);
struct workqueue_struct *sectag_wq;

static int __init sectag_init(void)
{
	struct sectag_reader *reader;
	unsigned int i;
	int rc;

	/* Relay exchanges sleep for their answer: keep them off system_wq. */
	sectag_wq = alloc_workqueue("nfc_sectag", WQ_UNBOUND, 0);
	if (!sectag_wq)
		return -ENOMEM;

	rc = sectag_genl_init();
	if (rc)
		goto err_wq;

	for (i = 0; i < nr_readers; i++) {
		reader = sectag_reader_create(0, 0, NULL);
		if (IS_ERR(reader)) {
			rc = PTR_ERR(reader);
			goto err_readers;
		}
	}
	return 0;

err_readers:
	sectag_genl_exit();
	flush_workqueue(sectag_wq);
	sectag_destroy_all();
err_wq:
	destroy_workqueue(sectag_wq);
	return rc;
}

static void __exit sectag_exit(void)
{
	/* No new requests, then no pending socket releases, then teardown. */
	sectag_genl_exit();
	flush_workqueue(sectag_wq);
	sectag_destroy_all();
	destroy_workqueue(sectag_wq);
}

module_init(sectag_init);
module_exit(sectag_exit);

MODULE_DESCRIPTION("Virtual NFC readers with emulated NTAG 424 DNA secure tags");
MODULE_AUTHOR("sectag developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(SECTAG_VERSION);
/*
 * No MODULE_ALIAS_GENL_FAMILY: resolving the family (sectag status, any
 * user's genl lookup) must not load a simulator; modprobe does.
 */
