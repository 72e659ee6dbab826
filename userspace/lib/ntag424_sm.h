/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internal: NTAG 424 DNA AES secure messaging [DS 9.1], kept apart from
 * the command layer so that the published known-answer vectors can be
 * checked against each step.
 */
#ifndef SECTAG_NTAG424_SM_H
#define SECTAG_NTAG424_SM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SM_BLOCK	16
#define SM_MACT_LEN	8
#define SM_TI_LEN	4

struct sm_session {
	bool active;
	int keyno;
	uint8_t ti[SM_TI_LEN];
	uint16_t ctr;			/* CmdCtr of the next command */
	uint8_t enc[SM_BLOCK];		/* SesAuthENCKey */
	uint8_t mac[SM_BLOCK];		/* SesAuthMACKey */
};

/* Wipes the keys; the session is gone. */
void sm_session_end(struct sm_session *s);

/* AES-128-CBC without padding; @iv NULL means zero. 0 or -EIO. */
int sm_cbc(const uint8_t *key, const uint8_t *iv, const uint8_t *in,
	   uint8_t *out, size_t n, bool enc);
int sm_cmac(const uint8_t *key, const uint8_t *m, size_t n, uint8_t *out);
/* CMAC truncated to its odd-indexed bytes (MACt) [DS 9.1.3]. */
int sm_mact(const uint8_t *key, const uint8_t *m, size_t n, uint8_t *out);
/* SesAuthENCKey and SesAuthMACKey from Kx, RndA and RndB [DS 9.1.7]. */
int sm_session_keys(const uint8_t *key, const uint8_t *ra, const uint8_t *rb,
		    uint8_t *enc, uint8_t *mac);
/* IVc (@cmd) or IVr for the session's current CmdCtr [DS 9.1.4]. */
int sm_iv(const struct sm_session *s, bool cmd, uint8_t *iv);

/*
 * Protect a command in place: @buf holds CmdHeader (@hlen) then CmdData
 * (@dlen); in Full mode the data is padded and encrypted; the MACt
 * follows. @blen gets the new length. 0 or -errno.
 */
int sm_wrap(const struct sm_session *s, uint8_t ins, bool full, uint8_t *buf,
	    size_t hlen, size_t dlen, size_t size, size_t *blen);
/*
 * Check a response (data || MACt) in place for the session's CmdCtr
 * (already advanced); decrypt it in Full mode. @plen gets the plain
 * length. 0 or -EBADMSG.
 */
int sm_unwrap(const struct sm_session *s, bool full, uint8_t *buf, size_t len,
	      size_t *plen);

/* From E(K, RndB): RndB into @rb, and E(K, RndA || RndB') into @tok. */
int sm_auth_token(const uint8_t *key, const uint8_t *ek, const uint8_t *ra,
		  uint8_t *rb, uint8_t *tok);
/*
 * Check the tag's last answer (32 bytes for EV2First, 16 for NonFirst)
 * proves RndA' and fill @s with the new session. 0 or -EBADMSG.
 */
int sm_auth_finish(struct sm_session *s, const uint8_t *key, bool first,
		   const uint8_t *resp, const uint8_t *ra, const uint8_t *rb);

/* ChangeKey KeyData in @d (17 bytes for key 0, else 21); its length. */
size_t sm_change_key_data(uint8_t keyno, const uint8_t *old_key,
			  const uint8_t *new_key, uint8_t version, uint8_t *d);
/* CRC-32 without final XOR ("JAMCRC"), as ChangeKey wants [DS 10.6.1]. */
uint32_t sm_jamcrc(const uint8_t *p, size_t n);
int sm_an10922(const uint8_t *master, const uint8_t *m, size_t mlen,
	       uint8_t *out);

/*
 * The session inside a struct sectag_ntag: for the known-answer tests
 * and the fuzzer, which must start from published session state.
 */
struct sectag_ntag;
struct sm_session *sm_session_of(struct sectag_ntag *t);

#endif
