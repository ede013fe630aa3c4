/* The worker: the one thread that asks the directory for cache misses (worker.c). */
#ifndef DIRD_WORKER_H
#define DIRD_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "dird.h"

int worker_start(struct dird *d);
/* Queues a miss of connection conn (of a caller with this uid, asked at started_ms); takes body.  False (body left) when the queue is full.
 * Called with lock held. */
bool worker_submit_locked(struct dird *d, uint64_t conn, uid_t uid, long long started_ms,
			  uint32_t op, struct buf *body);

#endif
