/* dirctl pam render: writes the PAM services (truenas, truenas-session, truenas-unix,
 * truenas-api-key) and the common-*-dir files they include, for local users only or with the
 * directory, optionally with the STIG settings (pam_faillock, pam_faildelay, a session limit)
 * and a second factor (pam_oath).  The default set is the one shipped in etc/pam.d.
 *
 * Each file's first line is the command that renders it ("# dirctl pam render --stig"), so
 * dirctl knows its own files and their profile: enable keeps the profile an administrator
 * rendered, and enable and disable leave alone a file changed by hand.  A file of someone
 * else's that enable or render replaces is kept whole as FILE.dirctl-backup and put back by
 * disable; disable removes nothing another service still includes. */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "dirctl.h"
#include "fileutil.h"

#define FAILLOCK "deny=3 fail_interval=900 unlock_time=900"
#define STIG_MAX_SESSIONS 10
#define OATH_USERS "/etc/users.oath"

#define MAX_PAM_FILE (1u << 20)

struct profile {
	bool directory;	/* pam_dir checks passwords and accounts */
	bool stig;
	bool two_factor;
	char oath_users[PATH_MAX];	/* two_factor: pam_oath's usersfile */
};

struct text {
	char data[4096];
	size_t len;
	bool overflow;
};

__attribute__((format(printf, 2, 3))) static void add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(t->data + t->len, sizeof(t->data) - t->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(t->data) - t->len)
		t->overflow = true;
	else
		t->len += (size_t)n;
}

/* STIG: a delay after a failure, and pam_faillock's count, around the modules that check. */
static void auth_head(struct text *t, const struct profile *p)
{
	if (p->stig) {
		add(t, "auth\trequired\t\t\tpam_faildelay.so delay=4000000\n");
		add(t, "auth\trequisite\t\t\tpam_faillock.so preauth " FAILLOCK "\n");
	}
}

/* After the checking modules, which jump over this first line when they succeed. */
static void auth_tail(struct text *t, const struct profile *p)
{
	if (p->stig) {
		add(t, "auth\t[default=die]\t\t\tpam_faillock.so authfail " FAILLOCK "\n");
		add(t, "auth\trequired\t\t\tpam_faillock.so authsucc " FAILLOCK "\n");
	} else {
		add(t, "auth\trequisite\t\t\tpam_deny.so\n");
		add(t, "auth\trequired\t\t\tpam_permit.so\n");
	}
}

/* The first line of every file: the command that renders it. */
static void header(struct text *t, const struct profile *p)
{
	add(t, "# dirctl pam render%s%s%s", p->directory ? "" : " --local", p->stig ? " --stig" : "",
	    p->two_factor ? " --2fa" : "");
	if (p->two_factor && strcmp(p->oath_users, OATH_USERS))
		add(t, " --oath-users %s", p->oath_users);
	add(t, "\n");
}

static void common_auth(struct text *t, const struct profile *p)
{
	add(t, "# Authentication for local users (pam_unix, /etc/shadow)%s.\n",
	    p->directory ? " and directory users (pam_dir, through\n# dird).  pam_dir answers "
			   "\"user unknown\" at once for anyone in /etc/passwd, so a local name\n"
			   "# (root included) can never be logged in with a directory password" : "");
	if (p->stig)
		add(t, "# STIG: 4 s after a failure; 3 failures in 15 minutes lock the account for "
		       "15 minutes.\n");
	if (p->two_factor)
		add(t, "# A one-time password (pam_oath, %s) after the password.\n", p->oath_users);
	auth_head(t, p);
	/* A success jumps over the failure line (pam_deny, or faillock's authfail). */
	if (p->directory) {
		add(t, "auth\t[success=2 default=ignore]\tpam_unix.so\n");
		add(t, "auth\t[success=1 default=ignore]\tpam_dir.so use_first_pass\n");
	} else {
		add(t, "auth\t[success=1 default=ignore]\tpam_unix.so\n");
	}
	auth_tail(t, p);
	if (p->two_factor)
		add(t, "auth\trequired\t\t\tpam_oath.so usersfile=%s window=30 digits=6\n", p->oath_users);
}

