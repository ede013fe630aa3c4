/* dirctl pam render: writes the PAM services (truenas, truenas-session, truenas-unix,
 * truenas-api-key) and the common-*-dir files they include, for local users only or with the
 * directory, optionally with the STIG settings (pam_faillock, pam_faildelay, a session limit)
 * and a second factor (pam_oath).  The default set is the one shipped in etc/pam.d. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dirctl.h"
#include "fileutil.h"

#define FAILLOCK "deny=3 fail_interval=900 unlock_time=900"
#define STIG_MAX_SESSIONS 10
#define OATH_USERS "/etc/users.oath"

struct profile {
	bool directory;	/* pam_dir checks passwords and accounts */
	bool stig;
	bool two_factor;
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
		add(t, "# A one-time password (pam_oath, " OATH_USERS ") after the password.\n");
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
		add(t, "auth\trequired\t\t\tpam_oath.so usersfile=" OATH_USERS " window=30 digits=6\n");
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
	(void)p;
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

static void pam_usage(void)
{
	fprintf(stderr, "Usage: dirctl pam render [--local] [--stig] [--2fa] [--dir DIR]\n"
			"  --local  local users only (the default when dird.conf has no domain)\n"
			"  --stig   pam_faillock (3 failures in 15 min lock for 15 min), pam_faildelay,\n"
			"           at most %d sessions per user\n"
			"  --2fa    a one-time password (pam_oath, " OATH_USERS ") after the password\n"
			"  --dir    write there instead of /etc/pam.d\n", STIG_MAX_SESSIONS);
}

/* Installs (or removes) the default set in dir.  A file there that is not ours as rendered is
 * backed up before it is replaced, and left alone (with a word) when disabling. */
int pam_install(struct ctl *c, const char *dir, bool install, bool dry_run)
{
	struct profile p = { .directory = c->cfg.n_domains > 0 };
	int rc = EXIT_OK;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct text t = { .len = 0 };
		char path[PATH_MAX], old[8192];
		files[i].render(&t, &p);
		snprintf(path, sizeof(path), "%s/%s", dir, files[i].name);
		FILE *f = fopen(path, "re");
		size_t n = f ? fread(old, 1, sizeof(old), f) : 0;
		if (f)
			fclose(f);
		bool exists = f != NULL, ours = exists && n == t.len && !memcmp(old, t.data, n);
		if (install && ours)
			continue;
		if (!install && !exists)
			continue;
		if (!install && !ours) {
			printf("%s: changed since dirctl wrote it; left as it is\n", path);
			continue;
		}
		printf("%s: %s%s\n", path, install ? (exists ? "replace" : "install") : "remove",
		       dry_run ? " (dry run)" : "");
		if (dry_run)
			continue;
		char backup[PATH_MAX + 16];
		snprintf(backup, sizeof(backup), "%s.dirctl-backup", path);
		bool ok = install ? (!exists || file_replace(backup, old, n, 0644) == 0) &&
					    file_replace(path, t.data, t.len, 0644) == 0 :
				    unlink(path) == 0;
		if (!ok) {
			fprintf(stderr, "dirctl: %s: %s\n", path, strerror(errno));
			rc = EXIT_FAIL;
		}
	}
	return rc;
}

int cmd_pam(struct ctl *c, int argc, char **argv)
{
	struct profile p = { .directory = c->cfg.n_domains > 0 };
	const char *dir = "/etc/pam.d";
	if (argc < 1 || strcmp(argv[0], "render")) {
		pam_usage();
		return EXIT_USAGE;
	}
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--local"))
			p.directory = false;
		else if (!strcmp(argv[i], "--stig"))
			p.stig = true;
		else if (!strcmp(argv[i], "--2fa"))
			p.two_factor = true;
		else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
			dir = argv[++i];
		else {
			pam_usage();
			return EXIT_USAGE;
		}
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct text t = { .len = 0 };
		char path[PATH_MAX];
		files[i].render(&t, &p);
		snprintf(path, sizeof(path), "%s/%s", dir, files[i].name);
		if (t.overflow || file_replace(path, t.data, t.len, 0644) < 0) {
			fprintf(stderr, "dirctl: %s: %s\n", path, t.overflow ? "too long" : strerror(errno));
			return EXIT_FAIL;
		}
		printf("%s\n", path);
	}
	return EXIT_OK;
}
