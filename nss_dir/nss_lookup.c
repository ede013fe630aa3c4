/* The one lookup path of every entry point: the index first, dird on a miss. */
#include <errno.h>
#include <string.h>

#include "nss_dir.h"
#include "protocol.h"

/* A record is used only if it is the one asked for: a wrong one would be dird's bug or a
 * damaged file, and is never passed on. */
static int record_matches(const void *rec, size_t len, const char *name, uint32_t id)
{
	if (name) {
		const char *rn = record_name(rec, len);
		return rn && strcmp(rn, name) == 0;
	}
	uint32_t rid;
	return record_id(rec, len, &rid) == 0 && rid == id;
}

enum nss_status nss_lookup(enum index_kind kind, const char *name, uint32_t id,
			   nss_decode_fn decode, void *result, char *buffer, size_t buflen,
			   int *errnop)
{
	int saved = errno;
	enum nss_status st;
	uint32_t len;
	struct nss_mapping *m = nss_index_acquire();
	const void *rec = NULL;
	if (m)
		rec = name ? index_find_name(&m->map, kind, name, &len) :
			     index_find_id(&m->map, kind, id, &len);
	if (rec) {
		st = nss_result(decode(rec, len, result, buffer, buflen), errnop);
		nss_index_release(m);
		if (st == NSS_STATUS_SUCCESS)
			errno = saved;
		return st;
	}
	nss_index_release(m);

	struct buf req, reply;
	buf_init(&req, DIR_MAX_REQUEST);
	buf_init(&reply, DIR_MAX_REPLY);
	if (name)
		buf_put_str(&req, name);
	else
		buf_put_u32(&req, id);
	uint32_t op = kind == INDEX_USER ? (name ? DIR_OP_GETPWNAM : DIR_OP_GETPWUID) :
					   (name ? DIR_OP_GETGRNAM : DIR_OP_GETGRGID);
	st = nss_ask_dird(op, &req, &reply);
	if (st == NSS_STATUS_SUCCESS && !record_matches(reply.data, reply.len, name, id))
		st = NSS_STATUS_UNAVAIL;
	if (st == NSS_STATUS_SUCCESS)
		st = nss_result(decode(reply.data, reply.len, result, buffer, buflen), errnop);
	else
		*errnop = ENOENT;
	buf_free(&req);
	buf_free(&reply);
	/* glibc passes &errno as errnop: only success may put errno back. */
	if (st == NSS_STATUS_SUCCESS)
		errno = saved;
	return st;
}

void nss_ent_start(struct nss_ent *e)
{
	pthread_mutex_lock(&e->lock);
	nss_index_release(e->map);
	e->map = nss_index_acquire();
	e->pos = 0;
	pthread_mutex_unlock(&e->lock);
}

void nss_ent_end(struct nss_ent *e)
{
	pthread_mutex_lock(&e->lock);
	nss_index_release(e->map);
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
		const void *rec = e->map ? index_next(&e->map->map, e->kind, &pos, &len) : NULL;
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
	/* glibc passes &errno as errnop: only success may put errno back. */
	if (st == NSS_STATUS_SUCCESS)
		errno = saved;
	return st;
}
