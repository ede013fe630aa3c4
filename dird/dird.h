/* dird's shared state.  Lock order: store_lock before lock, always. */
#ifndef DIRD_H
#define DIRD_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "config.h"
#include "db.h"
#include "ldap_conn.h"
#include "negcache.h"
#include "ratelimit.h"

struct domain_state {
	bool online;		/* false: offline, answered from the cache alone */
	bool contacted;		/* asked at least once since dird started */
	time_t since;		/* when it went online or offline */
	char server[DIR_MAX_URI];	/* the uri that answered last: tried first next time */
	char last_error[512];
	unsigned duplicates;	/* entries the last refresh dropped for a shared name or id */
	unsigned refused;	/* entries the last refresh refused (fetch_all), and those a
				 * change stream refused since (a malformed server id) */
	unsigned skipped_members;	/* member DNs of no user or group: the last refresh's, and
					 * those group lookups met since */
	long long check_us;	/* how long a password check takes here (a moving average) */
	long long ask_ms;	/* how long the worker's last lookup in it took (lookup.c) */
	bool clock_known;	/* AD: the DC's clock was read at the last refresh */
	long long clock_offset;	/* seconds the DC's clock is ahead of ours */
	bool probing;		/* a probe thread is running */
	unsigned probe_delay;	/* seconds: 1 doubling to 60 */
	time_t next_probe;
	time_t in_sync_until;	/* 0: not in sync; while now < in_sync_until the cache holds every
				 * entry the domain serves (a live change stream says so) */
	/* The domain's change stream, for dirctl status: how changes reach the cache ("full
	 * refresh" when the server offers no stream), what the stream does now, when it applied
	 * its last change, and how often it read everything (no position, or one refused). */
	char changes[48];
	char changes_state[160];
	time_t last_change;
	unsigned full_syncs;
	bool streaming;		/* a stream thread keeps it up to date: no full refresh when it
				 * comes back online, the stream resumes */
	bool reclaim_behind;	/* offline when the worker would have read from it what a name or
				 * id that went left (lookup_reclaim): a full refresh once back */
	/* AD's USN poll (ad_poll.c): when it last read the DC, and when it reads it next */
	time_t last_poll;
	time_t next_poll;
	/* Batches changes_apply applied to the domain: a lookup that read an entry before the
	 * count moved may hold an older copy than db's, and does not replace it (lookup.c). */
	uint64_t changes_applied;
	/* Per kind (store.h): a batch dropped an entry of this domain that lost a clash of name
	 * or id (changes.c), and no complete batch of that kind since: when the winner goes, the
	 * loser is read again (change_batch's read_again). */
	bool clash_lost[2];
};

/* A cache miss handed to the worker, for connection `conn` (clients.h). */
struct miss {
	uint64_t conn;
	uid_t uid;		/* the caller's, for the log */
	long long queued_ms;	/* now_ms() when it came */
	uint32_t op;
	struct buf body;
	struct miss *next;
};

/* A reply of the worker or a PAM thread, for the main loop to write. */
struct posted_reply {
	uint64_t conn;
	uint32_t status;
	struct buf body;
	struct posted_reply *next;
};

