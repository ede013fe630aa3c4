/* dirctl enable --ssh / disable --ssh: the sshd_config drop-in that has sshd ask dird for
 * directory users' SSH public keys,
 *     AuthorizedKeysCommand /usr/bin/dirctl ssh-keys %u
 *     AuthorizedKeysCommandUser nobody
 * in sshd_config.d/dir.conf next to sshd_config (Debian's sshd_config includes that folder
 * first).  After writing it, sshd -T (sshd's own parser, on the whole configuration) must show
 * both lines in effect; when it does not (a syntax error, no Include of the folder, another
 * file that sets them first), the previous file is put back and the reason given.  It is not
 * written where sshd runs another AuthorizedKeysCommand already.  disable removes the file, if
 * dirctl wrote it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dirctl.h"
#include "fileutil.h"

#define SSHD "/usr/sbin/sshd"
#define DROPIN "sshd_config.d/dir.conf"
#define HEADER "# Written by dirctl enable --ssh: sshd asks dird for directory users' SSH keys.\n"
#define KEYS_USER "nobody"
#define MAX_OUTPUT (1u << 20)
#define SSHD_TIMEOUT_MS 10000

/* The value of AuthorizedKeysCommand: this dirctl, with the configuration it was given. */
static int keys_command(const struct ctl *c, char *out, size_t outlen)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0) {
		fprintf(stderr, "dirctl: cannot tell where dirctl is: %s\n", strerror(errno));
		return -1;
	}
	self[n] = '\0';
	bool default_conf = !strcmp(c->cfg.path, DIR_DEFAULT_CONF);
	/* sshd splits the command at blanks and expands % tokens: such paths cannot be said. */
	if (strpbrk(self, " \t\"'%\\") || (!default_conf && strpbrk(c->cfg.path, " \t\"'%\\"))) {
		fprintf(stderr, "dirctl: %s or %s holds a blank, a quote or %%: sshd cannot run it\n",
			self, c->cfg.path);
		return -1;
	}
	int len = snprintf(out, outlen, "%s%s%s ssh-keys %%u", self, default_conf ? "" : " -c ",
			   default_conf ? "" : c->cfg.path);
	return len > 0 && (size_t)len < outlen ? 0 : -1;
}

/* The whole file at path (NUL-terminated, caller frees), NULL with errno when it cannot be
 * read (ENOENT: there is none). */
static char *read_file(const char *path)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	char *text = calloc(1, MAX_OUTPUT + 1);
	size_t n = text ? fread(text, 1, MAX_OUTPUT, f) : 0;
	fclose(f);
	if (text && memchr(text, '\0', n)) {
		free(text);
		errno = EINVAL;
		return NULL;
	}
	return text;
}

/* Runs sshd -T -f sshd_config, its output (stdout and stderr) into out.  The exit status, or
 * -1 when it could not run or took longer than SSHD_TIMEOUT_MS. */
