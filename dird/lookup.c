/* Lookups from NSS callers.  The main thread answers what it can at once (a fresh entry, the
 * negative cache); the worker asks the directory for the rest and for entries due for a
 * refresh (entry_ttl).  When the directory cannot be asked, a stale entry is served as it is. */
#include "lookup.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad_names.h"
#include "dird.h"
#include "domain.h"
#include "fetch.h"
#include "idmap.h"
#include "log.h"
#include "protocol.h"
#include "publish.h"
#include "reclaim.h"
#include "refresh.h"
#include "requests.h"
#include "store.h"

static bool is_user_op(uint32_t op)
{
	return op == DIR_OP_GETPWNAM || op == DIR_OP_GETPWUID || op == DIR_OP_SSH_KEYS;
}

/* Appends to the log's account of a lookup, "; " between steps. */
static void say(char *out, size_t outlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *out, size_t outlen, const char *fmt, ...)
{
	size_t n = strlen(out);
	if (n && n + 2 < outlen) {
		memcpy(out + n, "; ", 3);
		n += 2;
	}
	if (n + 1 >= outlen)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out + n, outlen - n, fmt, ap);
	va_end(ap);
}

void lookup_log(uid_t uid, uint32_t op, const struct buf *body, const char *answer,
		long long started_ms)
{
	static const char *const ops[] = {
		[DIR_OP_GETPWNAM] = "getpwnam", [DIR_OP_GETPWUID] = "getpwuid",
		[DIR_OP_GETGRNAM] = "getgrnam", [DIR_OP_GETGRGID] = "getgrgid",
		[DIR_OP_SSH_KEYS] = "ssh-keys",
	};
	struct lookup_query q;
	if (!log_enabled(DIR_LOG_DEBUG) || !request_parse_lookup(op, body, &q))
		return;
	char what[80];
	if (q.name)
		log_printable(q.name, what, sizeof(what));
	else
		snprintf(what, sizeof(what), "%" PRIu32, q.id);
	log_debug("lookup %s %s by uid %lu: %s (%lld ms)", ops[op], what, (unsigned long)uid, answer,
		  now_ms() - started_ms);
}

/* A user found: its record, or its SSH keys (protocol.h). */
static void encode_user(const struct dird *d, uint32_t op, const struct dir_user *u,
			struct buf *reply)
{
	if (op == DIR_OP_SSH_KEYS)
		record_encode_ssh_keys(reply, u);
	else
		record_encode_user(reply, u, d->cfg.entry_ttl);
}

/* An entry is due for a refresh after three quarters of entry_ttl (as the index says). */
static bool is_fresh(const struct dird *d, uint64_t fetched)
{
	uint64_t ttl = d->cfg.entry_ttl;
	return ttl == 0 || (uint64_t)time(NULL) < fetched + ttl * 3 / 4;
}

/* A query as the domains see it: a qualified AD name ("adtest\alice", "alice@AD.TEST") in the
 * form served ("ADTEST\alice"), asked of its own domain only. */
struct target {
	struct lookup_query q;
	enum name_form form;
	size_t domain;		/* with NAME_QUALIFIED */
	char name[DIR_MAX_NAME + 1];
};

/* t->q as the domains see it. */
static void resolve_name(const struct dird *d, struct target *t)
{
	t->form = NAME_BARE;
	if (t->q.name && ad_name_canonical(&d->cfg, t->q.name, &t->domain, t->name,
					   sizeof(t->name)) == NAME_QUALIFIED) {
		t->form = NAME_QUALIFIED;
		t->q.name = t->name;
	}
}

static bool resolve_target(const struct dird *d, uint32_t op, const struct buf *body,
			   struct target *t)
{
	if (!request_parse_lookup(op, body, &t->q))
		return false;
	resolve_name(d, t);
	return true;
}

/* Whether domain i may hold what t asks for. */
static bool domain_may_have(const struct dird *d, size_t i, const struct target *t)
{
	if (t->q.name)
		return ad_name_domain_takes(&d->cfg, i, t->form, t->domain);
	return idmap_domain_takes_id(&d->cfg.domains[i], t->q.id);
}

