// SPDX-License-Identifier: GPL-2.0
/*
 * sectag verbs for bindings: enroll, list, revoke. The store and the
 * LUKS2/keyring work are libsectag's (store.h, unlock.h); this file
 * reads the command line and the passphrase, waits for the tap, keeps
 * the store and the volume consistent, and reports. Secrets are never
 * printed, and wiped once used.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <libcryptsetup.h>
#include <linux/nfc.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "hex.h"
#include "cli.h"
#include "jsonout.h"
#include "issue.h"
#include "nfc.h"
#include "ntag424.h"
#include "store.h"
#include "token.h"
#include "tpm2.h"
#include "unlock.h"

/*
 * --bind tpm2's policy by default: PCR 7, the Secure Boot state (its
 * on/off switch and the certificate databases the firmware trusts).
 * It holds across kernel, initramfs and bootloader updates, which PCRs
 * 4, 8, 9 and 11 do not, and changes when someone turns Secure Boot
 * off or enrols their own keys: security-model.md weighs the choice.
 */
#define DEFAULT_TPM2_PCRS	(1u << 7)

/* cryptsetup's own limit for an interactive passphrase. */
#define MAX_PASSPHRASE		512

struct enroll_opts {
	const char *issuer_key, *luks, *key_file, *auto_open, *user, *name;
	const char *store, *reader, *bind, *pcrs;
	enum sectag_bind_mode mode;	/* LUKS: --bind, default host */
	uint32_t tpm2_pcrs;		/* --bind tpm2: the policy's PCRs */
	int timeout_ms;			/* < 0: wait forever */
	bool force;
};

/* What enroll holds while it works; wiped at the end. */
struct enrolment {
	struct sectag_store st;
	struct sectag_binding b;
	uint8_t issuer[SECTAG_ISSUER_KEY_LEN];
	uint8_t share[SECTAG_SECRET_LEN];
	uint8_t secret[32];
	char *pass;			/* LUKS: existing passphrase */
	size_t pass_len;
	bool pass_crypt;		/* pass from crypt_keyfile_device_read */
	bool random_id;			/* the tag hides its UID */
	char device[PATH_MAX];
	struct sectag_tpm2_blob sealed;	/* bind tpm2: what the TPM sealed */
};

/* ---------------------------------------------------------------------- */
/* Store                                                                  */

static const char *store_strerror(int rc)
{
	switch (rc) {
	case -EBADMSG:
		return "corrupt store (not written by sectag, or edited by hand)";
	case -EPERM:
		return "the store must belong to root and be mode 0600 "
		       "(group or others may access it, or another user owns it)";
	case -EFBIG:
		return "the store is too large";
	default:
		return strerror(-rc);
	}
}

/* The store's directory, root-only, if it does not exist yet. */
static int make_store_dir(const char *path)
{
	char *dir = strdup(path), *slash;
	int rc = 0;

	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		if (mkdir(dir, 0700) && errno != EEXIST)
			rc = -errno;
	}
	free(dir);
	return rc;
}

/*
 * Lock, then load: enroll and revoke are load-modify-save cycles. Only
 * enroll creates the store's directory; without one there is nothing to
 * revoke, and an empty store (unlocked) says so.
 */
static int store_open(const char *path, struct sectag_store *st, int *lock,
		      bool create)
{
	int rc;

	rc = create ? make_store_dir(path) : 0;
	*lock = rc ? rc : sectag_store_lock(path);
	if (*lock == -ENOENT && !create)
		return sectag_store_load(path, st) ? EX_FAIL : 0;
	if (*lock < 0) {
		fprintf(stderr, "%s: %s: cannot lock the store: %s\n", prog,
			path, strerror(-*lock));
		return EX_FAIL;
	}
	rc = sectag_store_load(path, st);
	if (rc) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, store_strerror(rc));
		close(*lock);
		*lock = -1;
		return EX_FAIL;
	}
	return 0;
}

static int store_commit(const char *path, const struct sectag_store *st)
{
	int rc = sectag_store_save(path, st);

	if (rc)
		fprintf(stderr, "%s: %s: cannot save the store: %s\n", prog,
			path, strerror(-rc));
	return rc;
}

/* ---------------------------------------------------------------------- */
/* Passphrase                                                             */

static struct termios saved_tty;
static int tty_fd = -1;

/* Ctrl-C at the prompt must not leave the terminal without echo. */
static void restore_tty(int sig)
{
	tcsetattr(tty_fd, TCSAFLUSH, &saved_tty);
	signal(sig, SIG_DFL);
	raise(sig);
}

