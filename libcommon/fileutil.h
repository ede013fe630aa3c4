/* Files dird publishes: written whole to a temporary name, synced, then renamed, so that a
 * reader (or a crash) sees the old file or the new one, never part of one. */
#ifndef DIR_FILEUTIL_H
#define DIR_FILEUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "buf.h"

/* Writes data to "<path>.tmp.<pid>" (its name in tmp) and syncs it; nothing is left on failure. */
int file_write_tmp(const char *path, const void *data, size_t len, mode_t mode, char *tmp,
		   size_t tmplen);
/* file_write_tmp in steps, for a file written as it is made: the temporary file created (its
 * fd), written to, then synced and closed; nothing is left when ok is false or a step fails. */
int file_create_tmp(const char *path, mode_t mode, char *tmp, size_t tmplen);
int file_write_all(int fd, const void *data, size_t len);
int file_finish_tmp(int fd, bool ok, mode_t mode, const char *tmp);
/* A file written front to back as it is made, rather than built whole in memory first: what is
 * not written yet waits in chunk (the caller may patch bytes there, such as a length prefix,
 * before the next flush); past FILE_SINK_CHUNK bytes it goes to fd, and every few MB written
 * the disk is asked to start writing them back.  Once a write fails, failed stays set and
 * nothing more is written. */
#define FILE_SINK_CHUNK (1u << 20)
struct file_sink {
	int fd;
	struct buf chunk;
	uint64_t written; /* bytes of the file before chunk */
	uint64_t writeback; /* of those, the ones whose writeback was started */
	bool failed;
};
uint64_t file_sink_pos(const struct file_sink *s);
/* Writes chunk out once it holds more than `keep` bytes. */
void file_sink_flush(struct file_sink *s, size_t keep);
void file_sink_put(struct file_sink *s, const void *p, size_t n);
/* Syncs the directory holding path, so that a rename in it is on disk. */
int dir_sync(const char *path);
/* file_write_tmp, the rename over path and dir_sync. */
int file_replace(const char *path, const void *data, size_t len, mode_t mode);
/* Removes every "<path>.tmp.*" a writer killed before its rename left behind. */
void file_remove_tmps(const char *path);

/* file_replace, but check(tmp, arg) looks at the written file before it is renamed into place:
 * when it returns -1 nothing is replaced, and file_replace_checked returns -1 with ECANCELED. */
int file_replace_checked(const char *path, const void *data, size_t len, mode_t mode,
			 int (*check)(const char *tmp, void *arg), void *arg);

/* The whole of a regular file (at most max bytes, else EFBIG), NUL-terminated, in *data (free
 * it); its stat in *st when st is not NULL.  -1 with errno. */
int file_read(const char *path, size_t max, char **data, size_t *len, struct stat *st);

/* Copies `from` to `to` byte for byte, with from's mode, written as file_replace does. */
#define FILE_COPY_MAX (64u << 20)
int file_copy(const char *from, const char *to);

/* Creates `path` with `mode` if missing; refuses a symlink, a non-directory, one owned by
 * someone other than us and one group or others may write to (EPERM: anyone could put a file
 * in it), and fixes its mode. */
int dir_ensure(const char *path, mode_t mode);

#endif