/* A big group is encoded once, not at each reply: otherwise clients asking for it over and over
 * (and never reading the answer) would cost the main loop 60,000 appends for 30,000 members
 * each time, and delay everyone else's replies. */
#define ENCODED_ONCE_MEMBERS 1000

static void encode_group(struct buf *reply, struct dir_group *g, uint32_t ttl)
{
	if (g->n_members < ENCODED_ONCE_MEMBERS) {
		record_encode_group(reply, g, ttl);
		return;
	}
	if (!g->encoded.len || g->encoded_ttl != ttl) {
		buf_free(&g->encoded);
		buf_init(&g->encoded, DIR_MAX_REPLY);
		record_encode_group(&g->encoded, g, ttl);
		g->encoded_ttl = ttl;
	}
	if (g->encoded.failed)
		reply->failed = true;
	else
		buf_put_bytes(reply, g->encoded.data, g->encoded.len);
}

/* Encodes db's record into reply: CACHED_FRESH, CACHED_STALE (due for a refresh), or
 * CACHED_MISS when db does not have it.  Lock held. */
static enum cached answer_from_db(struct dird *d, const struct lookup_query *q, struct buf *reply)
{
	struct dir_user *u = NULL;
	struct dir_group *g = NULL;
	switch (q->op) {
	case DIR_OP_GETPWNAM:
	case DIR_OP_SSH_KEYS: u = db_user_by_name(&d->db, q->name); break;
	case DIR_OP_GETPWUID: u = db_user_by_uid(&d->db, q->id); break;
	case DIR_OP_GETGRNAM: g = db_group_by_name(&d->db, q->name); break;
	default: g = db_group_by_gid(&d->db, q->id); break;
	}
	if (u) {
		encode_user(d, q->op, u, reply);
		return is_fresh(d, u->fetched) ? CACHED_FRESH : CACHED_STALE;
	}
	if (g) {
		encode_group(reply, g, d->cfg.entry_ttl);
		return is_fresh(d, g->fetched) ? CACHED_FRESH : CACHED_STALE;
	}
	return CACHED_MISS;
}

bool lookup_cached(struct dird *d, uint32_t op, const struct buf *body, struct buf *reply,
		   enum cached *found)
{
	struct target t;
	if (!resolve_target(d, op, body, &t))
		return false;
	const struct lookup_query q = t.q;
	pthread_mutex_lock(&d->lock);
	*found = answer_from_db(d, &q, reply);
	if (*found == CACHED_MISS && negcache_has(d->negative, op, q.name, q.id))
		*found = CACHED_ABSENT;
	pthread_mutex_unlock(&d->lock);
	return true;
}

/* Asks one domain on the worker's connection, reconnecting once if it broke. */
static int ask_domain(struct dird *d, size_t i, const struct local_accounts *local,
		      const struct lookup_query *q, void **found, char *err, size_t errlen)
{
	struct ldap_conn *c = &d->conns[i];
	int r = -1;
	unsigned skipped = 0;
	for (int attempt = 0; attempt < 2 && r < 0; attempt++) {
		*err = '\0';
		if (!c->ld && domain_open(d, i, c, err, errlen) < 0)
			break;
		r = is_user_op(q->op) ?
			    fetch_user(c, local, q->name, q->id, (struct dir_user **)found, err, errlen) :
			    fetch_group(c, local, q->name, q->id, (struct dir_group **)found, &skipped,
					err, errlen);
		if (r < 0)
			ldap_conn_close(c);
	}
	pthread_mutex_lock(&d->lock);
	d->domains[i].skipped_members += skipped;
	pthread_mutex_unlock(&d->lock);
	domain_report(d, i, c, r >= 0, err);
	test_hook("lookup-asked");
	return r;
}

/* ask_domain, when the domain is usable (ASK_OFFLINE when not), with the worker's state for
 * dirctl status. */
