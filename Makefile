# SPDX-License-Identifier: GPL-2.0
#
# make          module (against the VM's kernel headers) and userspace
# make module DEBUG=1   the module with pr_debug()/dev_dbg() printing
# make check    every test: static checks, unit tests, kernel tests in a VM
# make demo     the whole story, in a VM
# make install  for the running kernel (INSTALL_KVER), DESTDIR/PREFIX aware
# make uninstall

KVER	?= $(shell tests/vm/kver)
KDIR	?= $(firstword $(wildcard /usr/src/linux-headers-$(KVER) /lib/modules/$(KVER)/build) /lib/modules/$(shell uname -r)/build)
PREFIX	?= /usr/local
DESTDIR	?=
B	:= build

CC	?= gcc
CFLAGS	?= -O2 -g
WARN	:= -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror
NL_CFLAGS := $(shell pkg-config --cflags libnl-genl-3.0 2>/dev/null)
NL_LIBS	:= $(shell pkg-config --libs libnl-genl-3.0 2>/dev/null)
# PC/SC (userspace/lib/pcsc.c): linked into sectag, sectagd and the token
# plugin (which taps through cli/tap.c) only.
PCSC_CFLAGS := $(shell pkg-config --cflags libpcsclite 2>/dev/null)
PCSC_LIBS := $(shell pkg-config --libs libpcsclite 2>/dev/null)
CPPFLAGS += -Iuapi -Iuserspace/lib -I$(B) $(NL_CFLAGS) $(PCSC_CFLAGS)
LDLIBS	:= $(NL_LIBS) -lcryptsetup -ljson-c -lkeyutils -lcrypto -lpthread

