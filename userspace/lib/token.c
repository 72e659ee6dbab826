// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The "sectag" LUKS2 token's JSON (token.h): strict parsing with
 * json-c, the library libcryptsetup itself parses headers with, and
 * canonical formatting. Every field is checked for type and range, and
 * unknown fields are refused, so a validated token means one thing.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/crypto.h>

#include "hex.h"
#include "token.h"

#define LUKS_MAX_SLOT	31
#define READ_KEY_NO	2

const char *sectag_bind_mode_name(enum sectag_bind_mode mode)
{
	return mode == SECTAG_MODE_HOST ? "host" :
	       mode == SECTAG_MODE_PORTABLE ? "portable" :
	       mode == SECTAG_MODE_TPM2 ? "tpm2" : NULL;
}

enum sectag_bind_mode sectag_bind_mode_parse(const char *word)
{
	enum sectag_bind_mode m;

	for (m = SECTAG_MODE_HOST; m <= SECTAG_MODE_TPM2; m++)
		if (word && !strcmp(word, sectag_bind_mode_name(m)))
			return m;
	return 0;
}

void sectag_token_wipe(struct sectag_token *tok)
{
	if (tok)
		OPENSSL_cleanse(tok, sizeof(*tok));
}

/* ---------------------------------------------------------------------- */
/* Parsing                                                                */

/*
 * What parsing found so far: which fields were seen, and the PCR values
 * in the order they came (matched to "tpm2_pcrs" once both are read).
 */
struct seen {
	unsigned int fields;
	const char *why;
	size_t n_pcrs, n_values;
	uint8_t values[SECTAG_TPM2_PCRS][32];
};

enum {
	F_TYPE = 1 << 0, F_SLOTS = 1 << 1, F_VERSION = 1 << 2,
	F_BIND = 1 << 3, F_UID = 1 << 4, F_RANDOM = 1 << 5,
	F_KEYNO = 1 << 6, F_KDF = 1 << 7, F_SALT = 1 << 8,
	F_READKEY = 1 << 9, F_PCRS = 1 << 10, F_VALUES = 1 << 11,
	F_PUBLIC = 1 << 12, F_PRIVATE = 1 << 13,
};

/* Exactly 2 * @n hex digits. */
static int parse_hex(const char *s, uint8_t *out, size_t n)
{
	return sectag_unhex(s, strlen(s), out, n, false);
}

/* A JSON string value of @o, or NULL (with *@why set) if not a string. */
static const char *str_of(json_object *o, const char *why, struct seen *sn)
{
	if (!json_object_is_type(o, json_type_string)) {
		sn->why = why;
		return NULL;
	}
	return json_object_get_string(o);
}

/* An integer 0..@max written as a JSON number (not a string). */
static int int_of(json_object *o, int64_t max, int64_t *v)
{
	if (!json_object_is_type(o, json_type_int))
		return -EINVAL;
	errno = 0;
	*v = json_object_get_int64(o);
	return errno || *v < 0 || *v > max ? -EINVAL : 0;
}

/* "keyslots": exactly one keyslot, as LUKS2 writes it: a decimal string. */
static int f_keyslots(json_object *o, struct sectag_token *t, struct seen *sn)
{
	const char *s;
	char *end;
	long v;

	sn->why = "\"keyslots\" must list exactly one keyslot, \"0\"..\"31\"";
	if (!json_object_is_type(o, json_type_array) ||
	    json_object_array_length(o) != 1)
		return -EINVAL;
	o = json_object_array_get_idx(o, 0);
	if (!json_object_is_type(o, json_type_string))
		return -EINVAL;
	s = json_object_get_string(o);
	if (!*s || (s[0] == '0' && s[1]) || *s == '+' || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v < 0 || v > LUKS_MAX_SLOT)
		return -EINVAL;
	t->keyslot = (int)v;
	return 0;
}