#define ASK_OFFLINE (-2)
static int ask_if_usable(struct dird *d, size_t i, const struct local_accounts *local,
			 const struct lookup_query *q, void **found, char *err, size_t errlen)
{
	pthread_mutex_lock(&d->lock);
	bool usable = domain_usable_locked(d, i);
	if (usable) {
		d->worker_domain = i;
		d->worker_busy_since_ms = now_ms();
	}
	pthread_mutex_unlock(&d->lock);
	if (!usable)
		return ASK_OFFLINE;
	long long started = now_ms();
	int r = ask_domain(d, i, local, q, found, err, errlen);
	pthread_mutex_lock(&d->lock);
	d->worker_busy_since_ms = 0;
	d->domains[i].ask_ms = now_ms() - started;
	pthread_mutex_unlock(&d->lock);
	return r;
}

/* Drops whatever db and the tdb cache hold under this record's name or id.  Locks held. */
static void forget_user_locked(struct dird *d, const char *name, uint32_t uid)
{
	struct dir_user *old[2] = { name ? db_user_by_name(&d->db, name) : NULL,
				    db_user_by_uid(&d->db, uid) };
	for (int i = 0; i < 2; i++) {
		if (!old[i])
			continue;
		if (store_delete(d->cfg.cache_dir, STORE_USERS, old[i]->name, old[i]->uid) < 0)
			log_warning("cannot remove user %s from the cache", old[i]->name);
		publish_user_changed_locked(d, old[i]);
	}
	db_remove_user(&d->db, name, uid);
}

static void forget_group_locked(struct dird *d, const char *name, uint32_t gid)
{
	struct dir_group *old[2] = { name ? db_group_by_name(&d->db, name) : NULL,
				     db_group_by_gid(&d->db, gid) };
	for (int i = 0; i < 2; i++) {
		if (!old[i])
			continue;
		if (store_delete(d->cfg.cache_dir, STORE_GROUPS, old[i]->name, old[i]->gid) < 0)
			log_warning("cannot remove group %s from the cache", old[i]->name);
		publish_group_changed_locked(d, old[i]);
	}
	db_remove_group(&d->db, name, gid);
}

/* u (g) into db and the tdb cache, in place of whatever they hold under its name or id.  Locks
 * held. */
static void put_user_locked(struct dird *d, struct dir_user *u)
{
	forget_user_locked(d, u->name, u->uid);
	if (store_insert_user(d->cfg.cache_dir, u) < 0)
		log_warning("cannot add user %s to the cache", u->name);
	publish_user_changed_locked(d, u);
	db_add_user(&d->db, u);
}

static void put_group_locked(struct dird *d, struct dir_group *g)
{
	forget_group_locked(d, g->name, g->gid);
	if (store_insert_group(d->cfg.cache_dir, g) < 0)
		log_warning("cannot add group %s to the cache", g->name);
	if (db_link_group(&d->db, g) < 0)
		log_warning("out of memory linking group %s", g->name);
	/* its members' gid lists changed with it */
	publish_group_changed_locked(d, g);
	db_add_group(&d->db, g);
}

/* How many change batches (changes.h) all domains have had applied, and new local files the
 * cache was filtered by: a lookup reads it before it asks, and when it moved meanwhile, db may
 * hold a newer copy of what the lookup read (a poll or stream applied it after the lookup read
 * its own), or the name may be local now: the lookup's copy is not stored.  Lock held. */
static uint64_t changes_applied_locked(const struct dird *d)
{
	uint64_t n = d->local_changes;
	for (size_t i = 0; i < d->cfg.n_domains; i++)
		n += d->domains[i].changes_applied;
	return n;
}

static uint64_t changes_applied(struct dird *d)
{
	pthread_mutex_lock(&d->lock);
	uint64_t n = changes_applied_locked(d);
	pthread_mutex_unlock(&d->lock);
	return n;
}

/* A lookup raced a change batch: db's copy of the entry answers if it has one (it is at least
 * as new), else the one found; neither is stored.  Locks held. */
