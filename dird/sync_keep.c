/* A change stream's position is true of the data it is stored with (changes.h).  A full refresh
 * writes the tdb files anew from what it read, with the streams' keys taken before it read
 * (sync_keep_take): where the server it read held every change a domain's positions count
 * (server_holds.h), its data is at least as new as them, so a stream that resumes from one is
 * sent again what changed since, and puts and deletes applied twice end the same.  The
 * entries' ids and DNs go with the positions, so that a delete or a present phase still finds
 * what the refresh read. */
#include "sync_keep.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "config_keys.h"
#include "local_accounts.h"
#include "log.h"
#include "stream_keys.h"

#define SYNC_PREFIX "SYNC_"

struct kept_key {
	char *data;	/* in k->bytes: the key, a NUL, the value, a NUL */
	uint32_t key_len, len;
	uint32_t domain;
	unsigned char kind;
};

struct take_ctx {
	struct sync_keep *k;
	enum store_kind kind;
	const struct dird *d;
	const bool *kept;	/* per domain */
};

/* The domain a stream key belongs to: SYNC_<what>_<domain>/... */
static bool of_domain(const char *key, size_t key_len, const char *domain)
{
	const char *end = key + key_len, *p = memchr(key + strlen(SYNC_PREFIX), '_',
						     key_len - strlen(SYNC_PREFIX));
	if (!p++)
		return false;
	size_t n = strlen(domain);
	return (size_t)(end - p) > n && memcmp(p, domain, n) == 0 && p[n] == '/';
}

static int take_one(const char *key, size_t key_len, const void *val, size_t len, void *arg)
{
	struct take_ctx *c = arg;
	size_t domain = 0;
	while (domain < c->d->cfg.n_domains &&
	       !(c->kept[domain] && of_domain(key, key_len, c->d->cfg.domains[domain].name)))
		domain++;
	if (domain == c->d->cfg.n_domains || key_len >= UINT32_MAX || len >= UINT32_MAX ||
	    memchr(key, '\0', key_len) || !stream_key_kept(key, key_len, val, len))
		return 0; /* the layout before's, or damaged: not carried on */
	struct sync_keep *k = c->k;
	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 256;
		struct kept_key *v = realloc(k->v, cap * sizeof(*v));
		if (!v)
			return -1;
		k->v = v;
		k->cap = cap;
	}
	char *data = sync_bytes_add(&k->bytes, key, key_len, val, len);
	if (!data)
		return -1;
	k->v[k->n++] = (struct kept_key){ data, (uint32_t)key_len, (uint32_t)len, (uint32_t)domain,
					  (unsigned char)c->kind };
	return 0;
}

/* k emptied, with room for where a refresh read each domain. */
static int keep_init(struct dird *d, struct sync_keep *k, bool **kept)
{
	memset(k, 0, sizeof(*k));
	*kept = calloc(d->cfg.n_domains + 1, sizeof(**kept));
	k->n_domains = d->cfg.n_domains;
	k->read_from = calloc(d->cfg.n_domains + 1, sizeof(*k->read_from));
	if (*kept && k->read_from)
		return 0;
	free(*kept);
	sync_keep_free(k);
	return -1;
}

/* Which domains a stream or AD's poll keeps.  Lock held. */
static void note_streamed_locked(struct dird *d, bool *kept)
{
	for (size_t i = 0; i < d->cfg.n_domains; i++)
		kept[i] = d->domains[i].streaming;
}

/* The kept domains' keys, read from the files; kept freed.  store_lock held. */
static int read_keys(struct dird *d, struct sync_keep *k, bool *kept)
{
	int rc = 0;
	for (int kind = STORE_USERS; rc == 0 && kind <= STORE_GROUPS; kind++) {
		struct take_ctx c = { k, kind, d, kept };
		rc = store_each_key(d->cfg.cache_dir, kind, SYNC_PREFIX, take_one, &c);
	}
	free(kept);
	if (rc != 0) {
		log_warning("cannot read the change streams' positions: they read everything after "
			    "the cache is written again");
		sync_keep_free(k);
		return -1;
	}
	return 0;
}

int sync_keep_take(struct dird *d, struct sync_keep *k)
{
	bool *kept;
	if (keep_init(d, k, &kept) < 0)
		return -1;
	pthread_mutex_lock(&d->lock);
	note_streamed_locked(d, kept);
	pthread_mutex_unlock(&d->lock);
	pthread_mutex_lock(&d->store_lock);
	int rc = read_keys(d, k, kept);
	pthread_mutex_unlock(&d->store_lock);
	return rc;
}

