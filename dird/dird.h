/* dird's shared state.  Lock order: store_lock before lock, always. */
#ifndef DIRD_H
#define DIRD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "config.h"
#include "db.h"
#include "ldap_conn.h"

struct domain_state {
	bool online;
	char server[256];
	char last_error[512];
};

struct dird {
	struct dir_config cfg;
	pthread_mutex_t store_lock;	/* the files in cache_dir */
	pthread_mutex_t lock;		/* everything below */
	struct db db;
	struct domain_state *domains;	/* one per cfg.domains */
	uint64_t generation;		/* of the published index */
	time_t last_refresh;
	time_t next_refresh;		/* when the next full refresh is due */
	unsigned retry_delay;		/* seconds; doubles after each failed refresh */
	uint64_t refresh_count;
	bool refreshing;
	atomic_uint refresh_progress;
	bool dirty;			/* db holds entries the index does not */
	long long dirty_since_ms;
	struct ldap_conn *conns;	/* the main thread's, one per domain */
};

long long now_ms(void);

/* publish.c: writes the index (and with `with_store` the tdb files) from the current db.
 * Called with store_lock and lock held. */
int publish_locked(struct dird *d, bool with_store);
/* Loads the tdb cache at start; a damaged one is discarded (logged) and rebuilt. */
void publish_load_cache(struct dird *d);

/* refresh.c: starts a full refresh in a thread unless one runs.  Called with lock held. */
void refresh_start_locked(struct dird *d);

/* lookup.c: answers a miss from db or the directory: DIR_OK with the record in `reply`. */
uint32_t lookup_handle(struct dird *d, uint32_t op, const struct buf *body, struct buf *reply);
void lookup_set_domain_state(struct dird *d, size_t i, bool online, const char *server,
			     const char *error);

/* server.c */
int server_listen(const char *run_dir);
void server_handle_client(struct dird *d, int listen_fd);

#endif
