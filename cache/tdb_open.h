/* Opening and closing tdb files in a process with threads (tdb_open.c). */
#ifndef DIR_TDB_OPEN_H
#define DIR_TDB_OPEN_H

#include <sys/types.h>
#include <tdb.h>

/* tdb_open and tdb_close, one call at a time in the process.  libtdb keeps one list of every
 * tdb the process has open (common/open.c: `tdbs`, walked for its check that no file is opened
 * twice, changed by tdb_open and tdb_close) and guards it with nothing: two threads opening or
 * closing at once, even different files, can corrupt it.  dird's threads (the main loop, the
 * worker, the change streams, the refresh, PAM requests) all open and close tdbs, so every
 * opener in dird goes through these.  The other tdb calls touch no shared state. */
struct tdb_context *dir_tdb_open(const char *name, int hash_size, int tdb_flags, int open_flags,
				 mode_t mode);
int dir_tdb_close(struct tdb_context *t);

#endif
