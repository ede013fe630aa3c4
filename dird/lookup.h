/* Lookups from NSS callers and sshd (lookup.c). */
#ifndef DIRD_LOOKUP_H
#define DIRD_LOOKUP_H

#include <stdint.h>

#include "buf.h"
#include "dird.h"

/* lookup_cached answers from db and the negative cache: DIR_OK (fresh), DIR_NOTFOUND, DIR_BADREQ, LOOKUP_STALE (due for a refresh; the
 * stale record is in reply) or LOOKUP_MISS.  lookup_directory asks the domains (on the worker
 * thread) and falls back on the stale record when they cannot answer. */
#define LOOKUP_MISS 0xffffffffu
#define LOOKUP_STALE 0xfffffffeu
uint32_t lookup_cached(struct dird *d, uint32_t op, const struct buf *body, struct buf *reply);
uint32_t lookup_directory(struct dird *d, uint32_t op, const struct buf *body, struct buf *reply);

#endif