TOKEN_SO := $(B)/libcryptsetup-token-sectag.so
TOKEN_OPEN := userspace/token/open.c userspace/token/open.h
LIB_SRC	:= $(wildcard userspace/lib/*.c)
LIB_OBJ	:= $(LIB_SRC:userspace/lib/%.c=$(B)/lib/%.o)
KSFT_SRC := $(wildcard tests/kselftest/*.c)
KSFT_BIN := $(KSFT_SRC:tests/kselftest/%.c=$(B)/kselftest/%)
LINUX_SRC := /usr/src/linux-source-6.1.tar.xz
include kernel/engine.mk

.PHONY: all module lib progs unit tests check demo deps install install-module uninstall clean bench fuzz fuzz-build fuzz-seeds

all: module lib progs

progs: $(B)/sectag $(B)/sectagd $(B)/sectag-open $(B)/pam_sectag.so $(TOKEN_SO)

# The PAM module only talks to the agent: of libsectag it compiles in
# the protocol (agent.c, no libnl, no OpenSSL), and exports only the
# pam_sm_* entry points.
$(B)/pam_sectag.so: userspace/pam/pam_sectag.c userspace/lib/agent.c userspace/lib/agent.h
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CFLAGS) -Iuserspace/lib -fPIC -shared -fvisibility=hidden \
		-o $@ $(filter %.c,$^) -lpam -lkeyutils

# The resident agent does not link libcryptsetup: volumes are opened by
# the short-lived sectag-open helper (Documentation/bench.md: idle RSS).
LIBEXECDIR ?= $(PREFIX)/libexec/sectag
AGENT_LDLIBS := -Wl,--as-needed $(NL_LIBS) -lkeyutils -lcrypto -lpthread

$(B)/sectagd: $(wildcard userspace/agent/*.c userspace/agent/*.h) $(B)/libsectag.a $(B)/version.h
	$(CC) $(WARN) $(CFLAGS) $(CPPFLAGS) -DSECTAG_LIBEXECDIR='"$(LIBEXECDIR)"' \
		-o $@ $(filter %.c,$^) $(B)/libsectag.a $(AGENT_LDLIBS) $(PCSC_LIBS)

$(B)/sectag-open: userspace/helper/sectag-open.c $(B)/libsectag.a $(B)/version.h
	$(CC) $(WARN) $(CFLAGS) $(CPPFLAGS) -o $@ $< $(B)/libsectag.a \
		-Wl,--as-needed -lcryptsetup -ljson-c -lkeyutils -lcrypto

$(B)/sectag: $(wildcard userspace/cli/*.c userspace/cli/*.h) $(TOKEN_OPEN) $(B)/libsectag.a \
		$(B)/version.h
	$(CC) $(WARN) $(CFLAGS) $(CPPFLAGS) -Iuserspace/cli -Iuserspace/token -o $@ $(filter %.c,$^) $(B)/libsectag.a $(LDLIBS) $(PCSC_LIBS)

# The LUKS2 token plugin (userspace/token): libsectag and the CLI's tap
# linked in, only the cryptsetup_token_* symbols exported, under the
# version libcryptsetup looks them up with (dlvsym).
$(TOKEN_SO): $(wildcard userspace/token/*.c userspace/token/*.h) \
		userspace/token/token.sym userspace/cli/tap.c userspace/cli/pcsc.c \
		userspace/cli/cli.h \
		$(B)/libsectag.a $(B)/version.h
	$(CC) $(WARN) $(CFLAGS) $(CPPFLAGS) -Iuserspace/cli -fPIC -shared \
		-Wl,--version-script=userspace/token/token.sym -Wl,-z,defs \
		-o $@ $(filter %.c,$^) $(B)/libsectag.a $(LDLIBS) $(PCSC_LIBS)

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

lib: $(B)/libsectag.a

# One version for every program (--version), the module (MODULE_VERSION)
# and packages: scripts/version. The header is rewritten only when the
# version changed, so a commit relinks the programs and nothing else.
$(B)/version.h: FORCE
	@mkdir -p $(@D)
	@echo "#define SECTAG_VERSION \"$$(scripts/version)\"" >$@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv -f $@.tmp $@

$(B)/lib/%.o: userspace/lib/%.c $(wildcard userspace/lib/*.h) uapi/linux/nfc_sectag.h
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CFLAGS) $(CPPFLAGS) -fPIC -c -o $@ $<

$(B)/libsectag.a: $(LIB_OBJ)
	$(AR) rcs $@ $^

# kselftest_harness.h and checkpatch come from the installed linux-source,
# never from a copy in this tree.
$(B)/ksrc/.stamp: $(LINUX_SRC)
	@mkdir -p $(@D)
	tar -xJf $(LINUX_SRC) -C $(@D) --strip-components=1 \
		linux-source-6.1/tools/testing/selftests/kselftest_harness.h \
		linux-source-6.1/tools/testing/selftests/kselftest.h \
		linux-source-6.1/scripts/checkpatch.pl \
		linux-source-6.1/scripts/spelling.txt \
		linux-source-6.1/scripts/const_structs.checkpatch
	touch $@

$(B)/kselftest/%: tests/kselftest/%.c tests/kselftest/helpers.h $(B)/libsectag.a $(B)/ksrc/.stamp
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CFLAGS) $(CPPFLAGS) -Wno-unused-parameter \
		-I$(B)/ksrc/tools/testing/selftests -o $@ $< $(B)/libsectag.a $(LDLIBS)

# Helpers of the end-to-end tests (tests/e2e/*.sh), run in the VM.
E2E_BIN := $(patsubst tests/e2e/%.c,$(B)/e2e/%,$(wildcard tests/e2e/*.c))

$(B)/e2e/%: tests/e2e/%.c $(B)/libsectag.a
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CFLAGS) $(CPPFLAGS) -o $@ $< $(B)/libsectag.a $(LDLIBS)

# The PN533 emulator (tests/usb/pn533emu.c), run in the VM: the NTAG 424
# engine ($(ENGINE_SRC)) built for userspace against tests/unit/kshim
# as in the unit tests, in its own include world, without sanitizers.
USB_OBJ	:= $(B)/usb-obj
USB_KHDR := $(ENGINE_HDR) tests/usb/pn533emu_engine.h \
	$(wildcard tests/unit/kshim/*.h tests/unit/kshim/*/*.h)
