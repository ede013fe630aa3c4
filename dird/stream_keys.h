/* The layout of the change streams' own keys in the tdb pair (store.h: each begins "SYNC_",
 * which no reader of records visits), and the checks of what is read back (stream_keys.c).
 *
 * For each entry a stream put there, in the file of its kind, under its domain's name:
 *   SYNC_E_<domain>/<id>    its name; where the domain's groups name members by DN
 *                           (member_dns.h), a NUL and its DN after it (none: too long to keep)
 *   SYNC_N_<domain>/<name>  its id
 *   SYNC_D_<domain>/<dn>    its id, only where members go by DN (a group's member DN is
 *                           resolved through it, and a delete that names no id finds it)
 * and for each stream SYNC_POSITION_<stream>, its position, in both files.  An id is the
 * server's packed (stream_id_pack): an entryUUID's 16 bytes, else the text (an AD poll's SIDs);
 * keys and values hold it escaped so that it has no NUL.  At a million users of an LDAP domain
 * the two keys an entry take 74 MB of keys and values, the three of the layout before 243 MB.
 *
 * That layout (SYNC_ID_, SYNC_NAME_, SYNC_DN_ and SYNC_POS_: ids as text, each entry's DN kept
 * twice) is read by nothing: a cache that holds it has no position, so each stream reads
 * everything once, and its keys are left out of the next files written whole (a complete batch,
 * a refresh).  A key of this layout that does not read back as it was written (a damaged file)
 * is left out the same way (stream_key_kept); one found in the middle of a batch refuses the
 * batch (changes.c): the stream reads everything, nothing half applied. */
#ifndef DIRD_STREAM_KEYS_H
#define DIRD_STREAM_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#define STREAM_KEY_ENTRY "SYNC_E_"
#define STREAM_KEY_NAME "SYNC_N_"
#define STREAM_KEY_DN "SYNC_D_"
#define STREAM_KEY_POSITION "SYNC_POSITION_"

/* prefix + domain + "/" + s (domain NULL: prefix + s), malloc'd; NULL out of memory. */
char *stream_key(const char *prefix, const char *domain, const char *s);
/* The key of the entry with server id `id` (text, as the batch has it), malloc'd. */
char *stream_key_entry(const char *domain, const char *id);
/* id packed (see above), NUL-terminated and NUL-free, malloc'd; NULL out of memory. */
char *stream_id_pack(const char *id);
/* Whether v (len bytes) is a packed id, as a value of SYNC_N_ or SYNC_D_ holds it. */
bool stream_id_ok(const char *v, size_t len);

/* A SYNC_E_ value read back (len bytes; a get gives a NUL after them): name and DN (NULL:
 * none) point into v.  false: damaged (a name empty, too long or not text, a DN likewise). */
bool stream_entry_parse(const char *v, size_t len, const char **name, const char **dn);

/* Whether a key read from the files (every "SYNC_" one) belongs in new files: one of this
 * layout that reads back well, or member_dns.h's.  false: the layout before's, or damaged. */
bool stream_key_kept(const char *key, size_t key_len, const void *val, size_t len);

#endif
