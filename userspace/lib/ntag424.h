/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reader side (PCD) of the NXP NTAG 424 DNA command set, AES mode.
 *
 * One struct sectag_ntag is one conversation with one tag over any
 * APDU transport (an AF_NFC socket, a test script, a fuzzer). It holds
 * the session keys of the current authentication and wipes them on
 * every error, on logout and on free.
 *
 * Every command returns:
 *   0           success (91 00 / 90 00);
 *   > 0         the tag refused: the value is its status word (0x91AE...);
 *               a native error also ends the session (datasheet 9.1.9);
 *   < 0         a local or transport error, as -errno: -EBADMSG for a
 *               malformed answer or a wrong response MAC (the session is
 *               dropped), -EIO/-ETIMEDOUT/-ENXIO from the transport,
 *               -EINVAL for bad arguments, -EACCES when a command needs
 *               an authentication that is not there.
 */
#ifndef SECTAG_NTAG424_H
#define SECTAG_NTAG424_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SECTAG_NTAG_KEY_LEN	16
#define SECTAG_NTAG_UID_LEN	7
#define SECTAG_NTAG_NKEYS	5
#define SECTAG_NTAG_SIG_LEN	56

/* Status words worth naming. */
#define SECTAG_SW_OK			0x9100
#define SECTAG_SW_ISO_OK		0x9000
#define SECTAG_SW_INTEGRITY_ERROR	0x911E
#define SECTAG_SW_NO_SUCH_KEY		0x9140
#define SECTAG_SW_LENGTH_ERROR		0x917E
#define SECTAG_SW_PERMISSION_DENIED	0x919D
#define SECTAG_SW_PARAMETER_ERROR	0x919E
#define SECTAG_SW_AUTH_DELAY		0x91AD
#define SECTAG_SW_AUTH_ERROR		0x91AE
#define SECTAG_SW_BOUNDARY_ERROR	0x91BE
#define SECTAG_SW_SECURITY_STATUS	0x6982

/* Files of the NDEF application. */
enum {
	SECTAG_NTAG_FILE_CC = 1,
	SECTAG_NTAG_FILE_NDEF = 2,
	SECTAG_NTAG_FILE_PROP = 3,
};

/* Communication modes (FileOption bits 1..0). */
enum sectag_ntag_mode {
	SECTAG_NTAG_PLAIN = 0,
	SECTAG_NTAG_MAC = 1,
	SECTAG_NTAG_FULL = 3,
};

/* Access conditions: key number 0..4, free or never. */
#define SECTAG_NTAG_ACCESS_FREE		0xE
#define SECTAG_NTAG_ACCESS_NEVER	0xF

/* Exchanges one APDU; returns 0 or -errno. @rlen gets the R-APDU length. */
typedef int (*sectag_ntag_xfer_fn)(void *ctx, const uint8_t *capdu,
				   size_t clen, uint8_t *rapdu, size_t rsize,
				   size_t *rlen);
/* Fills @buf with @n random bytes; returns 0 or -errno. */
typedef int (*sectag_ntag_rng_fn)(void *ctx, uint8_t *buf, size_t n);

struct sectag_ntag;

struct sectag_ntag_version {
	uint8_t hw[7];			/* vendor, type, subtype, major, ... */
	uint8_t sw[7];
	uint8_t uid[SECTAG_NTAG_UID_LEN];	/* zero with Random ID */
	uint8_t batch[4];
	uint8_t fab[2];			/* fab key / calendar week bits */
	uint8_t year;
};

struct sectag_ntag_file {
	uint8_t type;			/* 00: StandardData */
	uint8_t mode;			/* enum sectag_ntag_mode */
	bool sdm;			/* SDM enabled (settings not parsed) */
	uint8_t read, write, read_write, change;	/* access conditions */
	uint32_t size;
};

int sectag_ntag_new(struct sectag_ntag **t, sectag_ntag_xfer_fn xfer,
		    void *ctx);
