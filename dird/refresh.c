/* Full refreshes: a thread reads every domain into a new db with its own connections, writes
 * the files, and swaps the db in.  A failed refresh leaves the previous cache as it was. */
#include "refresh.h"

#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad_poll.h"
#include "dird.h"
#include "domain.h"
#include "fetch_all.h"
#include "log.h"
#include "protocol.h"
#include "publish.h"
#include "root_dse.h"

#define MAX_RETRY_DELAY 60

/* A DC's clock is read at each refresh (Kerberos needs ours close to it). */
static bool dc_clock_offset(struct ldap_conn *c, long long *offset)
{
	struct root_dse r;
	root_dse_read(c->ld, c->domain->timeout, &r);
	long long t = root_dse_time(r.time);
	if (t < 0)
		return false;
	*offset = t - (long long)time(NULL);
	if (*offset > DIR_CLOCK_WARN_SECONDS || *offset < -DIR_CLOCK_WARN_SECONDS)
		log_warning("%s: the DC's clock is %lld s from ours; Kerberos fails beyond %d s",
			    c->domain->name, *offset, DIR_CLOCK_SKEW_SECONDS);
	return true;
}

void refresh_read_dc_clock(struct dird *d, size_t i, struct ldap_conn *c)
{
	long long offset = 0;
	bool known = dc_clock_offset(c, &offset);
	pthread_mutex_lock(&d->lock);
	d->domains[i].clock_known = known;
	d->domains[i].clock_offset = offset;
	pthread_mutex_unlock(&d->lock);
}

static int fill(struct dird *d, const struct local_accounts *local, struct db *db)
{
	for (size_t i = 0; i < d->cfg.n_domains; i++) {
		const struct dir_domain *dom = &d->cfg.domains[i];
		struct ldap_conn c;
		char err[512];
		struct fetch_counts counts = { 0, 0, 0 };
		bool ok = domain_open(d, i, &c, err, sizeof(err)) == 0 &&
			  fetch_all(&c, local, db, &d->refresh_progress, &counts, err, sizeof(err)) == 0;
		long long offset = 0;
		bool clock_known = ok && dom->type == DIR_DOMAIN_AD && dc_clock_offset(&c, &offset);
		if (!ok)
			log_error("refresh of %s failed: %s", dom->name, err);
		domain_report(d, i, &c, ok, err);
		ldap_conn_close(&c);
		if (!ok)
			return -1;
		pthread_mutex_lock(&d->lock);
		d->domains[i].duplicates = counts.duplicates;
		d->domains[i].refused = counts.refused;
		d->domains[i].skipped_members = counts.skipped_members;
		d->domains[i].clock_known = clock_known;
		d->domains[i].clock_offset = offset;
		pthread_mutex_unlock(&d->lock);
	}
	return db_link_groups(db);
}

static void *refresh_thread(void *arg)
{
	struct dird *d = arg;
	struct db db;
	long long start = now_ms();
	db_init(&db);
	/* Without the local accounts nobody can tell which entries would shadow one: the cache
	 * stays as it is. */
	struct local_accounts local;
	char err[512];
	bool ok = local_accounts_load(&local, err, sizeof(err)) == 0, done = false;
	if (!ok)
		log_error("refresh refused: %s; the cache stays as it is until it can be read", err);
	ok = ok && fill(d, &local, &db) == 0;
	local_accounts_free(&local);

	pthread_mutex_lock(&d->store_lock);
	pthread_mutex_lock(&d->lock);
	if (ok) {
		struct db old = d->db;
		d->db = db;
		if (publish_locked(d, true) == 0) {
			db_free(&old);
			d->last_refresh = time(NULL);
			d->refresh_count++;
			done = true;
			log_info("refresh done: %zu users, %zu groups in %lld ms", d->db.c.n_users,
				 d->db.c.n_groups, now_ms() - start);
		} else {
			d->db = old; /* the files still hold the old cache: keep serving it */
			db_free(&db);
		}
	} else {
		db_free(&db);
	}
	refresh_done_locked(d, done);
	pthread_mutex_unlock(&d->lock);
	pthread_mutex_unlock(&d->store_lock);
	/* The old db and this thread's buffers were freed: give the pages back, or the next
	 * refresh's peak stacks on this one's. */
	malloc_trim(0);
	return NULL;
}

void refresh_done_locked(struct dird *d, bool done)
{
	/* After a failure try again soon, backing off: 1 s doubling to 60 s. */
	if (done) {
		d->retry_delay = 0;
		d->next_refresh = time(NULL) + (time_t)d->cfg.refresh_interval;
	} else {
		d->retry_delay = d->retry_delay ? d->retry_delay * 2 : 1;
		if (d->retry_delay > MAX_RETRY_DELAY)
			d->retry_delay = MAX_RETRY_DELAY;
		d->next_refresh = time(NULL) + (time_t)d->retry_delay;
	}
	d->refreshing = false;
}

void refresh_start_locked(struct dird *d)
{
	if (d->refreshing)
		return;
	/* Every domain's entries kept by AD's poll: its whole read is the refresh. */
	if (ad_poll_serves_all(d)) {
		ad_poll_resync_locked(d);
		return;
	}
	pthread_attr_t attr;
	pthread_t t;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	d->refreshing = true;
	atomic_store(&d->refresh_progress, 0);
	if (pthread_create(&t, &attr, refresh_thread, d) != 0) {
		log_error("cannot start a refresh thread");
		d->refreshing = false;
	}
	pthread_attr_destroy(&attr);
}