static int f_type(json_object *o, struct sectag_token *t, struct seen *sn)
{
	const char *s = str_of(o, "\"type\" must be \"sectag\"", sn);

	(void)t;
	if (!s || strcmp(s, SECTAG_TOKEN_TYPE)) {
		sn->why = "\"type\" must be \"sectag\"";
		return -EINVAL;
	}
	return 0;
}

static int f_version(json_object *o, struct sectag_token *t, struct seen *sn)
{
	int64_t v;

	(void)t;
	sn->why = "\"sectag_version\" must be the number 1 (a newer sectag "
		  "wrote this token?)";
	return int_of(o, 1000, &v) || v != SECTAG_TOKEN_VERSION ? -EINVAL : 0;
}

static int f_bind(json_object *o, struct sectag_token *t, struct seen *sn)
{
	const char *s = str_of(o, "", sn);

	sn->why = "\"bind\" must be \"host\", \"portable\" or \"tpm2\"";
	t->mode = sectag_bind_mode_parse(s);
	return t->mode ? 0 : -EINVAL;
}

/* A real NTAG UID: 7 bytes, NXP's manufacturer code 04 first. */
static int f_uid(json_object *o, struct sectag_token *t, struct seen *sn)
{
	const char *s = str_of(o, "", sn);

	sn->why = "\"uid\" must be the tag's 7-byte UID in hex, starting "
		  "with 04 (NXP)";
	if (!s || parse_hex(s, t->uid, sizeof(t->uid)) || t->uid[0] != 0x04)
		return -EINVAL;
	return 0;
}

static int f_random(json_object *o, struct sectag_token *t, struct seen *sn)
{
	sn->why = "\"random_id\" must be true or false";
	if (!json_object_is_type(o, json_type_boolean))
		return -EINVAL;
	t->random_id = json_object_get_boolean(o);
	return 0;
}

static int f_keyno(json_object *o, struct sectag_token *t, struct seen *sn)
{
	int64_t v;

	sn->why = "\"key_no\" must be the number 2 (the tag's read key)";
	if (int_of(o, 4, &v) || v != READ_KEY_NO)
		return -EINVAL;
	t->key_no = (unsigned int)v;
	return 0;
}

static int f_kdf(json_object *o, struct sectag_token *t, struct seen *sn)
{
	const char *s = str_of(o, "", sn);

	(void)t;
	sn->why = "\"kdf\" must be \"" SECTAG_TOKEN_KDF "\"";
	return s && !strcmp(s, SECTAG_TOKEN_KDF) ? 0 : -EINVAL;
}

static int f_salt(json_object *o, struct sectag_token *t, struct seen *sn)
{
	const char *s = str_of(o, "", sn);

	sn->why = "\"salt\" must be 64 hex digits";
	return s && !parse_hex(s, t->salt, sizeof(t->salt)) ? 0 : -EINVAL;
}

static int f_read_key(json_object *o, struct sectag_token *t, struct seen *sn)
{
	const char *s = str_of(o, "", sn);

	sn->why = "\"read_key\" must be 32 hex digits";
	return s && !parse_hex(s, t->read_key, sizeof(t->read_key)) ?
	       0 : -EINVAL;
}

/* "tpm2_pcrs": PCR numbers 0..23, strictly ascending; maybe none. */
static int f_pcrs(json_object *o, struct sectag_token *t, struct seen *sn)
{
	json_object *e;
	int64_t v, last = -1;
	size_t i;

	sn->why = "\"tpm2_pcrs\" must list PCR numbers 0..23 in ascending "
		  "order, each once";
	if (!json_object_is_type(o, json_type_array) ||
	    json_object_array_length(o) > SECTAG_TPM2_PCRS)
		return -EINVAL;
	for (i = 0; i < json_object_array_length(o); i++) {
		e = json_object_array_get_idx(o, i);
		if (int_of(e, SECTAG_TPM2_PCRS - 1, &v) || v <= last)
			return -EINVAL;
		t->tpm2.pcrs |= 1u << v;
		last = v;
	}
	sn->n_pcrs = i;
	return 0;
}

