/* Names and ids that no entry holds any more, read again from the domains (reclaim.c). */
#ifndef DIRD_RECLAIM_H
#define DIRD_RECLAIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dird.h"

/* A name or id to read from the domains: op is DIR_OP_GETPWNAM, GETPWUID, GETGRNAM or GETGRGID
 * (name set with the first and third).  skip_domain: a domain not asked (its own stream reads
 * its entries again: changes.c), or SIZE_MAX.  flags: RECLAIM_*. */
#define RECLAIM_GROUPS 1	/* a user found brings the groups naming it again (their member
				 * lists lacked it while its name was local) */
#define RECLAIM_PRIMARY 2	/* a gid: the users whose primary gid it is come too (they were
				 * refused while it was a local group's) */
struct reclaim {
	uint32_t op;
	char *name;
	uint32_t id;
	size_t skip_domain;
	unsigned flags;
	unsigned tries;		/* read again after a change batch raced it */
	struct reclaim *next;
};

/* More names waiting than this: the caller falls back on a full refresh. */
#define RECLAIM_MAX 4096

/* Queues one for the worker (a copy of name), unless the same waits already.  False when the
 * queue is full or out of memory.  Lock held. */
bool reclaim_queue_locked(struct dird *d, uint32_t op, const char *name, uint32_t id,
			  size_t skip_domain, unsigned flags);
/* The next one for the worker, or NULL.  Lock held. */
struct reclaim *reclaim_take_locked(struct dird *d);
/* Queued again after a race (at most a few times, those with a refresh under way not
 * counted), else freed: true then, and only a full refresh reads it.  Lock held. */
bool reclaim_retry_locked(struct dird *d, struct reclaim *r);
void reclaim_free(struct reclaim *r);
/* The one the worker took is settled: freed.  Lock held. */
void reclaim_done_locked(struct dird *d, struct reclaim *r);
/* Every one waiting asks every domain (a reload: the domain to skip was one of the old
 * configuration's).  Lock held. */
void reclaim_ask_all_locked(struct dird *d);

/* The queue outlives dird in <cache_dir>/RECLAIM_FILE: a name or id left out of the cache while
 * it was local, or still to be read, is read again by the next dird once it is not local.
 * Streams resume from their positions and send nothing of an entry that did not change: a
 * local account removed while dird is stopped, or before its worker read it back, would leave
 * its directory namesake out for good. */
#define RECLAIM_FILE "reclaim.list"

struct local_accounts;
/* Writes RECLAIM_FILE (atomically): each name and id of `shadowing` (the local accounts the
 * cache was filtered by), each one queued, the one being read.  false (logged) when it cannot.
 * Lock held. */
bool reclaim_save_locked(struct dird *d, const struct local_accounts *shadowing);
/* What the last dird's RECLAIM_FILE lists and `local` no longer has, queued.  false when the
 * queue is full or the file damaged, or there but no plain file or unreadable (the caller
 * falls back on a full refresh).  Lock held. */
bool reclaim_load_locked(struct dird *d, const struct local_accounts *local);

#endif
