/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Transport over PC/SC (libpcsclite, talking to pcscd): the CCID and
 * other readers pcsc-lite drives (ACR1252U, Omnikey, Identiv, ACR122U
 * when pcscd holds it). A reader is named "pcsc:" and its PC/SC name.
 * Functions return 0 or a negative errno; sectag_pcsc_strerror() words
 * the ones that need more than strerror() (no pcscd, for one).
 *
 * Sharing: a card is connected SCARD_SHARE_SHARED and every session runs
 * inside one PC/SC transaction (SCardBeginTransaction), so other PC/SC
 * programs (a browser's smart card module, another sectag) wait for us
 * instead of failing, and nobody interleaves APDUs into our secure
 * messaging session. sectagd itself lends a reader to the CLI with
 * BORROW (the reader number being sectag_pcsc_reader_id()), so that a
 * tag presented to "sectag verify" is not also taken as a tap.
 */
#ifndef SECTAG_PCSC_H
#define SECTAG_PCSC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SECTAG_PCSC_PREFIX	"pcsc:"
#define SECTAG_PCSC_NAME_MAX	128	/* pcsc-lite's MAX_READERNAME */
#define SECTAG_PCSC_ATR_MAX	33
/* Reader numbers of PC/SC readers have this bit; nfcN numbers do not. */
#define SECTAG_PCSC_ID_FLAG	0x80000000u

struct sectag_pcsc;
struct sectag_pcsc_card;

struct sectag_pcsc_reader {
	char name[SECTAG_PCSC_NAME_MAX];	/* PC/SC name, no prefix */
	bool card;			/* a card is in the field */
	bool exclusive;			/* another program holds it alone */
	bool mute;			/* a card that does not answer */
	unsigned int events;		/* card insertions/removals counter */
	uint8_t atr[SECTAG_PCSC_ATR_MAX];
	size_t atr_len;
};

/* A context with pcscd: -ECONNREFUSED when pcscd does not run. */
int sectag_pcsc_open(struct sectag_pcsc **p);
void sectag_pcsc_close(struct sectag_pcsc *p);

/* The readers and their state; *v is malloc'd (free() it), maybe empty. */
int sectag_pcsc_list(struct sectag_pcsc *p, struct sectag_pcsc_reader **v,
		     size_t *n);
/*
 * Reader @want (exact PC/SC name, or a prefix that names one reader):
 * its full name into @name. -ENODEV: none, -EEXIST: several.
 */
int sectag_pcsc_find(struct sectag_pcsc *p, const char *want,
		     char name[SECTAG_PCSC_NAME_MAX]);
/*
 * Block until a card is in reader @name (at once if it is): no polling
 * here, pcscd tells. -ETIMEDOUT after @timeout_ms (< 0: forever),
 * -ENODEV when the reader goes away.
 */
int sectag_pcsc_wait_card(struct sectag_pcsc *p, const char *name,
			  int timeout_ms);

/*
 * Connect to the card in @name (shared) and begin a transaction.
 * -EPROTONOSUPPORT: the ATR says it is no ISO 14443-4 (ISO-DEP) card,
 * -ENXIO: no card, -EBUSY: another program holds the reader exclusively.
 */
int sectag_pcsc_connect(struct sectag_pcsc *p, const char *name,
			struct sectag_pcsc_card **c);
/* End the transaction and disconnect, leaving the card powered. */
void sectag_pcsc_disconnect(struct sectag_pcsc_card *c);
/*
 * The UID by the PC/SC GET DATA command (FF CA 00 00 00, PC/SC part 3):
 * the anticollision UID as the kernel's NFC targets give it (7 bytes,
 * or 4 for a Random ID tag). @uid holds 10 bytes.
 */
int sectag_pcsc_uid(struct sectag_pcsc_card *c, uint8_t uid[10],
		    size_t *len);
/* sectag_ntag_xfer_fn over a struct sectag_pcsc_card: ISO 7816-4 APDUs. */
int sectag_pcsc_xfer(void *card, const uint8_t *capdu, size_t clen,
		     uint8_t *rapdu, size_t rsize, size_t *rlen);

/*
 * Watching readers from an event loop without polling: a thread blocks
 * in SCardGetStatusChange (on every reader and on the PnP pseudo reader,
 * for readers plugged and unplugged) and makes sectag_pcsc_watch_fd()
 * readable when anything changed; sectag_pcsc_watch_get() then drains
 * it and gives the current state. sectag_pcsc_watch_stop() cancels the
 * wait (SCardCancel) and joins the thread.
 */
struct sectag_pcsc_watch;

int sectag_pcsc_watch_start(struct sectag_pcsc_watch **w);
int sectag_pcsc_watch_fd(const struct sectag_pcsc_watch *w);
/*
 * The readers now (*v malloc'd). Returns 0, or the -errno that ended
 * the watch (pcscd stopped: -ECONNREFUSED); then *n is 0.
 */
int sectag_pcsc_watch_get(struct sectag_pcsc_watch *w,
			  struct sectag_pcsc_reader **v, size_t *n);
void sectag_pcsc_watch_stop(struct sectag_pcsc_watch *w);

/* The reader number used with sectagd (BORROW): a hash of the name. */
uint32_t sectag_pcsc_reader_id(const char *name);

/* ---- pure parts, unit-tested ---- */

/* A PC/SC return code (LONG) as -errno. */
int sectag_pcsc_errno(long rv);
/* Words for what sectag_pcsc_*() returned: more than strerror() says. */
const char *sectag_pcsc_strerror(int err);

enum sectag_pcsc_atr_kind {
	SECTAG_PCSC_ATR_ISO14443_4 = 1,	/* contactless ISO-DEP (part 3) */
	SECTAG_PCSC_ATR_STORAGE,	/* contactless memory card (part 3) */
	SECTAG_PCSC_ATR_CONTACT,	/* anything else: a contact card */
};

/* What an ATR says the card is; -EBADMSG for a malformed ATR. */
int sectag_pcsc_atr_kind(const uint8_t *atr, size_t len);
/*
 * A GET DATA (UID) answer, data and status word: the UID of 4, 7 or 10
 * bytes. -EOPNOTSUPP when the reader refuses the command (6A 81, 6D 00,
 * 6E 00), -EBADMSG for another status or length.
 */
int sectag_pcsc_parse_uid(const uint8_t *r, size_t rlen, uint8_t uid[10],
			  size_t *len);

#endif