static void common_account(struct text *t, const struct profile *p)
{
	if (!p->directory) {
		add(t, "# Account checks for local users (shadow expiry).\n");
		add(t, "account\trequired\t\t\tpam_unix.so\n");
		return;
	}
	add(t, "# Account checks: pam_unix for local users (shadow expiry); pam_dir for directory users\n"
	       "# (disabled, locked, expired, password must change, access_groups / access_filter).\n");
	add(t, "account\t[success=1 new_authtok_reqd=done default=ignore]\tpam_unix.so\n");
	add(t, "account\trequisite\t\t\tpam_deny.so\n");
	add(t, "account\trequired\t\t\tpam_permit.so\n");
	add(t, "account\t[default=bad success=ok user_unknown=ignore]\tpam_dir.so\n");
}

static void common_session(struct text *t, const struct profile *p)
{
	add(t, "# Sessions: pam_dir registers every login (dirctl sessions lists them)");
	if (p->stig)
		add(t, "; STIG: at most\n# %d per user.\n", STIG_MAX_SESSIONS);
	else
		add(t, ".  For a limit per user,\n# add max_sessions=N to its line.\n");
	add(t, "session\trequired\t\t\tpam_unix.so\n");
	if (p->stig)
		add(t, "session\trequired\t\t\tpam_dir.so max_sessions=%d\n", STIG_MAX_SESSIONS);
	else
		add(t, "session\trequired\t\t\tpam_dir.so\n");
}

static void common_password(struct text *t, const struct profile *p)
{
	if (p->directory) {
		add(t, "# Password changes: directory users with pam_dir (through dird: the LDAP Password Modify\n"
		       "# operation or kpasswd, when the domain has allow_password_change = yes; refused with a message\n"
		       "# otherwise); local users with pam_unix (pam_dir ignores them).\n");
		add(t, "password\t[success=done ignore=ignore user_unknown=ignore default=die]\tpam_dir.so\n");
	} else {
		add(t, "# Password changes for local users.\n");
	}
	add(t, "password\t[success=1 default=ignore]\tpam_unix.so obscure yescrypt\n");
	add(t, "password\trequisite\t\t\tpam_deny.so\n");
	add(t, "password\trequired\t\t\tpam_permit.so\n");
}

static void service_truenas(struct text *t, const struct profile *p)
{
	add(t, "# The web UI and the API with a user name and password: local%s users alike.\n",
	    p->directory ? " and directory" : "");
	add(t, "@include common-auth-dir\n@include common-account-dir\n"
	       "@include common-password-dir\n@include common-session-dir\n");
}

static void service_session(struct text *t, const struct profile *p)
{
	(void)p;
	add(t, "# A session for a user authenticated some other way (a token): no password, but the account\n"
	       "# must still be allowed, and the session is registered and counted.\n"
	       "auth\trequired\t\t\tpam_deny.so\n"
	       "@include common-account-dir\n@include common-session-dir\n");
}

static void service_unix(struct text *t, const struct profile *p)
{
	(void)p;
	add(t, "# Clients of the local API socket: the kernel vouches for who they are (SO_PEERCRED), so there\n"
	       "# is no password; pam_access (/etc/security/access.conf) and the account checks still apply.\n"
	       "auth\trequired\t\t\tpam_permit.so\n"
	       "account\trequired\t\t\tpam_access.so\n"
	       "@include common-account-dir\n@include common-session-dir\n");
}

static void service_api_key(struct text *t, const struct profile *p)
{
	add(t, "# Programs with an API key (dirctl apikey), for local and directory users alike: the key\n"
	       "# itself, or SCRAM-SHA-512 in the conversation (pam_dir(8)).%s\n",
	    p->stig ? "  STIG: failures count toward\n# pam_faillock as password failures do." : "");
	auth_head(t, p);
	/* An expired or revoked key says so (the caller proved it holds it); the rest is a failure. */
	add(t, "auth\t[success=1 cred_expired=die default=ignore]\tpam_dir.so apikey allow_password_auth\n");
	auth_tail(t, p);
	add(t, "@include common-account-dir\n@include common-session-dir\n");
}

