#ifndef DIRCTL_H
#define DIRCTL_H

#include <stdbool.h>

#include "buf.h"
#include "config.h"

/* Exit codes, as dirctl(8) documents them. */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,	      /* the operation failed */
	EXIT_USAGE = 2,	      /* bad command line */
	EXIT_NO_DAEMON = 3,   /* dird is not running */
	EXIT_OFFLINE = 4,     /* dird runs, but a domain is offline */
	EXIT_NOT_FOUND = 5,   /* no such user or group */
};

struct ctl {
	struct dir_config cfg;
	bool json;
	/* status only: why the file did not parse (cfg then holds run_dir alone) */
	const char *config_error;
};

/* Sends op to dird (5 s at most); prints why on failure.  Returns the exit code to use. */
int ctl_call(const struct ctl *c, uint32_t op, const struct buf *body, uint32_t *status,
	     struct buf *reply);

/* A unix time as 2026-11-23T01:02:03Z; "never" for 0, "unknown" below it. */
void ctl_format_utc(long long t, char *out, size_t outlen);

/* Before talking to a directory directly (test, domain info): the environment dird uses. */
void ctl_directory_env(const struct ctl *c);

/* cmd_domain.c: what a domain's server says about itself (its root DSE), asked as dird would
 * connect.  -1 with err set when it cannot be reached. */
struct domain_facts {
	char server[1024];		/* the uri that answered */
	char host[256];
	int port;
	char server_name[256];		/* dnsHostName, else the uri's host */
	char vendor[128];
	char time_text[64];		/* currentTime as sent */
	long long server_time;		/* unix time; -1: not published */
	long long offset;		/* server_time - ours */
};
int domain_facts(const struct dir_domain *d, struct domain_facts *f, char *err, size_t errlen);
/* The KDCs krb5.conf (krb5_config, or the system's) names for realm, space-separated. */
void domain_realm_kdcs(const struct ctl *c, const char *realm, char *out, size_t outlen);
/* The same, without DNS: false when krb5.conf names none. */
bool realm_kdcs(const struct ctl *c, const char *realm, char *out, size_t outlen);
/* Prints a warning when offset (seconds) is beyond DIR_CLOCK_WARN_SECONDS. */
void clock_warning(long long offset);

int cmd_status(struct ctl *c);
/* cmd_config.c: dirctl config check [FILE], on path unless FILE is given. */
int cmd_config(const char *path, int argc, char **argv);
/* host_checks.c: what on this host hides directory users from programs although dird serves
 * them (dird.conf unreadable by others, nsswitch.conf without dir, nscd running), as a JSON
 * array of sentences; NULL when out of memory. */
struct json_object *host_checks(const struct ctl *c);
int cmd_cache(struct ctl *c, int argc, char **argv);
int cmd_log_level(struct ctl *c, int argc, char **argv);
int cmd_show(struct ctl *c, bool user, const char *what);
int cmd_list(struct ctl *c, bool users);
int cmd_sessions(struct ctl *c);
int cmd_pam(struct ctl *c, int argc, char **argv);
int cmd_test(struct ctl *c, int argc, char **argv);
int cmd_user_checks(struct ctl *c, int argc, char **argv);
int cmd_domain(struct ctl *c, int argc, char **argv);
int cmd_enable(struct ctl *c, bool enable, int argc, char **argv);
int cmd_sid(struct ctl *c, const char *cmd, int argc, char **argv);
int cmd_ads(struct ctl *c, int argc, char **argv);
int cmd_krb5conf(struct ctl *c, int argc, char **argv);
/* cmd_krb5conf.c: the krb5.conf text for cfg's realms (malloc'd; *text NULL when there is no
 * realm), with warnings on stderr when warn; -1 when out of memory. */
int krb5conf_render(const struct dir_config *cfg, char **text, size_t *len, bool warn);
/* The krb5.conf dird and dirctl use: krb5_config, else /etc/krb5.conf. */
const char *krb5conf_path(const struct dir_config *cfg);
/* The largest krb5.conf dirctl reads (file_read). */
#define MAX_KRB5_CONF (1u << 20)
/* The realm a domain's passwords go to (an AD domain's realm, an auth = krb5 domain's
 * krb5_realm), or NULL. */
const char *krb5conf_domain_realm(const struct dir_domain *d);
/* The [realm/NAME] section of that name, or NULL. */
const struct dir_realm *krb5conf_realm(const struct dir_config *cfg, const char *name);
int cmd_apikey(struct ctl *c, int argc, char **argv);
int cmd_keytab(struct ctl *c, int argc, char **argv);
int cmd_ssh_keys(struct ctl *c, int argc, char **argv);
/* sshd_dropin.c: writes (or removes) the sshd_config drop-in for dirctl ssh-keys next to
 * sshd_config. */
int sshd_dropin(const struct ctl *c, const char *sshd_config, bool enable, bool dry_run);
/* cmd_pam.c: installs (or removes) the PAM services in dir. */
int pam_install(struct ctl *c, const char *dir, bool install, bool dry_run);
/* Whether dir holds any of the PAM services dirctl writes (from enable or pam render). */
bool pam_services_installed(const char *dir);
/* 0 when libpam's module folder holds module ("pam_dir.so"); else -1, said on stderr. */
int pam_module_check(const char *module);
/* pam_auth_update.c: Debian's pam-auth-update and the dir profile libpam-dir ships, both here. */
bool pam_auth_update_present(void);
/* Turns the dir profile on (pam_dir in /etc/pam.d/common-*) or off; checked afterwards. */
int pam_auth_update_switch(bool enable, bool dry_run);

#endif
