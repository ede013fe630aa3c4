/* Times glibc lookups, per call, for bench/run, and checks every answer.
 *
 *   nss_bench OP [--service NAME] [--names FILE] [--threads N] [--passes N] [--warmup]
 *                [--prime NAME] [--budget SECONDS] [--key-only] [--missing]
 *                [--expect N --min-id ID]
 *
 * Without --service the lookups go wherever /etc/nsswitch.conf says, as in any process on a
 * host (glibc reads it, and stats it on every call).  --service NAME sets NAME for passwd, group
 * and initgroups with __nss_configure_lookup instead: the module alone, no nsswitch.conf.
 *
 * OP is getpwnam, getpwuid, getgrnam, getgrgid, getgrouplist (one lookup per line of FILE), or
 * enum-passwd, enum-group (one full enumeration per pass).  Each line of FILE is
 *     KEY NAME ID NUMBER
 * and says what the answer must be: for getpwnam/getpwuid (KEY a name or a uid) the user NAME
 * with uid ID and primary gid NUMBER; for getgrnam/getgrgid the group NAME with gid ID and NUMBER
 * members; for getgrouplist, getgrouplist(KEY, ID) must give NUMBER groups.  --missing: nothing
 * may be found (KEY alone).  --key-only checks only that something was found for the key (the
 * name or id asked for comes back): what the floor module, which answers a constant, can pass.
 * An enumeration must return --expect N entries whose id is at least --min-id.
 *
 * Each call is timed (the check is not); a warm-up pass goes first with --warmup; --prime NAME
 * looks NAME up first, untimed, so the module is loaded before the first timed call; --budget
 * ends each thread's timed passes once that many seconds have gone (the warm-up is always
 * whole).  Prints one line:
 *     calls=N failed=N median_ns=N p99_ns=N ops_per_s=N first_ns=N
 * where failed counts calls whose answer was missing or wrong (the first is described on
 * stderr), ops_per_s counts every thread's calls over the wall time of the timed passes, and
 * first_ns is the first timed call of the first thread. */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <nss.h>
#include <pthread.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BUF_SIZE (4u << 20) /* big groups need room */
#define MAX_GROUPS 65536

struct expected {
	char *key, *name;
	unsigned long id, number;
};

enum check { CHECK_FULL, CHECK_KEY, CHECK_MISSING };

static const char *op;
static struct expected *names;
static size_t n_names;
static unsigned passes = 1;
static enum check check = CHECK_FULL;
static unsigned long enum_expect, enum_min_id;
static uint64_t budget_ns;
static atomic_flag reported = ATOMIC_FLAG_INIT;

