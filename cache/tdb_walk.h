/* Every record of a tdb file, in the order tdb_traverse_chain hands them over chain by chain,
 * read through a map of the file of our own while the caller holds tdb's read lock of the
 * whole file (tdb_lockall_read).  tdb walks one chain at a time, and each step waits for the
 * next record to come from memory (five million of them in a 1 GB file at a million users,
 * half of a restart); this follows many chains at once, each step's next record asked for
 * ahead (prefetched), so the waits overlap.  The layout is the one cache/tdb_build.c writes
 * (lib/tdb/common/tdb_private.h); every offset and length is checked against the file. */
#ifndef DIR_TDB_WALK_H
#define DIR_TDB_WALK_H

#include <sys/types.h> /* tdb.h's mode_t */
#include <tdb.h>

/* What tdb_walk could not do: the file is not in the layout it knows (another byte order, a
 * header it does not expect) or cannot be mapped: the caller walks it with tdb instead. */
#define TDB_WALK_OTHER (-2)

/* fn(t, key, data, arg) for each live record (not a dead one) whose key begins with prefix
 * (the others are stepped over: their data is never read), the bytes in the map, until it
 * returns non-zero: 1 then, 0 when all were visited; -1 (errno EIO) when the file is
 * malformed (a record out of bounds, a bad magic, a loop: tdb's traversal fails there too) or
 * out of memory (ENOMEM); TDB_WALK_OTHER.  A chain damaged into a loop is found within about
 * twice the records it holds, without holding more than those. */
int tdb_walk(struct tdb_context *t, const char *prefix, tdb_traverse_func fn, void *arg);
/* tdb_walk on two threads: the first half of the chains to fn on this one, the second half to
 * second_fn on a thread of its own meanwhile (each record's order within its half as
 * tdb_walk's), so that a caller that puts the second half's after the first's has tdb_walk's
 * order.  fn and second_fn run at the same time: they share nothing, or lock.  Without a
 * thread every chain goes to fn.  The result is tdb_walk's: the first half's when it is not 0,
 * else the second's.  A half that ends other than by going through its chains (a damaged
 * record, fn's non-zero) stops the other at its next 64 chains. */
int tdb_walk_split(struct tdb_context *t, const char *prefix, tdb_traverse_func fn, void *arg,
		   tdb_traverse_func second_fn, void *second_arg);

#endif
