/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Internal: the pieces of "temp file, fsync, rename, fsync the directory". */
#ifndef SECTAG_FILEIO_H
#define SECTAG_FILEIO_H

#include <stddef.h>

/* All of @n bytes, retrying short writes and EINTR. 0 or -errno. */
int sectag_write_all(int fd, const void *p, size_t n);
/* Makes a rename in @path's directory durable. 0 or -errno. */
int sectag_sync_dir(const char *path);

#endif
