# SPDX-License-Identifier: GPL-2.0
#
# make          module (against the VM's kernel headers) and userspace
# make module DEBUG=1   the module with pr_debug()/dev_dbg() printing
# make check    every test: static checks, unit tests, kernel tests in a VM
# make demo     the whole story, in a VM
# make install  for the running kernel (INSTALL_KVER), DESTDIR/PREFIX aware
# make uninstall
# make style    checkpatch, sparse and shellcheck (make check runs them)
# make help     every target and switch (V=1, WERROR=1, CFLAGS...)

KVER	?= $(shell tests/vm/kver)
KDIR	?= $(firstword $(wildcard /usr/src/linux-headers-$(KVER) /lib/modules/$(KVER)/build) /lib/modules/$(shell uname -r)/build)
PREFIX	?= /usr/local
DESTDIR	?=
B	:= build

CC	?= gcc
# CFLAGS, CPPFLAGS and LDFLAGS from the environment (dpkg-buildflags) are
# honoured; ours are added to them.
CFLAGS	?= -O2 -g
include scripts/build.mk
NL_CFLAGS := $(shell pkg-config --cflags libnl-genl-3.0 2>/dev/null)
NL_LIBS	:= $(shell pkg-config --libs libnl-genl-3.0 2>/dev/null)
# PC/SC (userspace/lib/pcsc.c): linked into sectag, sectagd and the token
# plugin (which taps through cli/tap.c) only.
PCSC_CFLAGS := $(shell pkg-config --cflags libpcsclite 2>/dev/null)
PCSC_LIBS := $(shell pkg-config --libs libpcsclite 2>/dev/null)
# TPM2 (userspace/lib/tpm2.c, bind tpm2): the short-lived programs only
# (sectag, sectag-open, the token plugin), never the resident agent.
TPM2_LIBS := $(shell pkg-config --libs tss2-esys tss2-mu tss2-rc tss2-tctildr 2>/dev/null)
CPPFLAGS += -Iuapi -Iuserspace/lib -I$(B) $(NL_CFLAGS) $(PCSC_CFLAGS)
LDLIBS	:= $(NL_LIBS) -lcryptsetup -ljson-c -lkeyutils -lcrypto -lpthread

