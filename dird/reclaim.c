/* Names and ids that no entry holds any more, read again from the domains: a local account that
 * went, or the winner of a clash of name or id that went, may leave a directory entry that no
 * change stream sends again while it does not change.  While every domain is in sync libnss_dir
 * answers a miss itself, so the worker reads that entry, as a miss would, rather than a full
 * refresh reading everything (lookup_reclaim). */
#include "reclaim.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define RECLAIM_TRIES 3

static bool same(const struct reclaim *r, uint32_t op, const char *name, uint32_t id)
{
	return r->op == op && (name ? r->name && strcmp(r->name, name) == 0 : !r->name && r->id == id);
}

static void append_locked(struct dird *d, struct reclaim *r)
{
	r->next = NULL;
	if (d->reclaim_tail)
		d->reclaim_tail->next = r;
	else
		d->reclaim_head = r;
	d->reclaim_tail = r;
	d->reclaim_len++;
	pthread_cond_signal(&d->work_cond);
}

bool reclaim_queue_locked(struct dird *d, uint32_t op, const char *name, uint32_t id,
			  size_t skip_domain, unsigned flags)
{
	for (struct reclaim *r = d->reclaim_head; r; r = r->next)
		if (same(r, op, name, id)) {
			if (r->skip_domain != skip_domain)
				r->skip_domain = SIZE_MAX;
			r->flags |= flags;
			return true;
		}
	struct reclaim *r = d->reclaim_len < RECLAIM_MAX ? calloc(1, sizeof(*r)) : NULL;
	if (!r || (name && !(r->name = strdup(name)))) {
		free(r);
		return false;
	}
	r->op = op;
	r->id = id;
	r->skip_domain = skip_domain;
	r->flags = flags;
	append_locked(d, r);
	return true;
}

struct reclaim *reclaim_take_locked(struct dird *d)
{
	struct reclaim *r = d->reclaim_head;
	if (!r)
		return NULL;
	d->reclaim_head = r->next;
	if (!d->reclaim_head)
		d->reclaim_tail = NULL;
	d->reclaim_len--;
	r->next = NULL;
	return r;
}

bool reclaim_retry_locked(struct dird *d, struct reclaim *r)
{
	/* a refresh began: read once it is over, not counted */
	if (d->refreshing || ++r->tries < RECLAIM_TRIES) {
		append_locked(d, r);
		return false;
	}
	char id[16];
	snprintf(id, sizeof(id), "%" PRIu32, r->id);
	log_warning("%s: read %u times, a change batch came meanwhile each time: a full refresh "
		    "reads it", r->name ? r->name : id, r->tries);
	reclaim_free(r);
	return true;
}

void reclaim_free(struct reclaim *r)
{
	if (r) {
		free(r->name);
		free(r);
	}
}

void reclaim_ask_all_locked(struct dird *d)
{
	for (struct reclaim *r = d->reclaim_head; r; r = r->next)
		r->skip_domain = SIZE_MAX;
}
