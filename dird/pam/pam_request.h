/* PAM requests from pam_dir.so (pam_request.c). */
#ifndef DIRD_PAM_REQUEST_H
#define DIRD_PAM_REQUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "dird.h"

/* A PAM request runs in a thread of its own (binds wait on the network), which
 * posts its reply for connection conn; takes body.  False (body left) when too many run.
 * Called with lock held. */
bool pam_submit_locked(struct dird *d, uint64_t conn, uint32_t op, struct buf *body);
/* The requests that came while a reload waited, started (main.c, once it is over).  Lock
 * held. */
void pam_start_parked_locked(struct dird *d);

#endif
