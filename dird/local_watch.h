/* Local accounts added while dird runs take their names and ids out of the cache (local_watch.c). */
#ifndef DIRD_LOCAL_WATCH_H
#define DIRD_LOCAL_WATCH_H

#include "dird.h"

/* At most once a second, whether /etc/passwd or /etc/group changed; if so, the entries a local
 * name or id now shadows are taken out of the cache, which is published again.  Called from the
 * main loop with store_lock and lock held. */
void local_watch_tick_locked(struct dird *d);
/* dird stops: the reclaim queue, if it changed since the last tick, written to RECLAIM_FILE
 * (reclaim.h), else what was queued in that last second would die with dird.  Lock held. */
void local_watch_stop_locked(struct dird *d);

#endif
