// SPDX-License-Identifier: GPL-2.0
/*
 * pn533emu: a USB NXP PN533 reader, emulated in userspace, with an NTAG 424
 * DNA (the real engine, kernel/ntag424.c built against tests/unit/kshim)
 * behind it, so that the distribution's own pn533_usb/pn533 drivers drive
 * it. For tests in the VM; needs root.
 *
 *   pn533emu [--uid HEX14] [--tag-present] [--udc NAME] [--name NAME]
 *            [--chain-answers[=N]] [--verbose]
 *
 * The host side must have loaded dummy_hcd, libcomposite and usb_f_fs
 * (and pn533_usb, or let udev load it). pn533emu mounts configfs if
 * needed, creates the gadget NAME (default pn533emu: 04cc:2533, one vendor
 * interface with one bulk IN and one bulk OUT endpoint) with one FunctionFS
 * function, mounts that function on /run/pn533emu-NAME, writes the
 * descriptors and strings to ep0 and binds the gadget to the UDC (default
 * dummy_udc.0). It prints "ready" on stdout once bound, then answers the
 * driver until SIGTERM or SIGINT, when it unbinds, removes the gadget and
 * prints command counts on stderr.
 *
 * Control (tests): the tag starts lifted unless --tag-present.
 *   SIGUSR1  place the tag on the reader
 *   SIGUSR2  lift it (the engine is power-cycled, as a real tag is)
 *
 * What the firmware emulation answers (frames as in the PN533 user
 * manual: 00 00 FF LEN LCS TFI ... DCS 00, extended when LEN > 254; every
 * command is acknowledged with 00 00 FF 00 FF 00 before its answer):
 *   GetFirmwareVersion 02   IC 33h, version 2.7
 *   RFConfiguration 32      accepted; RF field off resets a present tag
 *   InListPassiveTarget 4A  106 kbps type A: SENS_RES, SEL_RES, NFCID1
 *                           and ATS from the engine when the tag is
 *                           present, else no target (at once, like a
 *                           PN533 configured with no retries, as the
 *                           driver does); other baud rates: no target
 *   InDataExchange 40       APDU to the engine, its answer wrapped;
 *                           status 01h (timeout) without an activated
 *                           tag; chained commands (MI) are gathered
 *   InRelease 52, InDeselect 44   DESELECT of the tag
 *   anything else           the syntax error frame
 * An ACK frame from the host aborts the current command: every answer
 * still queued on the IN endpoint is cancelled.
 *
 * dummy_udc completes an IN request of 64 bytes or less at once into a
 * one-slot FIFO that the host's abort cannot flush, so that a stale answer
 * would be read as the next ACK: ACKs and every answer except
 * InDataExchange's are padded with zeros past 64 bytes (the driver reads
 * those by their fields). InDataExchange answers are not padded: the
 * driver hands the whole transfer, padding included, to the socket, and
 * no abort happens during an exchange.
 *
 * Answers are not chained (MI) by default: an answer is at most 258 bytes
 * of R-APDU, within one extended frame; a chained answer read through a
 * raw socket crashes Debian's 6.1 kernel (Documentation/readers.md, pn533).
 * --chain-answers[=N] chains them all the same, for tests/usb/mi-crash.sh:
 * an answer longer than N bytes (default 64; a real PN533 chains past its
 * 262-byte buffer, which no NTAG 424 answer reaches) goes in pieces of N,
 * each but the last with the MI bit in its status; the driver fetches the
 * next piece with an InDataExchange that carries no data.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <endian.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/aio_abi.h>
#include <linux/usb/ch9.h>
#include <linux/usb/functionfs.h>

#include "emu.h"
#include "engine_api.h"
#include "pn533emu_engine.h"

#define CONFIGFS	"/sys/kernel/config"
#define GADGETS		CONFIGFS "/usb_gadget"

/* Frame layout */
#define TFI_OUT		0xD4
#define TFI_IN		0xD5
#define STD_MAX_LEN	254		/* LEN byte; 255 marks extended */
#define FRAME_MAX	(8 + 265 + 2)	/* extended header, TFI..data, tail */
#define PAD_MIN		65		/* past dummy_udc's 64-byte FIFO */
#define MAX_INFLIGHT	4

