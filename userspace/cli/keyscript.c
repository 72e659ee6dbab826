// SPDX-License-Identifier: GPL-2.0
/*
 * Unlocking at boot with Debian's initramfs-tools (initramfs/ and
 * Documentation/admin-guide.md, "Root volume with a tag").
 *
 * sectag keyscript [ARG]: the crypttab keyscript contract. cryptroot
 * runs /usr/lib/sectag/keyscript with the crypttab entry in CRYPTTAB_*
 * and the key field as ARG; that script runs this verb, whose stdout
 * goes straight to cryptsetup: the 64-digit passphrase of the sectag
 * keyslot a tap released, and nothing else. Everything for the user
 * (the cue, why a tap failed) goes to stderr, the console. On a failure
 * the script falls back to the passphrase prompt.
 *
 * sectag initramfs-store --out PATH UUID...: a store with only what an
 * initramfs needs to unlock volumes UUID...: their host bindings (the
 * host secret and the tag's read key). Portable and tpm2 bindings need
 * nothing from the store (their tokens hold it, sealed for tpm2), so
 * nothing of theirs is copied: a tpm2 binding's read key in the
 * initramfs, which lies unencrypted in /boot, would undo what sealing
 * it to the TPM is for.
 *
 * sectag initramfs-store --modes UUID...: the bind modes of those
 * volumes' sectag keyslots, one per line, from their headers (when the
 * volume is attached) and the store: the hook adds the TPM's needs for
 * "tpm2".
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libcryptsetup.h>
#include <openssl/crypto.h>

#include "agent.h"
#include "cli.h"
#include "fileio.h"
#include "open.h"
#include "store.h"
#include "token.h"
#include "tpm2.h"
#include "unlock.h"

#define KS_MAX_TOKENS		32
#define KS_DEFAULT_TIMEOUT_S	30
#define KS_READER_POLL_MS	100

struct ks_opts {
	struct token_open_opts t;
	const char *source, *name;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The crypttab key field, which cryptroot hands a keyscript as its
 * argument: "none", "-" or empty, or comma-separated timeout=S (the
 * tap's wait, default 30 s) and reader=NAME.
 */
static int parse_ks_arg(char *arg, struct ks_opts *o)
{
	char *save = NULL, *kv;

	o->t.timeout_ms = KS_DEFAULT_TIMEOUT_S * 1000;
	if (!arg || !*arg || !strcmp(arg, "none") || !strcmp(arg, "-"))
		return 0;
	for (kv = strtok_r(arg, ",", &save); kv;
	     kv = strtok_r(NULL, ",", &save)) {
		if (!strncmp(kv, "timeout=", 8)) {
			if (parse_timeout(kv + 8, &o->t.timeout_ms))
				return -1;
		} else if (!strncmp(kv, "reader=", 7) && kv[7]) {
			o->t.reader = kv + 7;
		} else {
			fprintf(stderr, "%s: keyscript: unknown key field "
				"option '%s' (timeout=S, reader=NAME)\n", prog,
				kv);
			return -1;
		}
	}
	if (o->t.timeout_ms < 0)	/* 0 in crypttab: wait for good */
		o->t.timeout_ms = SECTAG_AGENT_WAIT_MAX_MS;
	return 0;
}

static bool any_nfc_reader(void)
{
	DIR *d = opendir("/sys/class/nfc");
	struct dirent *e;
	bool found = false;

	if (!d)
		return false;
	while (!found && (e = readdir(d)))
		found = !strncmp(e->d_name, "nfc", 3);
	closedir(d);
	return found;
}

/*
 * In the initramfs, reader drivers load as udev finds the hardware,
 * possibly after cryptroot started: wait for an NFC device within the
 * tap's time (sysfs has no event to wait on without udev's monitor).
 * PC/SC readers are pcscd's business. Returns the milliseconds left.
 */
static int wait_reader(const struct ks_opts *o)
{
	int64_t end = now_ms() + o->t.timeout_ms;
	struct timespec pause = { 0, KS_READER_POLL_MS * 1000000L };

	if (o->t.reader && pcsc_reader_name(o->t.reader))
		return o->t.timeout_ms;
	while (!any_nfc_reader() && now_ms() < end)
		nanosleep(&pause, NULL);
	return (int)(end - now_ms());
}

/*
 * A tpm2 keyslot needs the TPM's device, which a TPM driver built as a
 * module (SPI, I2C TPMs) creates when udev loaded it: wait for it as
 * for a reader, within the tap's time. Returns the milliseconds left.
 */
