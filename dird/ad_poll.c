/* Active Directory's changes, polled.  AD has no change stream (no RFC 4533): every
 * sync_interval seconds a thread asks each AD domain's DC for its position (directory/
 * ad_changes.h: its name, invocationId and highestCommittedUSN) and, when the cache stands at an
 * earlier position of the same DC and database, reads only what changed since (uSNChanged above
 * the stored USN, and tombstones through Show Deleted) and applies it with the new position
 * (changes.h: one transaction, so a restart resumes where the cache stands).  Without a stored
 * position, or on another DC, or on a restored one, it reads the whole domain instead, as a
 * refresh reads it, and applies that as a complete batch.  Entries are known by their SID, which
 * tombstones keep. */
#include "ad_poll.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad_changes.h"
#include "ad_notify.h"
#include "changes.h"
#include "domain.h"
#include "fetch.h"
#include "fetch_all.h"
#include "log.h"
#include "refresh.h"
#include "threads.h"

bool ad_poll_serves(const struct dird *d, size_t i)
{
	const struct dir_domain *dom = &d->cfg.domains[i];
	return d->cfg.enumerate && dom->type == DIR_DOMAIN_AD && dom->sync_interval > 0;
}

bool ad_poll_serves_all(const struct dird *d)
{
	for (size_t i = 0; i < d->cfg.n_domains; i++)
		if (!ad_poll_serves(d, i))
			return false;
	return d->cfg.n_domains > 0;
}

void ad_poll_resync_locked(struct dird *d)
{
	if (d->refreshing)
		return;
	d->refreshing = true;
	d->poll_resync = true;
	atomic_store(&d->refresh_progress, 0);
	pthread_cond_signal(&d->poll_cond);
}

/* How long after a poll the cache still counts as holding every entry: the next poll is due
 * after sync_interval, and may take a few network steps of `timeout` each. */
static time_t sync_margin(const struct dir_domain *dom)
{
	return 2 * (time_t)dom->timeout + 1;
}

static int push_name(char ***names, size_t *n, char *name)
{
	char **grown = realloc(*names, (*n + 1) * sizeof(*grown));
	if (!grown)
		return -1;
	grown[(*n)++] = name;
	*names = grown;
	return 0;
}

/* A record put into b, known by its SID; freed on failure. */
static int put_user(struct change_batch *b, struct dir_user *u)
{
	char *id = strdup(u->sid ? u->sid : "");
	if (!id) {
		dir_user_destroy(u);
		return -1;
	}
	return change_batch_add(b, CHANGE_PUT, id, NULL, u, NULL);
}

static int put_group(struct change_batch *b, struct dir_group *g)
{
	char *id = strdup(g->sid ? g->sid : "");
	if (!id) {
		dir_group_destroy(g);
		return -1;
	}
	return change_batch_add(b, CHANGE_PUT, id, NULL, NULL, g);
}

/* The records a refresh would read of the domain, into b as one complete batch. */
static int read_whole(struct dird *d, size_t i, struct ldap_conn *c,
		      const struct local_accounts *local, struct change_batch *b, char *err,
		      size_t errlen)
{
	struct db whole;
	struct fetch_counts counts = { 0, 0, 0 };
	db_init(&whole);
	int rc = fetch_all(c, local, &whole, &d->refresh_progress, &counts, err, errlen);
	if (rc == 0 && db_link_groups(&whole) < 0) {
		snprintf(err, errlen, "out of memory");
		rc = -1;
	}
	/* db keeps each record by its pointer: taken ones are NULL in it, and freed by b */
	for (size_t k = 0; rc == 0 && k < whole.c.n_users; k++) {
		rc = put_user(b, whole.c.users[k]);
		whole.c.users[k] = NULL;
	}
	for (size_t k = 0; rc == 0 && k < whole.c.n_groups; k++) {
		rc = put_group(b, whole.c.groups[k]);
		whole.c.groups[k] = NULL;
	}
	db_free(&whole);
	if (rc < 0 && !*err)
		snprintf(err, errlen, "out of memory");
	if (rc == 0) {
		b->complete_users = b->complete_groups = true;
		pthread_mutex_lock(&d->lock);
		d->domains[i].duplicates = counts.duplicates;
		d->domains[i].refused = counts.refused;
		d->domains[i].skipped_members = counts.skipped_members;
		pthread_mutex_unlock(&d->lock);
	}
	return rc;
}

