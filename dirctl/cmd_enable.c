/* dirctl enable / disable: puts `dir` on the passwd, group (and, when there is one, initgroups)
 * lines of nsswitch.conf, after `files` (or `compat`) so local accounts still win, and installs
 * the PAM services; disable takes both back.  The file is rewritten only when something
 * changes, after a backup, whole (rename), and never when a line it would touch is malformed. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dirctl.h"
#include "fileutil.h"

#define MAX_FILE (1u << 20)
#define MAX_LINES 4096

struct nsswitch {
	char *lines[MAX_LINES];
	size_t n;
};

static const char *const databases[] = { "passwd", "group", "initgroups" };

static void free_lines(struct nsswitch *ns)
{
	for (size_t i = 0; i < ns->n; i++)
		free(ns->lines[i]);
	ns->n = 0;
}

static int read_lines(const char *path, struct nsswitch *ns, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	char *line = NULL;
	size_t cap = 0, total = 0;
	ssize_t len;
	int rc = 0;
	while ((len = getline(&line, &cap, f)) >= 0) {
		total += (size_t)len;
		if (ns->n == MAX_LINES || total > MAX_FILE) {
			snprintf(err, errlen, "%s: too large to be an nsswitch.conf", path);
			rc = -1;
			break;
		}
		if (len > 0 && line[len - 1] == '\n')
			line[len - 1] = '\0';
		if (!(ns->lines[ns->n++] = strdup(line))) {
			snprintf(err, errlen, "out of memory");
			rc = -1;
			break;
		}
	}
	free(line);
	fclose(f);
	return rc;
}

/* The database a line is for ("passwd" in "passwd:  files"), or NULL for a comment or blank. */
static const char *database_of(const char *line, size_t *namelen)
{
	const char *p = line + strspn(line, " \t");
	if (!*p || *p == '#')
		return NULL;
	*namelen = strcspn(p, ": \t");
	return p;
}

struct tokens {
	char *v[64];
	size_t n;
};

