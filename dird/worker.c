/* The worker: the one thread that asks the directory for cache misses, so that the main loop
 * never waits on the network.  It posts each reply for the main loop to write to its client
 * (clients.c).  A caller that gave up (nss_timeout) finds nothing; the answer is cached for
 * the next one. */
#include "worker.h"

#include <stdlib.h>
#include <time.h>

#include "dird.h"
#include "log.h"
#include "lookup.h"
#include "protocol.h"
#include "reclaim.h"
#include "refresh.h"
#include "server.h"
#include "threads.h"

/* More waiting misses than this are answered UNAVAIL at once: the directory is not keeping up,
 * and every one of those callers would give up before its turn. */
#define MAX_QUEUE 256

/* A name that went is read again when no refresh or stream's complete batch is writing a db
 * that replaces d->db: what the worker put there would be lost. */
static bool reclaim_due_locked(const struct dird *d)
{
	return d->reclaim_head && !d->refreshing;
}

static void wait_a_second_locked(struct dird *d)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec++;
	pthread_cond_timedwait(&d->work_cond, &d->lock, &t);
}

static void *worker_thread(void *arg)
{
	struct dird *d = arg;
	for (;;) {
		pthread_mutex_lock(&d->lock);
		while ((!d->queue_head && !reclaim_due_locked(d)) || d->worker_hold) {
			if (d->reclaim_head) /* once the refresh is over */
				wait_a_second_locked(d);
			else
				pthread_cond_wait(&d->work_cond, &d->lock);
		}
		if (!d->queue_head) { /* no caller waits: a name that went is read again */
			struct reclaim *r = reclaim_take_locked(d);
			d->worker_active = true;
			pthread_mutex_unlock(&d->lock);
			bool settled = lookup_reclaim(d, r);
			pthread_mutex_lock(&d->lock);
			d->worker_active = false;
			/* given up: no stream sends it while it does not change, and with every
			 * domain in sync libnss_dir answers a miss itself, so a refresh reads it */
			if (settled)
				reclaim_done_locked(d, r);
			else if (reclaim_retry_locked(d, r) && d->cfg.enumerate)
				refresh_start_locked(d);
			pthread_mutex_unlock(&d->lock);
			continue;
		}
		struct miss *m = d->queue_head;
		d->queue_head = m->next;
		if (!d->queue_head)
			d->queue_tail = NULL;
		d->queue_len--;
		/* From here to the reply the worker reads the configuration: no reload meanwhile. */
		d->worker_active = true;
		pthread_mutex_unlock(&d->lock);
		test_hook("miss-taken");

		struct buf reply;
		buf_init(&reply, DIR_MAX_REPLY);
		char answer[1024] = "";
		uint32_t status = lookup_directory(d, m->op, &m->body, &reply, answer, sizeof(answer));
		lookup_log(m->uid, m->op, &m->body, answer, m->queued_ms);
		pthread_mutex_lock(&d->lock);
		d->worker_active = false;
		pthread_mutex_unlock(&d->lock);
		server_post_reply(d, m->conn, status, &reply);
		buf_free(&reply);
		buf_free(&m->body);
		free(m);
	}
	return NULL;
}

int worker_start(struct dird *d)
{
	pthread_cond_init(&d->work_cond, NULL);
	return thread_start_detached(worker_thread, d);
}

bool worker_submit_locked(struct dird *d, uint64_t conn, uid_t uid, long long started_ms,
			  uint32_t op, struct buf *body)
{
	struct miss *m = d->queue_len < MAX_QUEUE ? calloc(1, sizeof(*m)) : NULL;
	if (!m)
		return false;
	m->conn = conn;
	m->uid = uid;
	m->queued_ms = started_ms;
	m->op = op;
	m->body = *body;
	buf_init(body, 0);
	if (d->queue_tail)
		d->queue_tail->next = m;
	else
		d->queue_head = m;
	d->queue_tail = m;
	d->queue_len++;
	pthread_cond_signal(&d->work_cond);
	return true;
}