USB_KCC	= $(CC) -std=gnu11 -Wall -Wextra -Werror $(CFLAGS) \
	-Itests/unit/kshim -Ikernel -Itests/usb -c -o $@ $<
USB_ENGINE_OBJ := $(ENGINE_SRC:kernel/%.c=$(USB_OBJ)/%.o)

$(USB_ENGINE_OBJ): $(USB_OBJ)/%.o: kernel/%.c $(USB_KHDR)
	@mkdir -p $(@D)
	$(USB_KCC)

$(USB_OBJ)/kshim.o: tests/unit/kshim/kshim.c $(USB_KHDR)
	@mkdir -p $(@D)
	$(USB_KCC)

$(USB_OBJ)/engine_rf.o: tests/usb/engine_rf.c $(USB_KHDR)
	@mkdir -p $(@D)
	$(USB_KCC)

# Every reader emulator (pn533emu, ncidevemu, vpcdbridge) is one program
# with these engine objects behind it.
EMU_DEPS := tests/usb/emu.c tests/usb/emu.h tests/usb/pn533emu_engine.h \
	tests/unit/engine_api.h $(USB_ENGINE_OBJ) $(USB_OBJ)/kshim.o \
	$(USB_OBJ)/engine_rf.o
EMU_BIN	:= $(B)/usb/pn533emu $(B)/nci/ncidevemu $(B)/pcsc/vpcdbridge

$(B)/usb/pn533emu: tests/usb/pn533emu.c $(EMU_DEPS)
$(B)/nci/ncidevemu: tests/nci/ncidevemu.c $(EMU_DEPS)
$(B)/pcsc/vpcdbridge: tests/pcsc/vpcdbridge.c $(EMU_DEPS)
$(EMU_BIN):
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CFLAGS) -Itests/unit -Itests/usb -o $@ \
		$(filter %.c %.o,$^) -lcrypto -lpthread

# The NCI test reader (tests/nci): virtual_ncidev.ko, which Debian's
# kernel does not build, from the installed linux-source (never a copy in
# this tree) against KDIR (ncidevemu, above, is the controller behind it).
$(B)/nci/virtual_ncidev.c: $(LINUX_SRC)
	@mkdir -p $(@D)
	tar -xJf $(LINUX_SRC) -C $(@D) --strip-components=3 \
		linux-source-6.1/drivers/nfc/virtual_ncidev.c
	touch $@

# Always through kbuild, which rebuilds it when KDIR (the VM's kernel) moved.
$(B)/nci/virtual_ncidev.ko: $(B)/nci/virtual_ncidev.c tests/nci/Kbuild FORCE
	cp tests/nci/Kbuild $(B)/nci/Kbuild
	$(MAKE) -C $(KDIR) M=$(CURDIR)/$(B)/nci modules

FORCE:

BENCH_BIN := $(patsubst tests/bench/%.c,$(B)/bench/%,$(wildcard tests/bench/*.c))

$(B)/bench/%: tests/bench/%.c $(B)/libsectag.a
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CFLAGS) $(CPPFLAGS) -o $@ $< $(B)/libsectag.a $(LDLIBS)

tests: all $(KSFT_BIN) $(E2E_BIN) $(BENCH_BIN) $(EMU_BIN) \
	$(B)/nci/virtual_ncidev.ko

# Benchmarks print figures; they are not pass/fail tests.
bench: deps
	@$(MAKE) --no-print-directory -s tests
	@tests/vm/run --timeout 900 -- tests/bench/bench.sh

# Host unit tests run under ASan+UBSan; tests/unit/Makefile.* add their
# programs to UNIT_BINS.
SAN	:= -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
UNIT_BINS :=
-include $(wildcard tests/unit/Makefile.*)
unit: $(UNIT_BINS)

# libFuzzer targets, one per parser surface (fuzz/*.c, see
# Documentation/fuzzing.md). Each is built from its harness and the
# production sources it feeds: FUZZ_SRC_<harness>, else FUZZ_SRC.
# make fuzz runs each for FUZZ_RUNS executions (FUZZ_MAX_SECONDS is only
# a safety bound) and fails on any crash or if a run stops short;
# make check runs each for SECTAG_FUZZ_SECONDS (default 10).
FUZZ_BINS := $(patsubst fuzz/%.c,$(B)/fuzz/%,$(wildcard fuzz/*.c))
FUZZ_RUNS ?= 10000000
FUZZ_MAX_SECONDS ?= 7200
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O1 -g \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-Iuserspace/lib -Iuapi $(NL_CFLAGS)
FUZZ_LDLIBS := $(NL_LIBS) -ljson-c -lcrypto
FUZZ_SRC := userspace/lib/ntag424.c userspace/lib/ntag424_sm.c
FUZZ_SRC_fuzz_agent_proto := userspace/lib/agent.c
FUZZ_SRC_fuzz_token := userspace/lib/token.c userspace/lib/hex.c
FUZZ_SRC_fuzz_store := userspace/lib/store.c userspace/lib/fileio.c userspace/lib/hex.c
FUZZ_SRC_fuzz_config := userspace/agent/config.c
FUZZ_SRC_fuzz_nfc_reply := userspace/lib/nfc.c userspace/lib/genl.c userspace/lib/hex.c
FUZZ_SRC_fuzz_sim_reply := userspace/lib/sim.c userspace/lib/genl.c
# Harnesses that #include the file they feed: a prerequisite, not a source.
FUZZ_INCLUDED := userspace/agent/config.c userspace/lib/agent.c

.SECONDEXPANSION:
$(B)/fuzz/%: fuzz/%.c $$(or $$(FUZZ_SRC_$$*),$$(FUZZ_SRC)) \
		$(wildcard userspace/lib/*.h userspace/agent/*.h fuzz/*.h)
	@mkdir -p $(@D) $(B)/fuzz/corpus-$*
	clang $(FUZZ_CFLAGS) -o $@ $(filter-out $(FUZZ_INCLUDED),$(filter %.c,$^)) \
		$(FUZZ_LDLIBS)

fuzz-build: $(FUZZ_BINS)

# Seed corpora (committed): written by the production code.
$(B)/fuzz/mkseeds: fuzz/seeds/mkseeds.c $(B)/libsectag.a
	@mkdir -p $(@D)
	$(CC) $(WARN) $(CFLAGS) $(CPPFLAGS) -Iuapi/linux -o $@ $< \
		$(B)/libsectag.a $(LDLIBS)

fuzz-seeds: $(B)/fuzz/mkseeds
	$(B)/fuzz/mkseeds fuzz/corpus
	mkdir -p fuzz/corpus/fuzz_config
	cp etc/sectagd.conf fuzz/corpus/fuzz_config/sample
	sed 's/^#\([a-z_]* =\)/\1/' etc/sectagd.conf >fuzz/corpus/fuzz_config/all-set

fuzz: fuzz-build
	@fuzz/run.sh --runs $(FUZZ_RUNS) --max-seconds $(FUZZ_MAX_SECONDS) \
		$(FUZZ_BINS)

deps:
	@scripts/deps.sh

check: deps
	@tests/check.sh

demo: deps
	@$(MAKE) --no-print-directory -s all
	@tests/vm/run -- tests/demo.sh

# Paths as a Debian package lays them out; all overridable.
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
PAMDIR	?= /lib/$(MULTIARCH)/security
UDEVDIR	?= /lib/udev/rules.d
UNITDIR	?= $(or $(shell pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null),/lib/systemd/system)
MANDIR	?= $(PREFIX)/share/man
# Where this libcryptsetup loads token plugins from: it says so itself.
TOKENDIR ?= $(or $(shell cryptsetup --help 2>/dev/null | \
	sed -n 's/^LUKS2 external token plugin path: \(.*\)\.$$/\1/p'),\
	$(shell pkg-config --variable=libdir libcryptsetup)/cryptsetup)

# The module is installed for the kernel it will run on, the running one
# unless INSTALL_KVER says otherwise (the tests' KVER is the VM's kernel):
# built against that kernel's headers, installed by kbuild's
# modules_install into updates/, then depmod -- which a package's
# postinst runs instead when DESTDIR is set.
INSTALL_KVER ?= $(shell uname -r)
INSTALL_KDIR := $(firstword $(wildcard /lib/modules/$(INSTALL_KVER)/build \
	/usr/src/linux-headers-$(INSTALL_KVER)))
install-module:
	@[ -n "$(INSTALL_KDIR)" ] || { echo "no headers for kernel $(INSTALL_KVER):" \
		"apt-get install linux-headers-$(INSTALL_KVER), or set INSTALL_KVER" >&2; exit 1; }
	$(MAKE) -C $(INSTALL_KDIR) M=$(CURDIR) modules
	$(MAKE) -C $(INSTALL_KDIR) M=$(CURDIR) INSTALL_MOD_DIR=updates \
		$(if $(DESTDIR),INSTALL_MOD_PATH=$(DESTDIR)) DEPMOD=true \
		CONFIG_MODULE_SIG_ALL= modules_install
	$(if $(DESTDIR),,depmod -a $(INSTALL_KVER))

install: progs install-module
	install -D -m 0644 uapi/linux/nfc_sectag.h \
		$(DESTDIR)$(PREFIX)/include/linux/nfc_sectag.h
	install -D -m 0755 $(B)/sectag $(DESTDIR)$(PREFIX)/bin/sectag
	install -D -m 0755 $(B)/sectagd $(DESTDIR)$(PREFIX)/sbin/sectagd
	install -D -m 0755 $(B)/sectag-open $(DESTDIR)$(LIBEXECDIR)/sectag-open
	install -D -m 0644 $(B)/pam_sectag.so $(DESTDIR)$(PAMDIR)/pam_sectag.so
	install -D -m 0644 $(TOKEN_SO) \
		$(DESTDIR)$(TOKENDIR)/libcryptsetup-token-sectag.so
	install -D -m 0644 udev/60-sectag.rules $(DESTDIR)$(UDEVDIR)/60-sectag.rules
	sed 's|@SBINDIR@|$(PREFIX)/sbin|' systemd/sectagd.service >$(B)/sectagd.service
	install -D -m 0644 $(B)/sectagd.service $(DESTDIR)$(UNITDIR)/sectagd.service
	install -D -m 0644 systemd/sectagd.socket $(DESTDIR)$(UNITDIR)/sectagd.socket
	[ -e $(DESTDIR)/etc/sectag/sectagd.conf ] || \
		install -D -m 0644 etc/sectagd.conf $(DESTDIR)/etc/sectag/sectagd.conf
	for m in $(wildcard Documentation/man/*.[0-9]); do \
		install -D -m 0644 $$m $(DESTDIR)$(MANDIR)/man$${m##*.}/$${m##*/}; \
	done

# The configuration file is left in place, as a package's remove does.
uninstall:
	rm -f $(DESTDIR)/lib/modules/$(INSTALL_KVER)/updates/kernel/nfc_sectag.ko
	$(if $(DESTDIR),,depmod -a $(INSTALL_KVER))
	rm -f $(DESTDIR)$(PREFIX)/include/linux/nfc_sectag.h \
		$(DESTDIR)$(PREFIX)/bin/sectag $(DESTDIR)$(PREFIX)/sbin/sectagd \
		$(DESTDIR)$(LIBEXECDIR)/sectag-open $(DESTDIR)$(PAMDIR)/pam_sectag.so \
		$(DESTDIR)$(TOKENDIR)/libcryptsetup-token-sectag.so \
		$(DESTDIR)$(UDEVDIR)/60-sectag.rules $(DESTDIR)$(UNITDIR)/sectagd.service \
		$(DESTDIR)$(UNITDIR)/sectagd.socket
	for m in $(notdir $(wildcard Documentation/man/*.[0-9])); do \
		rm -f $(DESTDIR)$(MANDIR)/man$${m##*.}/$$m; \
	done

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null || true
	rm -rf $(B)