static const struct {
	const char *name;
	void (*render)(struct text *t, const struct profile *p);
} files[] = {
	{ "common-auth-dir", common_auth },	 { "common-account-dir", common_account },
	{ "common-session-dir", common_session }, { "common-password-dir", common_password },
	{ "truenas", service_truenas },		 { "truenas-session", service_session },
	{ "truenas-unix", service_unix },	 { "truenas-api-key", service_api_key },
};

#define N_FILES (sizeof(files) / sizeof(files[0]))

static void render(size_t i, const struct profile *p, struct text *t)
{
	t->len = 0;
	t->overflow = false;
	header(t, p);
	files[i].render(t, p);
}

static void pam_usage(void)
{
	fprintf(stderr, "Usage: dirctl pam render [--local] [--stig] [--2fa [--oath-users FILE]] [--dir DIR]\n"
			"  --local  local users only (the default when dird.conf has no domain, nor a realm\n"
			"           with local_users = yes)\n"
			"  --stig   pam_faillock (3 failures in 15 min lock for 15 min), pam_faildelay,\n"
			"           at most %d sessions per user\n"
			"  --2fa    a one-time password (pam_oath, " OATH_USERS " or the --oath-users FILE)\n"
			"           after the password\n"
			"  --dir    write there instead of /etc/pam.d\n", STIG_MAX_SESSIONS);
}

/* The profile options (the command line's, or a header's); -1 on anything else.  --dir only
 * when dir is not NULL. */
static int parse_profile(int argc, char **argv, struct profile *p, const char **dir)
{
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--local"))
			p->directory = false;
		else if (!strcmp(argv[i], "--stig"))
			p->stig = true;
		else if (!strcmp(argv[i], "--2fa"))
			p->two_factor = true;
		else if (!strcmp(argv[i], "--oath-users") && i + 1 < argc &&
			 argv[i + 1][0] == '/' && !strpbrk(argv[i + 1], " \t\n#[]\\") &&
			 strlen(argv[i + 1]) < sizeof(p->oath_users))
			snprintf(p->oath_users, sizeof(p->oath_users), "%s", argv[++i]);
		else if (dir && !strcmp(argv[i], "--dir") && i + 1 < argc)
			*dir = argv[++i];
		else
			return -1;
	}
	return 0;
}

/* What a file in the PAM directory is to dirctl. */
enum kind {
	ABSENT,
	OURS,		/* what dirctl renders for the profile its first line names */
	EDITED,		/* that first line, but changed since */
	FOREIGN,	/* someone else's */
};

struct pam_file {
	char path[PATH_MAX];
	char backup[PATH_MAX + 16];
	char *data;
	size_t len;
	enum kind kind;
	struct profile profile;	/* OURS, EDITED: the one its first line names */
	bool has_backup;
};

static bool header_profile(const char *data, struct profile *p)
{
	static const char prefix[] = "# dirctl pam render";
	size_t n = strcspn(data, "\n");
	if (strncmp(data, prefix, sizeof(prefix) - 1) || n >= 4096 || data[n] != '\n')
		return false;
	char line[4096], *words[16];
	int argc = 0;
	memcpy(line, data + sizeof(prefix) - 1, n - (sizeof(prefix) - 1));
	line[n - (sizeof(prefix) - 1)] = '\0';
	for (char *save = NULL, *w = strtok_r(line, " ", &save); w; w = strtok_r(NULL, " ", &save))
		if (argc < 16)
			words[argc++] = w;
	*p = (struct profile){ .directory = true, .oath_users = OATH_USERS };
	return argc < 16 && parse_profile(argc, words, p, NULL) == 0;
}

static int look(const char *dir, size_t i, struct pam_file *f)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->path, sizeof(f->path), "%s/%s", dir, files[i].name);
	snprintf(f->backup, sizeof(f->backup), "%s.dirctl-backup", f->path);
	f->has_backup = access(f->backup, F_OK) == 0;
	if (file_read(f->path, MAX_PAM_FILE, &f->data, &f->len, NULL) < 0) {
		if (errno == ENOENT)
			return 0;
		fprintf(stderr, "dirctl: %s: %s\n", f->path, strerror(errno));
		return -1;
	}
	f->kind = FOREIGN;
	if (header_profile(f->data, &f->profile)) {
		struct text t;
		render(i, &f->profile, &t);
		f->kind = !t.overflow && t.len == f->len && !memcmp(t.data, f->data, f->len) ? OURS : EDITED;
	}
	return 0;
}