#define CMD_GET_FIRMWARE_VERSION	0x02
#define CMD_RF_CONFIGURATION		0x32
#define CMD_IN_DATA_EXCHANGE		0x40
#define CMD_IN_DESELECT			0x44
#define CMD_IN_LIST_PASSIVE_TARGET	0x4A
#define CMD_IN_RELEASE			0x52

#define ST_OK		0x00
#define ST_TIMEOUT	0x01
#define MI_BIT		0x40

static const uint8_t ack_frame[6] = { 0x00, 0x00, 0xFF, 0x00, 0xFF, 0x00 };
static const uint8_t syntax_error[8] = {
	0x00, 0x00, 0xFF, 0x01, 0xFF, 0x7F, 0x81, 0x00
};

/* ATS of an NTAG 424 DNA: TL, T0, TA(1), TB(1), TC(1), one historical. */
static const uint8_t ntag_ats[6] = { 0x06, 0x77, 0x77, 0x71, 0x02, 0x80 };

static volatile sig_atomic_t sig_place, sig_lift, sig_stop;

static pthread_t ep0_tid;
static bool ep0_running;

static struct {
	char name[64];
	char udc[64];
	char gadget[256];
	char mnt[256];
	bool mounted_ffs;
	int ep0, ep_in, ep_out;
} G = { .ep0 = -1, .ep_in = -1, .ep_out = -1 };

static struct {
	struct ntag424 *tag;
	bool present;		/* in the field */
	bool active;		/* activated by the last InListPassiveTarget */
	uint8_t chain[600];	/* gathered MI command data */
	size_t chain_len;
	size_t piece;		/* --chain-answers: answer piece, 0: off */
	uint8_t rest[ENGINE_MAX_RAPDU];	/* chained answer not yet sent */
	size_t rest_len, rest_off;
	unsigned long n_cmd[256], n_abort, n_cancel;
} T;

/* ---- configfs and FunctionFS ------------------------------------------ */

