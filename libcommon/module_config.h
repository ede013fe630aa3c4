/* What libnss_dir and pam_dir need from dird.conf, read tolerantly.
 *
 * The modules run inside every process on the host and inside sshd and login: a typo that dird
 * refuses (an unknown key, a bad value, a malformed line anywhere) must never hide cached users
 * or stop logins.  This reader takes the few keys the modules use, ignores every other key,
 * section and line, and keeps the default for a value it cannot use.  It never fails: with no
 * readable regular file (a FIFO, a device or a directory is none) every field has its default.
 * dird and dirctl read the same file strictly (config.h) and reject a bad one with file:line.
 *
 * The value parsers and the line splitter are shared with the strict parser, so both read a
 * value the same way. */
#ifndef DIR_MODULE_CONFIG_H
#define DIR_MODULE_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>

#define DIR_DEFAULT_CONF "/etc/dird.conf"
#define DIR_CONF_MAX_LINE 4096	/* bytes, without the newline */
#define DIR_CONF_MAX_SIZE (1024 * 1024) /* bytes */
#define DIR_DEFAULT_CACHE_DIR "/var/cache/dird"
#define DIR_DEFAULT_RUN_DIR "/run/dird"
#define DIR_DEFAULT_STATE_DIR "/var/lib/dird"
#define DIR_DEFAULT_KRB5_CCACHE_DIR "/tmp"
#define DIR_DEFAULT_NSS_TIMEOUT "2"	/* seconds, as dird.conf writes them */
#define DIR_DEFAULT_NSS_TIMEOUT_MS 2000u
#define DIR_NSS_TIMEOUT_MIN_MS 50u
#define DIR_NSS_TIMEOUT_MAX_MS 60000u
#define DIR_DEFAULT_NEGATIVE_TTL 15
#define DIR_NEGATIVE_TTL_MAX 86400u
#define DIR_DEFAULT_TIMEOUT 10	/* a domain's network step, seconds */
#define DIR_TIMEOUT_MIN 1u
#define DIR_TIMEOUT_MAX 60u

struct dir_module_config {
	char cache_dir[PATH_MAX];	/* nss.idx */
	char run_dir[PATH_MAX];		/* dird.sock, pam.sock, sessions/ */
	char state_dir[PATH_MAX];	/* the API key store */
	char krb5_ccache_dir[PATH_MAX];	/* users' ticket caches */
	unsigned nss_timeout_ms;
	unsigned negative_ttl;		/* seconds */
	unsigned domain_timeouts;	/* the sum of every [domain/...]'s `timeout`, seconds */
	unsigned krb5_local_realms;	/* [realm/...] sections with local_users = yes */
};

/* The file to read: DIR_CONF (secure_getenv, so setuid callers ignore it) or /etc/dird.conf. */
const char *dir_config_path(void);

/* Fills c from `path`.  Returns 0, or -1 with errno set when it cannot be read or is not a
 * regular file (c then holds the defaults). */
int dir_module_config_read(const char *path, struct dir_module_config *c);

/* Shared with config.c. */
enum dir_conf_line {
	DIR_CONF_BLANK,		/* empty or a comment */
	DIR_CONF_SECTION,	/* [name]: *name set */
	DIR_CONF_KEY,		/* key = value: *name and *value set */
	DIR_CONF_BAD_SECTION,	/* '[' without a closing ']' at the end */
	DIR_CONF_NO_EQUALS,	/* neither a section nor key = value */
	DIR_CONF_NO_KEY,	/* "= value" */
};
/* Splits one line (without its newline) in place; names and values are trimmed, and a '#'
 * after a blank starts a comment (a value cannot hold " #"). */
enum dir_conf_line dir_conf_split(char *line, char **name, char **value);
/* path opened for reading if it is a regular file of at most DIR_CONF_MAX_SIZE bytes, else NULL
 * with errno set: EINVAL for a FIFO, a device or a directory (a FIFO would hang open() or read()
 * for ever, /dev/zero is one endless line), EFBIG for a bigger file (its lines would be read into
 * memory whole, in every process that looks a name up). */
FILE *dir_conf_open(const char *path);
/* Whole number lo..hi, digits only. */
bool dir_conf_uint(const char *v, unsigned long lo, unsigned long hi, unsigned long *out);
/* Seconds with up to three decimals ("2", "0.5") as milliseconds, lo_ms..hi_ms. */
bool dir_conf_seconds_ms(const char *v, unsigned lo_ms, unsigned hi_ms, unsigned *out);

#endif
