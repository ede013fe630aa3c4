#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <security/pam_ext.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "local_accounts.h"
#include "names.h"
#include "pam_dir.h"

#define DATA_TICKETS "pam_dir_tickets"
#define DATA_CCACHE "pam_dir_ccache"

struct tickets {
	size_t len;
	unsigned char data[];
};

static void wipe_tickets(pam_handle_t *pamh, void *data, int status)
{
	(void)pamh, (void)status;
	struct tickets *t = data;
	explicit_bzero(t->data, t->len);
	free(t);
}

static void free_string(pam_handle_t *pamh, void *data, int status)
{
	(void)pamh, (void)status;
	free(data);
}

void pam_dir_keep_tickets(pam_handle_t *pamh, const struct buf *tickets)
{
	if (!tickets->len)
		return;
	struct tickets *t = malloc(sizeof(*t) + tickets->len);
	if (!t)
		return;
	t->len = tickets->len;
	memcpy(t->data, tickets->data, tickets->len);
	if (pam_set_data(pamh, DATA_TICKETS, t, wipe_tickets) != PAM_SUCCESS)
		wipe_tickets(pamh, t, 0);
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int pam_dir_store_tickets(pam_handle_t *pamh)
{
	const void *data = NULL, *done = NULL;
	if (pam_get_data(pamh, DATA_TICKETS, &data) != PAM_SUCCESS || !data ||
	    (pam_get_data(pamh, DATA_CCACHE, &done) == PAM_SUCCESS && done))
		return PAM_SUCCESS; /* no tickets, or stored already */
	const struct tickets *t = data;
	const char *user = NULL;
	struct passwd pw;
	char *pwbuf = NULL;
	if (pam_get_user(pamh, &user, NULL) != PAM_SUCCESS || !user || !dir_getpwnam(user, &pw, &pwbuf)) {
		free(pwbuf);
		return PAM_CRED_ERR;
	}
	uid_t uid = pw.pw_uid;
	gid_t gid = pw.pw_gid;
	free(pwbuf);
	struct dir_module_config cfg;
	pam_dir_load_config(pamh, &cfg);
	char path[PATH_MAX];
	int built = dir_build_name(path, sizeof(path), "%s/krb5cc_%lu_XXXXXX", cfg.krb5_ccache_dir,
				   (unsigned long)uid);
	if (built < 0) {
		pam_syslog(pamh, LOG_ERR, "krb5_ccache_dir is too long for a ticket cache's name");
		return PAM_CRED_ERR;
	}
	/* mkstemp: a new file of our own (O_EXCL), even in a sticky /tmp others write to. */
	int fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0) {
		pam_syslog(pamh, LOG_ERR, "cannot create a ticket cache in %s: %s", path, strerror(errno));
		return PAM_CRED_ERR;
	}
	bool written = fchown(fd, uid, gid) == 0 && fchmod(fd, 0600) == 0 &&
		       write_all(fd, t->data, t->len) == 0;
	int saved = errno;
	/* close() once, whatever it says: after a failed close the descriptor is gone all the
	 * same, and closing it again could close another thread's new file. */
	if (close(fd) < 0 && written) {
		written = false;
		saved = errno;
	}
	if (!written) {
		pam_syslog(pamh, LOG_ERR, "cannot write the ticket cache %s: %s", path, strerror(saved));
		unlink(path);
		return PAM_CRED_ERR;
	}
	char env[PATH_MAX + 32];
	snprintf(env, sizeof(env), "KRB5CCNAME=FILE:%s", path);
	char *copy = strdup(path);
	if (!copy || pam_set_data(pamh, DATA_CCACHE, copy, free_string) != PAM_SUCCESS ||
	    pam_putenv(pamh, env) != PAM_SUCCESS) {
		free(copy);
		unlink(path);
		return PAM_CRED_ERR;
	}
	return PAM_SUCCESS;
}

const char *pam_dir_ticket_cache(pam_handle_t *pamh)
{
	const void *path = NULL;
	return pam_get_data(pamh, DATA_CCACHE, &path) == PAM_SUCCESS ? path : NULL;
}

void pam_dir_drop_tickets(pam_handle_t *pamh)
{
	const void *path = NULL;
	if (pam_get_data(pamh, DATA_CCACHE, &path) != PAM_SUCCESS || !path)
		return;
	if (unlink(path) < 0 && errno != ENOENT)
		pam_syslog(pamh, LOG_WARNING, "cannot remove the ticket cache %s: %s",
			   (const char *)path, strerror(errno));
	pam_set_data(pamh, DATA_CCACHE, NULL, NULL);
	pam_putenv(pamh, "KRB5CCNAME");
}