static int read_line(int fd, char *buf, size_t size, size_t *len)
{
	ssize_t r;
	char c;

	*len = 0;
	for (;;) {
		r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0 || c == '\n')
			return 0;
		if (*len + 1 >= size)
			return -E2BIG;
		buf[(*len)++] = c;
	}
}

/* An existing passphrase of @device, typed on the terminal without echo. */
static int prompt_passphrase(const char *device, struct enrolment *e)
{
	struct termios quiet;
	int rc;

	e->pass = OPENSSL_zalloc(MAX_PASSPHRASE + 1);
	if (!e->pass)
		return fail(-ENOMEM, "passphrase");
	tty_fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (tty_fd < 0 || tcgetattr(tty_fd, &saved_tty)) {
		fprintf(stderr, "%s: no terminal to ask for the passphrase of "
			"%s: use --key-file\n", prog, device);
		if (tty_fd >= 0)
			close(tty_fd);
		tty_fd = -1;
		return EX_USAGE;
	}
	dprintf(tty_fd, "Enter an existing passphrase of %s: ", device);
	quiet = saved_tty;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	signal(SIGINT, restore_tty);
	signal(SIGTERM, restore_tty);
	tcsetattr(tty_fd, TCSAFLUSH, &quiet);
	rc = read_line(tty_fd, e->pass, MAX_PASSPHRASE + 1, &e->pass_len);
	tcsetattr(tty_fd, TCSAFLUSH, &saved_tty);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	dprintf(tty_fd, "\n");
	close(tty_fd);
	tty_fd = -1;
	if (rc)
		fprintf(stderr, "%s: cannot read the passphrase: %s\n", prog,
			rc == -E2BIG ? "too long" : strerror(-rc));
	return rc ? EX_FAIL : 0;
}

/* The key file as cryptsetup reads it: the whole file, bytes as they are. */
static int read_key_file(const char *path, struct enrolment *e)
{
	int rc;

	rc = crypt_keyfile_device_read(NULL, path, &e->pass, &e->pass_len, 0,
				       0, 0);
	if (rc < 0) {
		fprintf(stderr, "%s: %s: cannot read the key file: %s\n", prog,
			path, strerror(-rc));
		return EX_FAIL;
	}
	e->pass_crypt = true;
	return 0;
}

/* The passphrase must open the volume before anyone taps a tag. */
static int get_passphrase(const struct enroll_opts *o, struct enrolment *e)
{
	int rc;

	rc = o->key_file ? read_key_file(o->key_file, e) :
	     prompt_passphrase(e->device, e);
	if (rc)
		return rc;
	rc = sectag_luks_check_passphrase(e->device, e->pass, e->pass_len);
	if (rc == -EPERM) {
		fprintf(stderr, "%s: %s: no keyslot opens with that "
			"passphrase\n", prog, e->device);
		return EX_FAIL;
	}
	return rc ? fail(rc, "cannot check the passphrase") : 0;
}

static void drop_passphrase(struct enrolment *e)
{
	if (!e->pass)
		return;
	if (e->pass_crypt)
		crypt_safe_free(e->pass);	/* wipes, as its allocator */
	else
		OPENSSL_clear_free(e->pass, MAX_PASSPHRASE + 1);
	e->pass = NULL;
}

/* ---------------------------------------------------------------------- */
/* Output                                                                 */

/*
 * How a LUKS binding is bound, from its volume's sectag token: "host"
 * for one enrolled before tokens existed (a luks2-keyring token only),
 * NULL when the volume is not here to tell.
 */
static const char *bind_mode(const struct sectag_binding *b)
{
	char path[PATH_MAX];
	int rc;

	if (b->kind != SECTAG_BIND_LUKS || sectag_luks_find(b, path,
							    sizeof(path)))
		return NULL;
	rc = sectag_luks_token_mode(path, b->keyslot, b->uid);
	if (rc == -ENOENT)
		return "host";
	return rc > 0 ? sectag_bind_mode_name(rc) : NULL;
}

static json_object *binding_json(const struct sectag_binding *b,
				 const char *bind)
{
	json_object *o = json_object_new_object();

	jout_int(o, "id", b->id);
	jout_str(o, "kind", sectag_binding_kind_name(b->kind));
	jout_str(o, "target", b->target);
	jout_hex(o, "uid", b->uid, sizeof(b->uid));
	if (b->kind == SECTAG_BIND_LUKS) {
		jout_str(o, "device", b->device);
		jout_int(o, "keyslot", b->keyslot);
		jout_int(o, "token", b->token);
		jout_str(o, "auto_open", b->auto_open[0] ? b->auto_open : NULL);
		jout_str(o, "bind", bind);
	}
	return o;
}