static void answer_raced_locked(struct dird *d, uint32_t op, void *found, struct buf *reply)
{
	if (is_user_op(op)) {
		const struct dir_user *cur = db_user_by_name(&d->db, ((struct dir_user *)found)->name);
		encode_user(d, op, cur ? cur : found, reply);
		dir_user_destroy(found);
	} else {
		struct dir_group *cur = db_group_by_name(&d->db, ((struct dir_group *)found)->name);
		encode_group(reply, cur ? cur : found, d->cfg.entry_ttl);
		dir_group_destroy(found);
	}
}

static void destroy_found(bool user, void *found)
{
	if (user)
		dir_user_destroy(found);
	else
		dir_group_destroy(found);
}

/* The winner of two entries of one name or id as a refresh settles it (fetch_user_wins,
 * fetch_group_wins), whatever the order of the domains; the loser destroyed.  best may be NULL. */
static void *keep_winner(bool user, void *best, void *found)
{
	bool wins = !best || (user ? fetch_user_wins(found, best) : fetch_group_wins(found, best));
	destroy_found(user, wins ? best : found);
	return wins ? found : best;
}

static bool of_one_domain(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* The entry db holds under found's other key (its id when asked by name, its name when asked by
 * id) when it is another domain's and wins over found as a refresh settles it: a refresh
 * serves that one, not found, so a miss does not put found in its place.  One of found's own
 * domain is an older copy (a renamed entry): found, just read, replaces it.  NULL when none.
 * Locks held. */
static const char *lost_to_locked(const struct dird *d, const struct lookup_query *q,
				  const void *found)
{
	if (is_user_op(q->op)) {
		const struct dir_user *u = found, *h = q->name ? db_user_by_uid(&d->db, u->uid) :
								 db_user_by_name(&d->db, u->name);
		bool same = h && strcmp(h->name, u->name) == 0 && h->uid == u->uid;
		return h && !same && !of_one_domain(h->domain, u->domain) && fetch_user_wins(h, u) ?
			       h->name : NULL;
	}
	const struct dir_group *g = found, *h = q->name ? db_group_by_gid(&d->db, g->gid) :
							  db_group_by_name(&d->db, g->name);
	bool same = h && strcmp(h->name, g->name) == 0 && h->gid == g->gid;
	return h && !same && !of_one_domain(h->domain, g->domain) && fetch_group_wins(h, g) ?
		       h->name : NULL;
}

/* Whether the domain named `domain` answered this miss (had it or not): answered[i] for each
 * configured domain, false when it could not be asked. */
static bool answered_by(const struct dird *d, const bool *answered, const char *domain)
{
	for (size_t i = 0; domain && i < d->cfg.n_domains; i++)
		if (strcmp(d->cfg.domains[i].name, domain) == 0)
			return answered[i];
	return true; /* a domain no longer configured keeps nothing */
}

/* The copy db holds under the asked key when its domain could not be asked and it wins over
 * found: that domain may hold it still, and the stale copy is the best answer there is (a
 * refresh, or the miss once that domain answers again, serves it).  found in its place would be
 * served until it expired, then the winner again.  NULL when none.  Locks held. */
static void *kept_for_unanswered_locked(const struct dird *d, const struct lookup_query *q,
					const void *found, const bool *answered)
{
	if (is_user_op(q->op)) {
		const struct dir_user *u = found;
		struct dir_user *h = q->name ? db_user_by_name(&d->db, q->name) :
					       db_user_by_uid(&d->db, q->id);
		return h && !of_one_domain(h->domain, u->domain) &&
			       !answered_by(d, answered, h->domain) && fetch_user_wins(h, u) ?
			       h : NULL;
	}
	const struct dir_group *g = found;
	struct dir_group *h = q->name ? db_group_by_name(&d->db, q->name) :
					db_group_by_gid(&d->db, q->id);
	return h && !of_one_domain(h->domain, g->domain) && !answered_by(d, answered, h->domain) &&
		       fetch_group_wins(h, g) ?
		       h : NULL;
}

/* Puts what the directory returned in db and the tdb cache, replacing older copies, unless a
 * change batch was applied since `applied` (changes_applied_locked).  DIR_NOTFOUND (found
 * freed, answer saying why) when db holds an entry that wins over it (lost_to_locked); DIR_OK
 * with db's copy when that copy's domain could not be asked and it wins (answered: which
 * domains answered). */
