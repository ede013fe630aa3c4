#include "clients.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dird.h"
#include "log.h"
#include "protocol.h"

static unsigned count_uid(const struct clients *cs, uid_t uid)
{
	unsigned n = 0;
	for (size_t i = 0; i < cs->n; i++)
		n += cs->v[i].uid == uid;
	return n;
}

void clients_accept(struct clients *cs, int listen_fd, bool pam)
{
	for (;;) {
		int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		struct ucred cred;
		socklen_t len = sizeof(cred);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cs->n == MAX_CLIENTS ||
		    (cred.uid != 0 && count_uid(cs, cred.uid) >= MAX_CLIENTS_PER_UID)) {
			close(fd); /* the client sees its connection closed and answers "unavailable" */
			continue;
		}
		struct client *c = &cs->v[cs->n++];
		memset(c, 0, sizeof(*c));
		c->fd = fd;
		c->pam = pam;
		c->uid = cred.uid;
		c->deadline_ms = now_ms() + DIR_CLIENT_IO_TIMEOUT_MS;
		buf_init(&c->body, DIR_MAX_REQUEST);
	}
}

size_t clients_pollfds(const struct clients *cs, struct pollfd *p)
{
	for (size_t i = 0; i < cs->n; i++)
		p[i] = (struct pollfd){ .fd = cs->v[i].fd, .events = POLLIN };
	return cs->n;
}

long long clients_next_deadline(const struct clients *cs, long long now)
{
	long long next = -1;
	for (size_t i = 0; i < cs->n; i++) {
		long long left = cs->v[i].deadline_ms - now;
		if (left < 0)
			left = 0;
		if (next < 0 || left < next)
			next = left;
	}
	return next;
}

/* 1: the request is complete; 0: more to come; -1: the client broke the protocol or left. */
static int read_more(struct client *c)
{
	const size_t hlen = sizeof(c->hdr);
	for (;;) {
		void *dst;
		size_t want;
		if (c->got < hlen) {
			dst = (char *)c->hdr + c->got;
			want = hlen - c->got;
		} else {
			if (c->got == hlen && (c->hdr[0] != DIR_PROTO_MAGIC || c->hdr[2] > DIR_MAX_REQUEST))
				return -1;
			size_t body_got = c->got - hlen;
			if (body_got == c->hdr[2])
				return 1;
			if (c->body.len == 0 && !buf_extend(&c->body, c->hdr[2]))
				return -1;
			dst = c->body.data + body_got;
			want = c->hdr[2] - body_got;
		}
		ssize_t r = recv(c->fd, dst, want, MSG_DONTWAIT);
		if (r > 0) {
			c->got += (size_t)r;
			continue;
		}
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		return -1;
	}
}

static void drop(struct clients *cs, size_t i, bool close_fd)
{
	struct client *c = &cs->v[i];
	if (close_fd)
		close(c->fd);
	buf_free_wipe(&c->body); /* a PAM request holds a password */
	cs->v[i] = cs->v[--cs->n];
}

void clients_service(struct dird *d, struct clients *cs, const struct pollfd *p, size_t n)
{
	long long now = now_ms();
	/* From the end: drop() moves the last client into the freed slot. */
	for (size_t i = n; i-- > 0;) {
		struct client *c = &cs->v[i];
		if (p[i].fd != c->fd)
			continue;
		int r = p[i].revents ? read_more(c) : 0;
		if (r == 1) {
			struct buf body = c->body;
			buf_init(&c->body, 0);
			server_request(d, c->fd, c->pam, c->uid, c->hdr[1], &body);
			buf_free_wipe(&body);
			drop(cs, i, false); /* server_request owns the socket now */
		} else if (r < 0 || now >= c->deadline_ms) {
			if (r == 0)
				log_debug("a client (uid %u) sent no whole request in %d ms", (unsigned)c->uid,
					  DIR_CLIENT_IO_TIMEOUT_MS);
			drop(cs, i, true);
		}
	}
}