/* The directory libpam loads modules named without a path from: Debian's libpam looks in the
 * security/ folder beside itself. */
static void module_dir(char *out, size_t outlen)
{
	Dl_info info;
	const char *slash;
	if (dladdr((void *)pam_start, &info) && info.dli_fname && (slash = strrchr(info.dli_fname, '/')))
		snprintf(out, outlen, "%.*s/security", (int)(slash - info.dli_fname), info.dli_fname);
	else
		snprintf(out, outlen, "/lib/security");
}

/* What a profile needs before it is written: every module it names installed, and for --2fa
 * the users file.  Without them libpam refuses everyone, root included. */
static int check_prerequisites(const struct profile *p)
{
	char dir[PATH_MAX];
	struct stat st;
	int rc = 0;
	module_dir(dir, sizeof(dir));
	if (p->two_factor && (stat(p->oath_users, &st) < 0 || !S_ISREG(st.st_mode))) {
		fprintf(stderr, "dirctl: --2fa: %s is not there: pam_oath would refuse every login, root's "
				"included; write it first (a line per user: HOTP/T30/6 USER - SECRET) or name "
				"another with --oath-users\n", p->oath_users);
		rc = -1;
	}
	char seen[1024] = " ";
	for (size_t i = 0; i < N_FILES; i++) {
		struct text t;
		render(i, p, &t);
		for (char *save = NULL, *w = strtok_r(t.data, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save)) {
			size_t n = strlen(w);
			char path[PATH_MAX + 256], key[300];
			if (n < 4 || strcmp(w + n - 3, ".so") || strchr(w, '/') || n >= 256)
				continue;
			snprintf(key, sizeof(key), " %s ", w);
			if (strstr(seen, key))
				continue;
			if (strlen(seen) + n + 2 < sizeof(seen))
				strcat(strcat(seen, w), " ");
			snprintf(path, sizeof(path), "%s/%s", dir, w);
			if (access(path, R_OK) < 0) {
				fprintf(stderr, "dirctl: %s is not installed (no %s): libpam would refuse every "
						"login through these stacks, root's included\n", w, path);
				rc = -1;
			}
		}
	}
	return rc;
}

static void free_files(struct pam_file *f)
{
	for (size_t i = 0; i < N_FILES; i++)
		free(f[i].data);
}

/* Writes the profile's files: dirctl's own are rewritten (with `keep_edited`, one changed by
 * hand is left, with a word), anyone else's is first kept whole as FILE.dirctl-backup. */
static int install(const char *dir, const struct profile *p, bool keep_edited, bool dry_run,
		   bool verbose)
{
	struct pam_file f[N_FILES];
	int rc = EXIT_OK;
	for (size_t i = 0; i < N_FILES; i++)
		if (look(dir, i, &f[i]) < 0)
			rc = EXIT_FAIL;
	for (size_t i = 0; i < N_FILES && rc == EXIT_OK; i++) {
		struct text t;
		render(i, p, &t);
		if (t.overflow) {
			fprintf(stderr, "dirctl: %s: too long\n", f[i].path);
			rc = EXIT_FAIL;
			break;
		}
		if (f[i].kind != ABSENT && t.len == f[i].len && !memcmp(t.data, f[i].data, t.len)) {
			if (verbose)
				printf("%s\n", f[i].path);
			continue;
		}
		if (f[i].kind == EDITED && keep_edited) {
			printf("%s: changed since dirctl wrote it; left as it is (dirctl pam render "
			       "rewrites it)\n", f[i].path);
			continue;
		}
		const char *what = f[i].kind == ABSENT ? "install" : f[i].kind == FOREIGN ? "replace" : "rewrite";
		if (f[i].kind == FOREIGN)
			printf("%s: %s (the previous one is kept as %s)%s\n", f[i].path, what, f[i].backup,
			       dry_run ? " (dry run)" : "");
		else
			printf("%s: %s%s\n", f[i].path, what, dry_run ? " (dry run)" : "");
		if (dry_run)
			continue;
		if ((f[i].kind == FOREIGN && file_copy(f[i].path, f[i].backup) < 0) ||
		    file_replace(f[i].path, t.data, t.len, 0644) < 0) {
			fprintf(stderr, "dirctl: %s: %s\n", f[i].path, strerror(errno));
			rc = EXIT_FAIL;
		}
	}
	free_files(f);
	return rc;
}