static void print_row(const struct sectag_binding *b, const char *bind)
{
	char uid[15];

	sectag_hex(uid, b->uid, sizeof(b->uid), true);
	printf("%-4u %-5s %-36s %s", b->id, sectag_binding_kind_name(b->kind),
	       b->target, uid);
	if (b->kind == SECTAG_BIND_LUKS)
		printf("  keyslot %d token %d%s%s  bind %s  %s", b->keyslot,
		       b->token, b->auto_open[0] ? "  auto-open " : "",
		       b->auto_open, bind ? bind : "?", b->device);
	printf("\n");
}

/* libcryptsetup's own errors say what went wrong on the volume. */
static void crypt_errors(int level, const char *msg, void *ctx)
{
	(void)ctx;
	if (level == CRYPT_LOG_ERROR)
		fprintf(stderr, "%s: cryptsetup: %s", prog, msg);
}

/* ---------------------------------------------------------------------- */
/* enroll                                                                 */

static void enroll_usage(FILE *f)
{
	fprintf(f, "usage: %s enroll --issuer-key FILE (--luks DEVICE "
		"[--key-file F] [--auto-open NAME]\n"
		"                  [--bind host|portable|tpm2 [--tpm2-pcrs LIST]]\n"
		"                  | --user NAME | --name LABEL) [--store PATH] "
		"[--reader R]\n                  [--timeout S] [--json]\n"
		"Bind an issued tag to a LUKS2 volume, a user or a label: wait "
		"for the tag,\ncheck it is genuine with the issuer key, read "
		"its secret share, and store a\nbinding with a fresh host "
		"secret. The unlock secret is derived from both.\n"
		"  --luks DEVICE    add a keyslot (PBKDF2) and a luks2-keyring "
		"token for the\n                   tag; authorised by an "
		"existing passphrase, asked on the\n                   terminal "
		"or read from --key-file F (the whole file)\n"
		"  --auto-open NAME the agent opens the volume as "
		"/dev/mapper/NAME on a tap\n"
		"  --bind MODE      host (default): the unlock also needs this "
		"host's store;\n                   portable: the volume and the "
		"tag suffice;\n                   tpm2: the tag and this "
		"machine's TPM2 in its measured\n                   state "
		"(see security-model.md); each adds a sectag token\n"
		"  --tpm2-pcrs LIST PCRs (sha256 bank) the tpm2 seal depends on: "
		"\"7\" (default,\n                   Secure Boot state), "
		"\"0,7\", ...; \"\" or none: this TPM only\n"
		"  --user NAME      for PAM login with the tag\n"
		"  --name LABEL     a logon key \"sectag:name:LABEL\" for "
		"automation\n"
		"  --store PATH     default %s\n"
		"  --reader R       NFC device by name (nfc0) or index; default: "
		"the first\n                   ISO 14443 device\n"
		"  --timeout S      seconds to wait for the tag (default %d, 0: "
		"forever)\n"
		"Several tags may be enrolled for one target, each with its "
		"own keyslot.\nExit: 0 ok, 1 failed, 2 usage, 3 NFC/reader "
		"unavailable, 4 tag refused or\nnot genuine, 5 no tag within "
		"the timeout.\n", prog, SECTAG_STORE_DEFAULT,
		DEFAULT_TIMEOUT_S);
}

/* The option @c names, or NULL for --timeout and unknown ones. */
static const char **opt_slot(struct enroll_opts *o, int c)
{
	switch (c) {
	case 'k':
		return &o->issuer_key;
	case 'l':
		return &o->luks;
	case 'f':
		return &o->key_file;
	case 'a':
		return &o->auto_open;
	case 'u':
		return &o->user;
	case 'n':
		return &o->name;
	case 's':
		return &o->store;
	case 'r':
		return &o->reader;
	case 'B':
		return &o->bind;
	case 'P':
		return &o->pcrs;
	}
	return NULL;
}

static int set_opt(struct enroll_opts *o, int c, const char *arg)
{
	const char **slot = opt_slot(o, c);

	if (slot) {
		*slot = arg;
		return 0;
	}
	if (c == 't')
		return parse_timeout(arg, &o->timeout_ms);
	return -1;
}

