#include "test_steps.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void test_begin(struct test_run *r)
{
	r->started = now_ms();
}

bool test_step(struct test_run *r, const char *name, bool ok, const char *what, const char *cause)
{
	printf("  %-12s %-4s %6lld ms  %s\n", name, ok ? "ok" : "FAIL", now_ms() - r->started, what);
	if (!ok) {
		printf("  %-12s %-4s %6s     cause: %s\n", "", "", "", cause);
		r->failed_at = name;
	}
	return ok;
}

int tcp_connect(const char *host, int port, unsigned timeout, char *why, size_t whylen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL;
	char service[16];
	snprintf(service, sizeof(service), "%d", port);
	int rc = getaddrinfo(host, service, &hints, &res);
	if (rc) {
		snprintf(why, whylen, "%s", gai_strerror(rc));
		return -1;
	}
	int found = -1;
	snprintf(why, whylen, "no address answered");
	for (struct addrinfo *a = res; a && found < 0; a = a->ai_next) {
		int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
			found = fd;
		} else if (errno == EINPROGRESS) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			int err = 0;
			socklen_t len = sizeof(err);
			if (poll(&p, 1, (int)timeout * 1000) == 1 &&
			    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0)
				found = fd;
			else
				snprintf(why, whylen, "%s", err ? strerror(err) : "no answer in time");
		} else {
			snprintf(why, whylen, "%s", strerror(errno));
		}
		if (found < 0)
			close(fd);
	}
	freeaddrinfo(res);
	if (found >= 0)
		fcntl(found, F_SETFL, fcntl(found, F_GETFL) & ~O_NONBLOCK);
	return found;
}

bool tcp_reaches(const char *host, int port, unsigned timeout, char *why, size_t whylen)
{
	int fd = tcp_connect(host, port, timeout, why, whylen);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}
