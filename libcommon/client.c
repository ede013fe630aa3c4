#include "client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "protocol.h"

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int wait_fd(int fd, short events, long long deadline)
{
	for (;;) {
		long long left = deadline - now_ms();
		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		struct pollfd p = { .fd = fd, .events = events };
		int r = poll(&p, 1, (int)left);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

static int send_all(int fd, const void *p, size_t n, long long deadline)
{
	const char *s = p;
	while (n > 0) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w > 0) {
			s += w;
			n -= (size_t)w;
		} else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (wait_fd(fd, POLLOUT, deadline) < 0)
				return -1;
		} else {
			return -1;
		}
	}
	return 0;
}

static int recv_all(int fd, void *p, size_t n, long long deadline)
{
	char *s = p;
	while (n > 0) {
		ssize_t r = recv(fd, s, n, MSG_DONTWAIT);
		if (r > 0) {
			s += r;
			n -= (size_t)r;
		} else if (r == 0) {
			errno = EPROTO;
			return -1;
		} else if (errno == EAGAIN || errno == EINTR) {
			if (wait_fd(fd, POLLIN, deadline) < 0)
				return -1;
		} else {
			return -1;
		}
	}
	return 0;
}

static int connect_socket(const char *run_dir, const char *name, long long deadline)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", run_dir, name);
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	/* A non-blocking AF_UNIX connect never is "in progress": EAGAIN says the listen queue is
	 * full (dird is busy accepting).  Try again, a little later each time, until the deadline. */
	int pause_ms = 1;
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		long long left = deadline - now_ms();
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN || left <= 0) {
			int saved = errno == EAGAIN ? ETIMEDOUT : errno;
			close(fd);
			errno = saved;
			return -1;
		}
		poll(NULL, 0, pause_ms < left ? pause_ms : (int)left);
		if (pause_ms < 16)
			pause_ms *= 2;
	}
	return fd;
}

int dir_client_call(const char *run_dir, int timeout_ms, uint32_t op, const struct buf *body,
		    uint32_t *status, struct buf *reply)
{
	return dir_client_call_socket(run_dir, DIR_SOCKET_NAME, timeout_ms, op, body, status, reply);
}

int dir_client_call_socket(const char *run_dir, const char *socket_name, int timeout_ms,
			   uint32_t op, const struct buf *body, uint32_t *status, struct buf *reply)
{
	long long deadline = now_ms() + timeout_ms;
	if (body->failed || body->len > DIR_MAX_REQUEST) {
		errno = EMSGSIZE;
		return -1;
	}
	int fd = connect_socket(run_dir, socket_name, deadline);
	if (fd < 0)
		return -1;

	uint32_t hdr[3] = { DIR_PROTO_MAGIC, op, (uint32_t)body->len };
	int rc = -1;
	if (send_all(fd, hdr, sizeof(hdr), deadline) < 0 ||
	    send_all(fd, body->data, body->len, deadline) < 0 ||
	    recv_all(fd, hdr, sizeof(hdr), deadline) < 0)
		goto out;
	if (hdr[0] != DIR_PROTO_MAGIC || hdr[2] > DIR_MAX_REPLY || hdr[2] > reply->max) {
		errno = EPROTO;
		goto out;
	}
	buf_reset(reply);
	if (hdr[2]) {
		void *dst = buf_extend(reply, hdr[2]);
		if (!dst) {
			errno = ENOMEM;
			goto out;
		}
		if (recv_all(fd, dst, hdr[2], deadline) < 0)
			goto out;
	}
	*status = hdr[1];
	rc = 0;
out:
	{
		int saved = errno;
		close(fd);
		errno = saved;
	}
	return rc;
}

int dir_client_send(const char *run_dir, uint32_t op, const struct buf *body)
{
	if (body->failed || body->len > DIR_MAX_REQUEST) {
		errno = EMSGSIZE;
		return -1;
	}
	/* A deadline in the past: connect only if dird has room now. */
	int fd = connect_socket(run_dir, DIR_SOCKET_NAME, 0);
	if (fd < 0)
		return -1;
	uint32_t hdr[3] = { DIR_PROTO_MAGIC, op, (uint32_t)body->len };
	int rc = send_all(fd, hdr, sizeof(hdr), 0) == 0 && send_all(fd, body->data, body->len, 0) == 0 ?
			 0 : -1;
	int saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

int dir_pam_reply_parse(const void *data, size_t len, struct dir_pam_reply *out)
{
	struct cursor c;
	cursor_init(&c, data, len);
	out->result = cursor_u32(&c);
	out->message = cursor_str(&c, NULL);
	out->n_tickets = cursor_u32(&c);
	out->tickets = cursor_bytes(&c, out->n_tickets);
	return cursor_done(&c) && out->result <= DIR_PAM_CHANGE_FIRST ? 0 : -1;
}
