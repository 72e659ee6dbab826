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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/nfc.h>

#include "hex.h"
#include "version.h"
#include "cli.h"
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

static void print_reader(const struct sectag_sim_reader *r, int first)
{
	if (json)
		printf("%s{\"id\":%u,\"device\":\"%s\",\"nfc_index\":%u,"
		       "\"owned\":%s,\"powered\":%s,\"polling\":%s}",
		       first ? "" : ",", r->id, r->name, r->nfc_index,
		       r->flags & NFC_SECTAG_F_OWNED ? "true" : "false",
		       r->powered ? "true" : "false",
		       r->polling ? "true" : "false");
	else
		printf("reader %u  %-6s %s%s%s\n", r->id, r->name,
		       r->powered ? "powered" : "off",
		       r->polling ? ", polling" : "",
		       r->flags & NFC_SECTAG_F_OWNED ? ", owned" : "");
}

static int sim_reader(int argc, char **argv)
{
	struct sectag_sim_reader r, *list;
	struct sectag_sim *sim;
	uint32_t id;
	size_t n, i;
	int rc;

	if (argc < 1 || !strcmp(argv[0], "--help")) {
		printf("usage: %s sim reader add | del ID | list [--json]\n",
		       prog);
		return argc < 1 ? EX_USAGE : 0;
	}
	rc = open_sim(&sim);
	if (rc)
		return rc;
	if (!strcmp(argv[0], "add") && argc == 1) {
		rc = sectag_sim_reader_add(sim, 0, &r);
		if (!rc)
			print_reader(&r, 1);
		rc = rc ? fail(rc, "cannot add reader") : 0;
		if (!rc && json)
			printf("\n");
	} else if (!strcmp(argv[0], "del") && argc == 2) {
		rc = parse_u32(argv[1], &id) ? EX_USAGE :
		     sectag_sim_reader_del(sim, id);
		if (rc < 0)
			rc = fail(rc, "cannot delete reader");
	} else if (!strcmp(argv[0], "list") && argc == 1) {
		rc = sectag_sim_reader_list(sim, &list, &n);
		if (rc) {
			rc = fail(rc, "cannot list readers");
		} else {
			if (json)
				printf("[");
			for (i = 0; i < n; i++)
				print_reader(&list[i], i == 0);
			if (json)
				printf("]\n");
			free(list);
		}
	} else {
		fprintf(stderr, "%s: bad 'sim reader' usage; see --help\n",
			prog);
		rc = EX_USAGE;
	}
	sectag_sim_close(sim);
	return rc;
}

static int parse_uid(const char *hex, uint8_t uid[7])
{
	size_t i;
	unsigned int b;

	if (strlen(hex) != 14)
		goto bad;
	for (i = 0; i < 7; i++) {
		if (sscanf(hex + 2 * i, "%2x", &b) != 1)
			goto bad;
		uid[i] = b;
	}
	return 0;
bad:
	fprintf(stderr, "%s: --uid wants 7 bytes in hex (14 digits), got '%s'\n",
		prog, hex);
	return -1;
}

static void print_tag(const struct sectag_sim_tag *t, int first)
{
	char uid[15];

	sectag_hex(uid, t->uid, 7, true);
	if (json) {
		printf("%s{\"id\":%u,\"uid\":\"%s\",\"profile\":\"%s\","
		       "\"reader\":%u,\"personalised\":%s,\"random_id\":%s,"
		       "\"failed_auths\":%u}", first ? "" : ",", t->id, uid,
		       t->profile == NFC_SECTAG_PROFILE_RELAY ? "relay" : "ntag424",
		       t->reader_id, t->personalised ? "true" : "false",
		       t->random_id ? "true" : "false", t->fail_ctr);
		return;
	}
	printf("tag %u  uid %s  %s  %s", t->id, uid,
	       t->profile == NFC_SECTAG_PROFILE_RELAY ? "relay" : "ntag424",
	       t->personalised ? "personalised" : "virgin");
	if (t->random_id)
		printf(", random ID");
	if (t->fail_ctr)
		printf(", %u failed auths", t->fail_ctr);
	if (t->reader_id)
		printf(", on reader %u", t->reader_id);
	printf("\n");
}

static int tag_new(struct sectag_sim *sim, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "uid", required_argument, NULL, 'u' },
		{ "on", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	uint8_t uid[7], *uidp = NULL;
	struct sectag_sim_tag t;
	uint32_t reader = 0;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'u' && !parse_uid(optarg, uid))
			uidp = uid;
		else if (c != 'o' || parse_u32(optarg, &reader))
			return EX_USAGE;
	}
	if (optind != argc)
		return EX_USAGE;
	rc = sectag_sim_tag_add(sim, NFC_SECTAG_PROFILE_NTAG424, uidp, 0, &t);
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
	print_tag(&t, 1);
	if (json)
		printf("\n");
	return 0;
}

static int tag_list(struct sectag_sim *sim)
{
	struct sectag_sim_tag *list;
	size_t n, i;
	int rc;

	rc = sectag_sim_tag_list(sim, &list, &n);
	if (rc)
		return fail(rc, "cannot list tags");
	if (json)
		printf("[");
	for (i = 0; i < n; i++)
		print_tag(&list[i], i == 0);
	if (json)
		printf("]\n");
	free(list);
	return 0;
}