TOKEN_SO := $(B)/libcryptsetup-token-sectag.so
LIB_SRC	:= $(wildcard userspace/lib/*.c)
LIB_OBJ	:= $(LIB_SRC:%.c=$(B)/obj/%.o)
LINUX_SRC := /usr/src/linux-source-6.1.tar.xz
include kernel/engine.mk

.PHONY: all module lib progs unit tests check check-extra demo deps install install-module uninstall clean \
	bench fuzz fuzz-build fuzz-seeds kselftest help style style-checkpatch style-sparse \
	style-shellcheck install-initramfs FORCE

all: module lib progs

# ---------------------------------------------------------------------------
# Objects: one per source, each build flavour in its own tree mirroring the
# sources (build/obj/userspace/lib/nfc.o), with the headers it read in a .d
# file beside it. A flavour is a set of flags:
#   obj   what ships: libsectag, the programs, their test helpers (-fPIC,
#         so an object serves a program and a plugin alike)
#   pam   pam_sectag.so: only its entry points visible
#   san   host unit tests, ASan + UBSan
#   ksan  the NTAG 424 engine (kernel/engine.mk) against tests/unit/kshim,
#         ASan + UBSan: unit tests
#   kemu  the same without sanitizers: the reader emulators
#   fuzz  libFuzzer targets (clang)
objs	= $(patsubst %.c,$(B)/obj/%.o,$(1))
link	= $(call say,LD,$@)$(CC) $(CFLAGS) $(LDFLAGS) -o $@

# A file holding TEXT, rewritten only when TEXT changed: what depends on
# it is rebuilt when a setting changed, and only then.
stamp	= @mkdir -p $(@D); printf '%s\n' '$(subst ','\'',$(1))' >$@.tmp; \
	cmp -s $@.tmp $@ && rm -f $@.tmp || mv -f $@.tmp $@

# The flags every object depends on: WERROR=1 or new CFLAGS rebuild them.
FLAGS	:= $(B)/.flags
$(FLAGS): FORCE
	$(call stamp,$(CC) $(WARN) $(CFLAGS) $(CPPFLAGS) $(LDFLAGS))

$(B)/obj/%.o: %.c $(FLAGS) | $(B)/version.h
	@mkdir -p $(@D)
	$(call say,CC,$@)$(CC) $(WARN) $(CFLAGS) $(CPPFLAGS) $(DIRFLAGS) $(DEPFLAGS) \
		-fPIC -c -o $@ $<

$(B)/pam/%.o: %.c $(FLAGS)
	@mkdir -p $(@D)
	$(call say,CC,$@)$(CC) $(WARN) $(CFLAGS) $(CPPFLAGS) $(DEPFLAGS) \
		-fPIC -fvisibility=hidden -c -o $@ $<

# Objects are kept (make deletes intermediate files of pattern chains);
# FORCE, phony, still forces.
.SECONDARY:

# ---------------------------------------------------------------------------
# The programs

progs: $(B)/sectag $(B)/sectagd $(B)/sectag-open $(B)/pam_sectag.so $(TOKEN_SO)

lib: $(B)/libsectag.a

$(B)/libsectag.a: $(LIB_OBJ)
	$(call say,AR,$@)rm -f $@ && $(AR) rcs $@ $^

# The PAM module only talks to the agent: of libsectag it compiles in
# the protocol (agent.c, hex.c: no libnl, no OpenSSL), and exports only
# the pam_sm_* entry points.
PAM_OBJ	:= $(patsubst %.c,$(B)/pam/%.o,userspace/pam/pam_sectag.c \
	userspace/lib/agent.c userspace/lib/hex.c)
$(B)/pam_sectag.so: $(PAM_OBJ)
	$(link) -shared $^ -lpam -lkeyutils

# The resident agent does not link libcryptsetup: volumes are opened by
# the short-lived sectag-open helper (Documentation/bench.md: idle RSS).
LIBEXECDIR ?= $(PREFIX)/libexec/sectag
AGENT_LDLIBS := -Wl,--as-needed $(NL_LIBS) -lkeyutils -lcrypto -lpthread
AGENT_OBJ := $(call objs,$(wildcard userspace/agent/*.c))
$(B)/obj/userspace/agent/%.o: DIRFLAGS = -DSECTAG_LIBEXECDIR='"$(LIBEXECDIR)"'
# Another PREFIX rebuilds the agent (it runs $(LIBEXECDIR)/sectag-open).
$(AGENT_OBJ): $(B)/.libexecdir
$(B)/.libexecdir: FORCE
	$(call stamp,$(LIBEXECDIR))

$(B)/sectagd: $(AGENT_OBJ) $(B)/libsectag.a
	$(link) $^ $(AGENT_LDLIBS) $(PCSC_LIBS)

$(B)/sectag-open: $(call objs,userspace/helper/sectag-open.c) $(B)/libsectag.a
	$(link) $^ -Wl,--as-needed -lcryptsetup -ljson-c -lkeyutils -lcrypto $(TPM2_LIBS)

CLI_OBJ	:= $(call objs,$(wildcard userspace/cli/*.c) userspace/token/open.c)
$(B)/obj/userspace/cli/%.o: DIRFLAGS = -Iuserspace/cli -Iuserspace/token

$(B)/sectag: $(CLI_OBJ) $(B)/libsectag.a
	$(link) $^ $(LDLIBS) $(PCSC_LIBS) $(TPM2_LIBS)

# The LUKS2 token plugin (userspace/token): libsectag and the CLI's tap
# linked in, only the cryptsetup_token_* symbols exported, under the
# version libcryptsetup looks them up with (dlvsym).
TOKEN_OBJ := $(call objs,$(wildcard userspace/token/*.c) userspace/cli/tap.c \
	userspace/cli/pcsc.c)
$(B)/obj/userspace/token/%.o: DIRFLAGS = -Iuserspace/cli

$(TOKEN_SO): $(TOKEN_OBJ) $(B)/libsectag.a userspace/token/token.sym
	$(link) -shared -Wl,--version-script=userspace/token/token.sym -Wl,-z,defs \
		$(filter-out %.sym,$^) $(LDLIBS) $(PCSC_LIBS) $(TPM2_LIBS)

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

# One version for every program (--version), the module (MODULE_VERSION)
# and packages: scripts/version. The header is rewritten only when the
# version changed, so a commit rebuilds what includes it and nothing else.
$(B)/version.h: FORCE
	@mkdir -p $(@D)
	@echo "#define SECTAG_VERSION \"$$(scripts/version)\"" >$@.tmp
	@cmp -s $@.tmp $@ && rm -f $@.tmp || mv -f $@.tmp $@

# ---------------------------------------------------------------------------
# Test programs

# kselftest_harness.h and checkpatch come from the installed linux-source,
# never from a copy in this tree.
$(B)/ksrc/.stamp: $(LINUX_SRC)
	@mkdir -p $(@D)
	$(call say,GEN,$(@D))tar -xJf $(LINUX_SRC) -C $(@D) --strip-components=1 \
		linux-source-6.1/tools/testing/selftests/kselftest_harness.h \
		linux-source-6.1/tools/testing/selftests/kselftest.h \
		linux-source-6.1/scripts/checkpatch.pl \
		linux-source-6.1/scripts/spelling.txt \
		linux-source-6.1/scripts/const_structs.checkpatch
	@touch $@

# The kernel tests: tests/kselftest/Makefile (TEST_GEN_PROGS), with our
# flags and libsectag; into build/kselftest, where run.sh finds them.
kselftest: $(B)/libsectag.a $(B)/ksrc/.stamp $(FLAGS)
	$(Q)$(MAKE) --no-print-directory -f tests/kselftest/Makefile SECTAG_TOP=1 \
		B=$(B) OUTPUT=$(B)/kselftest
kselftest: export SECTAG_CPPFLAGS = $(CPPFLAGS)
kselftest: export SECTAG_LDLIBS = $(LDLIBS)

# Helpers of the end-to-end tests (tests/e2e/*.sh), run in the VM.
E2E_BIN := $(patsubst tests/e2e/%.c,$(B)/e2e/%,$(wildcard tests/e2e/*.c))

$(B)/e2e/%: $(B)/obj/tests/e2e/%.o $(B)/libsectag.a
	@mkdir -p $(@D)
	$(link) $^ $(LDLIBS)

# The engine built for userspace against tests/unit/kshim, in its own
# include world (kshim's linux/*.h must never shadow the system's).
KSHIM_CFLAGS = -std=gnu11 -Wall -Wextra $(WERROR_FLAG) -Itests/unit/kshim -Ikernel \
	-Itests/unit -Itests/usb -Itests/lib

$(B)/kemu/%.o: %.c $(FLAGS)
	@mkdir -p $(@D)
	$(call say,CC,$@)$(CC) $(KSHIM_CFLAGS) $(CFLAGS) $(DEPFLAGS) -c -o $@ $<

# Every reader emulator (pn533emu, ncidevemu, vpcdbridge) is one program
# with the engine behind it.
EMU_ENGINE := $(patsubst %.c,$(B)/kemu/%.o,$(ENGINE_SRC) tests/unit/kshim/kshim.c \
	tests/usb/engine_rf.c)
EMU_BIN	:= $(B)/usb/pn533emu $(B)/nci/ncidevemu $(B)/pcsc/vpcdbridge
$(B)/obj/tests/usb/%.o $(B)/obj/tests/nci/%.o $(B)/obj/tests/pcsc/%.o: \
	DIRFLAGS = -Itests/unit -Itests/usb

$(B)/usb/pn533emu: $(call objs,tests/usb/pn533emu.c)
$(B)/nci/ncidevemu: $(call objs,tests/nci/ncidevemu.c)
$(B)/pcsc/vpcdbridge: $(call objs,tests/pcsc/vpcdbridge.c)
$(EMU_BIN): $(call objs,tests/usb/emu.c) $(EMU_ENGINE)
	@mkdir -p $(@D)
	$(link) $^ -lcrypto -lpthread

# tagd (tests/boot): the engine as a relay tag whose memory survives
# reboots in a state file; the simulator's client from libsectag.
$(B)/kemu/tests/boot/%.o: KSHIM_CFLAGS += -Itests/boot
$(B)/obj/tests/boot/%.o: DIRFLAGS = -Itests/unit -Itests/boot
TAGD_ENGINE := $(patsubst %.c,$(B)/kemu/%.o,$(ENGINE_SRC) tests/unit/kshim/kshim.c \
	tests/boot/tagstate.c)
$(B)/boot/tagd: $(call objs,tests/boot/tagd.c) $(TAGD_ENGINE) $(B)/libsectag.a
	@mkdir -p $(@D)
	$(link) $^ $(NL_LIBS) -lcrypto -lpthread

# The NCI test reader (tests/nci): virtual_ncidev.ko, which Debian's
# kernel does not build, from the installed linux-source (never a copy in
# this tree) against KDIR (ncidevemu, above, is the controller behind it).
$(B)/nci/virtual_ncidev.c: $(LINUX_SRC)
	@mkdir -p $(@D)
	$(call say,GEN,$@)tar -xJf $(LINUX_SRC) -C $(@D) --strip-components=3 \
		linux-source-6.1/drivers/nfc/virtual_ncidev.c
	@touch $@

# Always through kbuild, which rebuilds it when KDIR (the VM's kernel) moved.
$(B)/nci/virtual_ncidev.ko: $(B)/nci/virtual_ncidev.c tests/nci/Kbuild FORCE
	@cp tests/nci/Kbuild $(B)/nci/Kbuild
	$(Q)$(MAKE) -C $(KDIR) M=$(CURDIR)/$(B)/nci modules

FORCE:

BENCH_BIN := $(patsubst tests/bench/%.c,$(B)/bench/%,$(wildcard tests/bench/*.c))

$(B)/bench/%: $(B)/obj/tests/bench/%.o $(B)/libsectag.a
	@mkdir -p $(@D)
	$(link) $^ $(LDLIBS) $(PCSC_LIBS)

tests: all kselftest $(E2E_BIN) $(BENCH_BIN) $(EMU_BIN) $(B)/boot/tagd \
	$(B)/nci/virtual_ncidev.ko

# Benchmarks print figures; they are not pass/fail tests.
bench: deps
	@$(MAKE) --no-print-directory -s tests
	@tests/vm/run --timeout 900 -- tests/bench/bench.sh
	@echo "== boot: cryptsetup open through the plugin vs a key file; boot to root"
	@tests/bench/boot.sh

# Host unit tests run under ASan+UBSan; tests/unit/Makefile.* add their
# programs to UNIT_BINS, each with its objects as prerequisites (san_objs,
# ksan_objs) and its libraries in UNIT_LIBS.
SAN	:= -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
UNIT_CFLAGS = -Wall -Wextra $(WERROR_FLAG) -O1 -g $(SAN) $(DEPFLAGS)
san_objs = $(patsubst %.c,$(B)/san/%.o,$(1))
ksan_objs = $(patsubst %.c,$(B)/ksan/%.o,$(1))

$(B)/san/%.o: %.c $(FLAGS)
	@mkdir -p $(@D)
	$(call say,CC,$@)$(CC) -std=c11 -D_GNU_SOURCE $(UNIT_CFLAGS) -Iuserspace/lib -Iuapi \
		-Itests/unit -Itests/lib $(NL_CFLAGS) $(PCSC_CFLAGS) -c -o $@ $<

$(B)/ksan/%.o: %.c $(FLAGS)
	@mkdir -p $(@D)
	$(call say,CC,$@)$(CC) $(KSHIM_CFLAGS) $(UNIT_CFLAGS) -c -o $@ $<

$(B)/unit/%:
	@mkdir -p $(@D)
	$(call say,LD,$@)$(CC) $(SAN) -o $@ $(filter %.o,$^) $(UNIT_LIBS)

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
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra $(WERROR_FLAG) -O1 -g \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-Iuserspace/lib -Iuapi $(NL_CFLAGS)
FUZZ_LDLIBS := $(NL_LIBS) -ljson-c -lcrypto
FUZZ_SRC := userspace/lib/ntag424.c userspace/lib/ntag424_sm.c
FUZZ_SRC_fuzz_agent_proto := userspace/lib/agent.c userspace/lib/hex.c
FUZZ_SRC_fuzz_token := userspace/lib/token.c userspace/lib/hex.c
FUZZ_SRC_fuzz_store := userspace/lib/store.c userspace/lib/fileio.c userspace/lib/hex.c
FUZZ_SRC_fuzz_config := userspace/agent/config.c
FUZZ_SRC_fuzz_nfc_reply := userspace/lib/nfc.c userspace/lib/genl.c userspace/lib/hex.c
FUZZ_SRC_fuzz_sim_reply := userspace/lib/sim.c userspace/lib/genl.c
# Harnesses that #include the file they feed: not linked again.
FUZZ_INCLUDED := userspace/agent/config.c userspace/lib/agent.c
fuzz_objs = $(patsubst %.c,$(B)/fuzzobj/%.o,$(filter-out $(FUZZ_INCLUDED),$(1)))

$(B)/fuzzobj/%.o: %.c $(FLAGS)
	@mkdir -p $(@D)
	$(call say,CC,$@)clang $(FUZZ_CFLAGS) $(DEPFLAGS) -c -o $@ $<

.SECONDEXPANSION:
$(B)/fuzz/%: $(B)/fuzzobj/fuzz/%.o $$(call fuzz_objs,$$(or $$(FUZZ_SRC_$$*),$$(FUZZ_SRC)))
	@mkdir -p $(@D) $(B)/fuzz/corpus-$*
	$(call say,LD,$@)clang $(FUZZ_CFLAGS) -o $@ $^ $(FUZZ_LDLIBS)

fuzz-build: $(FUZZ_BINS)

# Seed corpora (committed): written by the production code.
$(B)/obj/fuzz/seeds/%.o: DIRFLAGS = -Iuapi/linux
$(B)/fuzz/mkseeds: $(call objs,fuzz/seeds/mkseeds.c) $(B)/libsectag.a
	@mkdir -p $(@D)
	$(link) $^ $(LDLIBS)

fuzz-seeds: $(B)/fuzz/mkseeds
	$(B)/fuzz/mkseeds fuzz/corpus
	mkdir -p fuzz/corpus/fuzz_config
	cp etc/sectagd.conf fuzz/corpus/fuzz_config/sample
	sed 's/^#\([a-z_]* =\)/\1/' etc/sectagd.conf >fuzz/corpus/fuzz_config/all-set

fuzz: fuzz-build
	@fuzz/run.sh --runs $(FUZZ_RUNS) --max-seconds $(FUZZ_MAX_SECONDS) \
		$(FUZZ_BINS)

# The headers each object read, recorded by the compiler (DEPFLAGS).
-include $(shell find $(addprefix $(B)/,obj pam san ksan kemu fuzzobj) -name '*.d' 2>/dev/null)

# ---------------------------------------------------------------------------
# Style: each check on its own, all three by make style; make check runs them.
# Only our sources: kbuild leaves generated *.mod.c files beside them.
STYLE_KSRC = $(or $(shell git ls-files -co --exclude-standard 'kernel/*.[ch]' \
	'uapi/linux/*.h' 2>/dev/null),$(wildcard kernel/*.[ch] uapi/linux/*.h))
# Shell scripts: by name or by their #! line.
STYLE_FILES = $(or $(shell git ls-files -co --exclude-standard scripts tests fuzz 2>/dev/null),\
	$(shell find scripts tests fuzz -type f))
STYLE_SH = $(filter %.sh,$(STYLE_FILES)) $(shell awk 'FNR == 1 && /^\#!.*sh/ \
	{ print FILENAME } { nextfile }' $(filter-out %.sh,$(foreach f,$(STYLE_FILES),\
	$(if $(findstring .,$(notdir $(f))),,$(f)))))

style: style-checkpatch style-sparse style-shellcheck

# checkpatch --strict: nothing printed is a pass.
style-checkpatch: $(B)/ksrc/.stamp
	@out=$$(perl $(B)/ksrc/scripts/checkpatch.pl --strict --no-tree -q -f \
		$(STYLE_KSRC) 2>&1); [ -z "$$out" ] || { echo "$$out"; exit 1; }

# The module with W=1 and sparse on every file (C=2): no warning at all.
style-sparse:
	@out=$$($(MAKE) -s --no-print-directory module W=1 C=2 2>&1); \
	if echo "$$out" | grep -E 'warning|error'; then exit 1; fi

style-shellcheck:
	@if command -v shellcheck >/dev/null; then shellcheck -x $(STYLE_SH); \
	else echo "style-shellcheck: shellcheck not installed (make deps)"; fi

# ---------------------------------------------------------------------------
help:
	@echo 'Build:'
	@echo '  all (default)   module, lib and progs'
	@echo '  module          kernel/nfc_sectag.ko against KDIR (KVER: the test VM'"'"'s kernel)'
	@echo '  lib             build/libsectag.a'
	@echo '  progs           sectag, sectagd, sectag-open, pam_sectag.so, the LUKS2 token plugin'
	@echo '  tests           all, kernel tests, end-to-end helpers, emulators, benchmarks'
	@echo '  kselftest       the kernel tests alone (also: make -C tests/kselftest)'
	@echo '  unit            host unit tests (ASan+UBSan) into build/unit'
	@echo '  fuzz-build      libFuzzer targets; fuzz: run them (FUZZ_RUNS); fuzz-seeds'
	@echo 'Test:'
	@echo '  check           everything: build, style, unit, fuzz, VM tests (sets WERROR=1)'
	@echo '  check-extra     VM tests too long for check: tpm2 under another TPM, the NCI races, 1000-tap storms'
	@echo '  style           checkpatch --strict, sparse, shellcheck; one at a time:'
	@echo '                  style-checkpatch, style-sparse, style-shellcheck'
	@echo '  demo            the user story in a VM;  bench: figures in a VM'
	@echo 'Install:'
	@echo '  deps            the Debian packages building and testing need'
	@echo '  install         DESTDIR, PREFIX, INSTALL_KVER (default: uname -r)'
	@echo '  uninstall, clean'
	@echo 'Switches:'
	@echo '  V=1             full commands instead of "  CC      file"'
	@echo '  WERROR=1        warnings are errors (default off: distribution builds)'
	@echo '  DEBUG=1         module with pr_debug(); KVER/KDIR: kernel to build against'
	@echo '  CFLAGS CPPFLAGS LDFLAGS from the environment are honoured (dpkg-buildflags)'

deps:
	@scripts/deps.sh

# Debian packages into build/deb/ (scripts/deb.sh), lintian-checked.
.PHONY: deb
deb:
	@scripts/deb.sh

check: deps
	@tests/check.sh

# What make check leaves out for time: tests/extra.sh says what and why.
check-extra: deps
	@$(MAKE) --no-print-directory -s all tests
	@tests/extra.sh

demo: deps
	@$(MAKE) --no-print-directory -s all
	@tests/vm/run -- tests/demo.sh

# Paths as a Debian package lays them out; all overridable.
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
PAMDIR	?= /lib/$(MULTIARCH)/security
UDEVDIR	?= /lib/udev/rules.d
UNITDIR	?= $(or $(shell pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null),/lib/systemd/system)
MANDIR	?= $(PREFIX)/share/man
# Where bash-completion loads completions from, on demand.
BASHCOMPDIR ?= $(or $(shell pkg-config --variable=completionsdir \
	bash-completion 2>/dev/null),/usr/share/bash-completion/completions)
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

# INSTALL_MODULE=0: not the module (packages: DKMS builds it, sectag-dkms)
INSTALL_MODULE ?= 1
install: progs $(if $(filter 1,$(INSTALL_MODULE)),install-module)
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
	install -D -m 0644 completion/sectag $(DESTDIR)$(BASHCOMPDIR)/sectag
	$(MAKE) --no-print-directory install-initramfs

# Boot unlock (initramfs/): Debian's initramfs-tools hook and the
# crypttab keyscript, with the paths they run baked in.
ITDIR	?= /usr/share/initramfs-tools
KEYSCRIPT ?= /usr/lib/sectag/keyscript
IT_SED	:= sed -e 's|@BINDIR@|$(PREFIX)/bin|g' -e 's|@KEYSCRIPT@|$(KEYSCRIPT)|g'
install-initramfs:
	@mkdir -p $(B)
	$(IT_SED) initramfs/hooks/sectag >$(B)/initramfs-hook
	$(IT_SED) initramfs/keyscript >$(B)/keyscript
	install -D -m 0755 $(B)/initramfs-hook $(DESTDIR)$(ITDIR)/hooks/sectag
	install -D -m 0755 $(B)/keyscript $(DESTDIR)$(KEYSCRIPT)
	[ -e $(DESTDIR)/etc/sectag/initramfs.conf ] || \
		install -D -m 0644 initramfs/initramfs.conf $(DESTDIR)/etc/sectag/initramfs.conf

# The configuration file is left in place, as a package's remove does.
uninstall:
	rm -f $(DESTDIR)/lib/modules/$(INSTALL_KVER)/updates/kernel/nfc_sectag.ko
	$(if $(DESTDIR),,depmod -a $(INSTALL_KVER))
	rm -f $(DESTDIR)$(PREFIX)/include/linux/nfc_sectag.h \
		$(DESTDIR)$(PREFIX)/bin/sectag $(DESTDIR)$(PREFIX)/sbin/sectagd \
		$(DESTDIR)$(LIBEXECDIR)/sectag-open $(DESTDIR)$(PAMDIR)/pam_sectag.so \
		$(DESTDIR)$(TOKENDIR)/libcryptsetup-token-sectag.so \
		$(DESTDIR)$(UDEVDIR)/60-sectag.rules $(DESTDIR)$(UNITDIR)/sectagd.service \
		$(DESTDIR)$(ITDIR)/hooks/sectag $(DESTDIR)$(KEYSCRIPT) \
		$(DESTDIR)$(UNITDIR)/sectagd.socket
	for m in $(notdir $(wildcard Documentation/man/*.[0-9])); do \
		rm -f $(DESTDIR)$(MANDIR)/man$${m##*.}/$$m; \
	done
	rm -f $(DESTDIR)$(BASHCOMPDIR)/sectag

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null || true
	rm -rf $(B)