static int wait_tpm(const struct sectag_token *tok, size_t n, int left_ms)
{
	int64_t end = now_ms() + left_ms;
	struct timespec pause = { 0, KS_READER_POLL_MS * 1000000L };
	const char *tcti = getenv("SECTAG_TPM2_TCTI");
	size_t j;

	for (j = 0; j < n && tok[j].mode != SECTAG_MODE_TPM2; j++)
		;
	if (j == n || (tcti && *tcti))
		return left_ms;
	while (access(SECTAG_TPM2_DEVICE, F_OK) && now_ms() < end)
		nanosleep(&pause, NULL);
	return (int)(end - now_ms());
}

static int ks_run(struct crypt_device *cd, struct ks_opts *o)
{
	struct sectag_token *tok;
	char what[160], *pass;
	int rc = EX_FAIL, keyslot, left;
	size_t n;

	tok = OPENSSL_zalloc(KS_MAX_TOKENS * sizeof(*tok));
	pass = OPENSSL_zalloc(SECTAG_PASS_LEN + 1);
	if (!tok || !pass)
		goto out;
	n = unlock_tokens(cd, o->t.store, tok, KS_MAX_TOKENS);
	if (!n) {
		fprintf(stderr, "%s: %s: no tag is enrolled for this volume\n",
			prog, o->name);
		goto out;
	}
	snprintf(what, sizeof(what), "unlock %s", o->name);
	o->t.what = what;
	if (!any_nfc_reader())
		fprintf(stderr, "%s: Tap your tag to %s (waiting for a "
			"reader)\n", prog, o->name);
	left = wait_reader(o);
	if (left <= 0) {
		fprintf(stderr, "%s: no NFC reader appeared within %d s\n",
			prog, o->t.timeout_ms / 1000);
		rc = EX_UNAVAIL;
		goto out;
	}
	/* No TPM in time: token_open() then says so, before any tap. */
	left = wait_tpm(tok, n, left);
	o->t.timeout_ms = left > 0 ? left : 1;
	rc = token_open(crypt_get_uuid(cd), tok, n, &o->t, pass, &keyslot);
	if (!rc && sectag_write_all(STDOUT_FILENO, pass, SECTAG_PASS_LEN))
		rc = fail(-errno, "writing the passphrase");
out:
	OPENSSL_clear_free(pass, SECTAG_PASS_LEN + 1);
	OPENSSL_clear_free(tok, KS_MAX_TOKENS * sizeof(*tok));
	return rc;
}

int cmd_keyscript(int argc, char **argv)
{
	struct crypt_device *cd;
	struct ks_opts o;
	int rc;

	memset(&o, 0, sizeof(o));
	token_open_defaults(&o.t);
	o.source = getenv("CRYPTTAB_SOURCE");
	o.name = getenv("CRYPTTAB_NAME");
	if (argc > 2 || (argc == 2 && !strcmp(argv[1], "--help")) ||
	    !o.source || !*o.source || !o.name || !*o.name) {
		fprintf(stderr, "usage: CRYPTTAB_SOURCE=DEV CRYPTTAB_NAME=NAME "
			"%s keyscript [timeout=S[,reader=R]]\nA crypttab "
			"keyscript (through /usr/lib/sectag/keyscript): the "
			"passphrase on stdout.\n", prog);
		return EX_USAGE;
	}
	/* The passphrase is for cryptsetup's pipe, never for a screen. */
	if (isatty(STDOUT_FILENO)) {
		fprintf(stderr, "%s: keyscript: stdout is a terminal\n", prog);
		return EX_USAGE;
	}
	if (parse_ks_arg(argc == 2 ? argv[1] : NULL, &o))
		return EX_USAGE;
	rc = crypt_init(&cd, o.source);
	if (!rc)
		rc = crypt_load(cd, CRYPT_LUKS2, NULL);
	if (rc < 0) {
		fprintf(stderr, "%s: %s: not a readable LUKS2 volume (%s)\n",
			prog, o.source, strerror(-rc));
		crypt_free(cd);
		return EX_FAIL;
	}
	rc = ks_run(cd, &o);
	crypt_free(cd);
	return rc;
}

static bool wanted(const char *uuid, char **uuids, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcasecmp(uuid, uuids[i]))
			return true;
	return false;
}

/* A binding whose token says portable needs nothing from the store. */
static bool portable(const struct sectag_binding *b)
{
	char path[512];

	if (sectag_luks_find(b, path, sizeof(path)))
		return false;	/* not here: keep it, it may be host */
	return sectag_luks_token_mode(path, b->keyslot, b->uid) ==
	       SECTAG_MODE_PORTABLE;
}

