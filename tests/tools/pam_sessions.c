/* Many sessions in one long-lived process, as a web middleware opens them:
 *
 *   pam_sessions SERVICE USER STEP...
 *
 * open: a new handle opens a session (it is handle 1, 2, ...; prints "open N: <result>
 * DIR_SESSION_ID=<id>"); close=N: handle N closes its session and ends; end=N: handle N ends
 * without close_session; closenew: a new handle that opened nothing closes a session and ends;
 * mark=FILE creates FILE; wait=FILE waits up to 30 s for FILE.  Exits 0, or 2 on bad usage. */
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_HANDLES 64

static int converse(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	(void)msg, (void)data;
	*resp = calloc((size_t)n, sizeof(**resp));
	return *resp ? PAM_SUCCESS : PAM_BUF_ERR;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: pam_sessions SERVICE USER STEP...\n");
		return 2;
	}
	struct pam_conv conv = { converse, NULL };
	pam_handle_t *h[MAX_HANDLES + 1] = { NULL };
	int n = 0;
	for (int i = 3; i < argc; i++) {
		const char *step = argv[i];
		int k = 0, rc = PAM_SUCCESS;
		if (!strcmp(step, "open") && n < MAX_HANDLES) {
			k = ++n;
			rc = pam_start(argv[1], argv[2], &conv, &h[k]);
			if (rc == PAM_SUCCESS)
				rc = pam_open_session(h[k], 0);
			const char *id = h[k] ? pam_getenv(h[k], "DIR_SESSION_ID") : NULL;
			printf("open %d: %s DIR_SESSION_ID=%s\n", k, pam_strerror(h[k], rc), id ? id : "");
		} else if ((sscanf(step, "close=%d", &k) == 1 || sscanf(step, "end=%d", &k) == 1) &&
			   k >= 1 && k <= n && h[k]) {
			if (step[0] == 'c')
				rc = pam_close_session(h[k], 0);
			printf("%s: %s\n", step, pam_strerror(h[k], rc));
			pam_end(h[k], rc);
			h[k] = NULL;
		} else if (!strcmp(step, "closenew")) {
			pam_handle_t *p = NULL;
			rc = pam_start(argv[1], argv[2], &conv, &p);
			if (rc == PAM_SUCCESS)
				rc = pam_close_session(p, 0);
			printf("closenew: %s\n", pam_strerror(p, rc));
			pam_end(p, rc);
		} else if (!strncmp(step, "mark=", 5)) {
			FILE *f = fopen(step + 5, "w");
			if (f)
				fclose(f);
			continue;
		} else if (!strncmp(step, "wait=", 5)) {
			struct stat st;
			for (int t = 0; t < 300 && stat(step + 5, &st) < 0; t++)
				usleep(100000);
			continue;
		} else {
			fprintf(stderr, "pam_sessions: bad step %s\n", step);
			return 2;
		}
		fflush(stdout);
	}
	return 0;
}