/* Adds name to names unless it is there. */
static int add_name_once(char ***names, size_t *n, const char *name)
{
	for (size_t k = 0; k < *n; k++)
		if (!strcmp((*names)[k], name))
			return 0;
	char *copy = strdup(name);
	if (!copy || push_name(names, n, copy) < 0) {
		free(copy);
		return -1;
	}
	return 0;
}

/* The groups db holds that list the user the cache knows by this SID, when it is gone
 * (new_name NULL) or now has another name: a user deleted or renamed leaves its groups'
 * member lists, which the DC keeps by reference (their uSNChanged stays), naming it as it was,
 * so they are read again.  The user's name comes from the poll's own key for the SID, its
 * groups from its gid list: the work is the user's, not the cache's.  Names into *names. */
static int groups_of_old_name(struct dird *d, size_t i, const char *sid, const char *new_name,
			      char ***names, size_t *n_names)
{
	char *old_name = changes_name_of_id(d, i, STORE_USERS, sid);
	if (!old_name || (new_name && !strcmp(old_name, new_name))) {
		free(old_name);
		return 0;
	}
	int rc = 0;
	pthread_mutex_lock(&d->lock);
	const struct dir_user *user = db_user_by_name(&d->db, old_name);
	for (uint32_t k = 0; user && rc == 0 && k <= user->n_groups; k++) {
		/* its primary group too: it may list the user as well */
		const struct dir_group *g = db_group_by_gid(&d->db, k < user->n_groups ?
							    user->groups[k] : user->gid);
		if (g)
			rc = add_name_once(names, n_names, g->name);
	}
	pthread_mutex_unlock(&d->lock);
	free(old_name);
	return rc;
}

/* The groups to read again after ab: those of its users gone or renamed. */
static int groups_to_reread(struct dird *d, size_t i, const struct ad_change_batch *ab,
			    char ***names, size_t *n_names)
{
	int rc = 0;
	for (size_t k = 0; rc == 0 && k < ab->n_gone; k++)
		rc = groups_of_old_name(d, i, ab->gone_sids[k], NULL, names, n_names);
	for (size_t k = 0; rc == 0 && k < ab->n_users; k++)
		if (ab->users[k]->sid)
			rc = groups_of_old_name(d, i, ab->users[k]->sid, ab->users[k]->name, names,
						n_names);
	return rc;
}

/* What changed since `since`, into b. */
static int read_changes(struct dird *d, size_t i, struct ldap_conn *c,
			const struct local_accounts *local, uint64_t since, struct change_batch *b,
			char *err, size_t errlen)
{
	struct ad_change_batch ab = { 0 };
	char **regroup = NULL;
	size_t n_regroup = 0;
	int rc = ad_changes_read(c, local, since, &ab, err, errlen);
	if (rc == 0)
		rc = groups_to_reread(d, i, &ab, &regroup, &n_regroup);
	for (size_t k = 0; rc == 0 && k < ab.n_users; k++) {
		rc = put_user(b, ab.users[k]);
		ab.users[k] = NULL;
	}
	for (size_t k = 0; rc == 0 && k < ab.n_groups; k++) {
		rc = put_group(b, ab.groups[k]);
		ab.groups[k] = NULL;
	}
	for (size_t k = 0; rc == 0 && k < ab.n_gone; k++) {
		char *id = ab.gone_sids[k];
		ab.gone_sids[k] = NULL;
		rc = change_batch_add(b, CHANGE_DELETE, id, NULL, NULL, NULL);
	}
	/* after the users and the deletions: their members are renamed or gone by then */
	for (size_t k = 0; rc == 0 && k < n_regroup; k++) {
		struct dir_group *g = NULL;
		rc = fetch_group(c, local, regroup[k], 0, &g, NULL, err, errlen);
		if (rc > 0)
			rc = put_group(b, g);
	}
	for (size_t k = 0; k < n_regroup; k++)
		free(regroup[k]);
	free(regroup);
	ad_change_batch_free(&ab);
	if (rc < 0 && !*err)
		snprintf(err, errlen, "out of memory");
	return rc;
}

/* The position the cache holds for the stream; false when none (or not one of ours). */
static bool stored_position(struct dird *d, const char *stream, struct ad_position *p,
			    char *raw, size_t rawlen, size_t *len)
{
	char *v = changes_position(d, stream, len);
	bool ok = v && *len < rawlen;
	if (ok) {
		memcpy(raw, v, *len);
		raw[*len] = '\0';
		ok = ad_position_parse(raw, p) == 0;
	}
	free(v);
	return ok;
}

