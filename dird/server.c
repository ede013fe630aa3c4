/* A request read by clients.c: answered here, or handed with its socket to the worker or a PAM
 * thread (libcommon/protocol.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "dird.h"
#include "log.h"
#include "protocol.h"
#include "ratelimit.h"
#include "store.h"

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

static int send_all(int fd, const void *p, size_t n)
{
	const char *s = p;
	while (n > 0) {
		ssize_t r = send(fd, s, n, MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		s += r;
		n -= (size_t)r;
	}
	return 0;
}

static void encode_status(struct dird *d, struct buf *b)
{
	pthread_mutex_lock(&d->lock);
	buf_put_u32(b, (uint32_t)getpid());
	buf_put_u32(b, d->refreshing);
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
	}
	pthread_mutex_unlock(&d->lock);
}

/* Empties the cache; readers of the old index are told by publish_locked. */
static void flush(struct dird *d)
{
	pthread_mutex_lock(&d->store_lock);
	pthread_mutex_lock(&d->lock);
	db_free(&d->db);
	db_init(&d->db);
	negcache_clear(d->negative);
	if (store_remove(d->cfg.cache_dir) < 0)
		log_warning("cannot remove the tdb cache: %s", strerror(errno));
	publish_locked(d, true);
	d->last_refresh = 0;
	log_info("cache flushed");
	if (d->cfg.enumerate)
		refresh_start_locked(d);
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
	case DIR_OP_REFRESH:
	case DIR_OP_FLUSH:
		if (peer != 0)
			return DIR_DENIED;
		if (body->len)
			return DIR_BADREQ;
		if (op == DIR_OP_FLUSH) {
			flush(d);
		} else {
			pthread_mutex_lock(&d->lock);
			refresh_start_locked(d);
			pthread_mutex_unlock(&d->lock);
		}
		return DIR_OK;
	default:
		return DIR_BADREQ;
	}
}

void server_reply(int fd, uint32_t status, struct buf *reply)
{
	if (reply->failed)
		status = DIR_UNAVAIL;
	if (status != DIR_OK)
		buf_reset(reply);
	uint32_t hdr[3] = { DIR_PROTO_MAGIC, status, (uint32_t)reply->len };
	if (send_all(fd, hdr, sizeof(hdr)) == 0)
		send_all(fd, reply->data, reply->len);
}

static bool is_lookup(uint32_t op)
{
	return op == DIR_OP_GETPWNAM || op == DIR_OP_GETPWUID || op == DIR_OP_GETGRNAM ||
	       op == DIR_OP_GETGRGID || op == DIR_OP_SSH_KEYS;
}

/* A lookup: answered now from the cache, at once when no domain is usable, or handed with its
 * socket to the worker.  Returns false when the worker took the socket. */
static bool handle_lookup(struct dird *d, int fd, uid_t uid, uint32_t op, struct buf *body,
			  struct buf *reply, uint32_t *status)
{
	uint32_t cached = lookup_cached(d, op, body, reply);
	*status = cached;
	if (cached != LOOKUP_MISS && cached != LOOKUP_STALE)
		return true;
	pthread_mutex_lock(&d->lock);
	domain_tick_locked(d);
	bool usable = any_domain_usable_locked(d);
	/* One local user asking for name after name the directory lacks is held back, so
	 * the directory is not flooded for everyone else. */
	bool allowed = ratelimit_allow(&d->misses, uid, now_ms());
	if (usable && allowed)
		worker_submit_locked(d, fd, op, body);
	pthread_mutex_unlock(&d->lock);
	if (!allowed) {
		*status = cached == LOOKUP_STALE ? DIR_OK : DIR_UNAVAIL;
		return true;
	}
	/* Offline: the stale copy if there is one, else "not known", and at once. */
	*status = cached == LOOKUP_STALE ? DIR_OK : DIR_UNAVAIL;
	return !usable;
}

static bool is_pam(uint32_t op)
{
	return op == DIR_OP_PAM_AUTH || op == DIR_OP_PAM_ACCOUNT || op == DIR_OP_PAM_CHAUTHTOK;
}

/* Replies are written blocking, each write bounded: by the main loop briefly (a client that
 * does not read its answer costs it little), by the worker and PAM threads longer. */
#define MAIN_SEND_TIMEOUT_MS 100

static void set_blocking(int fd, int send_timeout_ms)
{
	struct timeval tv = { .tv_sec = send_timeout_ms / 1000,
			      .tv_usec = (send_timeout_ms % 1000) * 1000 };
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

void server_request(struct dird *d, int fd, bool pam_socket, uid_t uid, uint32_t op,
		    struct buf *body)
{
	struct buf reply;
	bool reply_here = true;
	uint32_t status;
	buf_init(&reply, DIR_MAX_REPLY);
	if (is_pam(op) != pam_socket || (pam_socket && uid != 0)) {
		status = DIR_DENIED;
	} else if (pam_socket) {
		set_blocking(fd, DIR_CLIENT_IO_TIMEOUT_MS);
		pthread_mutex_lock(&d->lock);
		pam_submit_locked(d, fd, op, body);
		pthread_mutex_unlock(&d->lock);
		reply_here = false;
	} else if (is_lookup(op)) {
		set_blocking(fd, DIR_CLIENT_IO_TIMEOUT_MS); /* the worker may answer */
		reply_here = handle_lookup(d, fd, uid, op, body, &reply, &status);
	} else {
		status = dispatch(d, op, uid, body, &reply);
	}
	if (reply_here) {
		set_blocking(fd, MAIN_SEND_TIMEOUT_MS);
		server_reply(fd, status, &reply);
		close(fd);
	}
	buf_free(&reply);
}
