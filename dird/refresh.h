/* Full refreshes: every domain read into a new db, published, swapped in (refresh.c). */
#ifndef DIRD_REFRESH_H
#define DIRD_REFRESH_H

#include "dird.h"

/* Starts a full refresh in a thread unless one runs.  Called with lock held. */
/* Whether a refresh that found `found` of the `cached` users (or groups) drops most of them:
 * it is kept out (a changed base or filter...) unless dirctl cache refresh --accept-shrink. */
bool refresh_drops_most(size_t cached, size_t found);
void refresh_start_locked(struct dird *d);
/* The end of a refresh (ok: it was published): when the next is due.  Lock held. */
void refresh_done_locked(struct dird *d, bool ok);
/* A full read is due (dird starts, a reload, a flush): a full refresh, or, when every domain
 * has a change stream (sync_start_locked ran), none: each stream reads whole what it holds no
 * position for (sync_stream.c; one whose server offers none asks for the refresh).  Lock held. */
void refresh_due_locked(struct dird *d);
/* AD: reads the clock of the DC c is connected to, for domain i's status.  Lock not held. */
void refresh_read_dc_clock(struct dird *d, size_t i, struct ldap_conn *c);

#endif