static int check_enroll_opts(const struct enroll_opts *o)
{
	int targets = !!o->luks + !!o->user + !!o->name;

	if (targets != 1) {
		fprintf(stderr, "%s: enroll needs exactly one of --luks, --user, "
			"--name\n", prog);
		return -1;
	}
	if (!o->issuer_key) {
		fprintf(stderr, "%s: enroll needs --issuer-key FILE\n", prog);
		return -1;
	}
	if (!o->luks && (o->key_file || o->auto_open || o->bind)) {
		fprintf(stderr, "%s: --key-file, --auto-open and --bind only go "
			"with --luks\n", prog);
		return -1;
	}
	return 0;
}

/* --bind MODE: host (the default), portable or tpm2 [--tpm2-pcrs]. */
static int check_bind(struct enroll_opts *o)
{
	o->mode = o->bind ? sectag_bind_mode_parse(o->bind) : SECTAG_MODE_HOST;
	if (!o->mode) {
		fprintf(stderr, "%s: --bind: 'host', 'portable' or 'tpm2', not "
			"'%s'\n", prog, o->bind);
		return -1;
	}
	if (o->pcrs && o->mode != SECTAG_MODE_TPM2) {
		fprintf(stderr, "%s: --tpm2-pcrs only goes with --bind tpm2\n",
			prog);
		return -1;
	}
	o->tpm2_pcrs = DEFAULT_TPM2_PCRS;
	if (o->pcrs && sectag_tpm2_pcrs_parse(o->pcrs, &o->tpm2_pcrs)) {
		fprintf(stderr, "%s: --tpm2-pcrs: PCR numbers 0-23, comma "
			"separated, each once (\"7\", \"0,7\"), or \"\" for "
			"none; not '%s'\n", prog, o->pcrs);
		return -1;
	}
	return 0;
}

/* 0 to go on, 1 after --help, -1 on a usage error (said why). */
static int parse_enroll(int argc, char **argv, struct enroll_opts *o)
{
	static const struct option opts[] = {
		{ "issuer-key", required_argument, NULL, 'k' },
		{ "luks", required_argument, NULL, 'l' },
		{ "key-file", required_argument, NULL, 'f' },
		{ "auto-open", required_argument, NULL, 'a' },
		{ "user", required_argument, NULL, 'u' },
		{ "name", required_argument, NULL, 'n' },
		{ "store", required_argument, NULL, 's' },
		{ "reader", required_argument, NULL, 'r' },
		{ "timeout", required_argument, NULL, 't' },
		{ "bind", required_argument, NULL, 'B' },
		{ "tpm2-pcrs", required_argument, NULL, 'P' },
		CLI_OPTS_END
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->store = SECTAG_STORE_DEFAULT;
	o->timeout_ms = DEFAULT_TIMEOUT_S * 1000;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == 'h')
			return 1;
		if (c == '?' || c == ':') {
			getopt_error("enroll", NULL, argv, c);
			return -1;
		}
		if (c && set_opt(o, c, optarg))
			return -1;
	}
	if (optind != argc) {
		fprintf(stderr, "%s enroll: unexpected '%s'\n", prog,
			argv[optind]);
		return -1;
	}
	return check_enroll_opts(o) ? -1 : check_bind(o);
}

static int copy_field(char *dst, size_t size, const char *src,
		      const char *what)
{
	if (strlen(src) >= size) {
		fprintf(stderr, "%s: %s is too long (at most %zu characters)\n",
			prog, what, size - 1);
		return EX_USAGE;
	}
	strcpy(dst, src);
	return 0;
}

/* The volume's UUID is the target; the device path is kept absolute. */
static int luks_target(const struct enroll_opts *o, struct enrolment *e)
{
	struct sectag_binding *b = &e->b;
	int rc;

	if (o->luks[0] == '/')
		rc = copy_field(e->device, sizeof(e->device), o->luks, "DEVICE");
	else
		rc = realpath(o->luks, e->device) ? 0 : fail(-errno, o->luks);
	if (!rc)
		rc = copy_field(b->device, sizeof(b->device), e->device,
				"DEVICE");
	if (!rc && o->auto_open)
		rc = copy_field(b->auto_open, sizeof(b->auto_open),
				o->auto_open, "--auto-open NAME");
	if (rc)
		return rc;
	rc = sectag_luks_uuid(e->device, b->target, sizeof(b->target));
	if (rc) {
		fprintf(stderr, "%s: %s: not a readable LUKS2 volume (%s)\n",
			prog, e->device, strerror(-rc));
		return EX_FAIL;
	}
	return 0;
}

