/* Lookups from NSS callers.  The main thread answers what it can at once (db, negative cache,
 * local names); the worker asks the directory for the rest. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dird.h"
#include "fetch.h"
#include "log.h"
#include "names.h"
#include "protocol.h"
#include "store.h"

static bool is_user_op(uint32_t op)
{
	return op == DIR_OP_GETPWNAM || op == DIR_OP_GETPWUID;
}

struct query {
	uint32_t op;
	const char *name; /* NULL: by id */
	uint32_t id;
};

static bool parse(uint32_t op, const struct buf *body, struct query *q)
{
	struct cursor c;
	cursor_init(&c, body->data, body->len);
	q->op = op;
	q->name = NULL;
	q->id = 0;
	if (op == DIR_OP_GETPWNAM || op == DIR_OP_GETGRNAM)
		q->name = cursor_str(&c, NULL);
	else
		q->id = cursor_u32(&c);
	return cursor_done(&c) && (!q->name || dir_valid_name(q->name));
}

/* Encodes the db's record into reply; false when db does not have it.  Lock held. */
static bool answer_from_db(struct dird *d, const struct query *q, struct buf *reply)
{
	struct dir_user *u = NULL;
	struct dir_group *g = NULL;
	switch (q->op) {
	case DIR_OP_GETPWNAM: u = db_user_by_name(&d->db, q->name); break;
	case DIR_OP_GETPWUID: u = db_user_by_uid(&d->db, q->id); break;
	case DIR_OP_GETGRNAM: g = db_group_by_name(&d->db, q->name); break;
	default: g = db_group_by_gid(&d->db, q->id); break;
	}
	if (u)
		record_encode_user(reply, u);
	if (g)
		record_encode_group(reply, g);
	return u || g;
}

uint32_t lookup_cached(struct dird *d, uint32_t op, const struct buf *body, struct buf *reply)
{
	struct query q;
	if (!parse(op, body, &q))
		return DIR_BADREQ;
	pthread_mutex_lock(&d->lock);
	uint32_t status = LOOKUP_MISS;
	if (answer_from_db(d, &q, reply))
		status = DIR_OK;
	else if (negcache_has(d->negative, op, q.name, q.id))
		status = DIR_NOTFOUND;
	pthread_mutex_unlock(&d->lock);
	return status;
}

/* Asks one domain on the worker's connection, reconnecting once if it broke. */
static int ask_domain(struct dird *d, size_t i, const struct local_accounts *local,
		      const struct query *q, void **found)
{
	struct ldap_conn *c = &d->conns[i];
	char err[512] = "", prefer[256];
	pthread_mutex_lock(&d->lock);
	snprintf(prefer, sizeof(prefer), "%s", d->domains[i].server);
	pthread_mutex_unlock(&d->lock);
	int r = -1;
	for (int attempt = 0; attempt < 2 && r < 0; attempt++) {
		if (!c->ld && ldap_conn_open(c, &d->cfg.domains[i], prefer, err, sizeof(err)) < 0)
			break;
		r = is_user_op(q->op) ?
			    fetch_user(c, local, q->name, q->id, (struct dir_user **)found, err, sizeof(err)) :
			    fetch_group(c, local, q->name, q->id, (struct dir_group **)found, err, sizeof(err));
		if (r < 0)
			ldap_conn_close(c);
	}
	pthread_mutex_lock(&d->lock);
	if (r >= 0)
		domain_online_locked(d, i, c->server);
	else
		domain_offline_locked(d, i, err);
	pthread_mutex_unlock(&d->lock);
	return r;
}

/* Adds what the directory returned to db and the tdb cache, and answers with it. */
static void insert_found(struct dird *d, uint32_t op, void *found, struct buf *reply)
{
	pthread_mutex_lock(&d->store_lock);
	pthread_mutex_lock(&d->lock);
	if (is_user_op(op)) {
		struct dir_user *u = found;
		record_encode_user(reply, u);
		if (store_insert_user(d->cfg.cache_dir, u) < 0)
			log_warning("cannot add user %s to the cache", u->name);
		db_add_user(&d->db, u);
	} else {
		struct dir_group *g = found;
		record_encode_group(reply, g);
		if (store_insert_group(d->cfg.cache_dir, g) < 0)
			log_warning("cannot add group %s to the cache", g->name);
		if (db_link_group(&d->db, g) < 0)
			log_warning("out of memory linking group %s", g->name);
		db_add_group(&d->db, g);
	}
	if (!d->dirty)
		d->dirty_since_ms = now_ms();
	d->dirty = true;
	pthread_mutex_unlock(&d->lock);
	pthread_mutex_unlock(&d->store_lock);
}

uint32_t lookup_directory(struct dird *d, uint32_t op, const struct buf *body, struct buf *reply)
{
	struct query q;
	if (!parse(op, body, &q))
		return DIR_BADREQ;
	/* It may have arrived while this query waited in the queue. */
	uint32_t status = lookup_cached(d, op, body, reply);
	if (status != LOOKUP_MISS)
		return status;
	/* Local names never go to the directory; one found by id is not served either. */
	struct local_accounts local;
	if (local_accounts_load(&local) < 0)
		return DIR_UNAVAIL;
	if (q.name && local_names_has(is_user_op(op) ? &local.users : &local.groups, q.name)) {
		local_accounts_free(&local);
		return DIR_NOTFOUND;
	}
	bool unanswered = false;
	status = DIR_NOTFOUND;
	for (size_t i = 0; i < d->cfg.n_domains && status != DIR_OK; i++) {
		pthread_mutex_lock(&d->lock);
		bool usable = domain_usable_locked(d, i);
		if (usable) {
			d->worker_domain = i;
			d->worker_busy_since_ms = now_ms();
		}
		pthread_mutex_unlock(&d->lock);
		if (!usable) {
			unanswered = true;
			continue;
		}
		void *found = NULL;
		int r = ask_domain(d, i, &local, &q, &found);
		pthread_mutex_lock(&d->lock);
		d->worker_busy_since_ms = 0;
		pthread_mutex_unlock(&d->lock);
		if (r > 0) {
			insert_found(d, op, found, reply);
			status = DIR_OK;
		}
		unanswered |= r < 0;
	}
	local_accounts_free(&local);
	if (status == DIR_OK)
		return DIR_OK;
	if (unanswered)
		return DIR_UNAVAIL;
	pthread_mutex_lock(&d->lock);
	negcache_add(d->negative, op, q.name, q.id, d->cfg.negative_ttl);
	pthread_mutex_unlock(&d->lock);
	return DIR_NOTFOUND;
}
