/* Cache misses from NSS callers: the db first, then each domain in order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dird.h"
#include "fetch.h"
#include "log.h"
#include "names.h"
#include "protocol.h"
#include "store.h"

void lookup_set_domain_state(struct dird *d, size_t i, bool online, const char *server,
			     const char *error)
{
	struct domain_state *s = &d->domains[i];
	if (s->online != online)
		log_info("domain %s is %s", d->cfg.domains[i].name, online ? "online" : "offline");
	s->online = online;
	if (server)
		snprintf(s->server, sizeof(s->server), "%s", server);
	snprintf(s->last_error, sizeof(s->last_error), "%s", error ? error : "");
}

static bool is_user_op(uint32_t op)
{
	return op == DIR_OP_GETPWNAM || op == DIR_OP_GETPWUID;
}

/* Encodes the db's record into reply; false when db does not have it. */
static bool answer_from_db(struct dird *d, uint32_t op, const char *name, uint32_t id,
			   struct buf *reply)
{
	struct dir_user *u = NULL;
	struct dir_group *g = NULL;
	switch (op) {
	case DIR_OP_GETPWNAM: u = db_user_by_name(&d->db, name); break;
	case DIR_OP_GETPWUID: u = db_user_by_uid(&d->db, id); break;
	case DIR_OP_GETGRNAM: g = db_group_by_name(&d->db, name); break;
	default: g = db_group_by_gid(&d->db, id); break;
	}
	if (u)
		record_encode_user(reply, u);
	if (g)
		record_encode_group(reply, g);
	return u || g;
}

/* Asks one domain on the main thread's connection, reconnecting once if it broke. */
static int ask_domain(struct dird *d, size_t i, const struct local_accounts *local, uint32_t op,
		      const char *name, uint32_t id, void **found)
{
	struct ldap_conn *c = &d->conns[i];
	char err[512] = "";
	int r = -1;
	for (int attempt = 0; attempt < 2 && r < 0; attempt++) {
		if (!c->ld && ldap_conn_open(c, &d->cfg.domains[i], err, sizeof(err)) < 0)
			break;
		r = is_user_op(op) ?
			    fetch_user(c, local, name, id, (struct dir_user **)found, err, sizeof(err)) :
			    fetch_group(c, local, name, id, (struct dir_group **)found, err, sizeof(err));
		if (r < 0)
			ldap_conn_close(c);
	}
	pthread_mutex_lock(&d->lock);
	lookup_set_domain_state(d, i, r >= 0, c->server[0] ? c->server : NULL, r < 0 ? err : NULL);
	pthread_mutex_unlock(&d->lock);
	if (r < 0)
		log_warning("lookup in %s failed: %s", d->cfg.domains[i].name, err);
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

uint32_t lookup_handle(struct dird *d, uint32_t op, const struct buf *body, struct buf *reply)
{
	struct cursor c;
	const char *name = NULL;
	uint32_t id = 0;
	cursor_init(&c, body->data, body->len);
	if (op == DIR_OP_GETPWNAM || op == DIR_OP_GETGRNAM)
		name = cursor_str(&c, NULL);
	else
		id = cursor_u32(&c);
	if (!cursor_done(&c) || (name && !dir_valid_name(name)))
		return DIR_BADREQ;

	pthread_mutex_lock(&d->lock);
	bool hit = answer_from_db(d, op, name, id, reply);
	pthread_mutex_unlock(&d->lock);
	if (hit)
		return DIR_OK;
	/* Local names never go to the directory; one found by id is not served either. */
	struct local_accounts local;
	if (local_accounts_load(&local) < 0)
		return DIR_UNAVAIL;
	if (name && local_names_has(is_user_op(op) ? &local.users : &local.groups, name)) {
		local_accounts_free(&local);
		return DIR_NOTFOUND;
	}
	bool failed = false;
	uint32_t status = DIR_NOTFOUND;
	for (size_t i = 0; i < d->cfg.n_domains; i++) {
		void *found = NULL;
		int r = ask_domain(d, i, &local, op, name, id, &found);
		if (r > 0) {
			insert_found(d, op, found, reply);
			status = DIR_OK;
			break;
		}
		failed |= r < 0;
	}
	local_accounts_free(&local);
	return status == DIR_OK ? DIR_OK : failed ? DIR_UNAVAIL : DIR_NOTFOUND;
}