/* Splits the services of a line; -1 when the line is malformed (no colon, too many words). */
static int split(char *services, struct tokens *t)
{
	t->n = 0;
	for (char *save = NULL, *w = strtok_r(services, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (t->n == sizeof(t->v) / sizeof(t->v[0]))
			return -1;
		t->v[t->n++] = w;
	}
	return 0;
}

/* The new text of one database line, or NULL when it needs no change; *bad on a malformed one.
 * The spacing after the colon and a comment at the end are kept. */
static char *change_line(const char *line, bool enable, bool *bad)
{
	const char *colon = strchr(line, ':');
	if (!colon) {
		*bad = true;
		return NULL;
	}
	size_t lead = strspn(colon + 1, " \t");
	char *rest = strdup(colon + 1 + lead);
	if (!rest) {
		*bad = true;
		return NULL;
	}
	char *comment = strchr(rest, '#');
	if (comment)
		*comment++ = '\0';
	struct tokens t;
	if (split(rest, &t) < 0) {
		*bad = true;
		free(rest);
		return NULL;
	}
	size_t dir_at = t.n, after = 0;
	for (size_t i = 0; i < t.n; i++) {
		if (!strcmp(t.v[i], "dir"))
			dir_at = i;
		if (!strcmp(t.v[i], "files") || !strcmp(t.v[i], "compat")) {
			after = i + 1;
			while (after < t.n && t.v[after][0] == '[')
				after++; /* its [STATUS=action] words */
		}
	}
	if (enable == (dir_at < t.n)) {
		free(rest);
		return NULL; /* already as asked */
	}
	char *result = NULL;
	size_t size = 0;
	FILE *m = open_memstream(&result, &size);
	if (!m) {
		free(rest);
		*bad = true;
		return NULL;
	}
	fprintf(m, "%.*s%.*s", (int)(colon + 1 - line), line, (int)lead, colon + 1);
	bool first = true;
	for (size_t i = 0; i <= t.n; i++) {
		if (enable && i == after) {
			fprintf(m, "%sdir", first ? "" : " ");
			first = false;
		}
		if (i == t.n)
			break;
		if (!enable && i == dir_at) {
			while (i + 1 < t.n && t.v[i + 1][0] == '[')
				i++; /* dir's own [STATUS=action] words go with it */
			continue;
		}
		fprintf(m, "%s%s", first ? "" : " ", t.v[i]);
		first = false;
	}
	if (comment)
		fprintf(m, " #%s", comment);
	fclose(m);
	free(rest);
	return result;
}

struct options {
	const char *nsswitch;
	const char *pam_dir;
	bool dry_run;
	bool pam;
};

static int change_nsswitch(const struct options *o, bool enable, bool *changed)
{
	struct nsswitch ns = { .n = 0 };
	char err[1024];
	*changed = false;
	if (read_lines(o->nsswitch, &ns, err, sizeof(err)) < 0) {
		fprintf(stderr, "dirctl: %s\n", err);
		free_lines(&ns);
		return EXIT_FAIL;
	}
	bool seen[3] = { false, false, false }, bad = false;
	char *new_lines[MAX_LINES] = { NULL };
	for (size_t i = 0; i < ns.n && !bad; i++) {
		size_t len;
		const char *db = database_of(ns.lines[i], &len);
		for (size_t k = 0; db && k < 3; k++) {
			if (len != strlen(databases[k]) || strncmp(db, databases[k], len))
				continue;
			if (seen[k]) {
				fprintf(stderr, "dirctl: %s:%zu: a second %s line; fix the file by hand\n",
					o->nsswitch, i + 1, databases[k]);
				bad = true;
				break;
			}
			seen[k] = true;
			new_lines[i] = change_line(ns.lines[i], enable, &bad);
			if (bad)
				fprintf(stderr, "dirctl: %s:%zu: '%s' is not 'database: services'; fix the "
						"file by hand\n", o->nsswitch, i + 1, ns.lines[i]);
		}
	}
	/* passwd and group without a line: glibc's default is files alone; add them. */
	char *added[2] = { NULL, NULL };
	for (size_t k = 0; enable && !bad && k < 2; k++)
		if (!seen[k] && asprintf(&added[k], "%s:%*sfiles dir", databases[k],
					 (int)(15 - strlen(databases[k])), "") < 0)
			added[k] = NULL;
	int rc = EXIT_OK;
	if (bad) {
		rc = EXIT_FAIL;
		goto out;
	}
	struct buf text;
	buf_init(&text, MAX_FILE + 4096);
	for (size_t i = 0; i < ns.n; i++) {
		if (new_lines[i]) {
			*changed = true;
			printf("%s: -%s\n%s: +%s\n", o->nsswitch, ns.lines[i], o->nsswitch, new_lines[i]);
		}
		const char *l = new_lines[i] ? new_lines[i] : ns.lines[i];
		buf_put_bytes(&text, l, strlen(l));
		buf_put_bytes(&text, "\n", 1);
	}
	for (size_t k = 0; k < 2; k++)
		if (added[k]) {
			*changed = true;
			printf("%s: +%s\n", o->nsswitch, added[k]);
			buf_put_bytes(&text, added[k], strlen(added[k]));
			buf_put_bytes(&text, "\n", 1);
		}
	if (*changed && !o->dry_run) {
		char backup[PATH_MAX];
		struct stat st;
		snprintf(backup, sizeof(backup), "%s.dirctl-backup", o->nsswitch);
		FILE *in = fopen(o->nsswitch, "re");
		char *old = NULL;
		size_t old_len = 0;
		if (in) {
			old = malloc(MAX_FILE + 1);
			old_len = old ? fread(old, 1, MAX_FILE, in) : 0;
			fclose(in);
		}
		if (text.failed || !old || stat(o->nsswitch, &st) < 0 ||
		    file_replace(backup, old, old_len, st.st_mode & 0777) < 0 ||
		    file_replace(o->nsswitch, text.data, text.len, st.st_mode & 0777) < 0) {
			fprintf(stderr, "dirctl: cannot write %s: %s\n", o->nsswitch, strerror(errno));
			rc = EXIT_FAIL;
		} else {
			printf("%s: changed (the previous one is %s)\n", o->nsswitch, backup);
		}
		free(old);
	} else if (!*changed) {
		printf("%s: already %s\n", o->nsswitch, enable ? "enabled" : "disabled");
	}
	buf_free(&text);
out:
	for (size_t i = 0; i < ns.n; i++)
		free(new_lines[i]);
	free(added[0]);
	free(added[1]);
	free_lines(&ns);
	return rc;
}

int cmd_enable(struct ctl *c, bool enable, int argc, char **argv)
{
	struct options o = { "/etc/nsswitch.conf", "/etc/pam.d", false, true };
	bool ssh = false;
	const char *sshd_config = "/etc/ssh/sshd_config";
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--dry-run"))
			o.dry_run = true;
		else if (!strcmp(argv[i], "--no-pam"))
			o.pam = false;
		else if (!strcmp(argv[i], "--nsswitch") && i + 1 < argc)
			o.nsswitch = argv[++i];
		else if (!strcmp(argv[i], "--pam-dir") && i + 1 < argc)
			o.pam_dir = argv[++i];
		else if (!strcmp(argv[i], "--ssh"))
			ssh = true;
		else if (!strcmp(argv[i], "--sshd-config") && i + 1 < argc)
			sshd_config = argv[++i];
		else {
			fprintf(stderr, "Usage: dirctl %s [--dry-run] [--no-pam] [--nsswitch FILE] "
					"[--pam-dir DIR] [--ssh [--sshd-config FILE]]\n",
				enable ? "enable" : "disable");
			return EXIT_USAGE;
		}
	}
	bool changed;
	int rc = change_nsswitch(&o, enable, &changed);
	if (rc == EXIT_OK && o.pam)
		rc = pam_install(c, o.pam_dir, enable, o.dry_run);
	if (rc == EXIT_OK && ssh)
		rc = sshd_dropin(c, sshd_config, enable, o.dry_run);
	return rc;
}