/* Applies what a poll read (a whole read, or the changes since USN `since`) with the DC's position
 * `now`, and logs how it went. True when applied. */
static bool apply_poll(struct dird *d, const struct dir_domain *dom, struct change_batch *b,
		       const struct ad_position *now, uint64_t since, bool whole, char *err,
		       size_t errlen)
{
	char pos[512];
	size_t n = b->n;
	ad_position_format(now, pos, sizeof(pos));
	b->position = pos;
	b->position_len = strlen(pos);
	enum changes_result r = changes_apply(d, b, err, errlen);
	b->position = NULL; /* pos is ours */
	b->position_len = 0;
	if (r != CHANGES_APPLIED)
		log_error("%s: changes up to USN %" PRIu64 " not applied: %s%s", dom->name,
			  now->usn, err, r == CHANGES_RESYNC || r == CHANGES_REFUSED ? "; reading everything again" : "");
	else if (whole)
		log_info("%s: read whole: %zu users and groups, at USN %" PRIu64 " of %s",
			 dom->name, n, now->usn, now->dc);
	else
		log_info("%s: %zu changes applied, USN %" PRIu64 " to %" PRIu64 " of %s",
			 dom->name, n, since, now->usn, now->dc);
	return r == CHANGES_APPLIED;
}

/* A poll that started at `started` brought the cache to the DC's position `now`: the domain's
 * state (dirctl status) and, when it stands for a refresh, the cache's age. */
static void record_poll(struct dird *d, size_t i, time_t started, const struct ad_position *now,
			bool whole, bool changed)
{
	const struct dir_domain *dom = &d->cfg.domains[i];
	struct tm tm;
	char at[16];
	localtime_r(&started, &tm);
	strftime(at, sizeof(at), "%H:%M:%S", &tm);
	pthread_mutex_lock(&d->lock);
	struct domain_state *s = &d->domains[i];
	s->last_poll = started;
	snprintf(s->changes_state, sizeof(s->changes_state), "%.100s at USN %" PRIu64
		 ", last poll %s", now->dc, now->usn, at);
	s->in_sync_until = started + (time_t)dom->sync_interval + sync_margin(dom);
	s->streaming = true; /* back online, the poll goes on from the cache's position */
	if (changed)
		s->last_change = time(NULL);
	s->full_syncs += whole;
	/* A whole read is a full refresh of the domain; when the poll keeps every domain, the
	 * cache is up to date as of each poll (the cache's age, in dirctl status). */
	if (whole || ad_poll_serves_all(d))
		d->last_refresh = started;
	if (whole)
		d->refresh_count++;
	pthread_mutex_unlock(&d->lock);
}

/* One poll of domain i (a whole read with `whole`).  True when the cache is in sync with the
 * DC's position read at its start. */
static bool poll_domain(struct dird *d, size_t i, bool whole)
{
	const struct dir_domain *dom = &d->cfg.domains[i];
	char stream[CHANGES_MAX_STREAM], err[512] = "", raw[512];
	snprintf(stream, sizeof(stream), "%s/usn", dom->name);
	struct ldap_conn c = { 0 };
	struct ad_position now, stored;
	time_t started = time(NULL);
	if (domain_open(d, i, &c, err, sizeof(err)) < 0 ||
	    ad_position_read(&c, &now, err, sizeof(err)) < 0) {
		log_error("%s: cannot read the DC's changes: %s", dom->name, err);
		domain_report(d, i, &c, false, err);
		ldap_conn_close(&c);
		return false;
	}
	refresh_read_dc_clock(d, i, &c);
	struct local_accounts local;
	if (local_accounts_load(&local, err, sizeof(err)) < 0) {
		log_error("%s: changes not read: %s; the cache stays as it is until it can be read",
			  dom->name, err);
		ldap_conn_close(&c);
		return false;
	}
	size_t raw_len = 0;
	bool have = stored_position(d, stream, &stored, raw, sizeof(raw), &raw_len);
	const char *why = whole ? "a full refresh" : !have ? "no position stored" :
			  ad_position_mismatch(&stored, &now);
	struct change_batch b = { .domain = i, .stream = stream };
	int rc = 0;
	if (why) {
		log_info("%s: reading every user and group of %s (USN %" PRIu64 "): %s", dom->name,
			 now.dc, now.usn, why);
		rc = read_whole(d, i, &c, &local, &b, err, sizeof(err));
	} else if (now.usn != stored.usn) {
		rc = read_changes(d, i, &c, &local, stored.usn, &b, err, sizeof(err));
		b.expected = raw;
		b.expected_len = raw_len;
	}
	domain_report(d, i, &c, rc == 0, err);
	ldap_conn_close(&c);
	local_accounts_free(&local);
	bool ok = rc == 0, changed = why || now.usn != stored.usn;
	if (ok && changed)
		ok = apply_poll(d, dom, &b, &now, why ? 0 : stored.usn, why != NULL, err, sizeof(err));
	else if (!ok)
		log_error("%s: changes not read: %s", dom->name, err);
	change_batch_clear(&b);
	free(b.changes); /* clear keeps the array for a batch filled again */
	if (ok)
		record_poll(d, i, started, &now, why != NULL, changed);
	return ok;
}

