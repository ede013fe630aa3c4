/* Files dird publishes: written whole to a temporary name, synced, then renamed, so that a
 * reader (or a crash) sees the old file or the new one, never part of one. */
#ifndef DIR_FILEUTIL_H
#define DIR_FILEUTIL_H

#include <stddef.h>
#include <sys/types.h>

int file_replace(const char *path, const void *data, size_t len, mode_t mode);

/* Creates `path` with `mode` if missing; refuses a symlink, a non-directory or one owned by
 * someone other than us, and fixes its mode. */
int dir_ensure(const char *path, mode_t mode);

#endif