/* "tpm2_pcr_values": 64 hex digits each, one per PCR of "tpm2_pcrs". */
static int f_values(json_object *o, struct sectag_token *t, struct seen *sn)
{
	json_object *e;
	size_t i;

	(void)t;
	sn->why = "\"tpm2_pcr_values\" must list a sha256 value (64 hex "
		  "digits) for each PCR of \"tpm2_pcrs\"";
	if (!json_object_is_type(o, json_type_array) ||
	    json_object_array_length(o) > SECTAG_TPM2_PCRS)
		return -EINVAL;
	for (i = 0; i < json_object_array_length(o); i++) {
		e = json_object_array_get_idx(o, i);
		if (!json_object_is_type(e, json_type_string) ||
		    parse_hex(json_object_get_string(e), sn->values[i], 32))
			return -EINVAL;
	}
	sn->n_values = i;
	return 0;
}

/* 1..@max bytes as an even number of hex digits. */
static int blob_of(json_object *o, uint8_t *out, size_t max, size_t *len)
{
	const char *s;
	size_t n;

	if (!json_object_is_type(o, json_type_string))
		return -EINVAL;
	s = json_object_get_string(o);
	n = strlen(s);
	if (!n || n % 2 || n / 2 > max ||
	    sectag_unhex(s, n, out, n / 2, false))
		return -EINVAL;
	*len = n / 2;
	return 0;
}

static int f_public(json_object *o, struct sectag_token *t, struct seen *sn)
{
	sn->why = "\"tpm2_public\" must be the sealed object's public area "
		  "in hex (at most 256 bytes)";
	return blob_of(o, t->tpm2.pub, sizeof(t->tpm2.pub), &t->tpm2.pub_len);
}

static int f_private(json_object *o, struct sectag_token *t, struct seen *sn)
{
	sn->why = "\"tpm2_private\" must be the sealed object's private "
		  "area in hex (at most 512 bytes)";
	return blob_of(o, t->tpm2.priv, sizeof(t->tpm2.priv),
		       &t->tpm2.priv_len);
}

static const struct field {
	const char *key;
	unsigned int bit;
	int (*parse)(json_object *o, struct sectag_token *t, struct seen *sn);
} fields[] = {
	{ "type", F_TYPE, f_type },
	{ "keyslots", F_SLOTS, f_keyslots },
	{ "sectag_version", F_VERSION, f_version },
	{ "bind", F_BIND, f_bind },
	{ "uid", F_UID, f_uid },
	{ "random_id", F_RANDOM, f_random },
	{ "key_no", F_KEYNO, f_keyno },
	{ "kdf", F_KDF, f_kdf },
	{ "salt", F_SALT, f_salt },
	{ "read_key", F_READKEY, f_read_key },
	{ "tpm2_pcrs", F_PCRS, f_pcrs },
	{ "tpm2_pcr_values", F_VALUES, f_values },
	{ "tpm2_public", F_PUBLIC, f_public },
	{ "tpm2_private", F_PRIVATE, f_private },
};

#define NFIELDS	(sizeof(fields) / sizeof(fields[0]))
#define F_NEEDED (F_TYPE | F_SLOTS | F_VERSION | F_BIND | F_UID | F_RANDOM | \
		  F_KEYNO | F_KDF)
#define F_SECRET (F_SALT | F_READKEY)
#define F_TPM2	(F_PCRS | F_VALUES | F_PUBLIC | F_PRIVATE)

static int one_field(const char *key, json_object *val,
		     struct sectag_token *t, struct seen *sn)
{
	size_t i;

	for (i = 0; i < NFIELDS; i++) {
		if (strcmp(key, fields[i].key))
			continue;
		if (sn->fields & fields[i].bit) {
			sn->why = "a field appears twice";
			return -EINVAL;
		}
		sn->fields |= fields[i].bit;
		return fields[i].parse(val, t, sn);
	}
	sn->why = "unknown field (a newer sectag wrote this token?)";
	return -EINVAL;
}

