/* A new tdb file written front to back, as a refresh writes the whole cache: tdb_open makes the
 * header and the empty hash table, then each record is appended after the last and the chains'
 * heads are written at the end.  tdb_store would walk a hash chain and search the free list for
 * each record, in a map of the file that counts in dird's memory (600 MB at a million users),
 * and leave a quarter of each record unused; this touches no map, and the file is what tdb
 * itself reads and changes afterwards (the records and their tailers as tdb lays them out, the
 * jenkins hash the header names).  Keys must be distinct: nothing looks for an earlier one. */
#ifndef DIR_TDB_BUILD_H
#define DIR_TDB_BUILD_H

#include <stddef.h>
#include <stdint.h>

struct tdb_build;

/* Creates path (which must not exist) with hash_size chains. */
struct tdb_build *tdb_build_start(const char *path, uint32_t hash_size);
int tdb_build_put(struct tdb_build *b, const void *key, size_t key_len, const void *val,
		  size_t val_len);
/* Writes what is left and syncs the file: 0, or -1 with the file removed (also when a put
 * failed).  b is freed either way. */
int tdb_build_finish(struct tdb_build *b);

#endif
