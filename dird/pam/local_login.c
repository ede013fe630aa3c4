#include "local_login.h"

#include <stdio.h>

#include "krb5_auth.h"
#include "local_accounts.h"
#include "log.h"

enum dir_pam_result local_login(struct dird *d, const char *user, const char *password,
				struct buf *ccache, char *msg, size_t msglen)
{
	const struct dir_config *cfg = &d->cfg;
	/* dird's NSS lookups never reach libnss_dir: this is /etc/passwd's uid */
	if (!dir_config_local_realm(cfg) || !local_user_kerberos_allowed(user))
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
		case PASSWORD_OK:
			return DIR_PAM_OK;
		case PASSWORD_UNKNOWN:
			continue; /* no principal here: the next realm's, or pam_unix's */
		case PASSWORD_MUST_CHANGE:
		case PASSWORD_EXPIRED_UNPROVEN:
			snprintf(msg, msglen, "Your Kerberos password has expired; change it with "
					      "kpasswd, then log in again.");
			return DIR_PAM_DENIED;
		case PASSWORD_DENIED:
		case PASSWORD_ACCOUNT_REFUSED:
			return DIR_PAM_DENIED;
		case PASSWORD_ERROR:
			log_error("%s: cannot check local user %s's password: %s", label, user, err);
			unavailable = true;
			continue;
		}
	}
	return unavailable ? DIR_PAM_UNAVAIL : DIR_PAM_UNKNOWN;
}