/* The thread's own: each domain's change notification (ad_notify.h), while the
 * configuration they were opened for stands. */
struct waits {
	struct ad_notify *notify;
	bool *woke;
	size_t n;
};

static void waits_close(struct waits *w)
{
	for (size_t i = 0; i < w->n; i++)
		ad_notify_close(&w->notify[i]);
	free(w->notify);
	free(w->woke);
	memset(w, 0, sizeof(*w));
}

/* Waits about a second, less when a domain's notification wakes it (its poll is then due), or
 * when a resync is asked for (no notification open).  Lock held, released while waiting. */
static void wait_a_second(struct dird *d, struct waits *w)
{
	bool waited = false;
	if (w->n) {
		d->polling = true; /* no reload while the searches may be read */
		pthread_mutex_unlock(&d->lock);
		waited = ad_notify_wait(w->notify, w->n, 1000, w->woke);
		pthread_mutex_lock(&d->lock);
		d->polling = false;
	}
	for (size_t i = 0; waited && i < w->n && i < d->cfg.n_domains; i++)
		if (w->woke[i]) {
			struct domain_state *s = &d->domains[i];
			s->next_poll = s->last_poll + 1; /* at most one a second, however many */
			log_debug("%s: the DC says something changed", d->cfg.domains[i].name);
		}
	if (!waited && !d->poll_resync) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		pthread_cond_timedwait(&d->poll_cond, &d->lock, &until);
	}
}

/* The poll thread.  It reads the configuration only while `polling` (a reload waits for it). */
static void *poll_thread(void *arg)
{
	struct dird *d = arg;
	struct waits w = { 0 };
	pthread_mutex_lock(&d->lock);
	for (;;) {
		if (d->reload_pending) {
			waits_close(&w); /* opened for the configuration being replaced */
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += 1;
			pthread_cond_timedwait(&d->poll_cond, &d->lock, &until);
			continue;
		}
		if (w.n != d->cfg.n_domains) {
			waits_close(&w);
			w.notify = calloc(d->cfg.n_domains, sizeof(*w.notify));
			w.woke = calloc(d->cfg.n_domains, sizeof(*w.woke));
			w.n = w.notify && w.woke ? d->cfg.n_domains : 0;
		}
		if (d->poll_resync) {
			bool ok = true;
			d->polling = true;
			pthread_mutex_unlock(&d->lock);
			for (size_t i = 0; i < d->cfg.n_domains; i++)
				ok = poll_domain(d, i, true) && ok;
			pthread_mutex_lock(&d->lock);
			d->polling = false;
			d->poll_resync = false;
			refresh_done_locked(d, ok);
			for (size_t i = 0; i < d->cfg.n_domains; i++)
				d->domains[i].next_poll = time(NULL) + d->cfg.domains[i].sync_interval;
			continue;
		}
		for (size_t i = 0; i < d->cfg.n_domains && !d->reload_pending && !d->poll_resync; i++) {
			if (!ad_poll_serves(d, i) || d->refreshing || time(NULL) < d->domains[i].next_poll)
				continue;
			d->polling = true;
			pthread_mutex_unlock(&d->lock);
			if (poll_domain(d, i, false) && i < w.n)
				ad_notify_open(d, i, &w.notify[i]);
			pthread_mutex_lock(&d->lock);
			d->polling = false;
			/* a failed poll is tried again at the next interval */
			d->domains[i].next_poll = time(NULL) + d->cfg.domains[i].sync_interval;
		}
		if (!d->reload_pending)
			wait_a_second(d, &w);
	}
	return NULL;
}

int ad_poll_start(struct dird *d)
{
	return thread_start_detached(poll_thread, d);
}
