/* dirctl enable / disable: puts `dir` on the passwd, group (and, when there is one, initgroups)
 * lines of nsswitch.conf, after `files` (or `compat`) so local accounts still win (with
 * --dir-first before it: directory users skip the scan of /etc/passwd, and local accounts
 * still win because the index lists them and libnss_dir leaves them to `files`), and puts
 * pam_dir into PAM (Debian's common-* through pam-auth-update, or dirctl's own services);
 * disable takes both back.  The file is rewritten only when something
 * changes, after a backup, whole (rename), never when a line it would touch is one dirctl
 * could misread, and only once glibc itself has read the new file and found root in it. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dirctl.h"
#include "fileutil.h"
#include "nsswitch.h"

#define MAX_FILE (1u << 20)

static const char *const databases[] = { "passwd", "group", "initgroups" };

struct check {
	char err[512];
};

static int glibc_reads(const char *tmp, void *arg)
{
	struct check *c = arg;
	return nsswitch_glibc_check(tmp, c->err, sizeof(c->err));
}

static void show(struct buf *diff, const char *path, const char *sign, const char *line)
{
	buf_put_bytes(diff, path, strlen(path));
	buf_put_bytes(diff, ": ", 2);
	buf_put_bytes(diff, sign, 1);
	buf_put_bytes(diff, line, strlen(line));
	buf_put_bytes(diff, "\n", 1);
}

/* The changed text of the file, or NULL (with a message) when a line cannot be changed. */
static char *changed_text(const char *path, char *old, bool enable, bool first, bool *changed)
{
	struct buf text, diff; /* diff: what changes, shown once every line could be changed */
	buf_init(&text, 2 * MAX_FILE);
	buf_init(&diff, 4 * MAX_FILE);
	bool seen[3] = { false, false, false }, bad = false, newline = true;
	*changed = false;
	size_t lineno = 0;
	for (char *line = old, *next; *line && !bad; line = next) {
		next = line + strcspn(line, "\n");
		newline = *next == '\n';
		if (newline)
			*next++ = '\0';
		lineno++;
		size_t len;
		const char *db = nsswitch_database(line, &len);
		char *new_line = NULL;
		for (size_t k = 0; db && k < 3 && !bad; k++) {
			if (len != strlen(databases[k]) || strncmp(db, databases[k], len))
				continue;
			if (seen[k]) {
				fprintf(stderr, "dirctl: %s:%zu: a second %s line; fix the file by hand\n",
					path, lineno, databases[k]);
				bad = true;
				break;
			}
			seen[k] = true;
			const char *why;
			new_line = nsswitch_change_line(line, enable, first, &why);
			if (why) {
				fprintf(stderr, "dirctl: %s:%zu: '%s': %s; fix the file by hand\n", path,
					lineno, line, why);
				bad = true;
			}
		}
		if (new_line) {
			*changed = true;
			show(&diff, path, "-", line);
			show(&diff, path, "+", new_line);
		}
		const char *l = new_line ? new_line : line;
		buf_put_bytes(&text, l, strlen(l));
		if (newline)
			buf_put_bytes(&text, "\n", 1);
		free(new_line);
	}
	/* passwd and group without a line: glibc's default is files alone; add them. */
	for (size_t k = 0; enable && !bad && k < 2; k++) {
		if (seen[k])
			continue;
		char added[64];
		snprintf(added, sizeof(added), "%s:%*s%s", databases[k],
			 (int)(15 - strlen(databases[k])), "", first ? "dir files" : "files dir");
		show(&diff, path, "+", added);
		if (!newline)
			buf_put_bytes(&text, "\n", 1);
		buf_put_bytes(&text, added, strlen(added));
		buf_put_bytes(&text, "\n", 1);
		newline = true;
		*changed = true;
	}
	if (bad || text.failed || diff.failed) {
		if (!bad)
			fprintf(stderr, "dirctl: %s: out of memory\n", path);
		buf_free(&text);
		buf_free(&diff);
		return NULL;
	}
	if (diff.len)
		fwrite(diff.data, 1, diff.len, stdout);
	buf_free(&diff);
	buf_put_bytes(&text, "", 1); /* a C string */
	return (char *)text.data; /* the buffer's own allocation */
}

struct options {
	const char *nsswitch;
	const char *pam_dir;
	bool pam_dir_given;
	bool dry_run;
	bool pam;
	bool truenas;	/* the TrueNAS services too, where pam-auth-update does common-* */
	bool dir_first;
};

/* Rewrites the file whole (a temporary file renamed over it) after glibc itself read the new
 * text and found root in it, with the previous file kept as FILE.dirctl-backup. */