/* Wipes session keys; NULL is a no-op. */
void sectag_ntag_free(struct sectag_ntag *t);
/* Replace the RNG used for RndA (default: OpenSSL RAND_priv_bytes). */
void sectag_ntag_set_rng(struct sectag_ntag *t, sectag_ntag_rng_fn rng,
			 void *ctx);
/* Forget the session (keys wiped); the tag is not told. */
void sectag_ntag_logout(struct sectag_ntag *t);
bool sectag_ntag_authenticated(const struct sectag_ntag *t);
/* Key number of the current session, -1 if none. */
int sectag_ntag_auth_key(const struct sectag_ntag *t);

/* Human-readable text for a return value of this API. */
const char *sectag_ntag_strerror(int rc);

/* ISOSelectFile of the NDEF application D2760000850101. */
int sectag_ntag_select_app(struct sectag_ntag *t);
int sectag_ntag_get_version(struct sectag_ntag *t,
			    struct sectag_ntag_version *v);

/* AuthenticateEV2First / AuthenticateEV2NonFirst with key @keyno. */
int sectag_ntag_auth(struct sectag_ntag *t, uint8_t keyno,
		     const uint8_t key[SECTAG_NTAG_KEY_LEN]);
int sectag_ntag_auth_nonfirst(struct sectag_ntag *t, uint8_t keyno,
			      const uint8_t key[SECTAG_NTAG_KEY_LEN]);

/*
 * ChangeKey (needs a key-0 session). For key 0, @old_key is ignored and
 * the session ends on success; for keys 1..4 the current value is needed.
 */
int sectag_ntag_change_key(struct sectag_ntag *t, uint8_t keyno,
			   const uint8_t old_key[SECTAG_NTAG_KEY_LEN],
			   const uint8_t new_key[SECTAG_NTAG_KEY_LEN],
			   uint8_t version);
int sectag_ntag_get_key_version(struct sectag_ntag *t, uint8_t keyno,
				uint8_t *version);
int sectag_ntag_get_card_uid(struct sectag_ntag *t,
			     uint8_t uid[SECTAG_NTAG_UID_LEN]);

int sectag_ntag_get_file_settings(struct sectag_ntag *t, uint8_t fileno,
				  struct sectag_ntag_file *f);
/* Sets mode and the four access conditions of @f (SDM off). */
int sectag_ntag_change_file_settings(struct sectag_ntag *t, uint8_t fileno,
				     const struct sectag_ntag_file *f);

/*
 * ReadData / WriteData in communication mode @mode, split into as many
 * commands as the frame limits need. The mode must be the one the tag
 * applies (file mode, or Plain when unauthenticated or access is free).
 */
int sectag_ntag_read(struct sectag_ntag *t, uint8_t fileno,
		     enum sectag_ntag_mode mode, uint32_t offset,
		     uint8_t *buf, size_t len);
int sectag_ntag_write(struct sectag_ntag *t, uint8_t fileno,
		      enum sectag_ntag_mode mode, uint32_t offset,
		      const uint8_t *buf, size_t len);

/* SetConfiguration option 00: enable Random ID. Irreversible. */
int sectag_ntag_enable_random_id(struct sectag_ntag *t);
int sectag_ntag_read_sig(struct sectag_ntag *t,
			 uint8_t sig[SECTAG_NTAG_SIG_LEN]);

/* Plain ISO 7816-4 file access (refused by the tag while authenticated). */
int sectag_ntag_iso_select(struct sectag_ntag *t, uint16_t fid);
int sectag_ntag_iso_read(struct sectag_ntag *t, uint16_t offset,
			 uint8_t *buf, size_t len);
int sectag_ntag_iso_update(struct sectag_ntag *t, uint16_t offset,
			   const uint8_t *buf, size_t len);

/*
 * AN10922 AES-128 key diversification: @out = CMAC(@master, 01 || @m).
 * @mlen must be 16..31: there the note's padding is plain CMAC padding,
 * so no CMAC internals need re-implementing (-EINVAL otherwise).
 */
int sectag_ntag_diversify(const uint8_t master[SECTAG_NTAG_KEY_LEN],
			  const uint8_t *m, size_t mlen,
			  uint8_t out[SECTAG_NTAG_KEY_LEN]);

#endif
