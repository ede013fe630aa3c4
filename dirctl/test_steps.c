#include "test_steps.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
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

void test_section(struct test_run *r, const char *kind, const char *name)
{
	r->failed_at = NULL;
	if (!r->json) {
		printf("%s %s\n", kind, name);
		return;
	}
	r->section = json_object_new_object();
	json_object_object_add(r->section, kind, json_object_new_string(name));
	json_object_object_add(r->section, "steps", json_object_new_array());
	json_object_object_add(r->section, "notes", json_object_new_array());
	json_object_array_add(r->json, r->section);
}

void test_begin(struct test_run *r)
{
	r->started = now_ms();
}

static void add(json_object *o, const char *key, const char *value)
{
	json_object_object_add(o, key, json_object_new_string(value));
}

bool test_step(struct test_run *r, const char *name, bool ok, const char *what, const char *cause)
{
	long long ms = now_ms() - r->started;
	if (!ok)
		r->failed_at = name;
	if (r->json) {
		json_object *step = json_object_new_object();
		add(step, "step", name);
		json_object_object_add(step, "ok", json_object_new_boolean(ok));
		json_object_object_add(step, "ms", json_object_new_int64(ms));
		add(step, "what", what);
		if (!ok)
			add(step, "cause", cause);
		json_object_array_add(json_object_object_get(r->section, "steps"), step);
		return ok;
	}
	printf("  %-12s %-4s %6lld ms  %s\n", name, ok ? "ok" : "FAIL", ms, what);
	if (!ok)
		printf("  %-12s %-4s %6s     cause: %s\n", "", "", "", cause);
	return ok;
}

void test_note(struct test_run *r, const char *fmt, ...)
{
	char text[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (r->json)
		json_object_array_add(json_object_object_get(r->section, "notes"),
				      json_object_new_string(text));
	else
		printf("  %-12s %-4s %6s     %s\n", "", "", "", text);
}

int test_result(struct test_run *r)
{
	if (r->json) {
		add(r->section, "result", r->failed_at ? "FAILED" : "ok");
		if (r->failed_at)
			add(r->section, "failed_at", r->failed_at);
	} else {
		printf("result: %s%s\n", r->failed_at ? "FAILED at " : "ok",
		       r->failed_at ? r->failed_at : "");
	}
	return r->failed_at ? EXIT_FAIL : EXIT_OK;
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
