#include "clients.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "dird.h"
#include "log.h"
#include "protocol.h"
#include "server.h"
#include "userdb.h"

/* A reply the worker or a PAM thread never posted (it could not allocate the note) must not
 * hold its slot for ever: longer than any request takes (pam_dir waits at most 120 s). */
#define WAITING_LIMIT_MS 130000

static unsigned count_uid(const struct clients *cs, enum client_socket socket, uid_t uid)
{
	unsigned n = 0;
	for (size_t i = 0; i < cs->n; i++)
		n += cs->v[i].socket == socket && cs->v[i].uid == uid;
	return n;
}

/* Room for one more connection of uid on this socket. */
static bool has_room(const struct clients *cs, enum client_socket socket, uid_t uid)
{
	if (socket == SOCKET_PAM)
		return cs->n_pam < MAX_PAM_CLIENTS;
	size_t max = socket == SOCKET_USERDB ? MAX_USERDB_CLIENTS : MAX_LOOKUP_CLIENTS;
	size_t used = socket == SOCKET_USERDB ? cs->n_userdb : cs->n - cs->n_pam - cs->n_userdb;
	if (uid == 0)
		return used < max;
	return used < max - ROOT_LOOKUP_CLIENTS && count_uid(cs, socket, uid) < MAX_CLIENTS_PER_UID;
}

void clients_accept(struct clients *cs, int listen_fd, enum client_socket socket)
{
	for (;;) {
		int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		struct ucred cred;
		socklen_t len = sizeof(cred);
		struct userdb_conn *udb = NULL;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
		    !has_room(cs, socket, cred.uid) ||
		    (socket == SOCKET_USERDB && !(udb = userdb_conn_new()))) {
			close(fd); /* the client sees its connection closed and answers "unavailable" */
			continue;
		}
		struct client *c = &cs->v[cs->n++];
		memset(c, 0, sizeof(*c));
		c->fd = fd;
		c->id = ++cs->next_id;
		c->socket = socket;
		c->uid = cred.uid;
		c->state = CLIENT_READING;
		c->deadline_ms = now_ms() + DIR_CLIENT_IO_TIMEOUT_MS;
		c->udb = udb;
		buf_init(&c->body, DIR_MAX_REQUEST);
		cs->n_pam += socket == SOCKET_PAM;
		cs->n_userdb += socket == SOCKET_USERDB;
	}
}

