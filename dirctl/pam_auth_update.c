/* dirctl enable / disable on Debian and Ubuntu: sshd, login, su and sudo include
 * /etc/pam.d/common-*, which pam-auth-update writes from the profiles in /usr/share/pam-configs.
 * libpam-dir ships one named dir (etc/pam-configs/dir: the lines of etc/pam.d/common-*-dir);
 * enable has pam-auth-update turn it on, disable off.  pam-auth-update leaves common-* alone when
 * they were changed by hand (it says so and exits 0), so afterwards each of the four files must
 * name pam_dir.so (after disable: none of them), and root's account step through them must still
 * work (libpam, the service "other", which includes all four); otherwise the change is undone and
 * the reason given. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "dirctl.h"
#include "fileutil.h"

#define PAM_AUTH_UPDATE "/usr/sbin/pam-auth-update"
#define PROFILE_DIR "/usr/share/pam-configs"
#define PROFILE "dir"
#define PAM_D "/etc/pam.d"
#define MAX_PAM_FILE (1u << 20)

static const char *const common[] = { "common-auth", "common-account", "common-session",
				      "common-password" };
#define N_COMMON (sizeof(common) / sizeof(common[0]))

bool pam_auth_update_present(void)
{
	return access(PAM_AUTH_UPDATE, X_OK) == 0 && access(PROFILE_DIR "/" PROFILE, R_OK) == 0;
}

/* Whether a line of text that is not a comment names pam_dir.so. */
static bool names_pam_dir(const char *text)
{
	for (const char *line = text; *line;) {
		size_t n = strcspn(line, "\n");
		const char *hash = memchr(line, '#', n), *end = hash ? hash : line + n;
		for (const char *p = line; p + 10 <= end; p++)
			if (!memcmp(p, "pam_dir.so", 10) && (p == line || p[-1] == ' ' || p[-1] == '\t' ||
							     p[-1] == '/'))
				return true;
		line += n + (line[n] == '\n');
	}
	return false;
}

/* How many of the four common-* files name pam_dir.so. */
static size_t files_naming_pam_dir(void)
{
	size_t found = 0;
	for (size_t i = 0; i < N_COMMON; i++) {
		char path[256], *text;
		size_t len;
		snprintf(path, sizeof(path), PAM_D "/%s", common[i]);
		if (file_read(path, MAX_PAM_FILE, &text, &len, NULL) == 0) {
			found += names_pam_dir(text);
			free(text);
		}
	}
	return found;
}

/* pam-auth-update --package --enable|--disable dir, never asking a question.  Its exit status,
 * or -1. */
static int run_pam_auth_update(const char *verb)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		setenv("DEBIAN_FRONTEND", "noninteractive", 1);
		execl(PAM_AUTH_UPDATE, "pam-auth-update", "--package", verb, PROFILE, (char *)NULL);
		_exit(127);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int no_conversation(int n, const struct pam_message **msg, struct pam_response **resp,
			   void *data)
{
	(void)n, (void)msg, (void)resp, (void)data;
	return PAM_CONV_ERR;
}

/* Root's account step through the service "other" (Debian's includes every common-* file): what
 * every login of root's goes through.  true when libpam says success. */
static bool root_account_works(char *why, size_t whylen)
{
	struct pam_conv conv = { no_conversation, NULL };
	pam_handle_t *h = NULL;
	int rc = pam_start("other", "root", &conv, &h);
	if (rc == PAM_SUCCESS)
		rc = pam_acct_mgmt(h, PAM_SILENT);
	snprintf(why, whylen, "%s", pam_strerror(h, rc));
	if (h)
		pam_end(h, rc);
	return rc == PAM_SUCCESS;
}

static int enable_profile(bool dry_run)
{
	if (files_naming_pam_dir() == N_COMMON) {
		printf(PAM_D "/common-*: already enabled (pam-auth-update profile " PROFILE ")\n");
		return EXIT_OK;
	}
	if (pam_module_check("pam_dir.so") < 0) {
		fprintf(stderr, "dirctl: " PAM_D "/common-* are not changed\n");
		return EXIT_FAIL;
	}
	if (dry_run) {
		printf(PAM_D "/common-auth, common-account, common-session, common-password: would "
		       "get pam_dir (pam-auth-update --package --enable " PROFILE ") (dry run)\n");
		return EXIT_OK;
	}
	int status = run_pam_auth_update("--enable");
	size_t naming = files_naming_pam_dir();
	char why[256];
	if (status == 0 && naming == 0) {
		fprintf(stderr, "dirctl: pam-auth-update left " PAM_D "/common-* as they are: they were "
				"changed by hand, and it keeps such changes.  Add pam_dir's lines (" PROFILE_DIR
				"/" PROFILE ") to them yourself, or run 'pam-auth-update --force --enable "
				PROFILE "', which drops what was changed by hand\n");
		return EXIT_FAIL;
	}
	if (status != 0 || naming != N_COMMON) {
		fprintf(stderr, "dirctl: pam-auth-update --enable " PROFILE " %s (exit %d); %zu of the "
				"%zu common-* files name pam_dir\n", status ? "failed" : "did not finish",
			status, naming, N_COMMON);
	} else if (!root_account_works(why, sizeof(why))) {
		fprintf(stderr, "dirctl: with pam_dir in " PAM_D "/common-*, root's account step "
				"(service other) fails: %s\n", why);
	} else {
		printf(PAM_D "/common-auth, common-account, common-session, common-password: pam_dir "
		       "added (pam-auth-update profile " PROFILE "); sshd, login, su and sudo use it now\n");
		return EXIT_OK;
	}
	if (naming > 0) {
		run_pam_auth_update("--disable");
		fprintf(stderr, "dirctl: %s\n", files_naming_pam_dir() ?
			"and pam-auth-update --disable " PROFILE " could not take it out again: check "
			PAM_D "/common-* now" : "taken out again (pam-auth-update --disable " PROFILE ")");
	}
	return EXIT_FAIL;
}

static int disable_profile(bool dry_run)
{
	if (files_naming_pam_dir() == 0) {
		printf(PAM_D "/common-*: already disabled\n");
		return EXIT_OK;
	}
	if (dry_run) {
		printf(PAM_D "/common-*: pam_dir would be taken out (pam-auth-update --package "
		       "--disable " PROFILE ") (dry run)\n");
		return EXIT_OK;
	}
	int status = run_pam_auth_update("--disable");
	if (status != 0 || files_naming_pam_dir() != 0) {
		fprintf(stderr, "dirctl: pam-auth-update --disable " PROFILE " %s: " PAM_D "/common-* "
				"still name pam_dir (lines added by hand, which pam-auth-update keeps?); "
				"take them out yourself\n", status ? "failed" : "changed nothing");
		return EXIT_FAIL;
	}
	printf(PAM_D "/common-*: pam_dir taken out (pam-auth-update --disable " PROFILE ")\n");
	return EXIT_OK;
}

int pam_auth_update_switch(bool enable, bool dry_run)
{
	return enable ? enable_profile(dry_run) : disable_profile(dry_run);
}
