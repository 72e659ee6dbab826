/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KSHIM_LINUX_ERRNO_H
#define _KSHIM_LINUX_ERRNO_H
/* glibc's <errno.h> reaches this file too: take the values from the UAPI. */
#include <asm/errno.h>
#endif