/* The values, in "tpm2_pcrs" order, into the token by PCR number. */
static int tpm2_values(struct sectag_token *t, struct seen *sn)
{
	size_t i = 0;
	unsigned int pcr;

	if (sn->n_values != sn->n_pcrs) {
		sn->why = "\"tpm2_pcr_values\" must have one value for each "
			  "PCR of \"tpm2_pcrs\"";
		return -EINVAL;
	}
	for (pcr = 0; pcr < SECTAG_TPM2_PCRS; pcr++)
		if (t->tpm2.pcrs & (1u << pcr))
			memcpy(t->tpm2.pcr_values[pcr], sn->values[i++], 32);
	return 0;
}

/* A tpm2 token: its TPM fields, and no secret in the clear. */
static int check_tpm2(struct sectag_token *t, struct seen *sn)
{
	if ((sn->fields & F_TPM2) != F_TPM2) {
		sn->why = "a tpm2 token needs \"tpm2_pcrs\", "
			  "\"tpm2_pcr_values\", \"tpm2_public\" and "
			  "\"tpm2_private\"";
		return -EINVAL;
	}
	if (sn->fields & F_SECRET) {
		sn->why = "a tpm2 token has no \"salt\" or \"read_key\" (the "
			  "TPM keeps them sealed)";
		return -EINVAL;
	}
	return tpm2_values(t, sn);
}

/* Which fields a mode needs: the secrets' place is the mode's business. */
static int check_complete(struct sectag_token *t, struct seen *sn)
{
	if ((sn->fields & F_NEEDED) != F_NEEDED) {
		sn->why = "a field is missing (type, keyslots, sectag_version, "
			  "bind, uid, random_id, key_no and kdf are required)";
		return -EINVAL;
	}
	if (t->mode == SECTAG_MODE_TPM2)
		return check_tpm2(t, sn);
	if (sn->fields & F_TPM2) {
		sn->why = "only a tpm2 token has \"tpm2_*\" fields";
		return -EINVAL;
	}
	if (t->mode == SECTAG_MODE_PORTABLE &&
	    (sn->fields & F_SECRET) != F_SECRET) {
		sn->why = "a portable token needs \"salt\" and \"read_key\"";
		return -EINVAL;
	}
	if (t->mode == SECTAG_MODE_HOST && (sn->fields & F_SECRET)) {
		sn->why = "a host token has no \"salt\" or \"read_key\" (the "
			  "host's store keeps them)";
		return -EINVAL;
	}
	return 0;
}

static int parse_object(json_object *root, struct sectag_token *t,
			struct seen *sn)
{
	int rc = 0;

	if (!json_object_is_type(root, json_type_object)) {
		sn->why = "not a JSON object";
		return -EINVAL;
	}
	json_object_object_foreach(root, key, val) {
		rc = one_field(key, val, t, sn);
		if (rc)
			return rc;
	}
	return check_complete(t, sn);
}

/*
 * Strict JSON (no trailing text, no comments, no single quotes). json-c
 * keeps the last of repeated keys, so a repeat cannot be seen here:
 * libcryptsetup's own parser has already taken the header that way.
 */
