// SPDX-License-Identifier: GPL-2.0
/*
 * sectag: command-line front end of libsectag.
 *
 * Exit codes: 0 success, 1 operation failed, 2 usage error,
 * 3 NFC subsystem, simulator or reader not available, 4 refused or not
 * genuine, 5 no tag presented in time (see cli.h and sectag(1)).
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/nfc.h>

#include "hex.h"
#include "version.h"
#include "cli.h"
#include "jsonout.h"
#include "nfc.h"
#include "sim.h"

const char *prog = "sectag";
int json;

struct verb {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

int fail(int rc, const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(-rc));
	if (rc == -EPERM)
		fprintf(stderr, "%s: this needs CAP_NET_ADMIN (run as root)\n",
			prog);
	return EX_FAIL;
}

static int open_sim(struct sectag_sim **sim)
{
	int rc = sectag_sim_open(sim);

	if (rc) {
		fprintf(stderr, "%s: simulator not available (%s); is the "
			"nfc_sectag module loaded?\n", prog, strerror(-rc));
		return EX_UNAVAIL;
	}
	return 0;
}

int open_nfc(struct sectag_nfc **nfc)
{
	int rc = sectag_nfc_open(nfc);

	if (rc) {
		fprintf(stderr, "%s: NFC subsystem not available (%s); "
			"try: modprobe nfc\n", prog, strerror(-rc));
		return EX_UNAVAIL;
	}
	return 0;
}

int parse_u32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || !*s || *end || v > UINT32_MAX) {
		fprintf(stderr, "%s: not a number: '%s'\n", prog, s);
		return -1;
	}
	*out = v;
	return 0;
}

int usage_error(const char *verb, void (*usage)(FILE *), const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s%s%s: ", prog, verb ? " " : "", verb ? verb : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (usage)
		usage(stderr);
	return EX_USAGE;
}

int getopt_error(const char *verb, void (*usage)(FILE *), char **argv, int c)
{
	const char *arg = argv[optind - 1];

	if (c == ':')
		return usage_error(verb, usage, "option '%s' needs a value", arg);
	if (optopt > ' ' && optopt < 0x7f && arg[0] == '-' && arg[1] != '-')
		return usage_error(verb, usage, "unknown option '-%c'", optopt);
	if (strchr(arg, '='))
		return usage_error(verb, usage, "option '%s' takes no value",
				   arg);
	return usage_error(verb, usage, "unknown option '%s'", arg);
}

/* ---------------------------------------------------------------------- */
/* sim                                                                    */

static void sim_usage(FILE *f)
{
	fprintf(f, "usage: %s sim reader add | del READER | list\n"
		"       %s sim tag new [--uid HEX] [--on READER]\n"
		"       %s sim tag del TAG | list | place TAG READER [FRAMES] "
		"| remove TAG\n"
		"Virtual readers and tags of the nfc_sectag module (--json: "
		"machine-readable).\n"
		"  READER   a virtual reader's id ('sim reader list') or its "
		"device name (nfc0)\n"
		"  FRAMES   the tag leaves the field by itself after answering "
		"that many frames\n", prog, prog, prog);
}

static json_object *reader_json(const struct sectag_sim_reader *r)
{
	json_object *o = json_object_new_object();

	jout_int(o, "id", r->id);
	jout_str(o, "device", r->name);
	jout_int(o, "nfc_index", r->nfc_index);
	jout_bool(o, "owned", r->flags & NFC_SECTAG_F_OWNED);
	jout_bool(o, "powered", r->powered);
	jout_bool(o, "polling", r->polling);
	return o;
}

static void print_reader(const struct sectag_sim_reader *r)
{
	printf("reader %u  %-6s %s%s%s\n", r->id, r->name,
	       r->powered ? "powered" : "off",
	       r->polling ? ", polling" : "",
	       r->flags & NFC_SECTAG_F_OWNED ? ", owned" : "");
}

/* "1 (nfc0), 2 (nfc1)": the virtual readers, for an error message. */
static void sim_reader_names(const struct sectag_sim_reader *v, size_t n)
{
	size_t i;

	fprintf(stderr, "%s: virtual readers:%s", prog, n ? "" : " none");
	for (i = 0; i < n; i++)
		fprintf(stderr, "%s %u (%s)", i ? "," : "", v[i].id, v[i].name);
	fputc('\n', stderr);
}

