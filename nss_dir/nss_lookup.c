/* The one lookup path of every entry point: the index first, dird on a miss or when the entry
 * has expired, and the expired entry itself when dird cannot answer. */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "ad_names.h"
#include "client.h"
#include "names.h"
#include "nss_dir.h"
#include "protocol.h"

/* A record is used only if it is the one asked for: a wrong one would be dird's bug or a
 * damaged file, and is never passed on. */
static int record_matches(const void *rec, size_t len, const char *name, uint32_t id)
{
	if (name) {
		const char *rn = record_name(rec, len);
		return rn && dir_name_answers(name, rn);
	}
	uint32_t rid;
	return record_id(rec, len, &rid) == 0 && rid == id;
}

static uint32_t op_of(enum index_kind kind, const char *name)
{
	return kind == INDEX_USER ? (name ? DIR_OP_GETPWNAM : DIR_OP_GETPWUID) :
				    (name ? DIR_OP_GETGRNAM : DIR_OP_GETGRGID);
}

static void put_key(struct buf *req, const char *name, uint32_t id)
{
	if (name)
		buf_put_str(req, name);
	else
		buf_put_u32(req, id);
}

static uint64_t wall_clock(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	return (uint64_t)ts.tv_sec;
}

/* Tells dird an entry in use is due for a refresh, at most once a second per process, without
 * waiting: the caller is answered from the index meanwhile. */
static void hint_refresh(enum index_kind kind, const char *name, uint32_t id, uint64_t now)
{
	static uint64_t last_hint;
	uint64_t last = __atomic_load_n(&last_hint, __ATOMIC_RELAXED);
	if (now == last || !__atomic_compare_exchange_n(&last_hint, &last, now, false,
							__ATOMIC_RELAXED, __ATOMIC_RELAXED))
		return;
	struct buf req;
	buf_init(&req, DIR_MAX_REQUEST);
	put_key(&req, name, id);
	nss_hint_dird(op_of(kind, name), &req);
	buf_free(&req);
}

enum nss_status nss_find(enum index_kind kind, const char *name, uint32_t id,
			 struct nss_found *f)
{
	memset(f, 0, sizeof(*f));
	buf_init(&f->reply, DIR_MAX_REPLY);
	f->map = nss_index_acquire();
	enum index_found where = INDEX_ABSENT;
	if (f->map)
		where = index_view_find(&f->map->view, kind, name, id, &f->rec, &f->len);
	if (where == INDEX_LOCAL)
		return NSS_STATUS_NOTFOUND; /* `files` answers it */
	uint64_t refresh_at = 0, expires = 0, now = 0;
	if (f->rec) {
		if (record_times(f->rec, f->len, kind == INDEX_USER, &refresh_at, &expires) < 0)
			return NSS_STATUS_UNAVAIL;
		now = wall_clock();
		if (now < refresh_at)
			return NSS_STATUS_SUCCESS;
		if (now < expires) {
			hint_refresh(kind, name, id, now);
			return NSS_STATUS_SUCCESS;
		}
	}
	/* Not in the index while dird says the index holds all there is: no. */
	if (!f->rec && f->map && index_view_authoritative(&f->map->view, name, wall_clock()))
		return NSS_STATUS_NOTFOUND;
	/* Not in the index, or expired: ask dird, unless it said no a moment ago (under this
	 * index and delta). */
	uint64_t generation = f->map ? f->map->view.base.hdr->generation << 32 |
					       f->map->view.delta_seq : 0;
	if (!f->rec && nss_negative_has(kind, name, id, generation))
		return NSS_STATUS_NOTFOUND;
	struct buf req;
	buf_init(&req, DIR_MAX_REQUEST);
	put_key(&req, name, id);
	enum nss_status st = nss_ask_dird(op_of(kind, name), &req, &f->reply);
	buf_free(&req);
	if (st == NSS_STATUS_SUCCESS && !record_matches(f->reply.data, f->reply.len, name, id))
		st = NSS_STATUS_UNAVAIL;
	if (st == NSS_STATUS_NOTFOUND)
		nss_negative_add(kind, name, id, generation, nss_negative_ttl());
	if (st == NSS_STATUS_SUCCESS || st == NSS_STATUS_NOTFOUND || !f->rec) {
		f->rec = st == NSS_STATUS_SUCCESS ? f->reply.data : NULL;
		f->len = st == NSS_STATUS_SUCCESS ? (uint32_t)f->reply.len : 0;
		return st;
	}
	/* dird or the directory cannot answer: the expired entry is better than nothing. */
	return NSS_STATUS_SUCCESS;
}

void nss_found_release(struct nss_found *f)
{
	nss_index_release(f->map);
	buf_free(&f->reply);
	memset(f, 0, sizeof(*f));
}

enum nss_status nss_lookup(enum index_kind kind, const char *name, uint32_t id,
			   nss_decode_fn decode, void *result, char *buffer, size_t buflen,
			   int *errnop)
{
	/* A name no account may have, and the id -1 (the "no id" of chown), are nobody's. */
	if (name ? !dir_valid_name(name) : id == UINT32_MAX) {
		*errnop = ENOENT;
		return NSS_STATUS_NOTFOUND;
	}
	int saved = errno;
	struct nss_found f;
	enum nss_status st = nss_find(kind, name, id, &f);
	if (st == NSS_STATUS_SUCCESS)
		st = nss_result(decode(f.rec, f.len, result, buffer, buflen), errnop);
	else
		*errnop = ENOENT;
	nss_found_release(&f);
	/* glibc passes &errno as errnop: only success may put errno back. */
	if (st == NSS_STATUS_SUCCESS)
		errno = saved;
	return st;
}

void nss_ent_start(struct nss_ent *e)
{
	pthread_mutex_lock(&e->lock);
	nss_index_unpin(e->map);
	e->map = nss_index_pin();
	e->pos = 0;
	pthread_mutex_unlock(&e->lock);
}

void nss_ent_end(struct nss_ent *e)
{
	pthread_mutex_lock(&e->lock);
	nss_index_unpin(e->map);
	e->map = NULL;
	e->pos = 0;
	pthread_mutex_unlock(&e->lock);
}

enum nss_status nss_ent_next(struct nss_ent *e, nss_decode_fn decode, void *result,
			     char *buffer, size_t buflen, int *errnop)
{
	int saved = errno;
	enum nss_status st = NSS_STATUS_NOTFOUND;
	pthread_mutex_lock(&e->lock);
	for (;;) {
		uint64_t pos = e->pos;
		uint32_t len;
		const void *rec = e->map ? index_view_next(&e->map->view, e->kind, &pos, &len) : NULL;
		if (!rec) {
			*errnop = ENOENT;
			st = NSS_STATUS_NOTFOUND;
			break;
		}
		st = nss_result(decode(rec, len, result, buffer, buflen), errnop);
		if (st == NSS_STATUS_TRYAGAIN)
			break; /* the same entry again, with the larger buffer glibc brings */
		e->pos = pos;
		if (st == NSS_STATUS_SUCCESS)
			break;
	}
	pthread_mutex_unlock(&e->lock);
	if (st == NSS_STATUS_SUCCESS)
		errno = saved;
	return st;
}