static int user_target(const char *user, struct sectag_binding *b)
{
	int rc = copy_field(b->target, sizeof(b->target), user, "user name");

	if (!rc && !getpwnam(user)) {
		fprintf(stderr, "%s: no user '%s' on this system\n", prog, user);
		return EX_FAIL;
	}
	return rc;
}

/*
 * sectag_binding_invalid() on what the command line told us, before
 * anything happens; the id, the UID and the LUKS slots come later.
 */
static int precheck(const struct sectag_binding *b)
{
	struct sectag_binding t = *b;
	const char *why;

	t.id = 1;
	t.uid[0] = 0x04;
	if (t.kind == SECTAG_BIND_LUKS)
		t.keyslot = t.token = 0;
	why = sectag_binding_invalid(&t);
	OPENSSL_cleanse(&t, sizeof(t));
	if (why) {
		fprintf(stderr, "%s: %s\n", prog, why);
		return EX_USAGE;
	}
	return 0;
}

static int describe_binding(const struct enroll_opts *o, struct enrolment *e)
{
	struct sectag_binding *b = &e->b;
	int rc;

	b->keyslot = -1;
	b->token = -1;
	if (o->luks) {
		b->kind = SECTAG_BIND_LUKS;
		rc = luks_target(o, e);
	} else if (o->user) {
		b->kind = SECTAG_BIND_USER;
		rc = user_target(o->user, b);
	} else {
		b->kind = SECTAG_BIND_NAME;
		rc = copy_field(b->target, sizeof(b->target), o->name, "label");
	}
	return rc ? rc : precheck(b);
}

static int tag_refused(int rc)
{
	fprintf(stderr, "%s: the tag cannot be enrolled: %s\n", prog,
		sectag_issue_strerror(rc));
	switch (rc) {
	case -EKEYREJECTED:
	case -ENOKEY:
	case -EMEDIUMTYPE:
	case -EOPNOTSUPP:
	case -EBADMSG:
		return EX_REFUSED;
	default:
		return EX_FAIL;
	}
}

/*
 * A Random ID tag is found by the agent with its issuer's identification
 * key, which the store keeps; one per store (the agent tries only one
 * per tap), so Random ID tags of a second issuer are refused here.
 */
static int keep_ident_key(struct enrolment *e)
{
	uint8_t idkey[16];
	int rc;

	rc = sectag_ident_key(e->issuer, idkey);
	if (!rc)
		rc = sectag_store_set_ident(&e->st, idkey);
	OPENSSL_cleanse(idkey, sizeof(idkey));
	if (rc == -EEXIST) {
		fprintf(stderr, "%s: this store already identifies Random ID "
			"tags of another issuer key; the agent tries one "
			"identification key per tap, so Random ID tags of only "
			"one issuer can be enrolled on a host (tags without "
			"Random ID: any issuer)\n", prog);
		return EX_REFUSED;
	}
	return rc ? fail(rc, "identification key") : 0;
}

/* Genuine (mutual authentication with its K2), its UID and share. */
static int read_tag(const struct enroll_opts *o, struct enrolment *e)
{
	bool random_id = false;
	struct tap tp;
	int rc;

	rc = tap_begin(&tp, o->reader, o->timeout_ms, "present the tag to enrol");
	if (rc)
		return rc;
	rc = sectag_verify_tag(tp.t, e->issuer, e->share, e->b.uid,
			       &random_id);
	tap_end(&tp);
	e->random_id = random_id;
	if (rc)
		return tag_refused(rc);
	if (random_id) {
		rc = keep_ident_key(e);
		if (rc)
			return rc;
	}
	/* The store keeps K2, never the issuer key. */
	rc = sectag_tag_key(e->issuer, e->b.uid, SECTAG_KEY_READ,
			    e->b.read_key);
	return rc ? fail(rc, "cannot derive the tag's read key") : 0;
}

/* One tag, one binding per target: a second would add nothing. */
static int check_new(const struct enrolment *e)
{
	const struct sectag_binding *b = &e->b, *o;
	char uid[15];
	size_t i;

	for (i = 0; i < e->st.n; i++) {
		o = &e->st.b[i];
		if (o->kind != b->kind || strcmp(o->target, b->target) ||
		    memcmp(o->uid, b->uid, sizeof(b->uid)))
			continue;
		sectag_hex(uid, b->uid, sizeof(b->uid), true);
		fprintf(stderr, "%s: tag %s is already enrolled for %s %s "
			"(binding %u)\n", prog, uid,
			sectag_binding_kind_name(b->kind), b->target, o->id);
		return EX_FAIL;
	}
	return 0;
}

