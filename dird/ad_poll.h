/* Active Directory's changes, polled (ad_poll.c). */
#ifndef DIRD_AD_POLL_H
#define DIRD_AD_POLL_H

#include <stdbool.h>
#include <stddef.h>

#include "dird.h"

/* Whether the poll keeps domain i's entries: type = ad, sync_interval set, enumerate = yes. */
bool ad_poll_serves(const struct dird *d, size_t i);
/* Whether it keeps every domain's: then a full refresh is its whole read (ad_poll_resync_locked)
 * and refresh.c reads nothing. */
bool ad_poll_serves_all(const struct dird *d);
/* A full refresh, the poll's way: every domain read whole now, counted as a refresh (refreshing,
 * refresh_count, last_refresh) so that dirctl cache refresh and status work as they do.  Lock
 * held. */
void ad_poll_resync_locked(struct dird *d);
/* Starts the poll thread (it idles while no domain is polled).  0, or -1. */
int ad_poll_start(struct dird *d);

#endif