static int change_nsswitch(const struct options *o, bool enable)
{
	char *old, path[PATH_MAX];
	size_t old_len;
	struct stat st;
	/* A symlinked nsswitch.conf: its target is the file to change. */
	if (!realpath(o->nsswitch, path) || file_read(path, MAX_FILE, &old, &old_len, &st) < 0) {
		fprintf(stderr, "dirctl: %s: %s\n", o->nsswitch,
			errno == EFBIG ? "too large to be an nsswitch.conf" : strerror(errno));
		return EXIT_FAIL;
	}
	if (strlen(old) != old_len) {
		fprintf(stderr, "dirctl: %s: holds a NUL byte; not an nsswitch.conf\n", path);
		free(old);
		return EXIT_FAIL;
	}
	bool changed;
	char *text = changed_text(o->nsswitch, old, enable, o->dir_first, &changed);
	free(old);
	if (!text)
		return EXIT_FAIL;
	int rc = EXIT_OK;
	if (!changed) {
		printf("%s: already %s\n", o->nsswitch, enable ? "enabled" : "disabled");
	} else if (!o->dry_run) {
		char backup[PATH_MAX + 16];
		struct check check = { "" };
		snprintf(backup, sizeof(backup), "%s.dirctl-backup", path);
		if (file_copy(path, backup) < 0) {
			fprintf(stderr, "dirctl: cannot keep a backup in %s: %s; nothing changed\n", backup,
				strerror(errno));
			rc = EXIT_FAIL;
		} else if (file_replace_checked(path, text, strlen(text), st.st_mode & 07777,
						glibc_reads, &check) < 0) {
			if (check.err[0])
				fprintf(stderr, "dirctl: the new %s is refused: %s; nothing changed\n",
					o->nsswitch, check.err);
			else
				fprintf(stderr, "dirctl: cannot write %s: %s\n", o->nsswitch, strerror(errno));
			rc = EXIT_FAIL;
		} else {
			printf("%s: changed, glibc reads it (the previous one is %s)\n", o->nsswitch, backup);
		}
	}
	free(text);
	return rc;
}

/* The PAM side.  Where pam-auth-update runs /etc/pam.d (Debian, Ubuntu), the dir profile puts
 * pam_dir into the common-* files every service includes, and the TrueNAS services (truenas,
 * truenas-session...) are installed only when asked for (--truenas) or there already; elsewhere,
 * or in another folder (--pam-dir), dirctl's own set of services is what there is. */
static int change_pam(struct ctl *c, const struct options *o, bool enable)
{
	if (o->pam_dir_given || !pam_auth_update_present()) {
		int rc = pam_install(c, o->pam_dir, enable, o->dry_run);
		if (rc == EXIT_OK && enable && !o->pam_dir_given)
			printf("note: no pam-auth-update here: sshd, login and sudo keep their own PAM "
			       "services; have them @include the common-*-dir files for directory users\n");
		return rc;
	}
	int rc = pam_auth_update_switch(enable, o->dry_run);
	if (rc == EXIT_OK && (!enable || o->truenas || pam_services_installed(o->pam_dir)))
		rc = pam_install(c, o->pam_dir, enable, o->dry_run);
	return rc;
}

int cmd_enable(struct ctl *c, bool enable, int argc, char **argv)
{
	struct options o = { "/etc/nsswitch.conf", "/etc/pam.d", false, false, true, false, false };
	bool ssh = false;
	const char *sshd_config = "/etc/ssh/sshd_config";
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--dry-run"))
			o.dry_run = true;
		else if (!strcmp(argv[i], "--no-pam"))
			o.pam = false;
		else if (enable && !strcmp(argv[i], "--dir-first"))
			o.dir_first = true;
		else if (!strcmp(argv[i], "--nsswitch") && i + 1 < argc)
			o.nsswitch = argv[++i];
		else if (!strcmp(argv[i], "--pam-dir") && i + 1 < argc)
			o.pam_dir = argv[++i], o.pam_dir_given = true;
		else if (!strcmp(argv[i], "--truenas"))
			o.truenas = true;
		else if (!strcmp(argv[i], "--ssh"))
			ssh = true;
		else if (!strcmp(argv[i], "--sshd-config") && i + 1 < argc)
			sshd_config = argv[++i];
		else {
			fprintf(stderr, "Usage: dirctl %s [--dry-run] [--no-pam]%s [--nsswitch FILE] "
					"[--pam-dir DIR] [--truenas] [--ssh [--sshd-config FILE]]\n",
				enable ? "enable" : "disable", enable ? " [--dir-first]" : "");
			return EXIT_USAGE;
		}
	}
	int rc = change_nsswitch(&o, enable);
	if (rc == EXIT_OK && o.pam)
		rc = change_pam(c, &o, enable);
	if (rc == EXIT_OK && ssh)
		rc = sshd_dropin(c, sshd_config, enable, o.dry_run);
	return rc;
}
