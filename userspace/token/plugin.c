// SPDX-License-Identifier: GPL-2.0
/*
 * libcryptsetup-token-sectag.so: the external LUKS2 token handler for
 * tokens of type "sectag" (cryptsetup 2.4+ plugin ABI
 * CRYPTSETUP_TOKEN_1.0). libcryptsetup loads it from its token
 * directory when a header holds such a token: `cryptsetup open` asks it
 * for the keyslot's passphrase (one tap, open.c), `luksDump` for the
 * token's fields, and token import for a validation.
 *
 * Only the cryptsetup_token_* functions are exported (token.sym); the
 * libsectag objects linked in stay private to the plugin.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libcryptsetup.h>
#include <openssl/crypto.h>

#include "version.h"
#include "cli.h"
#include "open.h"
#include "token.h"

#define EXPORT	__attribute__((visibility("default")))
#define CMDLINE_MAX	8192

/* The CLI's exit codes, as libcryptsetup's token errors. */
static int open_errno(int rc)
{
	switch (rc) {
	case EX_NOTAG:
	case EX_UNAVAIL:
		return -EAGAIN;		/* nothing to read now: try others */
	case EX_REFUSED:
		return -EPERM;
	default:
		return -EINVAL;
	}
}

/* @arg is option @opt ("--key-file"), alone or as "--key-file=...". */
static bool is_opt(const char *arg, const char *opt)
{
	size_t n = strlen(opt);

	return !strncmp(arg, opt, n) && (!arg[n] || arg[n] == '=');
}

/*
 * The cryptsetup program runs a volume's tokens before it reads a
 * --key-file (cryptsetup 2.6's action_open_luks(), and later ones):
 * with a reader on the desk, `cryptsetup open --key-file K DEV` would
 * wait for a tap first. When we are loaded into the cryptsetup program
 * and its command line names a key file and no token option (--token-only,
 * --token-id, --token-type), the user said how to open: we step aside
 * at once. Other programs (systemd-cryptsetup, libblockdev) are never
 * second-guessed.
 */
static bool cryptsetup_key_file(void)
{
	bool key_file = false, token_opt = false;
	char *buf, *a, *end, *base;
	size_t n = 0;
	FILE *f;

	buf = OPENSSL_zalloc(CMDLINE_MAX + 1);
	f = fopen("/proc/self/cmdline", "re");
	if (f && buf)
		n = fread(buf, 1, CMDLINE_MAX, f);
	if (f)
		fclose(f);
	base = n ? strrchr(buf, '/') : NULL;
	base = base ? base + 1 : buf;
	if (n && !strcmp(base, "cryptsetup")) {
		end = buf + n;
		for (a = buf + strlen(buf) + 1; a < end; a += strlen(a) + 1) {
			if (!strcmp(a, "--"))
				break;
			key_file |= is_opt(a, "--key-file") ||
				    !strncmp(a, "-d", 2);
			token_opt |= is_opt(a, "--token-only") ||
				     is_opt(a, "--token-id") ||
				     is_opt(a, "--token-type");
		}
	}
	OPENSSL_free(buf);
	return key_file && !token_opt;
}

static int token_parse(struct crypt_device *cd, int token,
		       struct sectag_token *tok)
{
	const char *json, *why;
	int rc;

	rc = crypt_token_json_get(cd, token, &json);
	if (rc < 0)
		return rc;
	rc = sectag_token_parse(json, tok, &why);
	if (rc)
		crypt_logf(cd, CRYPT_LOG_ERROR, "sectag token %d: %s\n", token,
			   why);
	return rc;
}

EXPORT int cryptsetup_token_open(struct crypt_device *cd, int token,
				 char **buffer, size_t *buffer_len,
				 void *usrptr)
{
	struct token_open_opts o;
	struct sectag_token tok;
	const char *uuid = crypt_get_uuid(cd);
	const char *dev = crypt_get_device_name(cd);
	char what[320], *pass;
	int rc, keyslot;

	(void)usrptr;
	if (!uuid || !buffer || !buffer_len)
		return -EINVAL;
	if (cryptsetup_key_file()) {
		crypt_logf(cd, CRYPT_LOG_DEBUG, "sectag token %d: a key file "
			   "was given: not waiting for a tap\n", token);
		return -ENOENT;
	}
	rc = token_parse(cd, token, &tok);
	if (rc)
		return rc;
	pass = OPENSSL_zalloc(SECTAG_PASS_LEN + 1);
	if (!pass) {
		sectag_token_wipe(&tok);
		return -ENOMEM;
	}
	token_open_defaults(&o);
	snprintf(what, sizeof(what), "unlock %s", dev ? dev : uuid);
	o.what = what;
	rc = token_open(uuid, &tok, 1, &o, pass, &keyslot);
	sectag_token_wipe(&tok);
	if (rc) {
		OPENSSL_clear_free(pass, SECTAG_PASS_LEN + 1);
		return open_errno(rc);
	}
	*buffer = pass;
	*buffer_len = SECTAG_PASS_LEN;
	return 0;
}

/* No sectag token takes a PIN: the tap is the whole factor. */
EXPORT int cryptsetup_token_open_pin(struct crypt_device *cd, int token,
				     const char *pin, size_t pin_size,
				     char **buffer, size_t *buffer_len,
				     void *usrptr)
{
	(void)pin;
	(void)pin_size;
	return cryptsetup_token_open(cd, token, buffer, buffer_len, usrptr);
}

EXPORT void cryptsetup_token_buffer_free(void *buffer, size_t buffer_len)
{
	(void)buffer_len;
	if (buffer)
		OPENSSL_clear_free(buffer, SECTAG_PASS_LEN + 1);
}

EXPORT int cryptsetup_token_validate(struct crypt_device *cd,
				     const char *json)
{
	struct sectag_token tok;
	const char *why;
	int rc;

	rc = sectag_token_parse(json, &tok, &why);
	sectag_token_wipe(&tok);
	if (rc)
		crypt_logf(cd, CRYPT_LOG_ERROR, "invalid sectag token: %s\n",
			   why);
	return rc;
}

EXPORT void cryptsetup_token_dump(struct crypt_device *cd, const char *json)
{
	struct sectag_token tok;
	const char *why;
	char buf[512];

	if (sectag_token_parse(json, &tok, &why)) {
		crypt_logf(cd, CRYPT_LOG_NORMAL, "\tinvalid: %s\n", why);
		return;
	}
	if (sectag_token_describe(&tok, buf, sizeof(buf)) > 0)
		crypt_log(cd, CRYPT_LOG_NORMAL, buf);
	sectag_token_wipe(&tok);
}

EXPORT const char *cryptsetup_token_version(void)
{
	return SECTAG_VERSION;
}
