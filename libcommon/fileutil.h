/* Files dird publishes: written whole to a temporary name, synced, then renamed, so that a
 * reader (or a crash) sees the old file or the new one, never part of one. */
#ifndef DIR_FILEUTIL_H
#define DIR_FILEUTIL_H

#include <stddef.h>
#include <sys/types.h>

/* Writes data to "<path>.tmp.<pid>" (its name in tmp) and syncs it; nothing is left on failure. */
int file_write_tmp(const char *path, const void *data, size_t len, mode_t mode, char *tmp,
		   size_t tmplen);
/* Syncs the directory holding path, so that a rename in it is on disk. */
int dir_sync(const char *path);
/* file_write_tmp, the rename over path and dir_sync. */
int file_replace(const char *path, const void *data, size_t len, mode_t mode);
/* Removes every "<path>.tmp.*" a writer killed before its rename left behind. */
void file_remove_tmps(const char *path);

/* Creates `path` with `mode` if missing; refuses a symlink, a non-directory or one owned by
 * someone other than us, and fixes its mode. */
int dir_ensure(const char *path, mode_t mode);

#endif
