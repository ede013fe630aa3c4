/* What readers see of dird's cache: the NSS index and the tdb files, written from db (publish.c). */
#ifndef DIRD_PUBLISH_H
#define DIRD_PUBLISH_H

#include <stdbool.h>

#include "dird.h"

/* A refresh's first step, with no lock held (nobody else sees its db): writes db's tdb pair
 * and index next to the live ones, for publish_locked(d, true) to install once db is d->db.
 * The refresh thread is the only writer of these temporary files (a flush removes the live
 * tdb files), so lookups, PAM requests and dirctl are answered while it writes.  -1 logged. */
int publish_refresh_write(struct dird *d, struct db *db);
/* Writes the index from the current db; with `with_store` instead installs the tdb pair and
 * the index publish_refresh_write wrote of it.  Called with store_lock and lock held. */
int publish_locked(struct dird *d, bool with_store);
/* Loads the tdb cache at start; a damaged one is discarded (logged) and rebuilt. */
void publish_load_cache(struct dird *d);

#endif