static int luks_add(struct enrolment *e)
{
	int rc;

	rc = sectag_luks_enroll(e->device, e->pass, e->pass_len, e->secret,
				&e->b);
	if (rc)
		fprintf(stderr, "%s: %s: cannot add a keyslot and token: %s\n",
			prog, e->device, strerror(-rc));
	return rc;
}

/*
 * The sectag token beside the keyslot: what the plugin and `sectag
 * unlock` need besides the tag. Portable: the host secret is no secret
 * (it is the token's salt) and the token carries the read key, so that
 * a host that never saw the tag can authenticate it.
 */
static int luks_token(const struct enroll_opts *o, struct enrolment *e)
{
	struct sectag_token tok = {
		.keyslot = e->b.keyslot,
		.mode = o->mode,
		.random_id = e->random_id,
		.key_no = SECTAG_KEY_READ,
	};
	int rc;

	memcpy(tok.uid, e->b.uid, sizeof(tok.uid));
	if (o->mode == SECTAG_MODE_PORTABLE) {
		memcpy(tok.salt, e->b.host_secret, sizeof(tok.salt));
		memcpy(tok.read_key, e->b.read_key, sizeof(tok.read_key));
	}
	if (o->mode == SECTAG_MODE_TPM2)
		tok.tpm2 = e->sealed;
	rc = sectag_luks_token_add(e->device, e->b.target, &tok);
	sectag_token_wipe(&tok);
	if (rc < 0)
		fprintf(stderr, "%s: %s: cannot add the sectag token: %s\n",
			prog, e->device, strerror(-rc));
	return rc < 0 ? rc : 0;
}

/* Say what the TPM refused, and how to go on. */
static int tpm2_failed(const struct sectag_tpm2_err *err)
{
	char why[256];

	fprintf(stderr, "%s: --bind tpm2: %s\n", prog,
		sectag_tpm2_strerror(err, why, sizeof(why)));
	if (err->rc == -ENODEV)
		fprintf(stderr, "%s: enrol with --bind host or portable on a "
			"machine without a TPM2\n", prog);
	return EX_FAIL;
}

/* Before the passphrase and the tap: a TPM with these PCRs is there. */
static int tpm2_precheck(const struct enroll_opts *o)
{
	struct sectag_tpm2_err err;

	if (!o->luks || o->mode != SECTAG_MODE_TPM2)
		return 0;
	return sectag_tpm2_probe(o->tpm2_pcrs, &err) ? tpm2_failed(&err) : 0;
}

/*
 * bind tpm2: the TPM seals the read key and the host secret (for the
 * token); the store keeps the read key (the agent authenticates taps
 * with it) and no host secret at all.
 */
static int tpm2_seal(const struct enroll_opts *o, struct enrolment *e)
{
	struct sectag_token tok = { 0 };
	struct sectag_tpm2_err err;
	int rc;

	rc = sectag_tpm2_seal_token(&tok, o->tpm2_pcrs, e->b.read_key,
				    e->b.host_secret, &err);
	if (!rc)
		e->sealed = tok.tpm2;
	sectag_token_wipe(&tok);
	return rc ? tpm2_failed(&err) : 0;
}

/* The store could not take the binding: take the keyslot back off. */
static void luks_undo(struct enrolment *e)
{
	int rc = sectag_luks_revoke(e->device, &e->b);

	if (rc)
		fprintf(stderr, "%s: %s: keyslot %d and token %d stay on the "
			"volume (%s); remove them with cryptsetup luksKillSlot "
			"and token remove\n", prog, e->device, e->b.keyslot,
			e->b.token, strerror(-rc));
}

/*
 * Keyslot and token first, then the store: a crash in between leaves a
 * keyslot nobody can open (its host secret was never saved), never a
 * binding whose keyslot might be someone else's.
 */
static int create_binding(const struct enroll_opts *o, struct enrolment *e)
{
	bool luks = e->b.kind == SECTAG_BIND_LUKS;
	uint32_t id;
	int rc;

	if (RAND_priv_bytes(e->b.host_secret, sizeof(e->b.host_secret)) != 1)
		return fail(-EIO, "no random host secret");
	rc = sectag_binding_secret(&e->b, e->share, e->secret);
	if (rc)
		return fail(rc, "cannot derive the unlock secret");
	if (luks && o->mode == SECTAG_MODE_TPM2 && tpm2_seal(o, e))
		return EX_FAIL;
	if (luks && luks_add(e))
		return EX_FAIL;
	if (luks && luks_token(o, e)) {
		luks_undo(e);
		return EX_FAIL;
	}
	if (luks && o->mode == SECTAG_MODE_TPM2) {
		OPENSSL_cleanse(e->b.host_secret, sizeof(e->b.host_secret));
		e->b.tpm2 = true;
	}
	rc = sectag_store_add(&e->st, &e->b, &id);
	if (rc)
		fail(rc, "cannot add the binding");
	else
		rc = store_commit(o->store, &e->st);
	if (rc && luks)
		luks_undo(e);
	if (rc)
		return EX_FAIL;
	e->b.id = id;
	return 0;
}

