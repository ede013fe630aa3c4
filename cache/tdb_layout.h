/* What of a tdb file's layout cache/tdb_walk.c and cache/tdb_scan.c read themselves:
 * lib/tdb/common/tdb_private.h, as cache/tdb_build.c writes it and transactions leave it. */
#ifndef DIR_TDB_LAYOUT_H
#define DIR_TDB_LAYOUT_H

#define HEADER_LEN 168
#define MAGIC_FOOD "TDB file\n"
#define VERSION_OFF 32
#define HASH_SIZE_OFF 36
#define RECOVERY_START_OFF 44
#define TDB_FILE_VERSION (0x26011967U + 6)
#define RECORD_MAGIC 0x26011999U
#define DEAD_MAGIC 0xFEE1DEADU
#define FREE_MAGIC (~RECORD_MAGIC)
#define RECOVERY_MAGIC 0xf53bc0e7U
#define RECOVERY_INVALID_MAGIC 0x0U
#define FILL_MAGIC 0x42424242U /* a grown file's fill bytes */
#define RECORD_HEAD 24	/* next, rec_len, key_len, data_len, full_hash, magic: u32 each */

#endif