/*
 * A virtual reader by id or by device name, as --on and 'place' take
 * it: the id, or EX_UNAVAIL after listing the readers there are.
 */
static int sim_find_reader(struct sectag_sim *sim, const char *want,
			   uint32_t *id)
{
	struct sectag_sim_reader *v;
	char *end;
	unsigned long num;
	size_t n, i;
	int rc;

	rc = sectag_sim_reader_list(sim, &v, &n);
	if (rc)
		return fail(rc, "cannot list virtual readers");
	errno = 0;
	num = strtoul(want, &end, 10);
	for (i = 0; i < n; i++)
		if (!strcmp(v[i].name, want) ||
		    (!errno && *want && !*end && num == v[i].id))
			break;
	if (i < n) {
		*id = v[i].id;
		free(v);
		return 0;
	}
	fprintf(stderr, "%s: no virtual reader '%s'\n", prog, want);
	sim_reader_names(v, n);
	free(v);
	return EX_UNAVAIL;
}

static int reader_list(struct sectag_sim *sim)
{
	struct sectag_sim_reader *list;
	json_object *a;
	size_t n, i;
	int rc;

	rc = sectag_sim_reader_list(sim, &list, &n);
	if (rc)
		return fail(rc, "cannot list readers");
	a = json ? json_object_new_array() : NULL;
	for (i = 0; i < n; i++)
		if (json)
			json_object_array_add(a, reader_json(&list[i]));
		else
			print_reader(&list[i]);
	if (json)
		jout_print(a);
	free(list);
	return 0;
}

static int sim_reader(int argc, char **argv)
{
	struct sectag_sim_reader r;
	struct sectag_sim *sim;
	uint32_t id;
	int rc;

	if (argc < 1)
		return usage_error("sim", sim_usage, "'reader' needs add, del "
				   "or list");
	if (strcmp(argv[0], "add") && strcmp(argv[0], "del") &&
	    strcmp(argv[0], "list"))
		return usage_error("sim", sim_usage, "unknown 'reader' "
				   "command '%s'", argv[0]);
	if (argc != (strcmp(argv[0], "del") ? 1 : 2))
		return usage_error("sim", sim_usage, "wrong number of "
				   "arguments for 'reader %s'", argv[0]);
	rc = open_sim(&sim);
	if (rc)
		return rc;
	if (!strcmp(argv[0], "add")) {
		rc = sectag_sim_reader_add(sim, 0, &r);
		if (rc)
			rc = fail(rc, "cannot add reader");
		else if (json)
			jout_print(reader_json(&r));
		else
			print_reader(&r);
	} else if (!strcmp(argv[0], "del")) {
		rc = sim_find_reader(sim, argv[1], &id);
		if (!rc)
			rc = sectag_sim_reader_del(sim, id);
		if (rc < 0)
			rc = fail(rc, "cannot delete reader");
	} else {
		rc = reader_list(sim);
	}
	sectag_sim_close(sim);
	return rc;
}

static int parse_uid(const char *hex, uint8_t uid[7])
{
	size_t i;
	unsigned int b;

	if (strlen(hex) != 14 || strspn(hex, "0123456789abcdefABCDEF") != 14)
		return -1;
	for (i = 0; i < 7; i++) {
		if (sscanf(hex + 2 * i, "%2x", &b) != 1)
			return -1;
		uid[i] = b;
	}
	return 0;
}

static const char *profile_name(const struct sectag_sim_tag *t)
{
	return t->profile == NFC_SECTAG_PROFILE_RELAY ? "relay" : "ntag424";
}

static json_object *tag_json(const struct sectag_sim_tag *t)
{
	json_object *o = json_object_new_object();

	jout_int(o, "id", t->id);
	jout_hex(o, "uid", t->uid, 7);
	jout_str(o, "profile", profile_name(t));
	jout_int(o, "reader", t->reader_id);
	jout_bool(o, "personalised", t->personalised);
	jout_bool(o, "random_id", t->random_id);
	jout_int(o, "failed_auths", t->fail_ctr);
	return o;
}