struct worker {
	pthread_t thread;
	uint64_t *times;
	size_t n, cap, failed;
	char *buf;
	gid_t *groups;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Counts a wrong answer; describes the first one of the run on stderr. */
static int wrong(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int wrong(const char *key, const char *fmt, ...)
{
	if (!atomic_flag_test_and_set(&reported)) {
		va_list ap;
		va_start(ap, fmt);
		fprintf(stderr, "nss_bench: %s %s: ", op, key);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		va_end(ap);
	}
	return 0;
}

static size_t count_members(char **mem)
{
	size_t n = 0;
	while (mem && mem[n])
		n++;
	return n;
}

/* Whether a found passwd entry (or its absence) is the answer E asks for. */
static int check_passwd(const struct expected *e, int rc, const struct passwd *pw, int by_id)
{
	if (check == CHECK_MISSING)
		return pw ? wrong(e->key, "found %s, expected nothing", pw->pw_name) : 1;
	if (!pw)
		return wrong(e->key, "not found (%s)", rc ? strerror(rc) : "no entry");
	if (check == CHECK_KEY)
		return by_id ? (pw->pw_uid == e->id || wrong(e->key, "uid %u", (unsigned)pw->pw_uid))
			     : (!strcmp(pw->pw_name, e->key) || wrong(e->key, "name %s", pw->pw_name));
	if (strcmp(pw->pw_name, e->name) || pw->pw_uid != e->id || pw->pw_gid != e->number)
		return wrong(e->key, "got %s uid %u gid %u, expected %s uid %lu gid %lu", pw->pw_name,
			     (unsigned)pw->pw_uid, (unsigned)pw->pw_gid, e->name, e->id, e->number);
	return 1;
}

static int check_group(const struct expected *e, int rc, const struct group *gr, int by_id)
{
	if (check == CHECK_MISSING)
		return gr ? wrong(e->key, "found %s, expected nothing", gr->gr_name) : 1;
	if (!gr)
		return wrong(e->key, "not found (%s)", rc ? strerror(rc) : "no entry");
	if (check == CHECK_KEY)
		return by_id ? (gr->gr_gid == e->id || wrong(e->key, "gid %u", (unsigned)gr->gr_gid))
			     : (!strcmp(gr->gr_name, e->key) || wrong(e->key, "name %s", gr->gr_name));
	size_t members = count_members(gr->gr_mem);
	if (strcmp(gr->gr_name, e->name) || gr->gr_gid != e->id || members != e->number)
		return wrong(e->key, "got %s gid %u with %zu members, expected %s gid %lu with %lu",
			     gr->gr_name, (unsigned)gr->gr_gid, members, e->name, e->id, e->number);
	return 1;
}

/* One full enumeration: right when it returns enum_expect entries with ids >= enum_min_id. */
static int enumerate(struct worker *w)
{
	unsigned long count = 0, total = 0;
	if (!strcmp(op, "enum-passwd")) {
		struct passwd pw, *pwp;
		setpwent();
		while (getpwent_r(&pw, w->buf, BUF_SIZE, &pwp) == 0)
			total++, count += pw.pw_uid >= enum_min_id;
		endpwent();
	} else {
		struct group gr, *grp;
		setgrent();
		while (getgrent_r(&gr, w->buf, BUF_SIZE, &grp) == 0)
			total++, count += gr.gr_gid >= enum_min_id;
		endgrent();
	}
	if (count != enum_expect)
		return wrong("", "%lu entries from id %lu on (%lu in all), expected %lu", count,
			     enum_min_id, total, enum_expect);
	return 1;
}

/* One lookup, timed into W; returns whether its answer was right. */
static int timed_lookup(struct worker *w, const struct expected *e)
{
	struct passwd pw, *pwp = NULL;
	struct group gr, *grp = NULL;
	int rc, ok;
	uint64_t t0 = now_ns();
	if (!strcmp(op, "getpwnam")) {
		rc = getpwnam_r(e->key, &pw, w->buf, BUF_SIZE, &pwp);
		w->times[w->n++] = now_ns() - t0;
		ok = check_passwd(e, rc, pwp, 0);
	} else if (!strcmp(op, "getpwuid")) {
		rc = getpwuid_r((uid_t)strtoul(e->key, NULL, 10), &pw, w->buf, BUF_SIZE, &pwp);
		w->times[w->n++] = now_ns() - t0;
		ok = check_passwd(e, rc, pwp, 1);
	} else if (!strcmp(op, "getgrnam")) {
		rc = getgrnam_r(e->key, &gr, w->buf, BUF_SIZE, &grp);
		w->times[w->n++] = now_ns() - t0;
		ok = check_group(e, rc, grp, 0);
	} else if (!strcmp(op, "getgrgid")) {
		rc = getgrgid_r((gid_t)strtoul(e->key, NULL, 10), &gr, w->buf, BUF_SIZE, &grp);
		w->times[w->n++] = now_ns() - t0;
		ok = check_group(e, rc, grp, 1);
	} else if (!strcmp(op, "getgrouplist")) {
		int n = MAX_GROUPS;
		rc = getgrouplist(e->key, (gid_t)e->id, w->groups, &n);
		w->times[w->n++] = now_ns() - t0;
		if (check == CHECK_MISSING)
			ok = n <= 1 || wrong(e->key, "%d groups, expected none", n);
		else if (rc < 0)
			ok = wrong(e->key, "failed");
		else
			ok = check == CHECK_KEY || (unsigned long)n == e->number ||
			     wrong(e->key, "%d groups, expected %lu", n, e->number);
	} else {
		ok = enumerate(w);
		w->times[w->n++] = now_ns() - t0;
	}
	return ok;
}

static int is_enum(void)
{
	return !strncmp(op, "enum-", 5);
}

static void *run(void *arg)
{
	struct worker *w = arg;
	static const struct expected none = { .key = (char *)"" };
	size_t per_pass = is_enum() ? 1 : n_names;
	uint64_t deadline = budget_ns ? now_ns() + budget_ns : UINT64_MAX;
	for (unsigned p = 0; p < passes; p++)
		for (size_t i = 0; i < per_pass && w->n < w->cap; i++) {
			if (!timed_lookup(w, is_enum() ? &none : &names[i]))
				w->failed++;
			if (now_ns() > deadline)
				return NULL;
		}
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void read_names(const char *file)
{
	FILE *f = fopen(file, "r");
	if (!f) {
		perror(file);
		exit(2);
	}
	char line[512], key[256], name[256];
	size_t cap = 0;
	while (fgets(line, sizeof(line), f)) {
		struct expected e = { 0 };
		int fields = sscanf(line, "%255s %255s %lu %lu", key, name, &e.id, &e.number);
		if (fields <= 0)
			continue;
		if (fields != 4 && check != CHECK_MISSING) {
			fprintf(stderr, "nss_bench: %s: want KEY NAME ID NUMBER: %s", file, line);
			exit(2);
		}
		e.key = strdup(key);
		e.name = strdup(fields > 1 ? name : "");
		if (n_names == cap) {
			cap = cap ? cap * 2 : 1024;
			names = realloc(names, cap * sizeof(*names));
		}
		names[n_names++] = e;
	}
	fclose(f);
}

/* Loads the module and fills whatever caches the service keeps; its answers are not counted,
 * but a wrong one is still described. */
static void warm_up(struct worker *w)
{
	unsigned saved = passes;
	uint64_t saved_budget = budget_ns;
	passes = 1;
	budget_ns = 0; /* whole: a cache it did not fill would be measured cold */
	run(w);
	passes = saved;
	budget_ns = saved_budget;
	w->n = w->failed = 0;
	atomic_flag_clear(&reported);
}

/* The line bench/inner.sh reads: calls, failures, median and 99th percentile of all threads' calls. */
static void report(const struct worker *w, unsigned threads, uint64_t wall)
{
	size_t total = 0, failed = 0;
	for (unsigned t = 0; t < threads; t++)
		total += w[t].n, failed += w[t].failed;
	uint64_t *all = malloc(total * sizeof(uint64_t));
	size_t k = 0;
	for (unsigned t = 0; t < threads; t++)
		for (size_t i = 0; i < w[t].n; i++)
			all[k++] = w[t].times[i];
	qsort(all, total, sizeof(uint64_t), cmp_u64);
	printf("calls=%zu failed=%zu median_ns=%llu p99_ns=%llu ops_per_s=%.0f first_ns=%llu\n", total,
	       failed, (unsigned long long)all[total / 2], (unsigned long long)all[(total * 99) / 100],
	       wall ? (double)total * 1e9 / (double)wall : 0.0, (unsigned long long)w[0].times[0]);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: nss_bench OP [--service NAME] [--names FILE] [--threads N] "
				"[--passes N] [--warmup] [--prime NAME] [--budget S] [--key-only] "
				"[--missing] [--expect N --min-id ID]\n");
		return 2;
	}
	op = argv[1];
	const char *service = NULL, *names_file = NULL, *prime = NULL;
	unsigned threads = 1;
	int warmup = 0;
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--service") && v)
			service = v, i++;
		else if (!strcmp(a, "--names") && v)
			names_file = v, i++;
		else if (!strcmp(a, "--threads") && v)
			threads = (unsigned)atoi(v), i++;
		else if (!strcmp(a, "--passes") && v)
			passes = (unsigned)atoi(v), i++;
		else if (!strcmp(a, "--prime") && v)
			prime = v, i++;
		else if (!strcmp(a, "--budget") && v)
			budget_ns = (uint64_t)(atof(v) * 1e9), i++;
		else if (!strcmp(a, "--expect") && v)
			enum_expect = strtoul(v, NULL, 10), i++;
		else if (!strcmp(a, "--min-id") && v)
			enum_min_id = strtoul(v, NULL, 10), i++;
		else if (!strcmp(a, "--warmup"))
			warmup = 1;
		else if (!strcmp(a, "--key-only"))
			check = CHECK_KEY;
		else if (!strcmp(a, "--missing"))
			check = CHECK_MISSING;
		else {
			fprintf(stderr, "nss_bench: unknown argument %s\n", a);
			return 2;
		}
	}
	if (names_file)
		read_names(names_file);
	if (threads < 1 || threads > 64 || passes < 1 || (!is_enum() && !n_names)) {
		fprintf(stderr, "nss_bench: bad arguments\n");
		return 2;
	}
	if (service) {
		__nss_configure_lookup("passwd", service);
		__nss_configure_lookup("group", service);
		__nss_configure_lookup("initgroups", service);
	}

	struct worker *w = calloc(threads, sizeof(*w));
	size_t per_thread = (is_enum() ? 1 : n_names) * passes;
	for (unsigned t = 0; t < threads; t++) {
		w[t].cap = per_thread;
		w[t].times = calloc(per_thread, sizeof(uint64_t));
		w[t].buf = malloc(BUF_SIZE);
		w[t].groups = malloc(MAX_GROUPS * sizeof(gid_t));
	}
	if (prime) {
		struct passwd pw, *pwp;
		getpwnam_r(prime, &pw, w[0].buf, BUF_SIZE, &pwp);
	}
	if (warmup)
		warm_up(&w[0]);
	uint64_t start = now_ns();
	for (unsigned t = 0; t < threads; t++)
		pthread_create(&w[t].thread, NULL, run, &w[t]);
	for (unsigned t = 0; t < threads; t++)
		pthread_join(w[t].thread, NULL);
	uint64_t wall = now_ns() - start;

	report(w, threads, wall);
	return 0;
}
