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
};

/* Sends op to dird (5 s at most); prints why on failure.  Returns the exit code to use. */
int ctl_call(const struct ctl *c, uint32_t op, const struct buf *body, uint32_t *status,
	     struct buf *reply);

/* Before talking to a directory directly (test, domain info): the environment dird uses. */
void ctl_directory_env(const struct ctl *c);

int cmd_status(struct ctl *c);
int cmd_cache(struct ctl *c, int argc, char **argv);
int cmd_show(struct ctl *c, bool user, const char *what);
int cmd_list(struct ctl *c, bool users);
int cmd_sessions(struct ctl *c);
int cmd_pam(struct ctl *c, int argc, char **argv);
int cmd_test(struct ctl *c, int argc, char **argv);
int cmd_domain(struct ctl *c, int argc, char **argv);
int cmd_enable(struct ctl *c, bool enable, int argc, char **argv);
int cmd_sid(struct ctl *c, const char *cmd, int argc, char **argv);
/* cmd_pam.c: installs (or removes) the PAM services in dir. */
int pam_install(struct ctl *c, const char *dir, bool install, bool dry_run);

#endif