static void print_tag(const struct sectag_sim_tag *t)
{
	char uid[15];

	sectag_hex(uid, t->uid, 7, true);
	printf("tag %u  uid %s  %s  %s", t->id, uid, profile_name(t),
	       t->personalised ? "personalised" : "virgin");
	if (t->random_id)
		printf(", random ID");
	if (t->fail_ctr)
		printf(", %u failed auths", t->fail_ctr);
	if (t->reader_id)
		printf(", on reader %u", t->reader_id);
	printf("\n");
}

/* sim tag new's options; 0, or an exit code after saying why. */
static int parse_tag_new(int argc, char **argv, uint8_t *uid, bool *has_uid,
			 const char **on)
{
	static const struct option opts[] = {
		{ "uid", required_argument, NULL, 'u' },
		{ "on", required_argument, NULL, 'o' },
		CLI_OPTS_END
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == 'u' && parse_uid(optarg, uid))
			return usage_error("sim", sim_usage, "--uid wants 7 "
					   "bytes in hex (14 digits), not "
					   "'%s'", optarg);
		if (c == 'u')
			*has_uid = true;
		else if (c == 'o')
			*on = optarg;
		else if (c == 'h')
			return usage_error("sim", sim_usage, "--help goes "
					   "before 'tag'");
		else if (c)
			return getopt_error("sim", sim_usage, argv, c);
	}
	if (optind != argc)
		return usage_error("sim", sim_usage, "unexpected '%s'",
				   argv[optind]);
	return 0;
}

static int tag_new(struct sectag_sim *sim, const uint8_t *uid,
		   const char *on)
{
	struct sectag_sim_tag t;
	uint32_t reader = 0;
	int rc;

	if (on) {
		rc = sim_find_reader(sim, on, &reader);
		if (rc)
			return rc;
	}
	rc = sectag_sim_tag_add(sim, NFC_SECTAG_PROFILE_NTAG424, uid, 0, &t);
	if (rc)
		return fail(rc, "cannot create tag");
	if (reader) {
		rc = sectag_sim_tag_place(sim, t.id, reader);
		if (rc) {
			sectag_sim_tag_del(sim, t.id);
			return fail(rc, "cannot place tag on that reader");
		}
		t.reader_id = reader;
	}
	if (json)
		jout_print(tag_json(&t));
	else
		print_tag(&t);
	return 0;
}

static int tag_list(struct sectag_sim *sim)
{
	struct sectag_sim_tag *list;
	json_object *a;
	size_t n, i;
	int rc;

	rc = sectag_sim_tag_list(sim, &list, &n);
	if (rc)
		return fail(rc, "cannot list tags");
	a = json ? json_object_new_array() : NULL;
	for (i = 0; i < n; i++)
		if (a)
			json_object_array_add(a, tag_json(&list[i]));
		else
			print_tag(&list[i]);
	if (a)
		jout_print(a);
	free(list);
	return 0;
}

