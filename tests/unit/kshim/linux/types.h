/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _KSHIM_LINUX_TYPES_H
#define _KSHIM_LINUX_TYPES_H
#include "../kshim.h"
#endif
