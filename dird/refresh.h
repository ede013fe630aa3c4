/* Full refreshes: every domain read into a new db, published, swapped in (refresh.c). */
#ifndef DIRD_REFRESH_H
#define DIRD_REFRESH_H

#include "dird.h"

/* Starts a full refresh in a thread unless one runs.  Called with lock held. */
void refresh_start_locked(struct dird *d);
/* The end of a refresh (ok: it was published): when the next is due.  Lock held. */
void refresh_done_locked(struct dird *d, bool ok);
/* AD: reads the clock of the DC c is connected to, for domain i's status.  Lock not held. */
void refresh_read_dc_clock(struct dird *d, size_t i, struct ldap_conn *c);

#endif
