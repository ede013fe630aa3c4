#include "local_login.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "krb5_auth.h"
#include "local_accounts.h"
#include "log.h"

enum dir_pam_result local_login(struct dird *d, const char *user, const char *password,
				struct buf *ccache, char *msg, size_t msglen)
{
	const struct dir_config *cfg = &d->cfg;
	/* dird's NSS lookups never reach libnss_dir: this is /etc/passwd's uid */
	struct passwd pw;
	char *pwbuf = NULL;
	bool system = !dir_config_local_realm(cfg) || !dir_getpwnam(user, &pw, &pwbuf) ||
		      !dir_krb5_local_uid(pw.pw_uid);
	free(pwbuf);
	if (system)
		return DIR_PAM_UNKNOWN;
	bool unavailable = false;
	for (size_t i = 0; i < cfg->n_realms; i++) {
		const struct dir_realm *r = &cfg->realms[i];
		char label[300], err[512] = "";
		if (!r->local_users)
			continue;
		snprintf(label, sizeof(label), "[realm/%s]", r->name);
		const struct krb5_target t = { r->name, cfg->host_keytab, label };
		switch (krb5_check_password(cfg, &t, user, password, cfg->run_dir, ccache, err,
					    sizeof(err))) {
		case USER_BIND_OK:
			return DIR_PAM_OK;
		case USER_BIND_UNKNOWN:
			continue; /* no principal here: the next realm's, or pam_unix's */
		case USER_BIND_MUST_CHANGE:
		case USER_BIND_EXPIRED_UNPROVEN:
			snprintf(msg, msglen, "Your Kerberos password has expired; change it with "
					      "kpasswd, then log in again.");
			return DIR_PAM_DENIED;
		case USER_BIND_DENIED:
		case USER_BIND_ACCOUNT_REFUSED:
			return DIR_PAM_DENIED;
		case USER_BIND_ERROR:
			log_error("%s: cannot check local user %s's password: %s", label, user, err);
			unavailable = true;
			continue;
		}
	}
	return unavailable ? DIR_PAM_UNAVAIL : DIR_PAM_UNKNOWN;
}
