#include <errno.h>
#include <security/pam_ext.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "names.h"
#include "pam_dir.h"

/* NAME=N, 0 to max; a bad one is logged and ignored. */
static void number_option(pam_handle_t *pamh, const char *a, size_t at, unsigned long max, unsigned *out)
{
	char *end;
	errno = 0;
	unsigned long n = strtoul(a + at, &end, 10);
	if (errno || end == a + at || *end || a[at] == '-' || n > max)
		pam_syslog(pamh, LOG_ERR, "ignoring %s: not a number from 0 to %lu", a, max);
	else
		*out = (unsigned)n;
}

void pam_dir_parse_options(pam_handle_t *pamh, int argc, const char **argv,
			   struct pam_dir_options *o)
{
	memset(o, 0, sizeof(*o));
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "debug")) {
			o->debug = true;
		} else if (!strcmp(a, "use_first_pass") || !strcmp(a, "use_authtok")) {
			o->use_first_pass = true;
		} else if (!strcmp(a, "try_first_pass")) {
			o->try_first_pass = true;
		} else if (!strcmp(a, "apikey")) {
			o->apikey = true;
		} else if (!strcmp(a, "allow_password_auth")) {
			o->allow_password_auth = true;
		} else if (!strncmp(a, "max_sessions=", 13)) {
			number_option(pamh, a, 13, 100000, &o->max_sessions);
		} else if (!strncmp(a, "max_session_age=", 16)) {
			number_option(pamh, a, 16, 31536000, &o->max_session_age);
		} else {
			pam_syslog(pamh, LOG_ERR, "unknown option: %s", a);
		}
	}
}

void pam_dir_load_config(pam_handle_t *pamh, struct dir_module_config *cfg)
{
	const char *path = dir_config_path();
	if (dir_module_config_read(path, cfg) < 0)
		pam_syslog(pamh, LOG_ERR, "cannot read %s (%s); using the defaults", path,
			   strerror(errno));
}

const char *pam_dir_user(pam_handle_t *pamh)
{
	const char *user = NULL;
	if (pam_get_user(pamh, &user, NULL) != PAM_SUCCESS || !user)
		return NULL;
	return dir_valid_name(user) ? user : NULL;
}