/* The next line of a service as libpam assembles it (pam_handlers.c): from '#' on is a comment,
 * which also ends the line; a line that ends in a backslash goes on on the next one, and lines
 * with nothing but blanks or a comment are skipped in between.  *p walks the text, which it
 * changes; NULL at its end. */
static char *next_pam_line(char **p, struct buf *line)
{
	buf_reset(line);
	while (**p) {
		char *s = *p, *end = s + strcspn(s, "\n");
		*p = *end ? end + 1 : end;
		*end = '\0';
		s += strspn(s, " \t");
		if (!*s || *s == '#')
			continue;
		char *comment = strchr(s, '#');
		if (comment)
			*comment = '\0';
		size_t n = strlen(s);
		while (!comment && n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			n--;
		bool more = !comment && n && s[n - 1] == '\\';
		buf_put_bytes(line, s, more ? n - 1 : n);
		buf_put_bytes(line, " ", 1);
		if (!more)
			break;
	}
	buf_put_bytes(line, "", 1);
	return line->failed || line->len <= 1 ? NULL : (char *)line->data;
}

/* Whether a service's text includes `name` of dir (@include, include, substack, in any case, as
 * libpam reads them; the file named relative to dir or by its full path).  Out of memory counts
 * as yes: a file is kept rather than taken from a service. */
static bool includes(const char *data, const char *dir, const char *name)
{
	bool found = false;
	char *copy = strdup(data), *rest = copy;
	struct buf assembled;
	buf_init(&assembled, MAX_PAM_FILE + 1);
	for (char *line; copy && !found && (line = next_pam_line(&rest, &assembled));) {
		char *w[3] = { NULL, NULL, NULL }, *p = line;
		for (int k = 0; k < 3 && *(p += strspn(p, " \t\r")); k++) {
			w[k] = p;
			/* A control in brackets may hold spaces: [success=1 default=ignore]. */
			p += *p == '[' ? strcspn(p, "]") + (p[strcspn(p, "]")] == ']') : strcspn(p, " \t\r");
			if (*p)
				*p++ = '\0';
		}
		const char *file = w[0] && !strcasecmp(w[0], "@include") ? w[1] :
				   w[1] && (!strcasecmp(w[1], "include") || !strcasecmp(w[1], "substack")) ?
				   w[2] : NULL;
		if (!file)
			continue;
		size_t dl = strlen(dir);
		if (file[0] == '/' && !strncmp(file, dir, dl) && file[dl] == '/')
			file += dl + 1;
		found = !strcmp(file, name);
	}
	found |= !copy || assembled.failed;
	buf_free(&assembled);
	free(copy);
	return found;
}

/* Whether a service left in dir after disable includes `name`: every file there but ours that
 * go, and the backups that come back. */
static const char *included_by(const char *dir, const char *name, const struct pam_file *f,
			       const bool *goes, char *who, size_t wholen)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	const char *found = NULL;
	while (d && !found && (de = readdir(d))) {
		size_t n = strlen(de->d_name);
		if (de->d_name[0] == '.' || (n > 14 && !strcmp(de->d_name + n - 14, ".dirctl-backup")))
			continue;
		char path[PATH_MAX], *data = NULL;
		size_t len;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		const char *read_from = path;
		for (size_t i = 0; i < N_FILES; i++)
			if (!strcmp(de->d_name, files[i].name)) {
				if (goes[i] && !f[i].has_backup)
					read_from = NULL; /* removed */
				else if (goes[i])
					read_from = f[i].backup; /* what comes back */
			}
		if (read_from && file_read(read_from, MAX_PAM_FILE, &data, &len, NULL) == 0 &&
		    includes(data, dir, name)) {
			snprintf(who, wholen, "%s", de->d_name);
			found = who;
		}
		free(data);
	}
	if (d)
		closedir(d);
	return found;
}