static uint32_t insert_found(struct dird *d, uint64_t applied, const struct lookup_query *q,
			     void *found, const bool *answered, struct buf *reply, char *answer,
			     size_t answerlen)
{
	uint32_t op = q->op, status = DIR_OK;
	pthread_mutex_lock(&d->store_lock);
	pthread_mutex_lock(&d->lock);
	buf_reset(reply);
	const char *winner = NULL;
	void *kept = NULL;
	if (changes_applied_locked(d) != applied) {
		answer_raced_locked(d, op, found, reply);
	} else if ((kept = kept_for_unanswered_locked(d, q, found, answered))) {
		say(answer, answerlen, "stale copy served: its domain, offline, holds it and it wins "
		    "the clash");
		if (is_user_op(op))
			encode_user(d, op, kept, reply);
		else
			encode_group(reply, kept, d->cfg.entry_ttl);
		destroy_found(is_user_op(op), found);
	} else if ((winner = lost_to_locked(d, q, found))) {
		say(answer, answerlen, "not served: %s, cached, holds its %s and wins the clash",
		    winner, q->name ? "id" : "name");
		destroy_found(is_user_op(op), found);
		status = DIR_NOTFOUND;
	} else if (is_user_op(op)) {
		encode_user(d, op, found, reply);
		put_user_locked(d, found);
	} else {
		encode_group(reply, found, d->cfg.entry_ttl);
		put_group_locked(d, found);
	}
	pthread_mutex_unlock(&d->lock);
	pthread_mutex_unlock(&d->store_lock);
	return status;
}

/* Every domain answered and none has it: forget any copy, remember the absence (unless a change
 * batch since `applied` may have brought it). */
static void record_absence(struct dird *d, uint64_t applied, const struct lookup_query *q)
{
	pthread_mutex_lock(&d->store_lock);
	pthread_mutex_lock(&d->lock);
	if (changes_applied_locked(d) == applied) {
		if (is_user_op(q->op))
			forget_user_locked(d, q->name, q->name ? UINT32_MAX : q->id);
		else
			forget_group_locked(d, q->name, q->name ? UINT32_MAX : q->id);
		negcache_add(d->negative, q->op, q->name, q->id, d->cfg.negative_ttl);
	}
	pthread_mutex_unlock(&d->lock);
	pthread_mutex_unlock(&d->store_lock);
}

/* A domain whose last answer took longer than half of the caller's patience (nss_timeout): once
 * another domain found the entry, asking it too would make the caller give up on an entry it
 * could have had.  It counts as offline for that lookup (its cached copy that wins is kept:
 * kept_for_unanswered_locked); its last time is measured again by the lookups no other domain
 * answers (names of its own, absent ones). */
static long long too_slow_ms(struct dird *d, size_t i)
{
	pthread_mutex_lock(&d->lock);
	long long ms = d->domains[i].ask_ms;
	pthread_mutex_unlock(&d->lock);
	return ms > d->cfg.nss_timeout_ms / 2 ? ms : 0;
}

/* What every domain that may have it holds under t's name or id, the winner kept as a refresh
 * keeps it (not the first domain's: a miss and a refresh would serve two entries by turns);
 * NULL when none.  *unanswered: a domain could not be asked; answered[i] false for each such. */
static void *ask_domains(struct dird *d, const struct target *t, const struct local_accounts *local,
			 bool *answered, bool *unanswered, char *answer, size_t answerlen)
{
	bool user = is_user_op(t->q.op);
	void *best = NULL;
	char err[512];
	for (size_t i = 0; i < d->cfg.n_domains; i++) {
		if (!domain_may_have(d, i, t))
			continue;
		const char *domain = d->cfg.domains[i].name;
		void *found = NULL;
		long long slow_ms = best ? too_slow_ms(d, i) : 0;
		if (slow_ms) {
			say(answer, answerlen, "domain %s slow (%lld ms last time), not asked once "
			    "another found it", domain, slow_ms);
			answered[i] = false;
			continue;
		}
		int r = ask_if_usable(d, i, local, &t->q, &found, err, sizeof(err));
		if (r == ASK_OFFLINE) {
			say(answer, answerlen, "domain %s offline, not asked", domain);
			*unanswered = true;
			answered[i] = false;
			continue;
		}
		if (r > 0) {
			say(answer, answerlen, "asked domain %s: found%s", domain,
			    best ? " (the clash settled as a refresh settles it)" : "");
			best = keep_winner(user, best, found);
		} else if (r == 0) {
			say(answer, answerlen, "asked domain %s: not found%s%s", domain,
			    *err ? ": refused " : "", err);
		} else {
			say(answer, answerlen, "asked domain %s: unavailable: %s", domain, err);
		}
		*unanswered |= r < 0;
		answered[i] = r >= 0;
	}
	return best;
}