static int export_store(const char *from, const char *to, char **uuids,
			int n)
{
	struct sectag_store st, out = { 0 };
	size_t i;
	int rc;

	rc = sectag_store_load(from, &st);
	if (rc)
		return fail(rc, from);
	out.b = OPENSSL_zalloc(st.n ? st.n * sizeof(*out.b) : 1);
	if (!out.b) {
		sectag_store_free(&st);
		return fail(-ENOMEM, "store");
	}
	out.next_id = st.next_id;
	for (i = 0; i < st.n; i++)
		if (st.b[i].kind == SECTAG_BIND_LUKS && !st.b[i].tpm2 &&
		    wanted(st.b[i].target, uuids, n) && !portable(&st.b[i]))
			out.b[out.n++] = st.b[i];
	/* Random ID tags of those bindings are told by this key. */
	out.has_ident = st.has_ident && out.n;
	memcpy(out.ident_key, st.ident_key, sizeof(out.ident_key));
	rc = sectag_store_save(to, &out);
	if (!rc)
		printf("%zu\n", out.n);
	sectag_store_free(&out);
	sectag_store_free(&st);
	return rc ? fail(rc, to) : 0;
}

/* The bind modes of volume @uuid's sectag tokens, as bits 1 << mode. */
static unsigned int header_modes(const char *uuid)
{
	struct crypt_device *cd;
	struct sectag_token tok;
	unsigned int modes = 0;
	char path[128];
	int ks;

	snprintf(path, sizeof(path), "/dev/disk/by-uuid/%s", uuid);
	if (access(path, F_OK) || crypt_init(&cd, path) < 0)
		return 0;
	if (crypt_load(cd, CRYPT_LUKS2, NULL) < 0 ||
	    strcasecmp(crypt_get_uuid(cd) ? crypt_get_uuid(cd) : "", uuid)) {
		crypt_free(cd);
		return 0;
	}
	for (ks = 0; ks < KS_MAX_TOKENS; ks++) {
		if (sectag_luks_token_find(cd, ks, NULL, &tok) < 0)
			continue;
		modes |= 1u << tok.mode;
		sectag_token_wipe(&tok);
	}
	crypt_free(cd);
	return modes;
}

static int print_modes(const char *from, char **uuids, int n)
{
	static const enum sectag_bind_mode all[] = {
		SECTAG_MODE_HOST, SECTAG_MODE_PORTABLE, SECTAG_MODE_TPM2,
	};
	struct sectag_store st;
	unsigned int modes = 0;
	size_t i;
	int j;

	for (j = 0; j < n; j++)
		modes |= header_modes(uuids[j]);
	/* A store that is not there yet has no bindings: not an error. */
	if (!sectag_store_load(from, &st)) {
		for (i = 0; i < st.n; i++) {
			const struct sectag_binding *b = &st.b[i];

			if (b->kind != SECTAG_BIND_LUKS ||
			    !wanted(b->target, uuids, n))
				continue;
			modes |= 1u << (b->tpm2 ? SECTAG_MODE_TPM2 :
					portable(b) ? SECTAG_MODE_PORTABLE :
					SECTAG_MODE_HOST);
		}
		sectag_store_free(&st);
	}
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (modes & (1u << all[i]))
			printf("%s\n", sectag_bind_mode_name(all[i]));
	return 0;
}

int cmd_initramfs_store(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "out", required_argument, NULL, 'o' },
		{ "modes", no_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *store = getenv("SECTAG_STORE"), *to = NULL;
	bool modes = false;
	int c;

	if (!store || !*store)
		store = SECTAG_STORE_DEFAULT;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 's')
			store = optarg;
		else if (c == 'o')
			to = optarg;
		else if (c == 'm')
			modes = true;
		else
			goto usage;
	}
	if (!to == !modes || optind >= argc)
		goto usage;
	if (modes)
		return print_modes(store, argv + optind, argc - optind);
	return export_store(store, to, argv + optind, argc - optind);
usage:
	fprintf(c == 'h' ? stdout : stderr, "usage: %s initramfs-store --out "
		"PATH [--store S] UUID...\n       %s initramfs-store --modes "
		"[--store S] UUID...\nWrite to PATH (0600) the host bindings of "
		"LUKS2 volumes UUID... from the\nstore (default %s): what an "
		"initramfs needs to unlock them.\nPrints how many bindings it "
		"wrote. --modes: the bind modes (host, portable,\ntpm2) of the "
		"volumes' tags, one per line, from their headers and the\n"
		"store.\n", prog, prog, SECTAG_STORE_DEFAULT);
	return c == 'h' ? 0 : EX_USAGE;
}