static int sshd_effective(const char *sshd_config, char *out, size_t outlen)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], STDOUT_FILENO);
		dup2(p[1], STDERR_FILENO);
		execl(SSHD, "sshd", "-T", "-f", sshd_config, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		return -1;
	}
	size_t len = 0;
	bool timed_out = false;
	for (;;) {
		struct pollfd pfd = { .fd = p[0], .events = POLLIN };
		int r = poll(&pfd, 1, SSHD_TIMEOUT_MS);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			timed_out = true;
			kill(pid, SIGKILL);
			break;
		}
		char chunk[4096];
		ssize_t got = read(p[0], chunk, sizeof(chunk));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		size_t keep = (size_t)got < outlen - 1 - len ? (size_t)got : outlen - 1 - len;
		memcpy(out + len, chunk, keep);
		len += keep;
	}
	out[len] = '\0';
	close(p[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return timed_out || !WIFEXITED(status) ? -1 : WEXITSTATUS(status);
}

/* The value sshd -T shows for keyword (lower case), in value (empty when none). */
static void effective_value(const char *output, const char *keyword, char *value, size_t len)
{
	size_t kl = strlen(keyword);
	value[0] = '\0';
	for (const char *line = output; *line;) {
		size_t ll = strcspn(line, "\n");
		if (ll > kl && !strncmp(line, keyword, kl) && line[kl] == ' ') {
			snprintf(value, len, "%.*s", (int)(ll - kl - 1), line + kl + 1);
			return;
		}
		line += ll + (line[ll] == '\n');
	}
}

/* What sshd -T says AuthorizedKeysCommand and AuthorizedKeysCommandUser are ("none" when
 * unset).  0, or -1 with the reason printed (sshd refuses the configuration, or cannot run). */
static int sshd_keys_command(const char *sshd_config, char *cmd, size_t cmdlen, char *user,
			     size_t userlen)
{
	char *output = malloc(MAX_OUTPUT);
	if (!output)
		return -1;
	int status = sshd_effective(sshd_config, output, MAX_OUTPUT);
	effective_value(output, "authorizedkeyscommand", cmd, cmdlen);
	effective_value(output, "authorizedkeyscommanduser", user, userlen);
	if (status != 0)
		fprintf(stderr, "dirctl: %s -T -f %s %s:\n%s", SSHD, sshd_config,
			status < 0 ? "could not run" : "refuses the configuration", output);
	free(output);
	return status == 0 ? 0 : -1;
}

/* Before the first drop-in: sshd must not run another command for keys already (SSSD's
 * sss_ssh_authorizedkeys, a forge's): the drop-in, read first, would silently take its place
 * and lock out the users it serves.  0, or -1 with the reason printed. */
static int check_no_other_command(const char *sshd_config)
{
	char cmd[PATH_MAX + 64], user[256];
	if (sshd_keys_command(sshd_config, cmd, sizeof(cmd), user, sizeof(user)) < 0)
		return -1;
	if (strcmp(cmd, "none")) {
		fprintf(stderr, "dirctl: sshd already runs '%s' as '%s' for users' keys; the drop-in "
				"would replace it: take that AuthorizedKeysCommand out of the "
				"configuration first\n", cmd, user);
		return -1;
	}
	return 0;
}

/* Checks with sshd -T that both lines of the drop-in are in effect.  0, or -1 with the reason
 * printed. */
static int check_with_sshd(const char *sshd_config, const char *command)
{
	char cmd[PATH_MAX + 64], user[256];
	if (sshd_keys_command(sshd_config, cmd, sizeof(cmd), user, sizeof(user)) < 0)
		return -1;
	if (strcmp(cmd, command) || strcmp(user, KEYS_USER)) {
		fprintf(stderr, "dirctl: sshd would run '%s' as '%s' instead: does %s include "
				"sshd_config.d/*.conf before it sets AuthorizedKeysCommand?\n",
			cmd, user, sshd_config);
		return -1;
	}
	return 0;
}

/* Puts `text` (NULL: no file) at path. */
static int put_file(const char *path, const char *text)
{
	if (!text)
		return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
	return file_replace(path, text, strlen(text), 0644);
}

int sshd_dropin(const struct ctl *c, const char *sshd_config, bool enable, bool dry_run)
{
	char path[PATH_MAX], command[PATH_MAX + 64], text[2 * PATH_MAX + 256];
	const char *slash = strrchr(sshd_config, '/');
	int dir_len = slash ? (int)(slash - sshd_config) : 1;
	if (snprintf(path, sizeof(path), "%.*s/%s", dir_len, slash ? sshd_config : ".", DROPIN) >=
		    (int)sizeof(path) ||
	    keys_command(c, command, sizeof(command)) < 0)
		return EXIT_FAIL;
	snprintf(text, sizeof(text), "%sAuthorizedKeysCommand %s\nAuthorizedKeysCommandUser %s\n",
		 HEADER, command, KEYS_USER);
	errno = 0;
	char *old = read_file(path);
	if (!old && errno != ENOENT) {
		fprintf(stderr, "dirctl: cannot read %s: %s\n", path, strerror(errno));
		return EXIT_FAIL;
	}
	int rc = EXIT_OK;
	if (old && strncmp(old, HEADER, strlen(HEADER))) {
		fprintf(stderr, "dirctl: %s was not written by dirctl; change it by hand\n", path);
		rc = EXIT_FAIL;
	} else if (enable ? old && !strcmp(old, text) : !old) {
		printf("%s: already %s\n", path, enable ? "enabled" : "disabled");
	} else if (enable && !old && check_no_other_command(sshd_config) < 0) {
		rc = EXIT_FAIL;
	} else if (dry_run) {
		printf("%s: would be %s\n%s", path, enable ? "written:" : "removed", enable ? text : "");
	} else if (put_file(path, enable ? text : NULL) < 0) {
		fprintf(stderr, "dirctl: cannot %s %s: %s\n", enable ? "write" : "remove", path,
			strerror(errno));
		rc = EXIT_FAIL;
	} else if (enable && check_with_sshd(sshd_config, command) < 0) {
		if (put_file(path, old) < 0)
			fprintf(stderr, "dirctl: cannot put %s back: %s\n", path, strerror(errno));
		else
			fprintf(stderr, "dirctl: %s is as it was\n", path);
		rc = EXIT_FAIL;
	} else {
		printf("%s: %s; sshd takes it at its next start or reload (systemctl reload ssh)\n",
		       path, enable ? "written" : "removed");
	}
	free(old);
	return rc;
}
