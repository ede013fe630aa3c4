/* What readers see of dird's cache: the NSS index and the tdb files, written from db (publish.c). */
#ifndef DIRD_PUBLISH_H
#define DIRD_PUBLISH_H

#include <stdbool.h>

#include "dird.h"

/* Writes the index (and with `with_store` the tdb files) from the current db.
 * Called with store_lock and lock held. */
int publish_locked(struct dird *d, bool with_store);
/* Loads the tdb cache at start; a damaged one is discarded (logged) and rebuilt. */
void publish_load_cache(struct dird *d);

#endif
