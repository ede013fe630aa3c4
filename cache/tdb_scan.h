/* Every live record of a tdb file whose key begins with a prefix, read from the file forward, a
 * megabyte at a time, while the caller holds tdb's read lock of the whole file
 * (tdb_lockall_read).  Following the hash chains without a map of the file (a read of a few
 * bytes for each chain and each record, their data with it) took seconds at a million users,
 * under dird's locks; through a map (tdb_walk.h) the whole file would count in dird's memory.
 * Records lie end to end after the hash table (live, dead, free, the recovery area: tdb_check
 * walks them so); the layout is lib/tdb/common/tdb_private.h's, every length checked against
 * the file. */
#ifndef DIR_TDB_SCAN_H
#define DIR_TDB_SCAN_H

#include <sys/types.h> /* tdb.h's mode_t */
#include <tdb.h>

/* fn(t, key, data, arg) for each live record whose key begins with prefix, in the file's order,
 * until it returns non-zero: 1 then, 0 when all were visited.  TDB_WALK_OTHER (tdb_walk.h):
 * the header is not the layout known here, or a record is not as expected before any was
 * handed over (the caller asks tdb); -1 (errno EIO) one is not after some were. */
int tdb_scan(struct tdb_context *t, const char *prefix, tdb_traverse_func fn, void *arg);

#endif