/* The argument count of each 'sim tag' command (new parses its own). */
static int tag_args_ok(int argc, char **argv)
{
	static const struct {
		const char *cmd;
		int min, max;
	} t[] = {
		{ "new", 1, 64 }, { "list", 1, 1 }, { "del", 2, 2 },
		{ "remove", 2, 2 }, { "place", 3, 4 },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (!strcmp(argv[0], t[i].cmd))
			break;
	if (i == sizeof(t) / sizeof(t[0]))
		return usage_error("sim", sim_usage, "unknown 'tag' command "
				   "'%s'", argv[0]);
	if (argc < t[i].min || argc > t[i].max)
		return usage_error("sim", sim_usage, "wrong number of "
				   "arguments for 'tag %s'", argv[0]);
	return 0;
}

/* TAG and FRAMES of del, remove and place: numbers, said before anything. */
static int tag_nums(int argc, char **argv, uint32_t *tag, uint32_t *frames)
{
	*frames = 0;
	if (argc >= 2 && parse_u32(argv[1], tag))
		return usage_error("sim", sim_usage, "TAG is a tag's id");
	if (argc == 4 && (parse_u32(argv[3], frames) || !*frames))
		return usage_error("sim", sim_usage, "FRAMES is a number "
				   "above 0");
	return 0;
}

static int tag_run(struct sectag_sim *sim, char **argv, uint32_t a,
		   uint32_t frames)
{
	uint32_t b;
	int rc;

	if (!strcmp(argv[0], "list"))
		return tag_list(sim);
	if (!strcmp(argv[0], "del")) {
		rc = sectag_sim_tag_del(sim, a);
		return rc ? fail(rc, "cannot delete tag") : 0;
	}
	if (!strcmp(argv[0], "remove")) {
		rc = sectag_sim_tag_remove(sim, a);
		return rc ? fail(rc, "cannot remove tag") : 0;
	}
	rc = sim_find_reader(sim, argv[2], &b);
	if (rc)
		return rc;
	rc = sectag_sim_tag_place_n(sim, a, b, frames);
	return rc ? fail(rc, "cannot place tag") : 0;
}

static int sim_tag(int argc, char **argv)
{
	uint8_t uid[7];
	const char *on = NULL;
	bool has_uid = false;
	struct sectag_sim *sim;
	uint32_t a = 0, frames;
	int rc;

	if (argc < 1)
		return usage_error("sim", sim_usage, "'tag' needs new, del, "
				   "list, place or remove");
	rc = tag_args_ok(argc, argv);
	if (!rc && !strcmp(argv[0], "new"))
		rc = parse_tag_new(argc, argv, uid, &has_uid, &on);
	else if (!rc)
		rc = tag_nums(argc, argv, &a, &frames);
	if (rc)
		return rc;
	rc = open_sim(&sim);
	if (rc)
		return rc;
	if (!strcmp(argv[0], "new"))
		rc = tag_new(sim, has_uid ? uid : NULL, on);
	else
		rc = tag_run(sim, argv, a, frames);
	sectag_sim_close(sim);
	return rc;
}

/*
 * Removes every --json (setting json) before a "--": sim's commands
 * are positional, and --json may come anywhere among them.
 */
static int strip_json(int argc, char **argv)
{
	bool options = true;
	int i, n = 0;

	for (i = 0; i < argc; i++) {
		if (options && !strcmp(argv[i], "--json")) {
			json = 1;
			continue;
		}
		options = options && strcmp(argv[i], "--");
		argv[n++] = argv[i];
	}
	argv[n] = NULL;
	return n;
}

static int cmd_sim(int argc, char **argv)
{
	argc = strip_json(argc, argv) - 1;	/* without the verb itself */
	argv++;
	if (argc >= 1 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h"))) {
		sim_usage(stdout);
		return 0;
	}
	if (argc >= 1 && !strcmp(argv[0], "reader"))
		return sim_reader(argc - 1, argv + 1);
	if (argc >= 1 && !strcmp(argv[0], "tag"))
		return sim_tag(argc - 1, argv + 1);
	if (argc < 1)
		return usage_error("sim", sim_usage, "'reader' or 'tag' "
				   "expected");
	return usage_error("sim", sim_usage, "unknown 'sim' command '%s'",
			   argv[0]);
}

/* ---------------------------------------------------------------------- */
/* readers                                                                */

static void readers_usage(FILE *f)
{
	fprintf(f, "usage: %s readers [--json]\n"
		"List NFC devices known to the kernel, and PC/SC readers "
		"(pcsc:NAME) when\npcscd runs. --reader takes a name (nfc0, "
		"pcsc:NAME) or an NFC device's index.\n", prog);
}

static void nfc_readers(const struct sectag_nfc_dev *d, size_t n,
			json_object *a)
{
	json_object *o;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!a) {
			printf("%-6s index %u  %s  protocols 0x%x\n", d[i].name,
			       d[i].idx, d[i].powered ? "powered" : "off",
			       d[i].protocols);
			continue;
		}
		o = json_object_new_object();
		jout_int(o, "index", d[i].idx);
		jout_str(o, "name", d[i].name);
		jout_bool(o, "powered", d[i].powered);
		jout_bool(o, "iso14443", d[i].protocols & NFC_PROTO_ISO14443_MASK);
		json_object_array_add(a, o);
	}
}

