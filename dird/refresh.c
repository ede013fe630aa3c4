/* Full refreshes: a thread reads every domain into a new db with its own connections, writes
 * the files, and swaps the db in.  A failed refresh leaves the previous cache as it was. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "dird.h"
#include "fetch.h"
#include "log.h"

static int fill(struct dird *d, struct db *db)
{
	for (size_t i = 0; i < d->cfg.n_domains; i++) {
		const struct dir_domain *dom = &d->cfg.domains[i];
		struct ldap_conn c;
		char err[512];
		if (ldap_conn_open(&c, dom, err, sizeof(err)) < 0 ||
		    fetch_all(&c, db, &d->refresh_progress, err, sizeof(err)) < 0) {
			ldap_conn_close(&c);
			log_error("refresh of %s failed: %s", dom->name, err);
			pthread_mutex_lock(&d->lock);
			lookup_set_domain_state(d, i, false, NULL, err);
			pthread_mutex_unlock(&d->lock);
			return -1;
		}
		pthread_mutex_lock(&d->lock);
		lookup_set_domain_state(d, i, true, c.server, NULL);
		pthread_mutex_unlock(&d->lock);
		ldap_conn_close(&c);
	}
	return db_link_groups(db);
}

static void *refresh_thread(void *arg)
{
	struct dird *d = arg;
	struct db db;
	long long start = now_ms();
	db_init(&db);
	int ok = fill(d, &db) == 0;

	pthread_mutex_lock(&d->store_lock);
	pthread_mutex_lock(&d->lock);
	if (ok) {
		struct db old = d->db;
		d->db = db;
		if (publish_locked(d, true) == 0) {
			db_free(&old);
			d->last_refresh = time(NULL);
			d->refresh_count++;
			log_info("refresh done: %zu users, %zu groups in %lld ms", d->db.c.n_users,
				 d->db.c.n_groups, now_ms() - start);
		} else {
			d->db = old; /* the files still hold the old cache: keep serving it */
			db_free(&db);
		}
	} else {
		db_free(&db);
	}
	d->refreshing = false;
	pthread_mutex_unlock(&d->lock);
	pthread_mutex_unlock(&d->store_lock);
	return NULL;
}

void refresh_start_locked(struct dird *d)
{
	if (d->refreshing)
		return;
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
