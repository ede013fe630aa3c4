/* Full refreshes: a thread reads every domain into a new db with its own connections, writes
 * the tdb files and the index with no lock held (the main loop, lookups and PAM requests go on
 * from the old db meanwhile), and under the locks swaps the db in and renames the files into
 * place.  A failed refresh leaves the previous cache as it was. */
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
#include "sync_keep.h"
#include "sync_stream.h"
#include "threads.h"

#define MAX_RETRY_DELAY 60
/* A refresh that finds less than half of what a cache of at least SHRINK_MIN users (or groups)
 * holds is kept out: a changed base or filter, a server that answers with a subset, an ACL,
 * rather than a directory emptied on purpose.  dirctl cache refresh --accept-shrink takes it. */
#define SHRINK_MIN 20

bool refresh_drops_most(size_t cached, size_t found)
{
	return cached >= SHRINK_MIN && found < cached / 2;
}

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

static int fill(struct dird *d, const struct local_accounts *local, struct db *db,
		struct sync_keep *keep)
{
	for (size_t i = 0; i < d->cfg.n_domains; i++) {
		const struct dir_domain *dom = &d->cfg.domains[i];
		struct ldap_conn c;
		char err[512];
		struct fetch_counts counts = { 0, 0, 0 };
		bool ok = domain_open(d, i, &c, err, sizeof(err)) == 0;
		c.stop = &d->refresh_stop;
		if (ok) /* what the server held before the read, not after: it may gain more meanwhile */
			sync_keep_read_from(keep, i, &c);
		ok = ok && fetch_all(&c, local, db, &d->refresh_progress, &counts, err, sizeof(err)) == 0;
		if (!ok && atomic_load(&d->refresh_stop)) { /* not the domain's failure */
			ldap_conn_close(&c);
			return -1;
		}
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

/* Tests (until the change streams say so themselves): DIRD_TEST_IN_SYNC=SECONDS in dird's
 * environment counts every domain in sync for that long after each full refresh, so misses
 * are answered by libnss_dir alone (publish.c, authoritative_until). */
static void test_in_sync_locked(struct dird *d)
{
	const char *s = secure_getenv("DIRD_TEST_IN_SYNC");
	char *end;
	long seconds = s ? strtol(s, &end, 10) : 0;
	if (!s || *end || seconds <= 0)
		return;
	for (size_t i = 0; i < d->cfg.n_domains; i++)
		d->domains[i].in_sync_until = time(NULL) + seconds;
}

/* When the next refresh is due: at the interval, or after a failure soon, backing off: 1 s
 * doubling to 60 s; one a reload stopped, once the reload is over (main.c). */
static void refresh_schedule_locked(struct dird *d, bool done)
{
	bool stopped = atomic_exchange(&d->refresh_stop, false);
	if (!done && stopped) {
		log_info("refresh stopped for a configuration reload; it runs again on the new one");
		d->refresh_after_reload = true;
	} else if (done) {
		d->retry_delay = 0;
		d->next_refresh = time(NULL) + (time_t)d->cfg.refresh_interval;
	} else {
		d->retry_delay = d->retry_delay ? d->retry_delay * 2 : 1;
		if (d->retry_delay > MAX_RETRY_DELAY)
			d->retry_delay = MAX_RETRY_DELAY;
		d->next_refresh = time(NULL) + (time_t)d->retry_delay;
	}
}

/* The new tdb pair and index, without the lock: the records, and the streams' keys where they
 * stay true (sync_keep.c), written as the files are made rather than added afterwards. */
static int write_new_files(struct dird *d, struct db *db, struct sync_keep *keep)
{
	db->c.extra = sync_keep_extra(d, keep, &db->c.n_extra);
	int rc = publish_refresh_write(d, db);
	db->c.extra = NULL; /* keep's, freed with it */
	db->c.n_extra = 0;
	return rc;
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
	/* Taken before the read, written with what it read (sync_keep.c). */
	struct sync_keep keep;
	sync_keep_take(d, &keep);
	ok = ok && fill(d, &local, &db, &keep) == 0;
	local_accounts_free(&local);
	long long read_ms = now_ms() - start;
	ok = ok && write_new_files(d, &db, &keep) == 0;
	bool written = ok;

	struct db old;
	db_init(&old);
	pthread_mutex_lock(&d->store_lock);
	pthread_mutex_lock(&d->lock);
	bool held = ok && !d->accept_shrink && d->cfg.enumerate &&
		    (refresh_drops_most(d->db.c.n_users, db.c.n_users) ||
		     refresh_drops_most(d->db.c.n_groups, db.c.n_groups));
	d->accept_shrink = false;
	if (held) {
		log_warning("refresh kept out: it found %zu users and %zu groups where the cache holds "
			    "%zu and %zu; the cache stays as it is (a changed base or filter? dirctl "
			    "cache refresh --accept-shrink takes it)", db.c.n_users, db.c.n_groups,
			    d->db.c.n_users, d->db.c.n_groups);
		d->shrink_held_at = time(NULL);
		d->shrink_users = (uint32_t)db.c.n_users;
		d->shrink_groups = (uint32_t)db.c.n_groups;
		ok = false;
	}
	if (ok) {
		old = d->db;
		d->db = db;
		if (publish_refresh_install_locked(d) == 0) {
			d->last_refresh = time(NULL);
			d->refresh_count++;
			d->shrink_held_at = 0;
			done = true;
			log_info("refresh done: %zu users, %zu groups in %lld ms (%lld ms reading the "
				 "directory)", d->db.c.n_users, d->db.c.n_groups, now_ms() - start,
				 read_ms);
			test_in_sync_locked(d);
		} else {
			d->db = old; /* the files still hold the old cache: keep serving it */
			old = db;
		}
	} else {
		old = db;
		if (written)
			publish_refresh_discard(d); /* kept out: its files never go in */
	}
	/* A refresh kept out is tried again at the next interval: trying sooner would find the
	 * same. */
	refresh_schedule_locked(d, done || held);
	pthread_mutex_unlock(&d->lock);
	pthread_mutex_unlock(&d->store_lock);
	/* The db nobody serves (the replaced one, or the new one if it failed) is freed once the
	 * locks are let go: a million users take a second.  Then the pages go back, or the next
	 * refresh's peak stacks on this one's; the refresh is over when they are. */
	db_free(&old);
	sync_keep_free(&keep);
	malloc_trim(0);
	pthread_mutex_lock(&d->lock);
	d->refreshing = false;
	d->refresh_wanted = false; /* asked while it ran: it was the one */
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

void refresh_done_locked(struct dird *d, bool done)
{
	refresh_schedule_locked(d, done);
	d->refreshing = false;
	d->refresh_wanted = false;
}

void refresh_start_locked(struct dird *d)
{
	/* A reload waits for refreshes; one started meanwhile (a domain back online, say) could
	 * hold it off for good.  It starts once the reload is applied or refused: the reload's
	 * own runs none when every domain streams. */
	if (d->reload_pending) {
		d->refresh_after_reload = true;
		return;
	}
	if (d->refreshing) {
		/* a refresh under way is the one asked for; a stream's complete batch starts it
		 * as it ends (changes.c) */
		d->refresh_wanted = true;
		return;
	}
	/* Every domain's entries kept by AD's poll: its whole read is the refresh. */
	if (ad_poll_serves_all(d)) {
		ad_poll_resync_locked(d);
		return;
	}
	d->refreshing = true;
	atomic_store(&d->refresh_stop, false);
	d->full_read_by_streams = false;
	atomic_store(&d->refresh_progress, 0);
	if (thread_start_detached(refresh_thread, d) < 0) {
		log_error("cannot start a refresh thread");
		d->refreshing = false;
	}
}

void refresh_due_locked(struct dird *d)
{
	if (!sync_streams_all_locked(d)) {
		refresh_start_locked(d);
		return;
	}
	/* Each stream reads what it has no position for; the others resume. */
	d->full_read_by_streams = true;
	d->refresh_count++;
	d->next_refresh = time(NULL) + (time_t)d->cfg.refresh_interval;
}