uint32_t lookup_directory(struct dird *d, uint32_t op, const struct buf *body, struct buf *reply,
			  char *answer, size_t answerlen)
{
	/* It may have been fetched while this query waited in the queue. */
	struct target t;
	enum cached cached;
	*answer = '\0';
	if (!resolve_target(d, op, body, &t) || !lookup_cached(d, op, body, reply, &cached))
		return DIR_BADREQ;
	const struct lookup_query q = t.q;
	if (cached == CACHED_FRESH || cached == CACHED_ABSENT) {
		say(answer, answerlen, cached == CACHED_FRESH ? "found in the cache" :
				       "not found (the negative cache)");
		return cached == CACHED_FRESH ? DIR_OK : DIR_NOTFOUND;
	}
	const char *fallback = cached == CACHED_STALE ? "stale copy served" : "unavailable";
	/* Local names and ids never go to the directory.  Without the files nothing new is served:
	 * it could be a local account's name or id. */
	struct local_accounts local;
	char err[512];
	if (local_accounts_load(&local, err, sizeof(err)) < 0) {
		log_error("%s: the directory is not asked until it can be read", err);
		say(answer, answerlen, "the local account files cannot be read: %s", fallback);
		return cached == CACHED_STALE ? DIR_OK : DIR_UNAVAIL;
	}
	const struct local_set *mine = is_user_op(op) ? &local.users : &local.groups;
	if (q.name ? local_set_has_name(mine, q.name) : local_set_has_id(mine, q.id)) {
		local_accounts_free(&local);
		say(answer, answerlen, "not found: a local account's %s (files answers it)",
		    q.name ? "name" : "id");
		return DIR_NOTFOUND;
	}
	bool unanswered = false, *answered = malloc(d->cfg.n_domains + 1);
	if (!answered) {
		local_accounts_free(&local);
		say(answer, answerlen, "out of memory: %s", fallback);
		return cached == CACHED_STALE ? DIR_OK : DIR_UNAVAIL;
	}
	memset(answered, true, d->cfg.n_domains + 1);
	uint64_t applied = changes_applied(d);
	void *best = ask_domains(d, &t, &local, answered, &unanswered, answer, answerlen);
	local_accounts_free(&local);
	/* not served when a cached entry that wins holds its other key, nor in place of one an
	 * offline domain holds that wins */
	uint32_t status = best ? insert_found(d, applied, &q, best, answered, reply, answer,
					      answerlen) : DIR_NOTFOUND;
	free(answered);
	if (best)
		return status;
	if (unanswered) { /* the stale copy, if any, is the best answer there is */
		say(answer, answerlen, "%s", fallback);
		return cached == CACHED_STALE ? DIR_OK : DIR_UNAVAIL;
	}
	if (!*answer)
		say(answer, answerlen, "not found: no domain serves it");
	record_absence(d, applied, &q);
	return DIR_NOTFOUND;
}

/* Whether found may take what db holds under its name and id, as a refresh settles a clash
 * (fetch_user_wins): db's entry of its own domain under either is left to that domain (its stream
 * or refresh settles its own clashes), unless it is the same entry (name and id). */