void sync_keep_read_from(struct sync_keep *k, size_t i, struct ldap_conn *c)
{
	size_t e = 0;
	while (e < k->n && k->v[e].domain != i)
		e++;
	if (k->read_from && e < k->n) /* only where there are keys to keep */
		server_holds_read(&k->read_from[i], c);
}

/* Whether the server the refresh read domain i from held every change its positions count. */
static bool holds_positions(struct dird *d, const struct sync_keep *k, size_t i)
{
	const char *name = d->cfg.domains[i].name, *server = k->read_from[i].server;
	size_t skip = strlen(STREAM_KEY_POSITION) + strlen(name) + 1; /* SYNC_POSITION_<domain>/ */
	for (size_t j = 0; j < k->n; j++) {
		const struct kept_key *e = &k->v[j];
		char why[320];
		if (e->domain != i ||
		    strncmp(e->data, STREAM_KEY_POSITION, strlen(STREAM_KEY_POSITION)) ||
		    e->key_len <= skip)
			continue;
		if (!server_holds_position(&k->read_from[i], e->data + skip, e->data + e->key_len + 1,
					   e->len, why, sizeof(why))) {
			log_info("%s: the refresh read %s, which may lack changes its %s stream's "
				 "position counts (%s): the stream reads everything", name,
				 *server ? server : "nothing", e->data + skip, why);
			return false;
		}
	}
	log_info("%s: the refresh read %s, which holds every change its stream's positions "
		 "count: the stream goes on from them", name, server);
	return true;
}

/* k's keys of the domains keep[] marks 1, as store_extra (k->extra); n set. */
static const struct store_extra *extra_of(struct sync_keep *k, const unsigned char *keep,
					  size_t *n)
{
	*n = 0;
	k->extra = calloc(k->n + 1, sizeof(*k->extra));
	if (!k->extra) {
		log_warning("cannot keep the change streams' positions: they read everything");
		return NULL;
	}
	for (size_t i = 0; i < k->n; i++) {
		const struct kept_key *e = &k->v[i];
		if (keep[e->domain] == 1)
			k->extra[(*n)++] = (struct store_extra){ e->kind, e->data, e->key_len,
								 e->data + e->key_len + 1, e->len };
	}
	return k->extra;
}

const struct store_extra *sync_keep_extra(struct dird *d, struct sync_keep *k, size_t *n)
{
	*n = 0;
	if (!k->n)
		return NULL;
	/* Per domain with keys: 0 not asked yet, 1 kept, 2 not. */
	unsigned char *keep = calloc(d->cfg.n_domains + 1, 1);
	if (!keep) {
		log_warning("cannot keep the change streams' positions: they read everything");
		return NULL;
	}
	for (size_t i = 0; i < k->n; i++) {
		size_t domain = k->v[i].domain;
		if (!keep[domain])
			keep[domain] = holds_positions(d, k, domain) ? 1 : 2;
	}
	const struct store_extra *extra = extra_of(k, keep, n);
	free(keep);
	return extra;
}

/* Whether the entry a stream key stands for (SYNC_N_<domain>/<name>: the stream put it) is
 * still in db, or shadowed by a local account (as a refresh would leave it out); keys of
 * another kind stand for no entry. */
static bool entry_kept(const struct dird *d, const struct local_accounts *local,
		       const struct kept_key *e)
{
	const char *prefix = STREAM_KEY_NAME, *domain = d->cfg.domains[e->domain].name;
	size_t skip = strlen(prefix) + strlen(domain) + 1;
	if (e->key_len <= skip || strncmp(e->data, prefix, strlen(prefix)) != 0)
		return true;
	const char *name = e->data + skip;
	if (e->kind == STORE_USERS)
		return db_user_by_name(&d->db, name) || local_set_has_name(&local->users, name);
	return db_group_by_name(&d->db, name) || local_set_has_name(&local->groups, name);
}

const struct store_extra *sync_keep_rewrite_locked(struct dird *d, struct sync_keep *k,
						   size_t *n)
{
	bool *kept;
	struct local_accounts local;
	char err[512];
	*n = 0;
	if (keep_init(d, k, &kept) < 0)
		return NULL;
	note_streamed_locked(d, kept);
	if (read_keys(d, k, kept) < 0 || !k->n)
		return NULL;
	if (local_accounts_load(&local, err, sizeof(err)) < 0) {
		log_warning("%s: the change streams read everything", err);
		return NULL;
	}
	/* Per domain: 1 kept, 2 an entry its stream put is no longer served. */
	unsigned char *keep = calloc(d->cfg.n_domains + 1, 1);
	const struct store_extra *extra = NULL;
	if (keep) {
		for (size_t i = 0; i < k->n; i++) {
			const struct kept_key *e = &k->v[i];
			if (keep[e->domain] != 2 && !entry_kept(d, &local, e)) {
				log_info("%s: an entry its change stream put is no longer cached: the "
					 "stream reads everything", d->cfg.domains[e->domain].name);
				keep[e->domain] = 2;
			} else if (!keep[e->domain]) {
				keep[e->domain] = 1;
			}
		}
		extra = extra_of(k, keep, n);
	}
	free(keep);
	local_accounts_free(&local);
	return extra;
}

