/* Times glibc lookups through one NSS service, per call, for bench/run.
 *
 *   nss_bench SERVICE OP [--names FILE] [--threads N] [--passes N] [--warmup] [--prime NAME]
 *
 * SERVICE is the nsswitch service to use for passwd, group and initgroups (files, dir, sss,
 * ldap), set with __nss_configure_lookup so no nsswitch.conf is involved.  OP is getpwnam,
 * getpwuid, getgrnam, getgrgid, getgrouplist (names from FILE, one per line: user names, uids,
 * group names or gids), enum-passwd or enum-group (one full enumeration per pass).  Each call is
 * timed; a warm-up pass goes first with --warmup; --prime NAME looks NAME up (getpwnam) first,
 * untimed, so the module is loaded before the first timed call.  Prints one line:
 *     calls=N median_ns=N p99_ns=N ops_per_s=N found=N first_ns=N
 * where ops_per_s counts every thread's calls over the wall time of the timed passes and
 * first_ns is the first timed call of the first thread. */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <nss.h>
#include <pthread.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BUF_SIZE (4u << 20) /* big groups need room */

static const char *op;
static char **names;
static size_t n_names;
static unsigned passes = 1;

struct worker {
	pthread_t thread;
	uint64_t *times;
	size_t n, found;
	char *buf;
	gid_t *groups;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One lookup; true when it found something. */
static int lookup(struct worker *w, const char *name)
{
	struct passwd pw, *pwp = NULL;
	struct group gr, *grp = NULL;
	if (!strcmp(op, "getpwnam"))
		return getpwnam_r(name, &pw, w->buf, BUF_SIZE, &pwp) == 0 && pwp;
	if (!strcmp(op, "getpwuid"))
		return getpwuid_r((uid_t)strtoul(name, NULL, 10), &pw, w->buf, BUF_SIZE, &pwp) == 0 && pwp;
	if (!strcmp(op, "getgrnam"))
		return getgrnam_r(name, &gr, w->buf, BUF_SIZE, &grp) == 0 && grp;
	if (!strcmp(op, "getgrgid"))
		return getgrgid_r((gid_t)strtoul(name, NULL, 10), &gr, w->buf, BUF_SIZE, &grp) == 0 && grp;
	if (!strcmp(op, "getgrouplist")) {
		int n = 65536;
		return getgrouplist(name, 4294967294u, w->groups, &n) >= 0 && n > 1;
	}
	if (!strcmp(op, "enum-passwd")) {
		size_t count = 0;
		setpwent();
		while (getpwent_r(&pw, w->buf, BUF_SIZE, &pwp) == 0)
			count++;
		endpwent();
		return count > 0;
	}
	if (!strcmp(op, "enum-group")) {
		size_t count = 0;
		setgrent();
		while (getgrent_r(&gr, w->buf, BUF_SIZE, &grp) == 0)
			count++;
		endgrent();
		return count > 0;
	}
	fprintf(stderr, "nss_bench: unknown operation %s\n", op);
	exit(2);
}

static int is_enum(void)
{
	return !strncmp(op, "enum-", 5);
}

static void *run(void *arg)
{
	struct worker *w = arg;
	size_t per_pass = is_enum() ? 1 : n_names;
	for (unsigned p = 0; p < passes; p++)
		for (size_t i = 0; i < per_pass; i++) {
			uint64_t t0 = now_ns();
			w->found += (size_t)lookup(w, is_enum() ? "" : names[i]);
			w->times[w->n++] = now_ns() - t0;
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
	char line[512];
	size_t cap = 0;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!*line)
			continue;
		if (n_names == cap) {
			cap = cap ? cap * 2 : 1024;
			names = realloc(names, cap * sizeof(*names));
		}
		names[n_names++] = strdup(line);
	}
	fclose(f);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: nss_bench SERVICE OP [--names FILE] [--threads N] [--passes N] [--warmup]\n");
		return 2;
	}
	const char *service = argv[1];
	op = argv[2];
	unsigned threads = 1;
	int warmup = 0;
	const char *prime = NULL;
	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--names") && i + 1 < argc)
			read_names(argv[++i]);
		else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			threads = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--passes") && i + 1 < argc)
			passes = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--warmup"))
			warmup = 1;
		else if (!strcmp(argv[i], "--prime") && i + 1 < argc)
			prime = argv[++i];
	}
	if (threads < 1 || threads > 64 || passes < 1 || (!is_enum() && !n_names)) {
		fprintf(stderr, "nss_bench: bad arguments\n");
		return 2;
	}
	__nss_configure_lookup("passwd", service);
	__nss_configure_lookup("group", service);
	__nss_configure_lookup("initgroups", service);

	struct worker *w = calloc(threads, sizeof(*w));
	size_t per_thread = (is_enum() ? 1 : n_names) * passes;
	for (unsigned t = 0; t < threads; t++) {
		w[t].times = calloc(per_thread, sizeof(uint64_t));
		w[t].buf = malloc(BUF_SIZE);
		w[t].groups = malloc(65536 * sizeof(gid_t));
	}
	if (prime) {
		struct passwd pw, *pwp;
		getpwnam_r(prime, &pw, w[0].buf, BUF_SIZE, &pwp);
	}
	if (warmup) {
		/* Loads the module and fills whatever caches the service keeps. */
		unsigned saved = passes;
		passes = 1;
		run(&w[0]);
		passes = saved;
		w[0].n = w[0].found = 0;
	}
	uint64_t start = now_ns();
	for (unsigned t = 0; t < threads; t++)
		pthread_create(&w[t].thread, NULL, run, &w[t]);
	for (unsigned t = 0; t < threads; t++)
		pthread_join(w[t].thread, NULL);
	uint64_t wall = now_ns() - start;

	size_t total = 0, found = 0;
	for (unsigned t = 0; t < threads; t++)
		total += w[t].n, found += w[t].found;
	uint64_t *all = malloc(total * sizeof(uint64_t));
	size_t k = 0;
	for (unsigned t = 0; t < threads; t++)
		for (size_t i = 0; i < w[t].n; i++)
			all[k++] = w[t].times[i];
	qsort(all, total, sizeof(uint64_t), cmp_u64);
	printf("calls=%zu median_ns=%llu p99_ns=%llu ops_per_s=%.0f found=%zu first_ns=%llu\n", total,
	       (unsigned long long)all[total / 2], (unsigned long long)all[(total * 99) / 100],
	       wall ? (double)total * 1e9 / (double)wall : 0.0, found,
	       (unsigned long long)w[0].times[0]);
	return 0;
}