struct dird {
	struct dir_config cfg;
	pthread_mutex_t store_lock;	/* the files in cache_dir */
	pthread_mutex_t lock;		/* everything below */
	struct db db;
	struct domain_state *domains;	/* one per cfg.domains */
	uint64_t generation;		/* of the last index written */
	time_t last_refresh;
	time_t next_refresh;		/* when the next full refresh is due */
	unsigned retry_delay;		/* seconds; doubles after each failed refresh */
	uint64_t refresh_count;
	uint64_t flush_count;		/* dirctl cache flush: a stream counts in sync again only
					 * once it has seen the flush (sync_stream.c) */
	bool refreshing;
	bool refresh_wanted;		/* asked while a stream's complete batch held refreshing:
					 * started as the batch lets go (changes.c) */
	atomic_uint refresh_progress;
	atomic_bool refresh_stop;	/* a reload is pending: the refresh ends before its next
					 * page and runs again on the new configuration */
	bool refresh_after_reload;	/* a refresh stopped or asked for while a reload waited:
					 * started once it is applied (or refused) */
	/* A refresh that would drop most of the cache is kept out (refresh.c): when (0: none), and
	 * what it found; accept_shrink lets the next refresh through all the same. */
	time_t shrink_held_at;
	uint32_t shrink_users, shrink_groups;
	bool accept_shrink;
	bool dirty;			/* db holds entries the index does not */
	long long dirty_since_ms;
	long long publish_retry_ms;	/* after a failed publish, the wait before the next (doubling) */
	int wake_fd;			/* an eventfd: other threads wake the main loop */
	struct ldap_conn *conns;	/* the worker's, one per domain */
	struct negcache *negative;	/* names and ids the directory does not have */
	/* worker.c: the queue of misses and the one thread that asks the directory */
	pthread_cond_t work_cond;
	struct miss *queue_head, *queue_tail;
	size_t queue_len;
	/* cache_expire.c: dirctl cache expire while a stream's complete batch holds a copy of db */
	struct cache_expired *expired;
	size_t n_expired;
	/* local_watch.c: how often the cache was filtered by new local files; a lookup that read
	 * them before and stores what it found after is raced (lookup.c) */
	uint64_t local_changes;
	/* reclaim.c: names and ids no entry holds since a local account or a clash's winner
	 * went, for the worker to read from the domains once no miss waits */
	struct reclaim *reclaim_head, *reclaim_tail;
	size_t reclaim_len;
	struct reclaim *reclaim_reading;	/* taken by the worker, not settled yet */
	bool reclaim_unsaved;			/* the queue differs from RECLAIM_FILE */
	bool worker_active;		/* from taking a miss until its reply is posted */
	bool worker_hold;		/* take no new miss: a reload waits for the worker */
	bool reload_pending;		/* SIGHUP: apply when no other thread reads cfg */
	long long worker_busy_since_ms;	/* asking a domain since; 0 when not */
	size_t worker_domain;		/* the domain it is asking */
	unsigned probes_running;
	unsigned pam_running;		/* pam_request.c's threads */
	struct pam_job *pam_parked;	/* come while a reload waits: started once it is over */
	unsigned n_pam_parked;
	struct ratelimit misses;	/* cache misses per local user */
	pthread_mutex_t replies_lock;	/* replies, taken by the main loop (clients.c) */
	struct posted_reply *replies;
	struct publish_changes *changes;	/* publish.c: what changed since nss.idx */
	uint64_t last_generation;	/* the highest given to an index written, installed or not */
	/* publish.c: the index a refresh wrote of its db before taking the locks, for
	 * publish_refresh_install_locked */
	struct {
		char tmp[PATH_MAX];
		uint64_t generation;
		bool locals;		/* it lists the local accounts */
	} refresh_index;
	unsigned streams_running;	/* sync_stream.c's threads */
	bool streams_stop;		/* they end: a reload waits for them */
	bool full_read_by_streams;	/* the full read due was left to them (refresh_due_locked):
					 * one whose server offers no stream asks for a refresh */
	/* ad_poll.c: its thread reads the configuration while polling (no reload meanwhile); a
	 * refresh of a dird whose every domain it serves is a whole read of each (resync) */
	pthread_cond_t poll_cond;
	bool polling;
	bool poll_resync;
};

long long now_ms(void);
/* For tests that kill or signal dird at a given step (tests/e2e/test_survive.sh): with
 * DIRD_TEST_STOP_AT=STEP[,STEP...] in its environment dird stops itself (SIGSTOP) at each
 * STEP it reaches; with DIRD_TEST_PAUSE_AT=STEP the thread that reaches it sleeps there
 * DIRD_TEST_PAUSE_SECONDS (1 s by default). */
void test_hook(const char *step);
/* Marks db as ahead of the index and wakes the main loop to publish it whole.  Lock held.
 * A change that names its entries costs less: publish_user_changed_locked (publish.h). */
void mark_dirty_locked(struct dird *d);
/* Wakes the main loop to publish what was noted.  Lock held. */
void wake_publisher_locked(struct dird *d);

#endif