static int load_issuer(const char *path, uint8_t *key)
{
	int rc = sectag_issuer_load(path, key);

	if (rc) {
		fprintf(stderr, "%s: %s: %s\n", prog, path,
			sectag_issuer_strerror(rc));
		return EX_FAIL;
	}
	return 0;
}

static void print_enrolled(const struct enroll_opts *o,
			   const struct sectag_binding *b)
{
	const char *bind = b->kind == SECTAG_BIND_LUKS ?
			   sectag_bind_mode_name(o->mode) : NULL;

	if (json) {
		jout_print(binding_json(b, bind));
		return;
	}
	printf("enrolled ");
	print_row(b, bind);
}

static int enroll_run(const struct enroll_opts *o, struct enrolment *e,
		      int *lock)
{
	int rc;

	rc = describe_binding(o, e);
	if (rc == EX_USAGE)	/* a bad value on the command line */
		enroll_usage(stderr);
	if (!rc)
		rc = tpm2_precheck(o);
	if (!rc)
		rc = store_open(o->store, &e->st, lock, true);
	if (!rc)
		rc = load_issuer(o->issuer_key, e->issuer);
	if (!rc && o->luks)
		rc = get_passphrase(o, e);
	if (!rc)
		rc = read_tag(o, e);
	if (!rc)
		rc = check_new(e);
	if (!rc)
		rc = create_binding(o, e);
	if (!rc)
		print_enrolled(o, &e->b);
	return rc;
}

int cmd_enroll(int argc, char **argv)
{
	struct enroll_opts o;
	struct enrolment *e;
	int lock = -1, rc;

	rc = parse_enroll(argc, argv, &o);
	if (rc) {	/* the reason is said: the usage follows it */
		enroll_usage(rc > 0 ? stdout : stderr);
		return rc > 0 ? 0 : EX_USAGE;
	}
	e = OPENSSL_zalloc(sizeof(*e));
	if (!e)
		return fail(-ENOMEM, "enroll");
	crypt_set_log_callback(NULL, crypt_errors, NULL);
	rc = enroll_run(&o, e, &lock);
	drop_passphrase(e);
	sectag_store_free(&e->st);
	OPENSSL_clear_free(e, sizeof(*e));
	if (lock >= 0)
		close(lock);
	return rc;
}

/* ---------------------------------------------------------------------- */
/* list                                                                   */

static void list_usage(FILE *f)
{
	fprintf(f, "usage: %s list [--json] [--store PATH]\n"
		"The enrolled bindings: id, kind, target (LUKS UUID, user or "
		"label), the tag's\nUID, and for LUKS the keyslot, token, "
		"auto-open name and device. No secrets.\n", prog);
}

/*
 * Options of list and revoke: --store, --json, and revoke's --force.
 * Returns -1 to go on, else the exit code (0 after --help).
 */
static int parse_small(int argc, char **argv, const char **store,
		       bool *force, void (*usage)(FILE *))
{
	static const struct option opts[] = {
		{ "store", required_argument, NULL, 's' },
		{ "force", no_argument, NULL, 'f' },
		CLI_OPTS_END
	};
	int c;

	*store = SECTAG_STORE_DEFAULT;
	optind = 1;
	/* Options may follow revoke's ID: let getopt permute. */
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return 0;
		}
		if (c == 's')
			*store = optarg;
		else if (c == 'f' && force)
			*force = true;
		else if (c == 'f')
			return usage_error(argv[0], usage, "option '%s' does "
					   "not apply", argv[optind - 1]);
		else if (c)
			return getopt_error(argv[0], usage, argv, c);
	}
	return -1;
}

static void print_list(const struct sectag_store *st)
{
	json_object *a = json ? json_object_new_array() : NULL;
	size_t i;

	if (!a && st->n)
		printf("ID   KIND  TARGET                               UID\n");
	for (i = 0; i < st->n; i++) {
		if (a)
			json_object_array_add(a, binding_json(&st->b[i],
							      bind_mode(&st->b[i])));
		else
			print_row(&st->b[i], bind_mode(&st->b[i]));
	}
	if (a)
		jout_print(a);
}