static bool user_may_take(const struct db *db, const struct dir_user *u)
{
	const struct dir_user *held[2] = { db_user_by_name(db, u->name), db_user_by_uid(db, u->uid) };
	for (int i = 0; i < 2; i++) {
		const struct dir_user *h = held[i];
		bool same_domain = h && of_one_domain(h->domain, u->domain);
		bool same_entry = same_domain && strcmp(h->name, u->name) == 0 && h->uid == u->uid;
		if (h && !same_entry && (same_domain || !fetch_user_wins(u, h)))
			return false;
	}
	return true;
}

static bool group_may_take(const struct db *db, const struct dir_group *g)
{
	const struct dir_group *held[2] = { db_group_by_name(db, g->name),
					    db_group_by_gid(db, g->gid) };
	for (int i = 0; i < 2; i++) {
		const struct dir_group *h = held[i];
		bool same_domain = h && of_one_domain(h->domain, g->domain);
		bool same_entry = same_domain && strcmp(h->name, g->name) == 0 && h->gid == g->gid;
		if (h && !same_entry && (same_domain || !fetch_group_wins(g, h)))
			return false;
	}
	return true;
}

/* Domain i could not be asked for what a name or id that went left: its stream, once back,
 * sends nothing of an entry that did not change, and with every domain in sync libnss_dir
 * answers a miss itself, so a full refresh reads it once the domain is back (domain.c). */
static void note_unanswered(struct dird *d, size_t i)
{
	pthread_mutex_lock(&d->lock);
	if (d->cfg.enumerate && domain_usable_locked(d, i)) /* back already */
		refresh_start_locked(d);
	else if (d->cfg.enumerate) /* else a miss asks the domains */
		d->domains[i].reclaim_behind = true;
	pthread_mutex_unlock(&d->lock);
}

/* The best of what the domains (but r->skip_domain) hold under r's name or id, as a refresh
 * would keep it; NULL when none.  *unanswered: a domain could not be asked. */
static void *read_domains(struct dird *d, const struct reclaim *r,
			  const struct local_accounts *local, bool *unanswered)
{
	struct target t = { .q = { .op = r->op, .name = r->name, .id = r->id } };
	resolve_name(d, &t);
	bool user = is_user_op(r->op);
	void *best = NULL;
	char err[512];
	for (size_t i = 0; i < d->cfg.n_domains; i++) {
		if (i == r->skip_domain || !domain_may_have(d, i, &t))
			continue;
		void *found = NULL;
		int rc = ask_if_usable(d, i, local, &t.q, &found, err, sizeof(err));
		if (rc < 0)
			note_unanswered(d, i);
		*unanswered |= rc < 0;
		if (rc <= 0)
			continue;
		best = keep_winner(user, best, found);
	}
	return best;
}

/* found into db and the tdb cache, unless it loses to what db holds; the groups naming a user
 * queued too (RECLAIM_GROUPS).  false: a change batch was applied since `applied`, or a db that
 * replaces d->db is being written; found freed. */
static bool settle_found(struct dird *d, const struct reclaim *r, uint64_t applied, void *found)
{
	bool user = is_user_op(r->op), raced;
	pthread_mutex_lock(&d->store_lock);
	pthread_mutex_lock(&d->lock);
	/* a refresh or a stream's complete batch writing a db that replaces d->db: later */
	if ((raced = changes_applied_locked(d) != applied || d->refreshing) ||
	    !(user ? user_may_take(&d->db, found) : group_may_take(&d->db, found))) {
		if (user)
			dir_user_destroy(found);
		else
			dir_group_destroy(found);
	} else if (user) {
		struct dir_user *u = found;
		log_info("%s: user %s (uid %" PRIu32 ") read again and served: a name or id that "
			 "kept it out went", u->domain, u->name, u->uid);
		/* its primary group's member list may name it too; past the queue's bound, the
		 * groups left out would lack it for good: a full refresh reads them */
		bool queued = !(r->flags & RECLAIM_GROUPS) ||
			      reclaim_queue_locked(d, DIR_OP_GETGRGID, NULL, u->gid, SIZE_MAX, 0);
		for (uint32_t i = 0; queued && (r->flags & RECLAIM_GROUPS) && i < u->n_groups; i++)
			queued = reclaim_queue_locked(d, DIR_OP_GETGRGID, NULL, u->groups[i],
						      SIZE_MAX, 0);
		if (!queued && d->cfg.enumerate) {
			log_info("%s: in more groups than are read again one by one: a full refresh "
				 "reads them", u->name);
			refresh_start_locked(d);
		}
		put_user_locked(d, u);
	} else {
		struct dir_group *g = found;
		log_info("%s: group %s (gid %" PRIu32 ") read again and served: a name or id that "
			 "kept it out went", g->domain, g->name, g->gid);
		put_group_locked(d, g);
	}
	pthread_mutex_unlock(&d->lock);
	pthread_mutex_unlock(&d->store_lock);
	return !raced;
}

