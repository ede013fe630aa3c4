/* Lookups from NSS callers and sshd (lookup.c). */
#ifndef DIRD_LOOKUP_H
#define DIRD_LOOKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <stdint.h>

#include "buf.h"
#include "dird.h"

/* What the cache knows of a lookup. */
enum cached {
	CACHED_FRESH,	/* the record, in reply */
	CACHED_STALE,	/* the record, in reply, due for a refresh (entry_ttl) */
	CACHED_ABSENT,	/* the directory said a moment ago that it has none (negative_ttl) */
	CACHED_MISS,	/* nothing */
};

/* Answers a lookup request from db and the negative cache into *found (and reply); false when
 * the request is malformed. */
bool lookup_cached(struct dird *d, uint32_t op, const struct buf *body, struct buf *reply,
		   enum cached *found);
/* Asks the domains (on the worker thread) what the cache could not answer, and falls back on
 * the stale record when they cannot answer: the reply's enum dir_status.  answer says what was
 * done and why, for lookup_log. */
uint32_t lookup_directory(struct dird *d, uint32_t op, const struct buf *body, struct buf *reply,
			  char *answer, size_t answerlen);
struct reclaim;
/* Reads r's name or id from every domain (but r->skip_domain), as a miss does, on the worker
 * thread, and serves what a refresh would keep of it, unless db holds an entry that wins it
 * (reclaim.h).  false: a change batch was applied meanwhile, and it is to be read again. */
bool lookup_reclaim(struct dird *d, const struct reclaim *r);
/* The debug line of one lookup that reached dird: "lookup getpwnam alice by uid 1000: <answer>
 * (3 ms)", started_ms as now_ms() had it when the request came. */
void lookup_log(uid_t uid, uint32_t op, const struct buf *body, const char *answer,
		long long started_ms);

#endif