size_t clients_pollfds(const struct clients *cs, struct pollfd *p)
{
	for (size_t i = 0; i < cs->n; i++) {
		const struct client *c = &cs->v[i];
		/* A waiting client is not polled: a negative fd makes poll skip the entry. */
		short events = c->state == CLIENT_READING ? POLLIN :
			       c->state == CLIENT_WRITING ? POLLOUT : 0;
		p[i] = (struct pollfd){ .fd = events ? c->fd : -1, .events = events };
	}
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

/* 1: the whole reply is out; 0: the client has not taken all of it yet; -1: it left. */
static int write_more(struct client *c)
{
	const size_t hlen = sizeof(c->hdr);
	for (;;) {
		size_t total = hlen + c->body.len;
		if (c->sent == total)
			return 1;
		struct iovec iov[2];
		int n = 0;
		if (c->sent < hlen)
			iov[n++] = (struct iovec){ (char *)c->hdr + c->sent, hlen - c->sent };
		size_t body_sent = c->sent > hlen ? c->sent - hlen : 0;
		if (c->body.len > body_sent)
			iov[n++] = (struct iovec){ c->body.data + body_sent, c->body.len - body_sent };
		struct msghdr msg = { .msg_iov = iov, .msg_iovlen = (size_t)n };
		ssize_t w = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0) {
			c->sent += (size_t)w;
			continue;
		}
		if (w < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		return -1;
	}
}

static void release(struct client *c)
{
	if (c->socket == SOCKET_PAM)
		buf_free_wipe(&c->body); /* a password, or a user's tickets */
	else
		buf_free(&c->body);
}

static void drop(struct clients *cs, size_t i)
{
	struct client *c = &cs->v[i];
	close(c->fd);
	release(c);
	userdb_conn_free(c->udb);
	cs->n_pam -= c->socket == SOCKET_PAM;
	cs->n_userdb -= c->socket == SOCKET_USERDB;
	cs->v[i] = cs->v[--cs->n];
}

/* The reply goes out now if the client takes it, else as it reads. */
static void start_reply(struct client *c, uint32_t status, struct buf *reply)
{
	if (reply->failed)
		status = DIR_UNAVAIL;
	if (status != DIR_OK)
		buf_reset(reply);
	release(c);
	c->body = *reply;
	buf_init(reply, 0);
	c->hdr[0] = DIR_PROTO_MAGIC;
	c->hdr[1] = status;
	c->hdr[2] = (uint32_t)c->body.len;
	c->sent = 0;
	c->state = CLIENT_WRITING;
	c->deadline_ms = now_ms() + DIR_CLIENT_IO_TIMEOUT_MS;
}

/* A whole request: answered now, or left waiting for another thread's reply. */
static void take_request(struct dird *d, struct client *c)
{
	struct buf body = c->body, reply;
	uint32_t status;
	buf_init(&c->body, 0);
	buf_init(&reply, DIR_MAX_REPLY);
	if (server_request(d, c->id, c->socket == SOCKET_PAM, c->uid, c->hdr[1], &body, &status,
			   &reply)) {
		start_reply(c, status, &reply);
	} else {
		c->state = CLIENT_WAITING;
		c->deadline_ms = now_ms() + WAITING_LIMIT_MS;
	}
	buf_free_wipe(&body); /* a PAM request holds a password */
	buf_free(&reply);
}

void clients_service(struct dird *d, struct clients *cs, const struct pollfd *p, size_t n)
{
	long long now = now_ms();
	/* From the end: drop() moves the last client into the freed slot. */
	for (size_t i = n; i-- > 0;) {
		struct client *c = &cs->v[i];
		int r = 0;
		if (p[i].fd == c->fd && p[i].revents && c->socket == SOCKET_USERDB) {
			r = userdb_service(d, c);
		} else if (p[i].fd == c->fd && p[i].revents) {
			if (c->state == CLIENT_READING && (r = read_more(c)) == 1) {
				take_request(d, c);
				r = 0;
			}
			if (c->state == CLIENT_WRITING)
				r = write_more(c);
		}
		if (r == 0 && now < c->deadline_ms)
			continue;
		if (r == 0)
			log_debug("a client (uid %u) %s in %d ms", (unsigned)c->uid,
				  c->state == CLIENT_READING ? "sent no whole request" :
				  c->state == CLIENT_WRITING ? "did not read its reply" :
							       "got no reply",
				  c->state == CLIENT_WAITING ? WAITING_LIMIT_MS : DIR_CLIENT_IO_TIMEOUT_MS);
		drop(cs, i);
	}
}

void clients_take_replies(struct dird *d, struct clients *cs)
{
	pthread_mutex_lock(&d->replies_lock);
	struct posted_reply *list = d->replies;
	d->replies = NULL;
	pthread_mutex_unlock(&d->replies_lock);
	while (list) {
		struct posted_reply *r = list;
		list = r->next;
		for (size_t i = 0; i < cs->n; i++) {
			struct client *c = &cs->v[i];
			if (c->id != r->conn || c->state != CLIENT_WAITING)
				continue;
			start_reply(c, r->status, &r->body);
			/* Most replies fit the socket's buffer: out at once, the slot free again. */
			if (write_more(c) != 0)
				drop(cs, i);
			break;
		}
		buf_free_wipe(&r->body); /* not taken: the client is gone */
		free(r);
	}
}
