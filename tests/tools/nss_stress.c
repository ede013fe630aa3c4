/* Looks up generated users and groups through glibc from several threads, and from forked
 * children, for a given time, checking every answer.  Run it while dird refreshes or flushes:
 * no error and no wrong answer may appear.
 *   nss_stress SECONDS THREADS USERS   (users u00001..uNNNNN have uid 30000 + n - 1) */
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static atomic_long lookups, errors;
static int users;
static time_t until;

static void fail(const char *what, const char *name)
{
	atomic_fetch_add(&errors, 1);
	fprintf(stderr, "wrong answer: %s %s\n", what, name);
}

static int check_one(unsigned *seed)
{
	int n = 1 + (int)(rand_r(seed) % (unsigned)users);
	char name[32], buf[65536];
	struct passwd pw, *pwp = NULL;
	struct group gr, *grp = NULL;
	snprintf(name, sizeof(name), "u%05d", n);
	int e = getpwnam_r(name, &pw, buf, sizeof(buf), &pwp);
	if (e || !pwp || pw.pw_uid != (uid_t)(30000 + n - 1) || strcmp(pw.pw_name, name)) {
		fail("getpwnam_r", name);
		return -1;
	}
	e = getpwuid_r((uid_t)(30000 + n - 1), &pw, buf, sizeof(buf), &pwp);
	if (e || !pwp || strcmp(pw.pw_name, name)) {
		fail("getpwuid_r", name);
		return -1;
	}
	e = getgrgid_r(20000, &gr, buf, sizeof(buf), &grp);
	if (e || !grp || strcmp(gr.gr_name, "team")) {
		fail("getgrgid_r", "20000");
		return -1;
	}
	gid_t groups[8];
	int ng = 8;
	if (getgrouplist("alice", 20000, groups, &ng) != 2 || groups[1] != 20100) {
		fail("getgrouplist", "alice");
		return -1;
	}
	atomic_fetch_add(&lookups, 4);
	return 0;
}

static void *worker(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	while (time(NULL) < until)
		check_one(&seed);
	return NULL;
}

/* Children forked while other threads are inside the module must still look up. */
static void *forker(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	while (time(NULL) < until) {
		pid_t pid = fork();
		if (pid == 0)
			_exit(check_one(&seed) == 0 ? 0 : 1);
		int status;
		if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			fail("forked child", pid < 0 ? strerror(errno) : "lookup");
		usleep(20000);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: nss_stress SECONDS THREADS USERS\n");
		return 2;
	}
	until = time(NULL) + atoi(argv[1]);
	int threads = atoi(argv[2]);
	users = atoi(argv[3]);
	pthread_t t[64], f;
	if (threads < 1 || threads > 64 || users < 1)
		return 2;
	/* glibc 2.36 does not protect its first reading of nsswitch.conf against fork (its
	 * nss_actions_lock stays held in the child): load it before any thread forks. */
	unsigned seed = 7;
	check_one(&seed);
	for (int i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)(i + 1));
	pthread_create(&f, NULL, forker, (void *)(uintptr_t)99);
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	pthread_join(f, NULL);
	printf("lookups=%ld errors=%ld\n", atomic_load(&lookups), atomic_load(&errors));
	return atomic_load(&errors) ? 1 : 0;
}
