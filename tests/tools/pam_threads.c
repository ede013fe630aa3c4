/* Logins from many threads of one process, as a threaded API server does them:
 *
 *   pam_threads [--after-fork] SERVICE USER ANSWER THREADS LOGINS
 *
 * Each of THREADS threads runs LOGINS times pam_start, pam_authenticate (every prompt gets
 * ANSWER: an API key, or a SCRAM client-first whose client-final is then wrong), pam_end, all at
 * once.  Prints how many logins ended with each result ("200 Success"), one line a result, most
 * frequent first; exits 2 on bad usage, else 0.  --after-fork: the process first logs in once
 * and keeps that handle (the modules stay loaded, as in a server that holds sessions), then
 * forks, and the child runs the threads (a pre-forking server's worker). */
#include <pthread.h>
#include <stdbool.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *service, *user, *answer;
static int logins;
static pthread_barrier_t start;
#define PAM_RESULTS 64

static int converse(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	(void)data;
	struct pam_response *r = calloc((size_t)n, sizeof(*r));
	if (!r)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++)
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF || msg[i]->msg_style == PAM_PROMPT_ECHO_ON)
			r[i].resp = strdup(answer);
	*resp = r;
	return PAM_SUCCESS;
}

static void *run(void *arg)
{
	long *results = arg; /* per PAM result code */
	struct pam_conv conv = { converse, NULL };
	pthread_barrier_wait(&start);
	for (int i = 0; i < logins; i++) {
		pam_handle_t *pamh = NULL;
		int rc = pam_start(service, user, &conv, &pamh);
		if (rc == PAM_SUCCESS)
			rc = pam_authenticate(pamh, PAM_SILENT);
		if (rc >= 0 && rc < PAM_RESULTS)
			results[rc]++;
		if (pamh)
			pam_end(pamh, rc);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	bool after_fork = argc > 1 && !strcmp(argv[1], "--after-fork");
	argc -= after_fork;
	argv += after_fork;
	if (argc != 6) {
		fprintf(stderr, "usage: pam_threads [--after-fork] SERVICE USER ANSWER THREADS LOGINS\n");
		return 2;
	}
	service = argv[1];
	user = argv[2];
	answer = argv[3];
	int threads = atoi(argv[4]);
	logins = atoi(argv[5]);
	if (threads < 1 || threads > 256 || logins < 1)
		return 2;
	pam_handle_t *kept = NULL;
	if (after_fork) {
		struct pam_conv conv = { converse, NULL };
		int rc = pam_start(service, user, &conv, &kept);
		if (rc == PAM_SUCCESS)
			rc = pam_authenticate(kept, PAM_SILENT);
		printf("before the fork: %s\n", pam_strerror(kept, rc));
		fflush(stdout);
		pid_t pid = fork();
		if (pid < 0)
			return 2;
		if (pid > 0) {
			int status;
			waitpid(pid, &status, 0);
			pam_end(kept, PAM_SUCCESS);
			return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
		}
	}
	pthread_t t[256];
	static long results[256][PAM_RESULTS];
	long total[PAM_RESULTS] = { 0 };
	pthread_barrier_init(&start, NULL, (unsigned)threads);
	for (int i = 0; i < threads; i++)
		if (pthread_create(&t[i], NULL, run, results[i]) != 0)
			return 2;
	for (int i = 0; i < threads; i++) {
		pthread_join(t[i], NULL);
		for (int rc = 0; rc < PAM_RESULTS; rc++)
			total[rc] += results[i][rc];
	}
	for (;;) {
		int most = 0;
		for (int rc = 1; rc < PAM_RESULTS; rc++)
			if (total[rc] > total[most])
				most = rc;
		if (!total[most])
			break;
		printf("%ld %s\n", total[most], pam_strerror(NULL, most));
		total[most] = 0;
	}
	if (kept) /* the child's copy of the parent's handle */
		pam_end(kept, PAM_SUCCESS | PAM_DATA_SILENT);
	return 0;
}
