/* The password phase: a directory user's password changed (or, with an empty new password,
 * whether a change would be allowed), with LDAP's Password Modify bound as the user or through
 * the realm's kpasswd.  No change is made while the directory is offline. */
#include <stdio.h>

#include "offline_passwords.h"
#include "krb5_auth.h"
#include "log.h"
#include "pam_phases.h"

/* kpasswd's "done" proves nothing of the KDC that said it (a spoofed one takes any old
 * password): the change counts, and is cached, only once the new password passes the domain's
 * own check. */
static enum dir_pam_result accept_change(struct dird *d, struct pam_request *r,
					 const struct pam_entry *e, bool by_kpasswd, char *err,
					 size_t errlen)
{
	const struct dir_domain *dom = e->conn->domain;
	enum password_result proven = by_kpasswd ?
		pam_check_password(d, r, e, r->new_password, err, errlen) : PASSWORD_OK;
	if (proven != PASSWORD_OK) {
		buf_reset(&r->ccache);
		snprintf(r->msg, sizeof(r->msg), "The new password could not be verified; the change "
						 "is not accepted here.");
		log_error("%s: %s's password change is not accepted: the new password does not pass "
			  "the password check%s%s", dom->name, r->user, *err ? ": " : "", err);
		return proven == PASSWORD_ERROR ? DIR_PAM_UNAVAIL : DIR_PAM_DENIED;
	}
	log_info("%s: %s changed their password", dom->name, r->user);
	if (d->cfg.cache_credentials)
		offline_password_remember(d->cfg.cache_dir, r->user, r->new_password);
	return DIR_PAM_OK;
}

static int answer(struct dird *d, struct pam_request *r, const struct pam_entry *e, char *err,
		  size_t errlen)
{
	if (!e->dn)
		return DIR_PAM_UNKNOWN;
	const struct dir_domain *dom = e->conn->domain;
	if (!dom->allow_password_change) {
		snprintf(r->why, sizeof(r->why), "allow_password_change is off");
		snprintf(r->msg, sizeof(r->msg), "Directory passwords cannot be changed on this host; "
						 "ask your directory administrator.");
		return DIR_PAM_NOT_ALLOWED;
	}
	/* AD has no Password Modify operation: its passwords change through kpasswd. */
	bool by_kpasswd = dom->auth == DIR_AUTH_KRB5 || dom->type == DIR_DOMAIN_AD;
	r->path = by_kpasswd ? "kpasswd" : "LDAP Password Modify bound as the user";
	const struct krb5_target t = krb5_domain_target(dom);
	enum password_result changed =
		by_kpasswd ?
			krb5_change_user_password(&d->cfg, &t, krb5_domain_user(dom, r->user), r->password,
						  r->new_password, r->msg, sizeof(r->msg), err,
						  errlen) :
			ldap_conn_change_password(e->conn, e->dn, r->password, r->new_password, r->msg,
						  sizeof(r->msg), err, errlen);
	switch (changed) {
	case PASSWORD_OK:
	case PASSWORD_MUST_CHANGE:
		return *r->new_password ? accept_change(d, r, e, by_kpasswd, err, errlen) : DIR_PAM_OK;
	case PASSWORD_DENIED:
	case PASSWORD_ACCOUNT_REFUSED:
		if (*err)
			log_info("%s: password change for %s refused: %s", dom->name, r->user, err);
		snprintf(r->why, sizeof(r->why), "%s", *err ? err : "the current password is wrong");
		return DIR_PAM_DENIED;
	default:
		log_error("%s: cannot change %s's password: %s", dom->name, r->user, err);
		return DIR_PAM_UNAVAIL;
	}
}

static enum dir_pam_result offline(struct dird *d, struct pam_request *r)
{
	(void)d, (void)r;
	return DIR_PAM_UNAVAIL;
}

const struct pam_phase pam_password = { DIR_OP_PAM_CHAUTHTOK, "chauthtok", answer, offline, NULL };
