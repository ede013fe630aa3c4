/* What publishing one change costs dird, with dird's own publish.c: N users (each in 3 of N/10
 * groups) in db, the index written whole (as every change was before deltas), then one changed
 * shell and one membership change as deltas.  Prints each one's time in ms, wall clock (the
 * files are synced: the disk's load shows) and CPU.
 *   publish_cost USERS DIR   (DIR: an empty directory for the files) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dird.h"
#include "publish.h"

/* The few things of dird's main.c publish.c calls. */
long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void test_hook(const char *step)
{
	(void)step;
}

void wake_publisher_locked(struct dird *d)
{
	d->dirty = true;
}

void mark_dirty_locked(struct dird *d)
{
	publish_whole_locked(d);
	wake_publisher_locked(d);
}

struct mark {
	struct timespec wall, cpu;
};

static void mark_now(struct mark *m)
{
	clock_gettime(CLOCK_MONOTONIC, &m->wall);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &m->cpu);
}

static double ms_between(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) * 1e3 + (double)(b->tv_nsec - a->tv_nsec) / 1e6;
}

static void report(const char *what, const struct mark *t0)
{
	struct mark t1;
	mark_now(&t1);
	printf("%s: %.3f ms (%.3f ms CPU)\n", what, ms_between(&t0->wall, &t1.wall),
	       ms_between(&t0->cpu, &t1.cpu));
}

static char *text(const char *fmt, unsigned n)
{
	char s[64];
	snprintf(s, sizeof(s), fmt, n);
	return strdup(s);
}

static struct dir_user *new_user(unsigned i, const char *shell, uint64_t fetched)
{
	struct dir_user *u = calloc(1, sizeof(*u));
	u->name = text("u%07u", i);
	u->uid = 200000 + i;
	u->gid = 100000;
	u->gecos = text("User %u", i);
	u->home = text("/home/u%07u", i);
	u->shell = strdup(shell);
	u->domain = strdup("bench");
	u->fetched = fetched;
	return u;
}

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	unsigned n_users = (unsigned)atoi(argv[1]), n_groups = n_users / 10 ? n_users / 10 : 1;
	static struct dird d;
	d.cfg.cache_dir = argv[2];
	d.cfg.entry_ttl = 86400;
	d.cfg.refresh_interval = 86400;
	db_init(&d.db);
	uint64_t now = (uint64_t)time(NULL);
	for (unsigned i = 0; i < n_groups; i++) {
		struct dir_group *g = calloc(1, sizeof(*g));
		g->name = text("g%06u", i);
		g->gid = 100000 + i;
		g->domain = strdup("bench");
		g->fetched = now;
		db_add_group(&d.db, g);
	}
	srand(1);
	for (unsigned i = 0; i < n_users; i++) {
		struct dir_user *u = new_user(i, "/bin/bash", now);
		db_add_user(&d.db, u);
		for (int k = 0; k < 3; k++) {
			struct dir_group *g = d.db.c.groups[(unsigned)rand() % n_groups];
			g->members = realloc(g->members, (g->n_members + 1) * sizeof(char *));
			g->members[g->n_members++] = strdup(u->name);
		}
	}
	db_link_groups(&d.db);
	struct mark t0;
	char what[128];
	mark_now(&t0);
	publish_locked(&d, false);
	snprintf(what, sizeof(what), "users %u groups %u: the whole index", n_users, n_groups);
	report(what, &t0);

	/* A changed user replaces its record, as a change stream's does (db packs a record's
	 * strings: none is changed in place). */
	char name[32];
	snprintf(name, sizeof(name), "u%07u", 42 % n_users);
	struct dir_user *old = db_user_by_name(&d.db, name), *u = new_user(42 % n_users, "/bin/zsh",
									     now);
	u->groups = malloc(((size_t)old->n_groups + 1) * sizeof(uint32_t));
	memcpy(u->groups, old->groups, (size_t)old->n_groups * sizeof(uint32_t));
	u->n_groups = old->n_groups;
	db_remove_user(&d.db, name, old->uid);
	db_add_user(&d.db, u);
	mark_now(&t0);
	publish_user_changed_locked(&d, u);
	publish_locked(&d, false);
	report("one changed shell, a delta", &t0);

	snprintf(name, sizeof(name), "g%06u", 7 % n_groups);
	struct dir_group *g = db_group_by_name(&d.db, name);
	snprintf(name, sizeof(name), "u%07u", 43 % n_users);
	g->members = realloc(g->members, (g->n_members + 1) * sizeof(char *));
	g->members[g->n_members++] = strdup(name);
	mark_now(&t0);
	publish_group_changed_locked(&d, g);
	db_link_group(&d.db, g);
	publish_locked(&d, false);
	snprintf(what, sizeof(what), "one membership (a group of %u), a delta", g->n_members);
	report(what, &t0);
	return 0;
}