static int sim_tag(int argc, char **argv)
{
	struct sectag_sim *sim;
	uint32_t a, b;
	int rc;

	if (argc < 1 || !strcmp(argv[0], "--help")) {
		printf("usage: %s sim tag new [--uid HEX] [--on READER]\n"
		       "       %s sim tag del TAG | list | place TAG READER "
		       "[FRAMES] | remove TAG\n"
		       "  FRAMES: the tag leaves the field by itself after "
		       "answering that many frames\n", prog, prog);
		return argc < 1 ? EX_USAGE : 0;
	}
	rc = open_sim(&sim);
	if (rc)
		return rc;
	if (!strcmp(argv[0], "new")) {
		rc = tag_new(sim, argc, argv);
	} else if (!strcmp(argv[0], "list") && argc == 1) {
		rc = tag_list(sim);
	} else if (!strcmp(argv[0], "del") && argc == 2) {
		rc = parse_u32(argv[1], &a) ? EX_USAGE : sectag_sim_tag_del(sim, a);
		rc = rc < 0 ? fail(rc, "cannot delete tag") : rc;
	} else if (!strcmp(argv[0], "remove") && argc == 2) {
		rc = parse_u32(argv[1], &a) ? EX_USAGE :
		     sectag_sim_tag_remove(sim, a);
		rc = rc < 0 ? fail(rc, "cannot remove tag") : rc;
	} else if (!strcmp(argv[0], "place") && (argc == 3 || argc == 4)) {
		uint32_t n = 0;

		rc = parse_u32(argv[1], &a) || parse_u32(argv[2], &b) ||
		     (argc == 4 && (parse_u32(argv[3], &n) || !n)) ?
		     EX_USAGE : sectag_sim_tag_place_n(sim, a, b, n);
		rc = rc < 0 ? fail(rc, "cannot place tag") : rc;
	} else {
		rc = EX_USAGE;
	}
	if (rc == EX_USAGE)
		fprintf(stderr, "%s: bad 'sim tag' usage; see '%s sim tag "
			"--help'\n", prog, prog);
	sectag_sim_close(sim);
	return rc;
}

static int cmd_sim(int argc, char **argv)
{
	argc--;		/* the verb itself */
	argv++;
	if (argc >= 1 && !strcmp(argv[0], "reader"))
		return sim_reader(argc - 1, argv + 1);
	if (argc >= 1 && !strcmp(argv[0], "tag"))
		return sim_tag(argc - 1, argv + 1);
	printf("usage: %s sim reader|tag ...   (see '%s sim reader --help')\n",
	       prog, prog);
	return argc >= 1 && !strcmp(argv[0], "--help") ? 0 : EX_USAGE;
}

static int cmd_readers(int argc, char **argv)
{
	struct sectag_nfc_dev *devs;
	struct sectag_nfc *nfc;
	size_t n, i;
	int rc;

	argc--;		/* the verb itself */
	argv++;
	if (argc >= 1) {
		printf("usage: %s [--json] readers\n"
		       "List NFC devices known to the kernel, and PC/SC "
		       "readers (pcsc:NAME) when pcscd runs.\n", prog);
		return strcmp(argv[0], "--help") ? EX_USAGE : 0;
	}
	/* Without kernel NFC, PC/SC readers are still worth listing. */
	rc = open_nfc(&nfc);
	if (!rc) {
		rc = sectag_nfc_list(nfc, &devs, &n);
		sectag_nfc_close(nfc);
		rc = rc ? fail(rc, "cannot list NFC devices") : 0;
	}
	if (rc) {
		devs = NULL;
		n = 0;
	}
	if (json)
		printf("[");
	for (i = 0; i < n; i++) {
		if (json)
			printf("%s{\"index\":%u,\"name\":\"%s\",\"powered\":%s,"
			       "\"iso14443\":%s}", i ? "," : "", devs[i].idx,
			       devs[i].name, devs[i].powered ? "true" : "false",
			       devs[i].protocols & NFC_PROTO_ISO14443_MASK ?
			       "true" : "false");
		else
			printf("%-6s index %u  %s  protocols 0x%x\n",
			       devs[i].name, devs[i].idx,
			       devs[i].powered ? "powered" : "off",
			       devs[i].protocols);
	}
	pcsc_print_readers(n);
	if (json)
		printf("]\n");
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
	fprintf(f, "\n'%s VERB --help' for details; man sectag. Exit codes: "
		"0 ok, 1 failed, 2 usage,\n3 NFC/simulator/reader unavailable, "
		"4 refused or not genuine, 5 no tag in time.\n", prog);
}

int main(int argc, char **argv)
{
	size_t i;

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
			fprintf(stderr, "%s: unknown option '%s'\n", prog,
				argv[1]);
			return EX_USAGE;
		}
		argv++;
		argc--;
	}
	if (argc < 2) {
		usage(stderr);
		return EX_USAGE;
	}
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(argv[1], verbs[i].name))
			return verbs[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "%s: unknown verb '%s'\n", prog, argv[1]);
	usage(stderr);
	return EX_USAGE;
}