/* PC/SC readers, when pcscd runs; none is nothing to say. */
static void pcsc_readers(json_object *a)
{
	char name[sizeof(SECTAG_PCSC_PREFIX) + SECTAG_PCSC_NAME_MAX];
	struct sectag_pcsc_reader *v;
	struct sectag_pcsc *p;
	json_object *o;
	size_t n, i;

	if (sectag_pcsc_open(&p))
		return;
	if (sectag_pcsc_list(p, &v, &n)) {
		sectag_pcsc_close(p);
		return;
	}
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), SECTAG_PCSC_PREFIX "%s", v[i].name);
		if (!a) {
			printf("%s  (PC/SC)  %s\n", name, v[i].card ?
			       "card present" : v[i].mute ? "mute card" :
			       "no card");
			continue;
		}
		o = json_object_new_object();
		jout_str(o, "name", name);
		jout_bool(o, "pcsc", true);
		jout_bool(o, "card", v[i].card);
		jout_bool(o, "iso14443", true);
		json_object_array_add(a, o);
	}
	free(v);
	sectag_pcsc_close(p);
}

static int cmd_readers(int argc, char **argv)
{
	static const struct option opts[] = { CLI_OPTS_END };
	struct sectag_nfc_dev *devs = NULL;
	struct sectag_nfc *nfc;
	json_object *a;
	size_t n = 0;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c == 'h') {
			readers_usage(stdout);
			return 0;
		}
		if (c)
			return getopt_error("readers", readers_usage, argv, c);
	}
	if (optind != argc)
		return usage_error("readers", readers_usage, "unexpected '%s'",
				   argv[optind]);
	/* Without kernel NFC, PC/SC readers are still worth listing. */
	rc = open_nfc(&nfc);
	if (!rc) {
		rc = sectag_nfc_list(nfc, &devs, &n);
		sectag_nfc_close(nfc);
		rc = rc ? fail(rc, "cannot list NFC devices") : 0;
	}
	a = json ? json_object_new_array() : NULL;
	nfc_readers(devs, rc ? 0 : n, a);
	pcsc_readers(a);
	if (a)
		jout_print(a);
	free(devs);
	return rc;
}

static const struct verb verbs[] = {
	{ "readers", cmd_readers, "list NFC devices and PC/SC readers" },
	{ "scan", cmd_scan, "wait for a tag: UID, version, virgin or issued" },
	{ "provision", cmd_provision, "issue a virgin tag with an issuer key" },
	{ "verify", cmd_verify, "check a tag is genuine (mutual auth)" },
	{ "keygen", cmd_keygen, "create an issuer key file" },
	{ "enroll", cmd_enroll, "bind a tag to a LUKS2 volume, user or label" },
	{ "list", cmd_list, "list enrolled bindings (no secrets)" },
	{ "revoke", cmd_revoke, "remove a binding, its keyslot and token" },
	{ "unlock", cmd_unlock, "open a LUKS2 volume with one tap" },
	{ "keyscript", cmd_keyscript, "crypttab keyscript: a tap, the passphrase on stdout" },
	{ "initramfs-store", cmd_initramfs_store, "the store entries an initramfs needs" },
	{ "sim", cmd_sim, "simulator: virtual readers and tags" },
	{ "status", cmd_status, "readers, agent, enrolments, conflicts" },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: %s [--json] VERB [ARGS]\n       %s --version\n\n"
		"verbs:\n", prog, prog);
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(f, "  %-10s %s\n", verbs[i].name, verbs[i].help);
	fprintf(f, "\n'%s VERB --help' for details; man sectag. --json may "
		"come anywhere on the\nline. Exit codes: 0 ok, 1 failed, 2 "
		"usage, 3 NFC/simulator/reader\nunavailable, 4 refused or not "
		"genuine, 5 no tag in time.\n", prog);
}

int main(int argc, char **argv)
{
	size_t i;

	opterr = 0;	/* usage_error() says what is wrong, once */
	while (argc > 1 && argv[1][0] == '-') {
		if (!strcmp(argv[1], "--json")) {
			json = 1;
		} else if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[1], "--version")) {
			puts("sectag " SECTAG_VERSION);
			return 0;
		} else {
			return usage_error(NULL, usage, "unknown option '%s'",
					   argv[1]);
		}
		argv++;
		argc--;
	}
	if (argc < 2)
		return usage_error(NULL, usage, "no verb given");
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(argv[1], verbs[i].name))
			return verbs[i].fn(argc - 1, argv + 1);
	return usage_error(NULL, usage, "unknown verb '%s'", argv[1]);
}
