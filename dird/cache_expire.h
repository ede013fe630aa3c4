/* dirctl cache expire: one user or group asked of the directory at its next lookup
 * (cache_expire.c). */
#ifndef DIRD_CACHE_EXPIRE_H
#define DIRD_CACHE_EXPIRE_H

#include <stdbool.h>
#include <stdint.h>

#include "dird.h"

/* The user (kind 0) or group (kind 1) of this name, or id when name is NULL, expired in d->db:
 * marked so with entry_ttl, taken out with entry_ttl = 0.  DIR_OK, or DIR_NOTFOUND.  Kept too
 * while a stream's complete batch holds a copy of db, to be applied again to what it installs
 * (cache_expire_replay_locked).  Locks held. */
uint32_t cache_expire_locked(struct dird *d, uint32_t kind, const char *name, uint32_t id);
/* A complete batch took its copy of db: what was kept before is not for it. */
void cache_expire_forget_locked(struct dird *d);
/* The batch's copy is d->db now: the expires since it was taken applied to it again (then
 * forgotten).  true when that changed d->db (to be published with the tdb pair). */
bool cache_expire_replay_locked(struct dird *d);

#endif
