/* A request read by clients.c: answered here, or handed to the worker or a PAM thread, whose
 * replies come back through server_post_reply (libcommon/protocol.h). */
#include "server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ad_poll.h"
#include "cache_expire.h"
#include "dird.h"
#include "domain.h"
#include "log.h"
#include "lookup.h"
#include "pam_request.h"
#include "protocol.h"
#include "publish.h"
#include "ratelimit.h"
#include "refresh.h"
#include "store.h"
#include "worker.h"

int server_listen(const char *run_dir, const char *name, mode_t mode)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", run_dir, name);
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path)) {
		log_error("%s/%s: path too long for a socket", run_dir, name);
		return -1;
	}
	struct stat st;
	if (lstat(sa.sun_path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_error("%s exists and is not a socket; remove it", sa.sun_path);
			return -1;
		}
		unlink(sa.sun_path);
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	/* Created 0600 (umask) and then opened up: never wider than `mode`, even for a moment. */
	mode_t old_umask = umask(0177);
	int bound = fd >= 0 ? bind(fd, (struct sockaddr *)&sa, sizeof(sa)) : -1;
	umask(old_umask);
	if (bound < 0 || chmod(sa.sun_path, mode) < 0 || listen(fd, 128) < 0) {
		log_error("cannot listen on %s: %s", sa.sun_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static void encode_status(struct dird *d, struct buf *b)
{
	pthread_mutex_lock(&d->lock);
	buf_put_u32(b, (uint32_t)getpid());
	/* one a pending reload holds off counts as running: dirctl cache refresh waits for it */
	buf_put_u32(b, d->refreshing || d->refresh_after_reload);
	buf_put_u32(b, atomic_load(&d->refresh_progress));
	buf_put_u64(b, (uint64_t)d->last_refresh);
	buf_put_u64(b, d->refresh_count);
	buf_put_u32(b, (uint32_t)d->db.c.n_users);
	buf_put_u32(b, (uint32_t)d->db.c.n_groups);
	buf_put_u32(b, (uint32_t)d->cfg.n_domains);
	for (size_t i = 0; i < d->cfg.n_domains; i++) {
		const struct domain_state *s = &d->domains[i];
		buf_put_str(b, d->cfg.domains[i].name);
		buf_put_u32(b, !s->contacted ? DIR_DOMAIN_UNKNOWN :
			       s->online ? DIR_DOMAIN_ONLINE : DIR_DOMAIN_OFFLINE);
		buf_put_u64(b, (uint64_t)s->since);
		buf_put_str(b, s->server);
		buf_put_str(b, s->last_error);
		buf_put_u32(b, s->duplicates);
		buf_put_u32(b, s->clock_known);
		buf_put_u64(b, (uint64_t)s->clock_offset);
		buf_put_u32(b, s->refused);
		buf_put_u32(b, s->skipped_members);
		buf_put_str(b, ad_poll_serves(d, i) ? "usn poll" : s->changes[0] ? s->changes : "full refresh");
		buf_put_str(b, s->changes_state);
		buf_put_u64(b, (uint64_t)s->last_change);
		buf_put_u64(b, (uint64_t)s->in_sync_until);
		buf_put_u32(b, s->full_syncs);
	}
	buf_put_u64(b, (uint64_t)d->shrink_held_at);
	buf_put_u32(b, d->shrink_users);
	buf_put_u32(b, d->shrink_groups);
	pthread_mutex_unlock(&d->lock);
}

/* dirctl cache expire: one user or group is asked of the directory at its next lookup (as
 * sss_cache -u).  With entry_ttl it is marked expired, so it is still served while the
 * directory cannot answer; with entry_ttl = 0 (entries never expire) it is taken out.  The tdb
 * files and the index are written again, so readers see it at once. */
static uint32_t expire(struct dird *d, const struct buf *body)
{
	struct cursor c;
	cursor_init(&c, body->data, body->len);
	uint32_t kind = cursor_u32(&c), by_id = cursor_u32(&c), id = 0;
	const char *name = NULL;
	if (by_id)
		id = cursor_u32(&c);
	else
		name = cursor_str(&c, NULL);
	if (c.failed || c.left || kind > 1)
		return DIR_BADREQ;
	pthread_mutex_lock(&d->store_lock);
	pthread_mutex_lock(&d->lock);
	uint32_t st = cache_expire_locked(d, kind, name, id);
	if (st == DIR_OK && publish_locked(d, true) < 0)
		st = DIR_UNAVAIL;
	pthread_mutex_unlock(&d->lock);
	pthread_mutex_unlock(&d->store_lock);
	return st;
}

/* Empties the cache; readers of the old index are told by publish_locked.  The flush replaces
 * the cache as a refresh does: a stream's complete batch being written meanwhile, from a copy
 * of the db taken before, is not installed over it (install_locked), and no domain counts as
 * in sync until its stream has read it again (misses are asked of dird meanwhile). */
static void flush(struct dird *d)
{
	pthread_mutex_lock(&d->store_lock);
	pthread_mutex_lock(&d->lock);
	db_free(&d->db);
	db_init(&d->db);
	negcache_clear(d->negative);
	if (store_remove(d->cfg.cache_dir) < 0)
		log_warning("cannot remove the tdb cache: %s", strerror(errno));
	for (size_t i = 0; i < d->cfg.n_domains; i++)
		d->domains[i].in_sync_until = 0;
	d->refresh_count++;
	d->flush_count++;
	/* the index whole, empty: no delta of what changed since names what the flush took */
	publish_whole_locked(d);
	publish_locked(d, false); /* no tdb files: an empty cache */
	d->last_refresh = 0;
	log_info("cache flushed");
	if (d->cfg.enumerate)
		refresh_due_locked(d); /* the change streams read everything again, or a refresh */
	pthread_mutex_unlock(&d->lock);
	pthread_mutex_unlock(&d->store_lock);
}

static uint32_t dispatch(struct dird *d, uint32_t op, uid_t peer, const struct buf *body,
			 struct buf *reply)
{
	switch (op) {
	case DIR_OP_STATUS:
		if (body->len)
			return DIR_BADREQ;
		encode_status(d, reply);
		return DIR_OK;
	case DIR_OP_EXPIRE:
		return peer != 0 ? DIR_DENIED : expire(d, body);
	case DIR_OP_LOG_LEVEL: {
		if (peer != 0)
			return DIR_DENIED;
		struct cursor c;
		cursor_init(&c, body->data, body->len);
		uint32_t level = cursor_u32(&c);
		if (c.failed || body->len != 4 || level > DIR_LOG_DEBUG)
			return DIR_BADREQ;
		log_set_level((enum dir_log_level)level);
		log_info("log level %s until the next reload (dirctl log-level)",
			 dir_log_level_names[level]);
		return DIR_OK;
	}
	case DIR_OP_REFRESH:
	case DIR_OP_FLUSH:
		if (peer != 0)
			return DIR_DENIED;
		if (body->len && (op == DIR_OP_FLUSH || body->len != 4))
			return DIR_BADREQ;
		if (op == DIR_OP_FLUSH) {
			flush(d);
		} else {
			struct cursor c;
			cursor_init(&c, body->data, body->len);
			uint32_t flags = body->len ? cursor_u32(&c) : 0;
			pthread_mutex_lock(&d->lock);
			if (flags & DIR_REFRESH_ACCEPT_SHRINK)
				d->accept_shrink = true;
			refresh_start_locked(d);
			pthread_mutex_unlock(&d->lock);
		}
		return DIR_OK;
	default:
		return DIR_BADREQ;
	}
}

void server_post_reply(struct dird *d, uint64_t conn, uint32_t status, struct buf *reply)
{
	struct posted_reply *r = malloc(sizeof(*r));
	if (!r) {
		log_error("out of memory: a reply is lost (its client's slot waits out its limit)");
		return;
	}
	*r = (struct posted_reply){ .conn = conn, .status = status, .body = *reply };
	buf_init(reply, 0);
	pthread_mutex_lock(&d->replies_lock);
	r->next = d->replies;
	d->replies = r;
	pthread_mutex_unlock(&d->replies_lock);
	uint64_t one = 1;
	if (write(d->wake_fd, &one, sizeof(one)) < 0) {
		/* The counter is already non-zero: the main loop will wake anyway. */
	}
}

static bool is_lookup(uint32_t op)
{
	return op == DIR_OP_GETPWNAM || op == DIR_OP_GETPWUID || op == DIR_OP_GETGRNAM ||
	       op == DIR_OP_GETGRGID || op == DIR_OP_SSH_KEYS;
}

/* A lookup: answered now from the cache, at once when no domain is usable, or handed to the
 * worker.  Returns false when the worker took it. */
static bool handle_lookup(struct dird *d, uint64_t conn, uid_t uid, uint32_t op, struct buf *body,
			  struct buf *reply, uint32_t *status)
{
	long long started = now_ms();
	enum cached cached;
	if (!lookup_cached(d, op, body, reply, &cached)) {
		*status = DIR_BADREQ;
		return true;
	}
	if (cached == CACHED_FRESH || cached == CACHED_ABSENT) {
		*status = cached == CACHED_FRESH ? DIR_OK : DIR_NOTFOUND;
		lookup_log(uid, op, body, cached == CACHED_FRESH ? "found in the cache" :
				  "not found (the negative cache)", started);
		return true;
	}
	pthread_mutex_lock(&d->lock);
	domain_tick_locked(d);
	bool usable = any_domain_usable_locked(d);
	/* One local user asking for name after name the directory lacks is held back, so
	 * the directory is not flooded for everyone else. */
	bool allowed = usable && ratelimit_allow(&d->misses, uid, now_ms());
	bool taken = allowed && worker_submit_locked(d, conn, uid, started, op, body);
	pthread_mutex_unlock(&d->lock);
	if (taken)
		return false;
	/* Offline, limited or a full queue: the stale copy if there is one, else "not known",
	 * and at once. */
	*status = cached == CACHED_STALE ? DIR_OK : DIR_UNAVAIL;
	char answer[160];
	snprintf(answer, sizeof(answer), "%s: %s",
		 !usable ? "no domain can be asked" : !allowed ? "this uid's misses are rate-limited" :
		 "the worker's queue is full", cached == CACHED_STALE ? "stale copy served" : "unavailable");
	lookup_log(uid, op, body, answer, started);
	return true;
}

static bool is_pam(uint32_t op)
{
	return op == DIR_OP_PAM_AUTH || op == DIR_OP_PAM_ACCOUNT || op == DIR_OP_PAM_CHAUTHTOK;
}

bool server_request(struct dird *d, uint64_t conn, bool pam_socket, uid_t uid, uint32_t op,
		    struct buf *body, uint32_t *status, struct buf *reply)
{
	if (is_pam(op) != pam_socket || (pam_socket && uid != 0)) {
		*status = DIR_DENIED;
		return true;
	}
	if (pam_socket) {
		pthread_mutex_lock(&d->lock);
		bool taken = pam_submit_locked(d, conn, op, body);
		pthread_mutex_unlock(&d->lock);
		*status = DIR_UNAVAIL;
		return !taken;
	}
	if (is_lookup(op))
		return handle_lookup(d, conn, uid, op, body, reply, status);
	*status = dispatch(d, op, uid, body, reply);
	return true;
}