void sync_keep_free(struct sync_keep *k)
{
	free(k->v);
	sync_bytes_free(&k->bytes);
	for (size_t i = 0; k->read_from && i < k->n_domains; i++)
		server_holds_free(&k->read_from[i]);
	free(k->read_from);
	free(k->extra);
	memset(k, 0, sizeof(*k));
}

/* The domain keys that change neither which entries the domain serves nor how they are mapped:
 * how dird reaches the server (a new password for the same identity included), how long it
 * waits, how logins are checked.  Every other key, one added later too, counts: the identity
 * dird binds as among them (the server shows each what its ACLs allow, and a stream that
 * resumed under another would never be sent the entries only the new one may read). */
static const char *const serving_unchanged_by[] = {
	"bind_password_file", "tls", "allow_insecure_bind", "tls_ca_file", "tls_ca_dir",
	"tls_reqcert", "timeout", "page_size", "sync_interval", "auth", "allow_password_change",
	"access_groups", "access_filter", "machine_password_max_age", NULL
};

static bool changes_serving(const char *key)
{
	for (const char *const *k = serving_unchanged_by; *k; k++)
		if (strcmp(*k, key) == 0)
			return false;
	return true;
}

/* With every key that decides what a domain serves the same, what its stream stored stays
 * true. */
static bool serves_same(const struct dir_domain *a, const struct dir_domain *b)
{
	for (size_t i = 0; i < dir_conf_n_keys; i++) {
		const struct conf_key *k = &dir_conf_keys[i];
		if (k->section == CONF_DOMAIN && changes_serving(k->name) &&
		    !dir_conf_same_value(k, a, b))
			return false;
	}
	return true;
}

struct forget_ctx {
	const char *domain;
	char **keys[2];
	size_t n[2];
	enum store_kind kind;
	bool failed;
};

static int note_key(const char *key, size_t key_len, const void *val, size_t len, void *arg)
{
	(void)val;
	(void)len;
	struct forget_ctx *c = arg;
	if (!of_domain(key, key_len, c->domain))
		return 0;
	char **v = realloc(c->keys[c->kind], (c->n[c->kind] + 1) * sizeof(*v));
	char *copy = strndup(key, key_len);
	if (!v || !copy) {
		free(copy);
		if (v)
			c->keys[c->kind] = v;
		c->failed = true;
		return -1;
	}
	c->keys[c->kind] = v;
	v[c->n[c->kind]++] = copy;
	return 0;
}

/* Removes every stream key of domain from the files.  store_lock held. */
static void forget_domain(struct dird *d, const char *domain)
{
	struct forget_ctx c = { .domain = domain };
	for (c.kind = STORE_USERS; !c.failed && c.kind <= STORE_GROUPS; c.kind++)
		if (store_each_key(d->cfg.cache_dir, c.kind, SYNC_PREFIX, note_key, &c) != 0)
			c.failed = true;
	if (!c.failed && !c.n[STORE_USERS] && !c.n[STORE_GROUPS])
		return;
	struct store_txn *t = c.failed ? NULL : store_txn_begin(d->cfg.cache_dir);
	int rc = t ? 0 : -1;
	for (int kind = STORE_USERS; kind <= STORE_GROUPS; kind++) {
		for (size_t i = 0; i < c.n[kind]; i++) {
			if (rc == 0 && store_txn_unset(t, kind, c.keys[kind][i]) < 0)
				rc = -1;
			free(c.keys[kind][i]);
		}
		free(c.keys[kind]);
	}
	if (t && rc < 0)
		store_txn_cancel(t);
	if (rc < 0 || store_txn_commit(t) < 0)
		log_warning("%s: cannot drop its change stream's positions", domain);
	else
		log_info("%s: its configuration changed: its change stream reads everything", domain);
}

void sync_keep_reload(struct dird *d, const struct dir_config *next)
{
	for (size_t i = 0; i < d->cfg.n_domains; i++) {
		const struct dir_domain *old = &d->cfg.domains[i];
		size_t j = 0;
		while (j < next->n_domains && strcmp(next->domains[j].name, old->name) != 0)
			j++;
		if (j == next->n_domains || !serves_same(old, &next->domains[j]))
			forget_domain(d, old->name);
	}
}
