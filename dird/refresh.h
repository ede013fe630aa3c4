/* Full refreshes: every domain read into a new db, published, swapped in (refresh.c). */
#ifndef DIRD_REFRESH_H
#define DIRD_REFRESH_H

#include "dird.h"

/* Starts a full refresh in a thread unless one runs.  Called with lock held. */
void refresh_start_locked(struct dird *d);

#endif
