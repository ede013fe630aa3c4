/* dirctl test's steps: each printed with its name, ok or FAIL, its time and what it found, a
 * failure with its likely cause; shared by the domain tests (cmd_test.c) and the realm tests
 * (test_realm.c). */
#ifndef DIRCTL_TEST_STEPS_H
#define DIRCTL_TEST_STEPS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "dirctl.h"

struct test_run {
	bool verbose;
	long long started;
	const char *failed_at;	/* the step that failed; NULL: none yet */
	/* --json: the sections so far, and the one being run (its steps and notes go there
	 * instead of stdout); NULL: text */
	json_object *json, *section;
};

/* A domain or realm starts ("domain example"): its steps follow. */
void test_section(struct test_run *r, const char *kind, const char *name);
/* A step starts: its time counts from here. */
void test_begin(struct test_run *r);
/* Prints one step; returns ok. */
bool test_step(struct test_run *r, const char *name, bool ok, const char *what, const char *cause);
/* A line that is no step: what was skipped, a hint. */
void test_note(struct test_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The section's result line ("result: FAILED at bind"); its exit code. */
int test_result(struct test_run *r);

/* A TCP connection to the first address of host:port that answers within timeout seconds:
 * its descriptor (blocking), or -1 with why set. */
int tcp_connect(const char *host, int port, unsigned timeout, char *why, size_t whylen);
/* The same, closed at once: whether something listens there. */
bool tcp_reaches(const char *host, int port, unsigned timeout, char *why, size_t whylen);

/* test_realm.c: dirctl test REALM. */
int test_realm(struct test_run *r, struct ctl *c, const char *realm);

#endif
