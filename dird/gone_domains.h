/* Entries of domains dird.conf no longer names leave the cache (gone_domains.c). */
#ifndef DIRD_GONE_DOMAINS_H
#define DIRD_GONE_DOMAINS_H

#include "dird.h"

/* Takes out of d->db every user and group of a domain the configuration does not name, or
 * whose uid, gid or primary gid is below its domain's min_id (and their gids out of the users
 * left), and publishes the cache again when anything went.  Called
 * with store_lock and lock held. */
void gone_domains_drop_locked(struct dird *d);

#endif
