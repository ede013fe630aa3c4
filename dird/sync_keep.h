/* The change streams' own keys in the tdb files (stream_keys.h: each entry's server id, name and
 * DN, each stream's position) kept where the data they describe is kept (sync_keep.c); those of
 * the layout before, and damaged ones, are left out (stream_key_kept). */
#ifndef DIRD_SYNC_KEEP_H
#define DIRD_SYNC_KEEP_H

#include <stddef.h>

#include "dird.h"
#include "server_holds.h"
#include "store.h"
#include "sync_keys.h"

struct kept_key;
struct sync_keep {
	struct kept_key *v;
	size_t n, cap;
	struct sync_bytes bytes;	/* the keys and values v points to */
	/* Per domain: what the server the refresh read it from held (sync_keep_read_from). */
	struct server_holds *read_from;
	size_t n_domains;
	struct store_extra *extra;	/* sync_keep_extra's */
};

/* The keys of every domain a stream or AD's poll keeps up to date, read from the files as they
 * are now (takes store_lock): a full refresh takes them before it reads the directory, so that
 * the positions it writes into its files are no newer than what it read.  0 or -1 (k
 * empty). */
int sync_keep_take(struct dird *d, struct sync_keep *k);
/* The refresh is about to read domain i on c: what c's server holds now (server_holds.h), read
 * when the domain has keys.  A position describes one server's data and another server may lag
 * behind it (a provider replicating, another DC): a domain read from a server that may lack a
 * change its positions count gets none of its keys back, and its stream reads it whole. */
void sync_keep_read_from(struct sync_keep *k, size_t i, struct ldap_conn *c);
/* Once the refresh has read every domain: the keys it writes into its new files with the
 * records (store_contents' extra), those of the domains read from a server that held every
 * change their positions count; n set.  NULL (n 0) when there are none or out of memory: the
 * streams then read everything. */
const struct store_extra *sync_keep_extra(struct dird *d, struct sync_keep *k, size_t *n);
void sync_keep_free(struct sync_keep *k);

/* A whole rewrite of the tdb pair from the db dird serves (dirctl cache expire, a change of the
 * local accounts), outside a refresh: the keys of every domain a stream or AD's poll keeps, as
 * the files hold them now, for the new files (store_contents' extra; n set): the data stays
 * what they describe.  A domain one of whose streamed entries db no longer holds (expired out
 * of it; not one a local account shadows) gets none back: its stream reads it whole, which
 * serves that entry again.  NULL (n 0) when there are none, or they cannot be read.  Lock and
 * store_lock held; sync_keep_free(k) once the files are written. */
const struct store_extra *sync_keep_rewrite_locked(struct dird *d, struct sync_keep *k,
						   size_t *n);

/* A reload: the keys of each running domain that the new configuration drops or serves
 * differently (servers, bind identity, bases, filters, schema, attributes, mapping) are
 * removed, so its stream reads everything again; the others' stay.  store_lock held. */
void sync_keep_reload(struct dird *d, const struct dir_config *next);

#endif