int sectag_token_parse(const char *json, struct sectag_token *tok,
		       const char **why)
{
	struct seen sn = { 0 };
	struct json_tokener *tk;
	json_object *root;
	size_t len;
	int rc = -EINVAL;

	if (!tok || !why)
		return -EINVAL;
	memset(tok, 0, sizeof(*tok));
	*why = "no token";
	if (!json)
		return -EINVAL;
	len = strlen(json);
	*why = "token too long";
	if (len > SECTAG_TOKEN_JSON_MAX)
		return -EINVAL;
	tk = json_tokener_new();
	if (!tk)
		return -ENOMEM;
	json_tokener_set_flags(tk, JSON_TOKENER_STRICT);
	root = json_tokener_parse_ex(tk, json, (int)len);
	if (!root || json_tokener_get_error(tk) != json_tokener_success ||
	    json_tokener_get_parse_end(tk) != len)
		sn.why = "not valid JSON";
	else
		rc = parse_object(root, tok, &sn);
	json_object_put(root);
	json_tokener_free(tk);
	if (rc)
		sectag_token_wipe(tok);
	*why = rc ? sn.why : NULL;
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Formatting                                                             */

static int valid(const struct sectag_token *t)
{
	return t && t->keyslot >= 0 && t->keyslot <= LUKS_MAX_SLOT &&
	       sectag_bind_mode_name(t->mode) && t->uid[0] == 0x04 &&
	       t->key_no == READ_KEY_NO &&
	       (t->mode != SECTAG_MODE_TPM2 ||
		(t->tpm2.pub_len && t->tpm2.pub_len <= SECTAG_TPM2_PUB_MAX &&
		 t->tpm2.priv_len && t->tpm2.priv_len <= SECTAG_TPM2_PRIV_MAX &&
		 t->tpm2.pcrs < (1u << SECTAG_TPM2_PCRS)));
}

/* Append to @buf at *@n what @fmt says, tracking overflow in *@n. */
static void append(char *buf, size_t size, int *n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void append(char *buf, size_t size, int *n, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (*n < 0 || (size_t)*n >= size)
		return;
	va_start(ap, fmt);
	r = vsnprintf(buf + *n, size - (size_t)*n, fmt, ap);
	va_end(ap);
	*n = r < 0 ? -1 : *n + r;
}

/* @len bytes at @p as hex, appended (no secret: a TPM blob). */
static void append_hex(char *buf, size_t size, int *n, const uint8_t *p,
		       size_t len)
{
	char h[3];
	size_t i;

	for (i = 0; i < len; i++) {
		sectag_hex(h, p + i, 1, false);
		append(buf, size, n, "%s", h);
	}
}

static void format_tpm2(const struct sectag_tpm2_blob *b, char *buf,
			size_t size, int *n)
{
	unsigned int pcr;
	bool first = true;

	append(buf, size, n, ",\"tpm2_pcrs\":[");
	for (pcr = 0; pcr < SECTAG_TPM2_PCRS; pcr++) {
		if (!(b->pcrs & (1u << pcr)))
			continue;
		append(buf, size, n, "%s%u", first ? "" : ",", pcr);
		first = false;
	}
	append(buf, size, n, "],\"tpm2_pcr_values\":[");
	first = true;
	for (pcr = 0; pcr < SECTAG_TPM2_PCRS; pcr++) {
		if (!(b->pcrs & (1u << pcr)))
			continue;
		append(buf, size, n, "%s\"", first ? "" : ",");
		append_hex(buf, size, n, b->pcr_values[pcr], 32);
		append(buf, size, n, "\"");
		first = false;
	}
	append(buf, size, n, "],\"tpm2_public\":\"");
	append_hex(buf, size, n, b->pub, b->pub_len);
	append(buf, size, n, "\",\"tpm2_private\":\"");
	append_hex(buf, size, n, b->priv, b->priv_len);
	append(buf, size, n, "\"");
}

/* Canonical: the field order above, no blanks; parses back to @tok. */
int sectag_token_format(const struct sectag_token *tok, char *buf,
			size_t size)
{
	char uid[15], salt[65], key[33];
	int n = 0;

	if (!valid(tok) || !buf || !size)
		return -EINVAL;
	sectag_hex(uid, tok->uid, sizeof(tok->uid), false);
	append(buf, size, &n, "{\"type\":\"%s\",\"keyslots\":[\"%d\"],"
	       "\"sectag_version\":%d,\"bind\":\"%s\",\"uid\":\"%s\","
	       "\"random_id\":%s,\"key_no\":%u,\"kdf\":\"%s\"",
	       SECTAG_TOKEN_TYPE, tok->keyslot, SECTAG_TOKEN_VERSION,
	       sectag_bind_mode_name(tok->mode), uid,
	       tok->random_id ? "true" : "false", tok->key_no,
	       SECTAG_TOKEN_KDF);
	if (tok->mode == SECTAG_MODE_PORTABLE) {
		sectag_hex(salt, tok->salt, sizeof(tok->salt), false);
		sectag_hex(key, tok->read_key, sizeof(tok->read_key), false);
		append(buf, size, &n, ",\"salt\":\"%s\",\"read_key\":\"%s\"",
		       salt, key);
		OPENSSL_cleanse(key, sizeof(key));
	}
	if (tok->mode == SECTAG_MODE_TPM2)
		format_tpm2(&tok->tpm2, buf, size, &n);
	append(buf, size, &n, "}");
	return n > 0 && (size_t)n < size ? n : -ENOSPC;
}

/* "7" or "0,2,7", or "none": the PCRs of a tpm2 token's policy. */
int sectag_tpm2_pcrs_text(uint32_t pcrs, char *buf, size_t size)
{
	unsigned int pcr;
	int n = 0;

	if (!buf || !size)
		return -EINVAL;
	buf[0] = 0;
	for (pcr = 0; pcr < SECTAG_TPM2_PCRS; pcr++)
		if (pcrs & (1u << pcr))
			append(buf, size, &n, "%s%u", n ? "," : "", pcr);
	if (!n)
		append(buf, size, &n, "none");
	return n > 0 && (size_t)n < size ? n : -ENOSPC;
}

int sectag_tpm2_pcrs_parse(const char *s, uint32_t *pcrs)
{
	unsigned long v;
	char *end;

	if (!s || !pcrs)
		return -EINVAL;
	*pcrs = 0;
	if (!*s || !strcmp(s, "none"))
		return 0;
	for (;;) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = strtoul(s, &end, 10);
		if (v >= SECTAG_TPM2_PCRS || (*pcrs & (1u << v)) ||
		    end - s > 2)
			return -EINVAL;
		*pcrs |= 1u << v;
		if (!*end)
			return 0;
		if (*end != ',')
			return -EINVAL;
		s = end + 1;
	}
}

static const char *mode_text(enum sectag_bind_mode mode)
{
	switch (mode) {
	case SECTAG_MODE_HOST:
		return "host secret in this host's store";
	case SECTAG_MODE_TPM2:
		return "sealed to this machine's TPM2";
	default:
		return "the disk and the tag suffice";
	}
}

int sectag_token_describe(const struct sectag_token *tok, char *buf,
			  size_t size)
{
	char uid[15], pcrs[80];
	int n = 0;

	if (!valid(tok) || !buf)
		return -EINVAL;
	/* Upper case for people, as `sectag list`. */
	sectag_hex(uid, tok->uid, sizeof(tok->uid), true);
	append(buf, size, &n, "\tbind:       %s (%s)\n\ttag UID:    %s%s\n"
	       "\tread key:   key %u%s\n\tkdf:        %s\n",
	       sectag_bind_mode_name(tok->mode), mode_text(tok->mode),
	       uid, tok->random_id ? " (Random ID)" : "", tok->key_no,
	       tok->mode == SECTAG_MODE_PORTABLE ? " (in the token)" :
	       tok->mode == SECTAG_MODE_TPM2 ? " (sealed by the TPM)" :
	       " (in the store)", SECTAG_TOKEN_KDF);
	if (tok->mode == SECTAG_MODE_TPM2 &&
	    sectag_tpm2_pcrs_text(tok->tpm2.pcrs, pcrs, sizeof(pcrs)) > 0)
		append(buf, size, &n, "\ttpm2 PCRs:  %s (sha256 bank)\n"
		       "\ttpm2 blob:  %zu + %zu bytes\n", pcrs,
		       tok->tpm2.pub_len, tok->tpm2.priv_len);
	return n > 0 && (size_t)n < size ? n : -ENOSPC;
}
