// SPDX-License-Identifier: GPL-2.0
/*
 * vpcdbridge: an NTAG 424 DNA (the real engine, kernel/ntag424.c built
 * against tests/unit/kshim, as for tests/usb/pn533emu) behind the
 * virtual reader of vsmartcard-vpcd, so that libsectag -> libpcsclite ->
 * pcscd -> vpcd -> this tag runs for real. For tests in the VM.
 *
 *   vpcdbridge [--uid HEX14] [--port N] [--tag-present] [--verbose]
 *
 * vpcd (a pcscd driver) listens on localhost:N (default 35963, its
 * reader.conf CHANNELID); a connected client is a card in its reader,
 * a closed connection a card removed. Its messages, both ways: a 2-byte
 * big-endian length, then that many bytes. A 1-byte message from vpcd
 * is a control: 0 power off, 1 power on, 2 reset, 4 send the ATR (the
 * only one answered); anything longer is a command APDU, answered with
 * the response APDU.
 *
 * What the bridge answers, as a contactless PC/SC reader does (PC/SC
 * part 3): the ATR of an ISO 14443-4 type A card, 3B 81 80 01 80 80 (the
 * historical byte 80 of the NTAG 424 DNA's ATS, then TCK); GET DATA
 * FF CA 00 00 00 with the anticollision UID (7 bytes, or Random ID's 4)
 * and FF CA 01 00 00 with the ATS historical bytes; other FF-class
 * commands 6A 81 (not supported); everything else goes to the engine.
 *
 * Control (tests): the tag starts lifted unless --tag-present. Prints
 * "ready" on stdout once set up.
 *   SIGUSR1  place the tag: connect to vpcd
 *   SIGUSR2  lift it: close the connection, power-cycle the engine
 *   SIGTERM, SIGINT  exit (the tag leaves the field)
 * Tag state (keys, files, counters) lives in the process: it persists
 * across lifts and places, and ends with it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "emu.h"
#include "engine_api.h"
#include "pn533emu_engine.h"

#define VPCD_OFF	0
#define VPCD_ON		1
#define VPCD_RESET	2
#define VPCD_ATR	4
/* How long a place waits for vpcd to accept: pcscd may still be starting. */
#define CONNECT_TRIES	100
#define CONNECT_PAUSE_MS 50

static const uint8_t atr[] = { 0x3B, 0x81, 0x80, 0x01, 0x80, 0x80 };
static const uint8_t ats_hist[] = { 0x80 };

static struct {
	struct ntag424 *tag;
	uint16_t port;
	int sock;			/* -1: lifted */
	unsigned long apdus, getdata, controls;
} B = { .sock = -1, .port = 35963 };