/* Takes dirctl's files back: each one unchanged is removed, or replaced by the file it replaced;
 * one changed by hand stays, and so does one that a remaining service includes. */
static int uninstall(const char *dir, bool dry_run)
{
	struct pam_file f[N_FILES];
	bool goes[N_FILES];
	int rc = EXIT_OK;
	for (size_t i = 0; i < N_FILES; i++) {
		if (look(dir, i, &f[i]) < 0)
			rc = EXIT_FAIL;
		goes[i] = f[i].kind == OURS || (f[i].kind == ABSENT && f[i].has_backup);
	}
	if (rc != EXIT_OK) {
		free_files(f);
		return rc;
	}
	char who[256];
	/* Until nothing changes: a file kept may itself include one of ours. */
	for (bool again = true; again;) {
		again = false;
		for (size_t i = 0; i < N_FILES; i++)
			if (goes[i] && !f[i].has_backup &&
			    included_by(dir, files[i].name, f, goes, who, sizeof(who))) {
				printf("%s: kept: %s/%s includes it\n", f[i].path, dir, who);
				goes[i] = false;
				again = true;
			}
	}
	for (size_t i = 0; i < N_FILES; i++) {
		if (f[i].kind == EDITED)
			printf("%s: changed since dirctl wrote it; left as it is\n", f[i].path);
		else if (f[i].kind == FOREIGN && f[i].has_backup)
			printf("%s: not dirctl's (any more); left as it is, and so is %s\n", f[i].path,
			       f[i].backup);
		if (!goes[i])
			continue;
		printf("%s: %s%s\n", f[i].path, f[i].has_backup ? "put back the one enable replaced" : "remove",
		       dry_run ? " (dry run)" : "");
		if (dry_run)
			continue;
		if (f[i].has_backup ? rename(f[i].backup, f[i].path) < 0 : unlink(f[i].path) < 0) {
			fprintf(stderr, "dirctl: %s: %s\n", f[i].path, strerror(errno));
			rc = EXIT_FAIL;
		}
	}
	free_files(f);
	return rc;
}

/* pam_dir checks passwords when there is a directory, or a realm that serves local users. */
static bool checks_passwords(const struct dir_config *cfg)
{
	return cfg->n_domains > 0 || dir_config_local_realm(cfg);
}

/* enable: the profile already rendered there (its --stig, --2fa), for this configuration. */
int pam_install(struct ctl *c, const char *dir, bool enable, bool dry_run)
{
	if (!enable)
		return uninstall(dir, dry_run);
	struct profile p = { .directory = checks_passwords(&c->cfg), .oath_users = OATH_USERS };
	for (size_t i = 0; i < N_FILES; i++) {
		struct pam_file f;
		if (look(dir, i, &f) < 0)
			return EXIT_FAIL;
		if ((f.kind == OURS || f.kind == EDITED) && !p.two_factor && f.profile.two_factor)
			snprintf(p.oath_users, sizeof(p.oath_users), "%s", f.profile.oath_users);
		if (f.kind == OURS || f.kind == EDITED) {
			p.stig |= f.profile.stig;
			p.two_factor |= f.profile.two_factor;
		}
		free(f.data);
	}
	if (check_prerequisites(&p) < 0) {
		fprintf(stderr, "dirctl: the PAM services are not changed\n");
		return EXIT_FAIL;
	}
	return install(dir, &p, true, dry_run, false);
}

int cmd_pam(struct ctl *c, int argc, char **argv)
{
	struct profile p = { .directory = checks_passwords(&c->cfg), .oath_users = OATH_USERS };
	const char *dir = "/etc/pam.d";
	if (argc < 1 || strcmp(argv[0], "render") || parse_profile(argc - 1, argv + 1, &p, &dir) < 0) {
		pam_usage();
		return EXIT_USAGE;
	}
	if (check_prerequisites(&p) < 0) {
		fprintf(stderr, "dirctl: nothing written\n");
		return EXIT_FAIL;
	}
	return install(dir, &p, false, false, true);
}