int cmd_list(int argc, char **argv)
{
	struct sectag_store st;
	const char *path;
	int rc;

	rc = parse_small(argc, argv, &path, NULL, list_usage);
	if (rc >= 0)
		return rc;
	if (optind != argc)
		return usage_error("list", list_usage, "unexpected '%s'",
				   argv[optind]);
	rc = sectag_store_load(path, &st);
	if (rc) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, store_strerror(rc));
		return EX_FAIL;
	}
	print_list(&st);
	sectag_store_free(&st);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* revoke                                                                 */

static void revoke_usage(FILE *f)
{
	fprintf(f, "usage: %s revoke ID [--store PATH] [--force] [--json]\n"
		"Remove binding ID: for LUKS its keyslot and token (only while "
		"the token still\nvouches for the keyslot, and never the "
		"volume's last keyslot), its key in\nthe kernel keyring, then "
		"the binding itself. Other tags enrolled for the\nsame target "
		"keep working.\n"
		"  --force   forget the binding even when its volume is absent "
		"or its\n            keyslot cannot be removed (it then stays "
		"on the volume)\n", prog);
}

static void luks_revoke_failed(const struct sectag_binding *b, int rc)
{
	if (rc == -ENODEV)
		fprintf(stderr, "%s: volume %s not found (neither %s nor "
			"/dev/disk/by-uuid/%s): attach it and run again\n",
			prog, b->target, b->device, b->target);
	else if (rc == -ESTALE)
		fprintf(stderr, "%s: volume %s: keyslot %d / token %d are not "
			"this binding's any more: nothing removed from it\n",
			prog, b->target, b->keyslot, b->token);
	else if (rc == -EBUSY)
		fprintf(stderr, "%s: volume %s: keyslot %d is its last one; "
			"removing it would lose the data: add a passphrase "
			"first (cryptsetup luksAddKey)\n", prog, b->target,
			b->keyslot);
	else
		fprintf(stderr, "%s: volume %s: cannot remove keyslot %d and "
			"token %d: %s\n", prog, b->target, b->keyslot, b->token,
			strerror(-rc));
}

/* The volume and keyring side; 0 to go on with the store. */
static int revoke_binding(const struct sectag_binding *b, bool force)
{
	int rc = 0;

	if (b->kind == SECTAG_BIND_LUKS)
		rc = sectag_luks_revoke(NULL, b);
	if (rc) {
		luks_revoke_failed(b, rc);
		if (!force) {
			fprintf(stderr, "%s: binding %u kept; --force forgets "
				"it anyway\n", prog, b->id);
			return EX_FAIL;
		}
	}
	rc = sectag_keyring_revoke(b);
	if (rc)
		fprintf(stderr, "%s: warning: cannot revoke the key of "
			"binding %u in the keyring: %s\n", prog, b->id,
			strerror(-rc));
	return 0;
}

static int revoke_run(const char *path, uint32_t id, bool force)
{
	struct sectag_binding *b;
	struct sectag_store st;
	int lock, rc;

	rc = store_open(path, &st, &lock, false);
	if (rc)
		return rc;
	b = sectag_store_find(&st, id);
	if (!b) {
		fprintf(stderr, "%s: no binding %u in %s ('%s list')\n", prog,
			id, path, prog);
		rc = EX_FAIL;
	}
	if (!rc)
		rc = revoke_binding(b, force);
	if (!rc && (sectag_store_remove(&st, id) || store_commit(path, &st)))
		rc = EX_FAIL;
	if (!rc && json) {
		json_object *o = json_object_new_object();

		jout_int(o, "revoked", id);
		jout_print(o);
	} else if (!rc) {
		printf("revoked binding %u\n", id);
	}
	sectag_store_free(&st);
	if (lock >= 0)
		close(lock);
	return rc;
}

int cmd_revoke(int argc, char **argv)
{
	const char *path;
	bool force = false;
	uint32_t id;
	int rc;

	rc = parse_small(argc, argv, &path, &force, revoke_usage);
	if (rc >= 0)
		return rc;
	if (optind != argc - 1)
		return usage_error("revoke", revoke_usage, optind == argc ?
				   "ID is missing" : "unexpected '%s'",
				   argv[argc - 1]);
	if (parse_u32(argv[optind], &id) || !id)
		return usage_error("revoke", revoke_usage, "ID is a binding's "
				   "id ('%s list')", prog);
	crypt_set_log_callback(NULL, crypt_errors, NULL);
	return revoke_run(path, id, force);
}