static int write_all(int fd, const uint8_t *p, size_t n)
{
	ssize_t w;

	while (n) {
		w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * vpcd sends a message's length and its body in two writes: with Nagle
 * on its side the body waits for our ACK of the length, which delayed
 * ACKs hold back for 40 ms. So ACK at once, every time (QUICKACK does
 * not stick).
 */
static void quickack(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
}

static int read_all(int fd, uint8_t *p, size_t n)
{
	ssize_t r;

	while (n) {
		quickack(fd);
		r = recv(fd, p, n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* Length and body in one write, so that Nagle holds back neither. */
static int send_msg(const uint8_t *p, size_t n)
{
	uint8_t m[2 + ENGINE_MAX_RAPDU + 2];

	if (n > sizeof(m) - 2)
		return -1;
	m[0] = (uint8_t)(n >> 8);
	m[1] = (uint8_t)n;
	memcpy(m + 2, p, n);
	return write_all(B.sock, m, n + 2);
}

static void tag_lift(const char *why)
{
	if (B.sock < 0)
		return;
	close(B.sock);
	B.sock = -1;
	ntag424_power_cycle(B.tag);
	emu_log("tag lifted (%s)", why);
}

static int tag_place(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(B.port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timespec pause = { 0, CONNECT_PAUSE_MS * 1000000L };
	int i, fd;

	if (B.sock >= 0)
		return 0;
	for (i = 0; i < CONNECT_TRIES; i++) {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -1;
		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 },
				   sizeof(int));
			B.sock = fd;
			emu_log("tag placed");
			return 0;
		}
		close(fd);
		nanosleep(&pause, NULL);
	}
	emu_log("cannot connect to vpcd on port %u: %s", B.port,
		   strerror(errno));
	return -1;
}

/* PC/SC part 3 pseudo-APDUs of the reader: GET DATA. */
static int reader_apdu(const uint8_t *c, size_t n, uint8_t *r)
{
	uint8_t uid[EMU_NFCID1_MAX], sel;
	uint16_t sens;
	unsigned int len;

	B.getdata++;
	if (n == 5 && c[1] == 0xCA && c[2] == 0x00 && c[3] == 0x00) {
		len = emu_engine_rf(B.tag, uid, &sens, &sel);
		memcpy(r, uid, len);
		r[len] = 0x90;
		r[len + 1] = 0x00;
		return (int)len + 2;
	}
	if (n == 5 && c[1] == 0xCA && c[2] == 0x01 && c[3] == 0x00) {
		memcpy(r, ats_hist, sizeof(ats_hist));
		r[sizeof(ats_hist)] = 0x90;
		r[sizeof(ats_hist) + 1] = 0x00;
		return (int)sizeof(ats_hist) + 2;
	}
	r[0] = 0x6A;
	r[1] = 0x81;
	return 2;
}

static void control(uint8_t what)
{
	B.controls++;
	if (emu_verbose)
		emu_log("control %u", what);
	if (what == VPCD_ATR) {
		if (send_msg(atr, sizeof(atr)))
			tag_lift("vpcd went away");
	} else if (what == VPCD_OFF || what == VPCD_RESET) {
		/* The field drops: the session ends, as on a real reader. */
		ntag424_power_cycle(B.tag);
	}
}

static void message(void)
{
	uint8_t h[2], c[65536 + 2], r[ENGINE_MAX_RAPDU + 2];
	size_t n;
	int len;

	if (read_all(B.sock, h, 2)) {
		tag_lift("vpcd closed the connection");
		return;
	}
	n = (size_t)h[0] << 8 | h[1];
	if (read_all(B.sock, c, n)) {
		tag_lift("vpcd closed the connection");
		return;
	}
	if (n == 1) {
		control(c[0]);
		return;
	}
	if (n < 4) {		/* not an APDU: the engine's length error */
		r[0] = 0x67;
		r[1] = 0x00;
		len = 2;
	} else if (c[0] == 0xFF) {
		len = reader_apdu(c, n, r);
	} else {
		B.apdus++;
		len = ntag424_process(B.tag, c, n, r);
		if (len < 2) {	/* the engine stays mute: a failed exchange */
			r[0] = 0x6F;
			r[1] = 0x00;
			len = 2;
		}
	}
	if (send_msg(r, (size_t)len))
		tag_lift("vpcd went away");
}

static void on_signal(int sigfd, bool *stop)
{
	struct signalfd_siginfo si;

	while (read(sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGUSR1)
			tag_place();
		else if (si.ssi_signo == SIGUSR2)
			tag_lift("SIGUSR2");
		else
			*stop = true;
	}
}

static void serve(int sigfd)
{
	struct pollfd p[2];
	bool stop = false;

	while (!stop) {
		p[0].fd = sigfd;
		p[0].events = POLLIN;
		p[1].fd = B.sock;
		p[1].events = POLLIN;
		if (poll(p, B.sock >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			emu_log("poll: %s", strerror(errno));
			return;
		}
		if (p[0].revents)
			on_signal(sigfd, &stop);
		else if (B.sock >= 0 && p[1].revents)
			message();
	}
}

static int parse_opt(int c, const char *arg)
{
	char *end;
	long v;

	if (c != 'p')
		return -1;
	v = strtol(arg, &end, 0);
	if (*end || v < 1 || v > 65535)
		return -1;
	B.port = (uint16_t)v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 }
	};
	uint8_t uid[ENGINE_UID_LEN] = { 0x04, 0x50, 0x43, 0x53, 0x43, 0x42,
					0x80 };
	bool present = false;
	sigset_t set;
	int sigfd;

	emu_set_name("vpcdbridge");
	emu_parse_args(argc, argv, opts, parse_opt, "[--port N]", uid,
		       &present);
	emu_signals(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	B.tag = ntag424_create(uid);
	if (sigfd < 0 || !B.tag) {
		emu_log("cannot set up");
		return 1;
	}
	if (present && tag_place())
		return 1;
	printf("ready\n");
	fflush(stdout);
	serve(sigfd);
	tag_lift("exit");
	ntag424_destroy(B.tag);
	fprintf(stderr, "vpcdbridge: apdus %lu, reader commands %lu, "
		"controls %lu\n", B.apdus, B.getdata, B.controls);
	return 0;
}
