/* Names and ids that no entry holds any more, read again from the domains: a local account that
 * went, or the winner of a clash of name or id that went, may leave a directory entry that no
 * change stream sends again while it does not change.  While every domain is in sync libnss_dir
 * answers a miss itself, so the worker reads that entry, as a miss would, rather than a full
 * refresh reading everything (lookup_reclaim). */
#include "reclaim.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "fileutil.h"
#include "local_accounts.h"
#include "log.h"
#include "names.h"
#include "protocol.h"

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
	d->reclaim_unsaved = true;
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
	d->reclaim_reading = r;
	return r;
}

bool reclaim_retry_locked(struct dird *d, struct reclaim *r)
{
	d->reclaim_reading = NULL;
	/* a refresh began: read once it is over, not counted */
	if (d->refreshing || ++r->tries < RECLAIM_TRIES) {
		append_locked(d, r);
		return false;
	}
	char id[16];
	snprintf(id, sizeof(id), "%" PRIu32, r->id);
	log_warning("%s: read %u times, a change batch came meanwhile each time: a full refresh "
		    "reads it", r->name ? r->name : id, r->tries);
	reclaim_done_locked(d, r);
	return true;
}

void reclaim_free(struct reclaim *r)
{
	if (r) {
		free(r->name);
		free(r);
	}
}

void reclaim_done_locked(struct dird *d, struct reclaim *r)
{
	if (d->reclaim_reading == r)
		d->reclaim_reading = NULL;
	d->reclaim_unsaved = true;
	reclaim_free(r);
}

void reclaim_ask_all_locked(struct dird *d)
{
	for (struct reclaim *r = d->reclaim_head; r; r = r->next)
		r->skip_domain = SIZE_MAX;
}

/* --- RECLAIM_FILE: the magic, then each one as op, flags, id and name ("" for an id) ------- */

#define FILE_MAGIC 0x31435244u /* "DRC1" */
#define FILE_MAX (64u << 20)

static bool has_name(uint32_t op)
{
	return op == DIR_OP_GETPWNAM || op == DIR_OP_GETGRNAM;
}

static void put_one(struct buf *b, uint32_t op, unsigned flags, const char *name, uint32_t id)
{
	buf_put_u32(b, op);
	buf_put_u32(b, flags);
	buf_put_u32(b, name ? 0 : id);
	buf_put_str(b, name ? name : "");
}

/* A local set's names and ids, with the flags local_watch queues them with once they go. */
static void put_set(struct buf *b, const struct local_set *s, uint32_t op_name, uint32_t op_id,
		    unsigned flags_name, unsigned flags_id)
{
	for (size_t i = 0; i < s->n_names; i++)
		put_one(b, op_name, flags_name, s->names[i], 0);
	for (size_t i = 0; i < s->n_ids; i++)
		put_one(b, op_id, flags_id, NULL, s->ids[i]);
}

static void file_path(const struct dird *d, char *path, size_t len)
{
	snprintf(path, len, "%s/%s", d->cfg.cache_dir, RECLAIM_FILE);
}

bool reclaim_save_locked(struct dird *d, const struct local_accounts *shadowing)
{
	static bool failed_before; /* logged once, until it works again */
	char path[PATH_MAX];
	file_path(d, path, sizeof(path));
	struct buf b;
	buf_init(&b, FILE_MAX);
	buf_put_u32(&b, FILE_MAGIC);
	put_set(&b, &shadowing->users, DIR_OP_GETPWNAM, DIR_OP_GETPWUID, RECLAIM_GROUPS,
		RECLAIM_GROUPS);
	put_set(&b, &shadowing->groups, DIR_OP_GETGRNAM, DIR_OP_GETGRGID, 0, RECLAIM_PRIMARY);
	const struct reclaim *r = d->reclaim_reading;
	if (r)
		put_one(&b, r->op, r->flags, r->name, r->id);
	for (r = d->reclaim_head; r; r = r->next)
		put_one(&b, r->op, r->flags, r->name, r->id);
	int rc = b.failed ? (errno = ENOMEM, -1) : file_replace(path, b.data, b.len, 0600);
	buf_free(&b);
	if (rc < 0 && !failed_before)
		log_warning("cannot write %s: %s: a local account removed while dird is stopped "
			    "may leave its directory namesake unserved until a refresh",
			    path, strerror(errno));
	failed_before = rc < 0;
	d->reclaim_unsaved = rc < 0;
	return rc == 0;
}

/* The next one of c, checked as a lookup's would be; false at the end or on a damaged one. */
static bool take_one(struct cursor *c, uint32_t *op, unsigned *flags, const char **name,
		     uint32_t *id)
{
	*op = cursor_u32(c);
	*flags = cursor_u32(c);
	*id = cursor_u32(c);
	uint32_t len;
	*name = cursor_str(c, &len);
	if (c->failed || *op < DIR_OP_GETPWNAM || *op > DIR_OP_GETGRGID ||
	    (*flags & ~(unsigned)(RECLAIM_GROUPS | RECLAIM_PRIMARY)))
		return false;
	if (!has_name(*op))
		*name = NULL;
	return !*name || dir_valid_name(*name);
}

bool reclaim_load_locked(struct dird *d, const struct local_accounts *local)
{
	char path[PATH_MAX], *data = NULL;
	size_t len = 0, n = 0;
	file_path(d, path, sizeof(path));
	/* Only dird's own plain file: open would wait for a writer on a FIFO (dird's main loop
	 * with it), and what a link names is nobody's list.  cache_dir is root's alone. */
	struct stat st;
	int rc = lstat(path, &st);
	if (rc < 0 && errno == ENOENT)
		return true; /* none: the first start, or the one after a version without it */
	if (rc == 0 && !S_ISREG(st.st_mode))
		errno = EINVAL, rc = -1;
	if (rc < 0 || file_read(path, FILE_MAX, &data, &len, NULL) < 0) {
		log_warning("cannot read %s: %s: a full refresh reads what the last dird left out "
			    "for local accounts", path, errno == EINVAL ? "not a plain file" :
			    strerror(errno));
		return false;
	}
	struct cursor c;
	cursor_init(&c, data, len);
	bool fits = true, whole = cursor_u32(&c) == FILE_MAGIC;
	while (whole && fits && c.left) {
		uint32_t op, id;
		unsigned flags;
		const char *name;
		if (!(whole = take_one(&c, &op, &flags, &name, &id)))
			break;
		const struct local_set *s = op <= DIR_OP_GETPWUID ? &local->users : &local->groups;
		if (name ? local_set_has_name(s, name) : local_set_has_id(s, id))
			continue; /* local still: files answers it */
		n++;
		fits = reclaim_queue_locked(d, op, name, id, SIZE_MAX, flags);
	}
	free(data);
	if (!whole)
		log_warning("%s is damaged: a full refresh reads what the last dird left out for "
			    "local accounts", path);
	if (n)
		log_info("%zu names and ids the last dird left out for local accounts, or had still "
			 "to read, are not local now: read again", n);
	return fits && whole;
}
