/* What readers see of dird's cache: the NSS index and the tdb files, written from db (publish.c). */
#ifndef DIRD_PUBLISH_H
#define DIRD_PUBLISH_H

#include <stdbool.h>

#include "dird.h"

/* A refresh's first step, with no lock held (nobody else sees its db): writes db's tdb pair
 * and index next to the live ones, for publish_refresh_install_locked to install once db is
 * d->db.  The refresh thread is the only writer of these temporary files while it runs (a
 * flush removes the live tdb files; publish_locked leaves them alone), so lookups, PAM requests
 * and dirctl are answered while it writes.  -1 logged. */
int publish_refresh_write(struct dird *d, struct db *db);
/* Installs what publish_refresh_write wrote, or (a refresh kept out) removes it.  Called
 * with store_lock and lock held. */
int publish_refresh_install_locked(struct dird *d);
void publish_refresh_discard(struct dird *d);
/* Writes the index from the current db (a delta of what was noted, or whole) and with
 * `with_store` the tdb files too (not while a refresh runs: it installs its own), keeping the
 * change streams' keys where they stay true (sync_keep_rewrite_locked).  Called with
 * store_lock and lock held. */
int publish_locked(struct dird *d, bool with_store);
/* A change of one entry, to be published as a delta (the index does not change in place):
 * call it for the entry as it was (before it leaves db) and as it is (once in db); a group's
 * members are noted too, for their gid lists.  Wakes the main loop.  Lock held. */
void publish_user_changed_locked(struct dird *d, const struct dir_user *u);
void publish_group_changed_locked(struct dird *d, const struct dir_group *g);
/* A change nobody named: the next publish writes the whole index.  Lock held. */
void publish_whole_locked(struct dird *d);
/* Each tick of the main loop: authoritative_until kept up to date.  Lock held. */
void publish_tick_locked(struct dird *d);
/* Frees what publish.c keeps in d (for tests: dird keeps it until it exits). */
void publish_free(struct dird *d);
/* Loads the tdb cache at start; a damaged one is discarded (logged) and rebuilt. */
void publish_load_cache(struct dird *d);

#endif