static int write_file(const char *dir, const char *file, const char *val)
{
	char path[512];
	int fd, rc = 0;
	size_t len = strlen(val);

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, val, len ? len : 1) < 0) {
		emu_log("cannot write %s: %s", path, strerror(errno));
		rc = -1;
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

static int mkdir_in(const char *dir, const char *sub)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	if (mkdir(path, 0755) && errno != EEXIST) {
		emu_log("cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int gadget_create(void)
{
	char fn[128], link[512], target[512];

	if (access(GADGETS, F_OK)) {
		if (mount("none", CONFIGFS, "configfs", 0, NULL) &&
		    errno != EBUSY) {
			emu_log("cannot mount configfs: %s", strerror(errno));
			return -1;
		}
		if (access(GADGETS, F_OK)) {
			emu_log("%s missing: is libcomposite loaded?", GADGETS);
			return -1;
		}
	}
	snprintf(G.gadget, sizeof(G.gadget), GADGETS "/%s", G.name);
	snprintf(fn, sizeof(fn), "functions/ffs.%s", G.name);
	if (mkdir(G.gadget, 0755)) {
		emu_log("cannot create %s: %s", G.gadget, strerror(errno));
		return -1;
	}
	if (write_file(G.gadget, "idVendor", "0x04cc") ||
	    write_file(G.gadget, "idProduct", "0x2533") ||
	    write_file(G.gadget, "bcdUSB", "0x0200") ||
	    write_file(G.gadget, "bcdDevice", "0x0100") ||
	    mkdir_in(G.gadget, "strings/0x409") ||
	    write_file(G.gadget, "strings/0x409/manufacturer", "SCM Micro") ||
	    write_file(G.gadget, "strings/0x409/product",
		       "SCL3711-NFC&RW (emulated)") ||
	    write_file(G.gadget, "strings/0x409/serialnumber", G.name) ||
	    mkdir_in(G.gadget, "configs/c.1") ||
	    mkdir_in(G.gadget, "configs/c.1/strings/0x409") ||
	    write_file(G.gadget, "configs/c.1/strings/0x409/configuration",
		       "PN533") ||
	    write_file(G.gadget, "configs/c.1/MaxPower", "100") ||
	    mkdir_in(G.gadget, fn))
		return -1;
	snprintf(target, sizeof(target), "%s/%s", G.gadget, fn);
	snprintf(link, sizeof(link), "%s/configs/c.1/ffs.%s", G.gadget,
		 G.name);
	if (symlink(target, link)) {
		emu_log("cannot link %s: %s", link, strerror(errno));
		return -1;
	}
	snprintf(G.mnt, sizeof(G.mnt), "/run/pn533emu-%s", G.name);
	if (mkdir(G.mnt, 0700) && errno != EEXIST) {
		emu_log("cannot create %s: %s", G.mnt, strerror(errno));
		return -1;
	}
	if (mount(G.name, G.mnt, "functionfs", 0, NULL)) {
		emu_log("cannot mount functionfs %s: %s (usb_f_fs loaded?)",
			G.name, strerror(errno));
		return -1;
	}
	G.mounted_ffs = true;
	return 0;
}

static void gadget_remove(void)
{
	char p[512];

	if (!G.gadget[0])
		return;
	snprintf(p, sizeof(p), "%s/UDC", G.gadget);
	if (!access(p, F_OK))
		write_file(G.gadget, "UDC", "\n");
	if (ep0_running) {
		pthread_cancel(ep0_tid);
		pthread_join(ep0_tid, NULL);
		ep0_running = false;
	}
	if (G.ep_in >= 0)
		close(G.ep_in);
	if (G.ep_out >= 0)
		close(G.ep_out);
	if (G.ep0 >= 0)
		close(G.ep0);
	if (G.mounted_ffs && umount(G.mnt))
		emu_log("cannot unmount %s: %s", G.mnt, strerror(errno));
	rmdir(G.mnt);
	snprintf(p, sizeof(p), "%s/configs/c.1/ffs.%s", G.gadget, G.name);
	unlink(p);
	snprintf(p, sizeof(p), "%s/configs/c.1/strings/0x409", G.gadget);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/configs/c.1", G.gadget);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/functions/ffs.%s", G.gadget, G.name);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/strings/0x409", G.gadget);
	rmdir(p);
	if (rmdir(G.gadget))
		emu_log("cannot remove %s: %s", G.gadget, strerror(errno));
}

struct ep_pair {
	struct usb_interface_descriptor intf;
	struct usb_endpoint_descriptor_no_audio in, out;
} __attribute__((packed));

static void fill_pair(struct ep_pair *p, uint16_t maxpacket)
{
	p->intf = (struct usb_interface_descriptor) {
		.bLength = sizeof(p->intf),
		.bDescriptorType = USB_DT_INTERFACE,
		.bNumEndpoints = 2,
		.bInterfaceClass = USB_CLASS_VENDOR_SPEC,
		.bInterfaceSubClass = 0xFF,
		.bInterfaceProtocol = 0xFF,
		.iInterface = 1,
	};
	p->in = (struct usb_endpoint_descriptor_no_audio) {
		.bLength = sizeof(p->in),
		.bDescriptorType = USB_DT_ENDPOINT,
		.bEndpointAddress = 1 | USB_DIR_IN,
		.bmAttributes = USB_ENDPOINT_XFER_BULK,
		.wMaxPacketSize = htole16(maxpacket),
	};
	p->out = p->in;
	p->out.bEndpointAddress = 2 | USB_DIR_OUT;
}

static int ffs_setup(void)
{
	struct {
		struct usb_functionfs_descs_head_v2 head;
		__le32 fs_count, hs_count;
		struct ep_pair fs, hs;
	} __attribute__((packed)) d;
	static const char str[] = "PN533 (emulated)";
	struct {
		struct usb_functionfs_strings_head head;
		__le16 lang;
		char s[sizeof(str)];
	} __attribute__((packed)) s;
	char path[512];

	memset(&d, 0, sizeof(d));
	d.head.magic = htole32(FUNCTIONFS_DESCRIPTORS_MAGIC_V2);
	d.head.length = htole32(sizeof(d));
	d.head.flags = htole32(FUNCTIONFS_HAS_FS_DESC | FUNCTIONFS_HAS_HS_DESC);
	d.fs_count = htole32(3);
	d.hs_count = htole32(3);
	fill_pair(&d.fs, 64);
	fill_pair(&d.hs, 512);

	memset(&s, 0, sizeof(s));
	s.head.magic = htole32(FUNCTIONFS_STRINGS_MAGIC);
	s.head.length = htole32(sizeof(s));
	s.head.str_count = htole32(1);
	s.head.lang_count = htole32(1);
	s.lang = htole16(0x0409);
	memcpy(s.s, str, sizeof(str));

	snprintf(path, sizeof(path), "%s/ep0", G.mnt);
	G.ep0 = open(path, O_RDWR | O_CLOEXEC);
	if (G.ep0 < 0) {
		emu_log("cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (write(G.ep0, &d, sizeof(d)) != (ssize_t)sizeof(d) ||
	    write(G.ep0, &s, sizeof(s)) != (ssize_t)sizeof(s)) {
		emu_log("FunctionFS refused the descriptors: %s", strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "%s/ep1", G.mnt);
	G.ep_in = open(path, O_RDWR | O_CLOEXEC);
	snprintf(path, sizeof(path), "%s/ep2", G.mnt);
	G.ep_out = open(path, O_RDWR | O_CLOEXEC);
	if (G.ep_in < 0 || G.ep_out < 0) {
		emu_log("cannot open the endpoints: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* ep0 events: logged; any class or vendor request on ep0 is stalled. */
static void *ep0_thread(void *arg)
{
	static const char *const names[] = {
		"bind", "unbind", "enable", "disable", "setup", "suspend",
		"resume"
	};
	struct usb_functionfs_event ev;
	ssize_t n;

	(void)arg;
	for (;;) {
		n = read(G.ep0, &ev, sizeof(ev));
		if (n < 0 && errno == EINTR)
			continue;
		if (n != sizeof(ev))
			return NULL;
		if (emu_verbose)
			emu_log("ep0 event %s", ev.type < 7 ? names[ev.type] : "?");
		if (ev.type == FUNCTIONFS_SETUP) {
			if (ev.u.setup.bRequestType & USB_DIR_IN)
				n = read(G.ep0, NULL, 0);
			else
				n = write(G.ep0, NULL, 0);
			(void)n;
		}
	}
}

/* ---- IN endpoint writes through AIO (cancellable) ---------------------- */

static aio_context_t aio;
static struct {
	struct iocb cb;
	uint8_t buf[FRAME_MAX + PAD_MIN];
	bool busy;
} slot[MAX_INFLIGHT];
static unsigned int inflight;

static void reap(long min_nr)
{
	struct io_event ev[MAX_INFLIGHT];
	struct timespec ts = { .tv_sec = 5 };
	long n;

	while (inflight && min_nr > 0) {
		n = syscall(SYS_io_getevents, aio, 1, MAX_INFLIGHT, ev, &ts);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			emu_log("IN writes did not complete in time");
			return;
		}
		for (long i = 0; i < n; i++) {
			unsigned int k = (unsigned int)ev[i].data;

			slot[k].busy = false;
			inflight--;
			if (ev[i].res < 0 && emu_verbose)
				emu_log("IN write ended: %s",
					strerror((int)-ev[i].res));
		}
		min_nr -= n;
	}
	/* without blocking: whatever else already completed */
	ts.tv_sec = 0;
	while (inflight) {
		n = syscall(SYS_io_getevents, aio, 0, MAX_INFLIGHT, ev, &ts);
		if (n <= 0)
			return;
		for (long i = 0; i < n; i++) {
			slot[(unsigned int)ev[i].data].busy = false;
			inflight--;
		}
	}
}

/* Cancels every queued IN write (the host aborted or moved on). */
static void cancel_inflight(void)
{
	struct io_event ev;

	reap(0);
	if (!inflight)
		return;
	for (unsigned int k = 0; k < MAX_INFLIGHT; k++) {
		if (!slot[k].busy)
			continue;
		/*
		 * 6.1 answers EINPROGRESS and delivers the event as usual;
		 * EINVAL: it completed meanwhile.
		 */
		if (syscall(SYS_io_cancel, aio, &slot[k].cb, &ev) == 0) {
			slot[k].busy = false;
			inflight--;
			T.n_cancel++;
		} else if (errno == EINPROGRESS) {
			T.n_cancel++;
		}
	}
	reap(inflight);
}

static int submit(const uint8_t *frame, size_t len, bool pad)
{
	struct iocb *cbs[1];
	unsigned int k;

	reap(0);
	if (inflight == MAX_INFLIGHT)
		reap(1);
	for (k = 0; k < MAX_INFLIGHT && slot[k].busy; k++)
		;
	if (k == MAX_INFLIGHT)
		return -1;
	memcpy(slot[k].buf, frame, len);
	if (pad && len < PAD_MIN) {
		memset(slot[k].buf + len, 0, PAD_MIN - len);
		len = PAD_MIN;
	}
	memset(&slot[k].cb, 0, sizeof(slot[k].cb));
	slot[k].cb.aio_data = k;
	slot[k].cb.aio_fildes = (uint32_t)G.ep_in;
	slot[k].cb.aio_lio_opcode = IOCB_CMD_PWRITE;
	slot[k].cb.aio_buf = (uint64_t)(uintptr_t)slot[k].buf;
	slot[k].cb.aio_nbytes = len;
	cbs[0] = &slot[k].cb;
	if (syscall(SYS_io_submit, aio, 1, cbs) != 1) {
		emu_log("IN write: %s", strerror(errno));
		return -1;
	}
	slot[k].busy = true;
	inflight++;
	emu_dbg_hex("<-", slot[k].buf, len);
	return 0;
}

/* ---- frames ------------------------------------------------------------ */

static uint8_t dcs(const uint8_t *p, size_t n)
{
	uint8_t sum = 0;

	while (n--)
		sum += *p++;
	return (uint8_t)-sum;
}

/* Answer frame: TFI D5, code CMD + 1, then @data. */
static int answer(uint8_t cmd, const uint8_t *data, size_t n, bool pad)
{
	uint8_t f[FRAME_MAX];
	size_t len = n + 2, h;

	if (len > 265)
		return -1;
	f[0] = 0x00;
	f[1] = 0x00;
	f[2] = 0xFF;
	if (len <= STD_MAX_LEN) {
		f[3] = (uint8_t)len;
		f[4] = (uint8_t)-f[3];
		h = 5;
	} else {
		f[3] = 0xFF;
		f[4] = 0xFF;
		f[5] = (uint8_t)(len >> 8);
		f[6] = (uint8_t)len;
		f[7] = (uint8_t)-(uint8_t)(f[5] + f[6]);
		h = 8;
	}
	f[h] = TFI_IN;
	f[h + 1] = (uint8_t)(cmd + 1);
	memcpy(f + h + 2, data, n);
	f[h + len] = dcs(f + h, len);
	f[h + len + 1] = 0x00;
	return submit(f, h + len + 2, pad);
}

/*
 * Parses a host frame: returns the length of TFI..data at *body, 0 for
 * an ACK, -1 when malformed.
 */
static int parse(const uint8_t *f, size_t n, const uint8_t **body)
{
	size_t len, h;

	if (n >= 6 && !memcmp(f, ack_frame, 6))
		return 0;
	if (n < 7 || f[0] || f[1] || f[2] != 0xFF)
		return -1;
	if (f[3] == 0xFF && f[4] == 0xFF) {
		if (n < 10 || (uint8_t)(f[5] + f[6] + f[7]))
			return -1;
		len = (size_t)f[5] << 8 | f[6];
		h = 8;
	} else {
		if ((uint8_t)(f[3] + f[4]))
			return -1;
		len = f[3];
		h = 5;
	}
	if (len < 2 || h + len + 1 > n || dcs(f + h, len) != f[h + len] ||
	    f[h] != TFI_OUT)
		return -1;
	*body = f + h;
	return (int)len;
}

/* ---- the firmware -------------------------------------------------------- */

static void tag_lift(void)
{
	if (T.present)
		ntag424_power_cycle(T.tag);
	T.present = false;
	T.active = false;
	T.chain_len = 0;
	T.rest_len = 0;
}

static void apply_signals(void)
{
	if (sig_lift) {
		sig_lift = 0;
		tag_lift();
		emu_log("tag lifted");
	}
	if (sig_place) {
		sig_place = 0;
		if (!T.present)
			emu_log("tag placed");
		T.present = true;
	}
}

static void list_passive(const uint8_t *p, size_t n)
{
	uint8_t a[64], uid[EMU_NFCID1_MAX], sel;
	uint16_t sens;
	unsigned int ulen;
	size_t k = 0;

	/* MaxTg, BrTy: only 106 kbps type A finds our tag */
	T.active = false;
	T.chain_len = 0;
	T.rest_len = 0;
	if (n < 2 || p[1] != 0x00 || !T.present) {
		a[k++] = 0;	/* NbTg */
		answer(CMD_IN_LIST_PASSIVE_TARGET, a, k, true);
		return;
	}
	/* REQA/WUPA, anticollision, RATS: a fresh activation */
	emu_engine_deselect(T.tag);
	ulen = emu_engine_rf(T.tag, uid, &sens, &sel);
	a[k++] = 1;			/* NbTg */
	a[k++] = 1;			/* Tg */
	a[k++] = (uint8_t)(sens >> 8);	/* SENS_RES as the driver reads it */
	a[k++] = (uint8_t)sens;
	a[k++] = sel;
	a[k++] = (uint8_t)ulen;
	memcpy(a + k, uid, ulen);
	k += ulen;
	memcpy(a + k, ntag_ats, sizeof(ntag_ats));
	k += sizeof(ntag_ats);
	T.active = true;
	T.chain_len = 0;
	answer(CMD_IN_LIST_PASSIVE_TARGET, a, k, true);
}

/*
 * The next piece of a chained answer: the MI bit in the status while more
 * follows.
 */
static void answer_piece(void)
{
	uint8_t r[1 + ENGINE_MAX_RAPDU];
	size_t k = T.rest_len - T.rest_off;

	if (k > T.piece)
		k = T.piece;
	memcpy(r + 1, T.rest + T.rest_off, k);
	T.rest_off += k;
	r[0] = T.rest_off < T.rest_len ? ST_OK | MI_BIT : ST_OK;
	if (T.rest_off == T.rest_len)
		T.rest_len = 0;
	answer(CMD_IN_DATA_EXCHANGE, r, k + 1, false);
}

/* The tag's R-APDU: whole, or its first piece under --chain-answers. */
static void answer_rapdu(const uint8_t *rapdu, size_t n)
{
	uint8_t r[1 + ENGINE_MAX_RAPDU];

	if (T.piece && n > T.piece) {
		memcpy(T.rest, rapdu, n);
		T.rest_len = n;
		T.rest_off = 0;
		answer_piece();
		return;
	}
	r[0] = ST_OK;
	memcpy(r + 1, rapdu, n);
	answer(CMD_IN_DATA_EXCHANGE, r, n + 1, false);
}

static void data_exchange(const uint8_t *p, size_t n)
{
	uint8_t r[1 + ENGINE_MAX_RAPDU];
	int rc;

	if (n < 1 || (p[0] & 0x3F) != 1 || !T.present || !T.active) {
		r[0] = ST_TIMEOUT;
		T.chain_len = 0;
		T.rest_len = 0;
		answer(CMD_IN_DATA_EXCHANGE, r, 1, false);
		return;
	}
	/* No data after an MI answer: the host asks for the next piece. */
	if (T.rest_len && n == 1 && !(p[0] & MI_BIT)) {
		answer_piece();
		return;
	}
	T.rest_len = 0;
	if (T.chain_len + n - 1 > sizeof(T.chain)) {
		emu_log("chained command too long");
		T.chain_len = 0;
		r[0] = 0x07;	/* buffer overflow */
		answer(CMD_IN_DATA_EXCHANGE, r, 1, false);
		return;
	}
	memcpy(T.chain + T.chain_len, p + 1, n - 1);
	T.chain_len += n - 1;
	if (p[0] & MI_BIT) {
		r[0] = ST_OK;
		answer(CMD_IN_DATA_EXCHANGE, r, 1, false);
		return;
	}
	rc = ntag424_process(T.tag, T.chain, T.chain_len, r + 1);
	T.chain_len = 0;
	if (rc < 0) {
		r[0] = ST_TIMEOUT;
		answer(CMD_IN_DATA_EXCHANGE, r, 1, false);
		return;
	}
	answer_rapdu(r + 1, (size_t)rc);
}

static void command(const uint8_t *b, size_t len)
{
	static const uint8_t fw[4] = { 0x33, 0x02, 0x07, 0x07 };
	uint8_t cmd = b[1], st = ST_OK;
	const uint8_t *p = b + 2;
	size_t n = len - 2;

	T.n_cmd[cmd]++;
	/* The firmware acknowledges the frame, then executes. */
	submit(ack_frame, sizeof(ack_frame), true);
	switch (cmd) {
	case CMD_GET_FIRMWARE_VERSION:
		answer(cmd, fw, sizeof(fw), true);
		break;
	case CMD_RF_CONFIGURATION:
		/* CfgItem 01: RF field; bit 0 clear: off, the tag resets */
		if (n >= 2 && p[0] == 0x01 && !(p[1] & 0x01) && T.present) {
			ntag424_power_cycle(T.tag);
			T.active = false;
		}
		answer(cmd, NULL, 0, true);
		break;
	case CMD_IN_LIST_PASSIVE_TARGET:
		list_passive(p, n);
		break;
	case CMD_IN_DATA_EXCHANGE:
		data_exchange(p, n);
		break;
	case CMD_IN_RELEASE:
	case CMD_IN_DESELECT:
		if (T.present && T.active)
			emu_engine_deselect(T.tag);
		T.active = false;
		T.chain_len = 0;
		T.rest_len = 0;
		answer(cmd, &st, 1, true);
		break;
	default:
		emu_log("command %02x not emulated: syntax error", cmd);
		submit(syntax_error, sizeof(syntax_error), true);
		break;
	}
}

static void serve(void)
{
	uint8_t f[1024];
	const uint8_t *body;
	ssize_t n;
	int len;

	while (!sig_stop) {
		apply_signals();
		n = read(G.ep_out, f, sizeof(f));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ESHUTDOWN) {
				/* not (yet, or no longer) enabled by the host */
				struct timespec ts = { 0, 20 * 1000 * 1000 };

				nanosleep(&ts, NULL);
				continue;
			}
			emu_log("OUT read: %s", strerror(errno));
			return;
		}
		apply_signals();
		emu_dbg_hex("->", f, (size_t)n);
		len = parse(f, (size_t)n, &body);
		if (len == 0) {
			/* abort: drop whatever answer is still queued */
			T.n_abort++;
			cancel_inflight();
			continue;
		}
		/* a new command: nothing stale may precede its ACK */
		cancel_inflight();
		if (len < 0) {
			emu_log("malformed frame (%zd bytes) ignored", n);
			continue;
		}
		command(body, (size_t)len);
	}
}

/* ---- main ---------------------------------------------------------------- */

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		sig_place = 1;
	else if (sig == SIGUSR2)
		sig_lift = 1;
	else
		sig_stop = 1;
}

/* --chain-answers[=N]: pieces of N bytes (1..262), 64 without N. */
static int parse_piece(const char *s)
{
	char *end;
	unsigned long v = 64;

	if (s) {
		errno = 0;
		v = strtoul(s, &end, 10);
		if (errno || *end || end == s || !v || v > 262)
			return -1;
	}
	T.piece = v;
	return 0;
}

static int parse_opt(int c, const char *arg)
{
	switch (c) {
	case 'c':
		snprintf(G.udc, sizeof(G.udc), "%s", arg);
		return 0;
	case 'n':
		if (!*arg || strchr(arg, '/'))
			return -1;
		snprintf(G.name, sizeof(G.name), "%s", arg);
		return 0;
	case 'm':
		return parse_piece(arg);
	}
	return -1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "udc", required_argument, NULL, 'c' },
		{ "name", required_argument, NULL, 'n' },
		{ "chain-answers", optional_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 }
	};
	uint8_t uid[ENGINE_UID_LEN] = { 0x04, 0x53, 0x35, 0x33, 0x4E, 0x42,
					0x80 };
	struct sigaction sa;
	sigset_t set, old;
	bool present = false;
	int c, rc = 1;

	snprintf(G.name, sizeof(G.name), "pn533emu");
	snprintf(G.udc, sizeof(G.udc), "dummy_udc.0");
	emu_set_name("pn533emu");
	emu_parse_args(argc, argv, opts, parse_opt,
		       "[--udc NAME] [--name NAME] [--chain-answers[=N]]", uid,
		       &present);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: reads see EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	T.tag = ntag424_create(uid);
	if (!T.tag) {
		emu_log("cannot create the tag");
		return 1;
	}
	T.present = present;
	if (syscall(SYS_io_setup, MAX_INFLIGHT, &aio)) {
		emu_log("io_setup: %s", strerror(errno));
		goto out;
	}
	if (gadget_create() || ffs_setup())
		goto out;

	/* ep0 events on their own thread, which never takes our signals */
	emu_signals(&set);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	c = pthread_create(&ep0_tid, NULL, ep0_thread, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (c) {
		emu_log("cannot start the ep0 thread");
		goto out;
	}
	ep0_running = true;

	if (write_file(G.gadget, "UDC", G.udc))
		goto out;
	printf("ready\n");
	fflush(stdout);
	serve();
	rc = 0;
out:
	cancel_inflight();
	gadget_remove();
	if (aio)
		syscall(SYS_io_destroy, aio);
	ntag424_destroy(T.tag);
	fprintf(stderr, "pn533emu: commands: fw %lu rfcfg %lu list %lu "
		"exchange %lu release %lu; aborts %lu, cancelled writes %lu\n",
		T.n_cmd[CMD_GET_FIRMWARE_VERSION],
		T.n_cmd[CMD_RF_CONFIGURATION],
		T.n_cmd[CMD_IN_LIST_PASSIVE_TARGET],
		T.n_cmd[CMD_IN_DATA_EXCHANGE], T.n_cmd[CMD_IN_RELEASE],
		T.n_abort, T.n_cancel);
	return rc;
}
