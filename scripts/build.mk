# SPDX-License-Identifier: GPL-2.0
#
# How the userspace rules print and what they warn about, shared by the
# top-level Makefile and tests/kselftest/Makefile.
#
#   V=1       every command in full; otherwise one kernel-style line a
#             step ("  CC      build/obj/userspace/lib/nfc.o"), none with -s
#   WERROR=1  warnings are errors: make check sets it; distribution builds
#             (new compilers, other flags) must not fail on a new warning

ifeq ($(V),1)
Q	:=
say	=
else ifneq ($(findstring s,$(firstword -$(MAKEFLAGS))),)
Q	:= @
say	= @
else
Q	:= @
say	= @printf '  %-7s %s\n' '$(1)' '$(2)';
endif

WERROR	?= 0
WERROR_FLAG := $(if $(filter 1,$(WERROR)),-Werror)
WARN	:= -std=c11 -D_GNU_SOURCE -Wall -Wextra $(WERROR_FLAG)
# Every object records the headers it read (build/**/*.d, included back):
# editing a header rebuilds exactly its users; -MP survives its removal.
DEPFLAGS := -MMD -MP
