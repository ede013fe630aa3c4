/* Drives a real PAM stack, as login or sshd would, for the end-to-end tests.
 *
 *   pam_run [--confdir DIR] [--rhost HOST] [--tty TTY] [--show-delay] SERVICE USER STEP...
 *
 * STEP is auth, setcred, delcred (setcred with PAM_DELETE_CRED), account, open, close,
 * chauthtok, wait=FILE (wait up to 120 s for
 * FILE to exist: the test holds a session open that way), or env=NAME (prints NAME=VALUE from
 * the PAM environment, or NAME unset).  Each prompt that hides its echo gets the next line of
 * stdin, and the last line again once they run out (one line: the same password everywhere).
 * Prints "STEP: <pam_strerror>" for each step and every message the modules show as
 * "message: TEXT"; stops at the first step that fails (as login does, an account step that
 * says the password must change goes on to the next step) and exits 1 then, 0 when all
 * succeed, 2 on bad usage.  chauthtok-expired is chauthtok with PAM_CHANGE_EXPIRED_AUTHTOK.
 * Prompts that echo get stdin lines too.  The delay libpam adds after a failure is not slept:
 * with --show-delay it is printed as "delay: MICROSECONDS".
 * --interactive: each prompt is printed as "prompt: TEXT" and answered with the next line read
 * from stdin then (a SCRAM client on the other end of a pipe answers the server's message).
 * putenv=NAME=VALUE sets a PAM environment variable (SCRAM_CHANNEL_BINDING). */
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_LINES 8
static char lines[MAX_LINES][1100];
static int n_lines, next_line, interactive;

/* --interactive: the prompt goes out, the answer is read now. */
static char *ask_now(const char *prompt)
{
	static char answer[16384];
	printf("prompt: %s\n", prompt);
	fflush(stdout);
	if (!fgets(answer, sizeof(answer), stdin))
		return NULL;
	answer[strcspn(answer, "\n")] = '\0';
	return strdup(answer);
}

static const char *next_password(void)
{
	if (n_lines == 0)
		return "";
	const char *p = lines[next_line];
	if (next_line + 1 < n_lines)
		next_line++;
	return p;
}

static int converse(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	(void)data;
	struct pam_response *r = calloc((size_t)n, sizeof(*r));
	if (!r)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
		case PAM_PROMPT_ECHO_ON:
			r[i].resp = interactive ? ask_now(msg[i]->msg) : strdup(next_password());
			break;
		default:
			printf("message: %s\n", msg[i]->msg);
			fflush(stdout);
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

static int show_delay;

static void fail_delay(int status, unsigned usec, void *data)
{
	(void)status, (void)data;
	if (show_delay)
		printf("delay: %u\n", usec);
}

static int wait_for(const char *file)
{
	struct stat st;
	for (int i = 0; i < 1200; i++) {
		if (stat(file, &st) == 0)
			return PAM_SUCCESS;
		usleep(100000);
	}
	return PAM_ABORT;
}

int main(int argc, char **argv)
{
	const char *confdir = NULL, *rhost = NULL, *tty = NULL;
	int i = 1;
	for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		if (!strcmp(argv[i], "--show-delay")) {
			show_delay = 1;
			i--;
		} else if (!strcmp(argv[i], "--interactive")) {
			interactive = 1;
			i--;
		} else if (!strcmp(argv[i], "--confdir"))
			confdir = argv[i + 1];
		else if (!strcmp(argv[i], "--rhost"))
			rhost = argv[i + 1];
		else if (!strcmp(argv[i], "--tty"))
			tty = argv[i + 1];
		else
			break;
	}
	if (argc - i < 3) {
		fprintf(stderr, "usage: pam_run [--confdir DIR] [--rhost HOST] [--tty TTY] [--show-delay] [--interactive] SERVICE USER STEP...\n");
		return 2;
	}
	while (!interactive && n_lines < MAX_LINES && fgets(lines[n_lines], sizeof(lines[0]), stdin)) {
		lines[n_lines][strcspn(lines[n_lines], "\n")] = '\0';
		n_lines++;
	}
	struct pam_conv conv = { converse, NULL };
	pam_handle_t *pamh = NULL;
	int rc = confdir ? pam_start_confdir(argv[i], argv[i + 1], &conv, confdir, &pamh) :
			   pam_start(argv[i], argv[i + 1], &conv, &pamh);
	if (rc != PAM_SUCCESS) {
		printf("start: %s\n", pam_strerror(pamh, rc));
		return 1;
	}
	pam_set_item(pamh, PAM_FAIL_DELAY, (const void *)fail_delay);
	if (rhost)
		pam_set_item(pamh, PAM_RHOST, rhost);
	if (tty)
		pam_set_item(pamh, PAM_TTY, tty);
	for (i += 2; i < argc && (rc == PAM_SUCCESS || rc == PAM_NEW_AUTHTOK_REQD); i++) {
		const char *step = argv[i];
		if (!strcmp(step, "auth"))
			rc = pam_authenticate(pamh, 0);
		else if (!strcmp(step, "setcred"))
			rc = pam_setcred(pamh, PAM_ESTABLISH_CRED);
		else if (!strcmp(step, "delcred"))
			rc = pam_setcred(pamh, PAM_DELETE_CRED);
		else if (!strcmp(step, "account"))
			rc = pam_acct_mgmt(pamh, 0);
		else if (!strcmp(step, "open"))
			rc = pam_open_session(pamh, 0);
		else if (!strcmp(step, "close"))
			rc = pam_close_session(pamh, 0);
		else if (!strcmp(step, "chauthtok"))
			rc = pam_chauthtok(pamh, 0);
		else if (!strcmp(step, "chauthtok-expired"))
			rc = pam_chauthtok(pamh, PAM_CHANGE_EXPIRED_AUTHTOK);
		else if (!strncmp(step, "wait=", 5))
			rc = wait_for(step + 5);
		else if (!strncmp(step, "putenv=", 7)) {
			rc = pam_putenv(pamh, step + 7);
			continue;
		} else if (!strncmp(step, "env=", 4)) {
			const char *v = pam_getenv(pamh, step + 4);
			printf("%s%s%s\n", step + 4, v ? "=" : " unset", v ? v : "");
			fflush(stdout);
			continue;
		}
		else {
			fprintf(stderr, "pam_run: unknown step %s\n", step);
			pam_end(pamh, PAM_ABORT);
			return 2;
		}
		printf("%s: %s\n", step, pam_strerror(pamh, rc));
		fflush(stdout);
	}
	pam_end(pamh, rc);
	return rc == PAM_SUCCESS ? 0 : 1;
}
