/* SPDX-License-Identifier: GPL-2.0 */
/*
 * NTAG 424 DNA engine internals shared by the command set (ntag424.c) and
 * its AES secure messaging (ntag424_sm.c): the tag's state and one parsed
 * command. Not an interface: nothing outside the engine includes this.
 */
#ifndef _SECTAG_NTAG424_SM_H
#define _SECTAG_NTAG424_SM_H

#include <linux/types.h>

#include "ntag424.h"

struct crypto_shash;
struct crypto_sync_skcipher;

#define NT_BLOCK		16
#define NT_MACT_LEN		8
#define NT_TI_LEN		4
#define NT_CAP_LEN		6
#define NT_SIG_LEN		56
#define NT_NFILES		3
#define NT_DATA_LEN		(32 + 256 + 128)
#define NT_MAX_RDATA		256	/* response data incl. SM */
#define NT_MAX_CTR		0xffff

/* Native status words (SW1 = 91) */
#define SW_OK			0x9100
#define SW_MORE			0x91af
#define SW_SIG_DENIED		0x910b
#define SW_SIG_FORMAT		0x910c
#define SW_ILLEGAL_CMD		0x911c
#define SW_INTEGRITY		0x911e
#define SW_NO_KEY		0x9140
#define SW_LENGTH		0x917e
#define SW_DENIED		0x919d
#define SW_PARAM		0x919e
#define SW_AUTH			0x91ae
#define SW_BOUNDARY		0x91be
#define SW_NO_FILE		0x91f0

/* Communication modes, as encoded in FileOption bits 1..0 */
#define CM_PLAIN		0x00
#define CM_MAC			0x01
#define CM_FULL			0x03

enum nt_pending {
	NT_IDLE,
	NT_AUTH_FIRST,
	NT_AUTH_NONFIRST,
	NT_GETVER2,
	NT_GETVER3,
};

struct nt_session {
	bool active;
	u8 key;				/* key number authenticated with */
	u16 ctr;			/* CmdCtr */
	u8 ti[NT_TI_LEN];
	u8 enc[NTAG424_KEY_LEN];	/* SesAuthENCKey */
	u8 mac[NTAG424_KEY_LEN];	/* SesAuthMACKey */
};

/* State carried between the frames of a multi-frame command */
struct nt_pend {
	enum nt_pending state;
	u8 key;
	bool mac;			/* GetVersion started in a session */
	u16 ctr;
	u8 ti[NT_TI_LEN];
	u8 rndb[NT_BLOCK];
	u8 pcdcap[NT_CAP_LEN];
};

struct ntag424 {
	struct crypto_shash *cmac;
	struct crypto_sync_skcipher *cbc;

	/* Non-volatile memory */
	u8 uid[NTAG424_UID_LEN];
	u8 key[NTAG424_NKEYS][NTAG424_KEY_LEN];
	u8 key_ver[NTAG424_NKEYS];
	u16 fail_ctr[NTAG424_NKEYS];
	u16 fail_limit;
	u16 fail_decr;
	u8 fail_on;
	u8 random_id;
	u8 sm_config;
	u8 strong_mod;
	u8 file_opt[NT_NFILES];
	u16 file_ar[NT_NFILES];
	u8 data[NT_DATA_LEN];
	u8 sig[NT_SIG_LEN];

	/* Volatile: lost at power cycle */
	u8 rid_active;
	u8 rid[NTAG424_RID_LEN];
	u8 app_selected;
	s8 file;			/* selected EF index, or -1 */
	struct nt_session ses;
	struct nt_pend pend;

	/*
	 * Scratch buffers. Scatterlists need linearly mapped memory, so
	 * everything the cipher touches lives here rather than on the stack
	 * or in the caller's buffers.
	 */
	u8 in[NTAG424_MAX_CAPDU];
	u8 plain[NT_MAX_RDATA];
	u8 out[NTAG424_MAX_RAPDU + NT_BLOCK];
	u8 mac_in[1 + 2 + NT_TI_LEN + NTAG424_MAX_CAPDU];
	u8 blk[2 * NT_BLOCK];
	u8 ivb[NT_BLOCK];
};

/* One parsed C-APDU and, after secure messaging, its plain payload */
struct nt_cmd {
	u8 cla, ins, p1, p2;
	u8 has_lc, has_le, le;
	unsigned int lc;
	u8 *data;			/* Lc bytes, in tag->in */
	enum nt_pending pend;		/* what was pending before this frame */
	const u8 *payload;		/* CmdData after SM */
	unsigned int plen;
	unsigned int rlen;		/* response data length, in tag->out */
};

static inline void nt_put_le16(u8 *p, u16 v)
{
	p[0] = v;
	p[1] = v >> 8;
}

/* AES-128-CBC in place; @buf must live inside @tag (scatterlist). */
int nt_cbc(struct ntag424 *tag, const u8 *key, const u8 *iv,
	   u8 *buf, unsigned int len, bool encrypt);
/* Re-key the transforms with zeros: no key schedule outlives a command. */
void nt_scrub_tfms(struct ntag424 *tag);
/* Derive SesAuthENCKey and SesAuthMACKey into tag->ses from @key. */
int nt_session_keys(struct ntag424 *tag, const u8 *key,
		    const u8 *rnda, const u8 *rndb);
void nt_end_session(struct ntag424 *tag);
/* MACt over @first || CmdCtr || TI || @msg with SesAuthMACKey */
int nt_sm_mact(struct ntag424 *tag, u8 first, const u8 *msg,
	       unsigned int len, u8 *mact);
int nt_sm_in(struct ntag424 *tag, struct nt_cmd *c, u8 mode,
	     unsigned int hdr, bool has_data);
int nt_sm_out(struct ntag424 *tag, struct nt_cmd *c, u8 mode,
	      const u8 *resp, unsigned int len);

#endif /* _SECTAG_NTAG424_SM_H */