/* At most this many users of one primary gid are read one by one; past it, a full refresh. */
#define PRIMARY_MAX 64

static int queue_user(const char *name, void *arg)
{
	struct dird *d = arg;
	pthread_mutex_lock(&d->lock);
	bool ok = db_user_by_name(&d->db, name) ||
		  reclaim_queue_locked(d, DIR_OP_GETPWNAM, name, 0, SIZE_MAX, RECLAIM_GROUPS);
	pthread_mutex_unlock(&d->lock);
	return ok ? 0 : -1;
}

/* RECLAIM_PRIMARY: each domain's users whose primary gid is r->id, queued by name.  false when
 * that cannot be done (an AD domain, too many users, out of memory): a full refresh then. */
static bool queue_primary_members(struct dird *d, const struct reclaim *r)
{
	struct target t = { .q = { .op = DIR_OP_GETPWUID, .id = r->id } };
	char err[512] = "";
	bool done = true;
	for (size_t i = 0; done && i < d->cfg.n_domains; i++) {
		if (i == r->skip_domain || !domain_may_have(d, i, &t))
			continue;
		struct ldap_conn *c = &d->conns[i];
		pthread_mutex_lock(&d->lock);
		bool usable = domain_usable_locked(d, i);
		pthread_mutex_unlock(&d->lock);
		if (!usable) {
			note_unanswered(d, i);
			continue;
		}
		int rc = c->ld || domain_open(d, i, c, err, sizeof(err)) == 0 ?
				 fetch_user_names_by_gid(c, r->id, PRIMARY_MAX, queue_user, d, err,
							 sizeof(err)) :
				 -1;
		if (rc > 0)
			snprintf(err, sizeof(err), "%s: more than %d users", d->cfg.domains[i].name,
				 PRIMARY_MAX);
		done = rc == 0;
	}
	if (!done)
		log_info("the users whose primary gid is %" PRIu32 " (a local group's until now) cannot "
			 "be read one by one (%s): a full refresh reads them", r->id, err);
	return done;
}

bool lookup_reclaim(struct dird *d, const struct reclaim *r)
{
	struct local_accounts local;
	char err[512];
	uint64_t applied = changes_applied(d); /* before the files are read: a change since races */
	if (local_accounts_load(&local, err, sizeof(err)) < 0) {
		log_error("%s: names that went are read again at the next refresh", err);
		return true;
	}
	const struct local_set *mine = is_user_op(r->op) ? &local.users : &local.groups;
	bool local_one = r->name ? local_set_has_name(mine, r->name) : local_set_has_id(mine, r->id);
	bool unanswered = false, settled = true;
	void *best = local_one ? NULL : read_domains(d, r, &local, &unanswered);
	local_accounts_free(&local);
	if (best)
		settled = settle_found(d, r, applied, best);
	if (!local_one && (r->flags & RECLAIM_PRIMARY) && !queue_primary_members(d, r)) {
		pthread_mutex_lock(&d->store_lock);
		pthread_mutex_lock(&d->lock);
		if (d->cfg.enumerate) /* else a miss asks the domains */
			refresh_start_locked(d);
		pthread_mutex_unlock(&d->lock);
		pthread_mutex_unlock(&d->store_lock);
	}
	if (unanswered)
		log_warning("%s: a domain could not be asked for what no entry holds any more; a "
			    "lookup or a refresh reads it once the domain answers",
			    r->name ? r->name : "an id");
	return settled;
}
