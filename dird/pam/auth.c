/* The auth phase: a directory user's password checked by the domain (a bind as the user, or
 * the KDC verified with the host keytab), or against the hash cached at the last online login
 * while the directory is offline.  An unknown user is answered no sooner than a wrong password
 * would be. */
#include <stdio.h>
#include <time.h>

#include "offline_passwords.h"
#include "krb5_auth.h"
#include "log.h"
#include "pam_phases.h"

enum password_result pam_check_password(struct dird *d, struct pam_request *r,
					const struct pam_entry *e, const char *password,
					char *err, size_t errlen)
{
	const struct dir_domain *dom = e->conn->domain;
	const struct krb5_target t = krb5_domain_target(dom);
	return dom->auth == DIR_AUTH_KRB5 ?
		       krb5_check_password(&d->cfg, &t, krb5_domain_user(dom, r->user), password,
					   d->cfg.run_dir, &r->ccache, err, errlen) :
		       ldap_conn_bind_user(e->conn, e->dn, password, err, errlen);
}

static long long now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The longest a password check is padded to: a slow directory must not make a refusal slow. */
#define MAX_PAD_US 2000000LL

/* A moving average of domain i's password checks (a bind, or the KDC), so that an unknown user
 * can be answered no sooner than a wrong password would be. */
static void remember_check_time(struct dird *d, size_t i, long long us)
{
	pthread_mutex_lock(&d->lock);
	long long *avg = &d->domains[i].check_us;
	*avg = *avg ? (*avg * 7 + us) / 8 : us;
	pthread_mutex_unlock(&d->lock);
}

/* An unknown user's password is not checked; waiting as long as a check takes, after the same
 * search a known user gets, keeps the answer from telling an unknown user from a wrong
 * password. */
static void pad_unknown(struct dird *d)
{
	long long longest = 0;
	pthread_mutex_lock(&d->lock);
	for (size_t i = 0; i < d->cfg.n_domains; i++)
		if (d->domains[i].check_us > longest)
			longest = d->domains[i].check_us;
	pthread_mutex_unlock(&d->lock);
	long long left = longest < MAX_PAD_US ? longest : MAX_PAD_US;
	if (left > 0) {
		struct timespec ts = { left / 1000000, (left % 1000000) * 1000 };
		nanosleep(&ts, NULL);
	}
}

/* The password was right, but the domain refused the login (AD: disabled, expired): the user
 * may know why. */
static enum dir_pam_result refused_account(const struct pam_entry *e, struct pam_request *r)
{
	enum dir_pam_result res = pam_account_state(e, r);
	if (res == DIR_PAM_OK) {
		snprintf(r->msg, sizeof(r->msg), "Your account may not log in now; contact your "
						 "administrator.");
		res = DIR_PAM_DISABLED;
	}
	return res;
}

static int answer(struct dird *d, struct pam_request *r, const struct pam_entry *e, char *err,
		  size_t errlen)
{
	const struct dir_domain *dom = e->conn->domain;
	if (!e->dn) {
		if (d->cfg.cache_credentials)
			offline_password_forget(d->cfg.cache_dir, r->user);
		return DIR_PAM_UNKNOWN;
	}
	r->path = dom->auth == DIR_AUTH_KRB5 ? "Kerberos (the KDC verified with the host key)" :
					       "LDAP bind as the user";
	long long started = now_us();
	enum password_result checked = pam_check_password(d, r, e, r->password, err, errlen);
	remember_check_time(d, e->domain, now_us() - started);
	switch (checked) {
	case PASSWORD_OK:
		if (d->cfg.cache_credentials)
			offline_password_remember(d->cfg.cache_dir, r->user, r->password);
		return DIR_PAM_OK;
	case PASSWORD_MUST_CHANGE:
		return DIR_PAM_NEW_AUTHTOK;
	case PASSWORD_EXPIRED_UNPROVEN:
		snprintf(r->why, sizeof(r->why), "the password has expired");
		/* No login on this answer alone: only a change, verified, logs in. */
		snprintf(r->msg, sizeof(r->msg), "%s", dom->allow_password_change ?
			 "Your password has expired; choose a new one to log in." :
			 "Your password has expired and cannot be changed on this host; ask your "
			 "directory administrator.");
		return dom->allow_password_change ? DIR_PAM_CHANGE_FIRST : DIR_PAM_DENIED;
	case PASSWORD_UNKNOWN: /* in the directory, not at the KDC: a refusal like any */
		snprintf(r->why, sizeof(r->why), "no such principal at the KDC");
		/* fall through */
	case PASSWORD_DENIED:
		/* ppolicy (and AD, locked out) refuses a locked entry's bind before it looks at
		 * the password: the log says so, the user gets the refusal any wrong password
		 * gets. */
		r->locked = e->state->locked;
		return DIR_PAM_DENIED;
	case PASSWORD_ACCOUNT_REFUSED:
		return refused_account(e, r);
	case PASSWORD_ERROR:
		break;
	}
	snprintf(r->why, sizeof(r->why), "%s", err);
	log_error("%s: cannot check %s's password: %s", dom->name, r->user, err);
	return DIR_PAM_UNAVAIL;
}

/* No domain could be asked: the password the user last logged in with, if cache_credentials
 * keeps them. */
static enum dir_pam_result offline(struct dird *d, struct pam_request *r)
{
	r->path = "the password cached at the last login (no domain could be asked)";
	if (!d->cfg.cache_credentials) {
		snprintf(r->why, sizeof(r->why), "cache_credentials is off");
		return DIR_PAM_UNAVAIL;
	}
	switch (offline_password_check(d->cfg.cache_dir, r->user, r->password,
				 d->cfg.offline_credentials_expiration)) {
	case OFFLINE_PASSWORD_MATCH:
		r->offline = true;
		return DIR_PAM_OK;
	case OFFLINE_PASSWORD_MISMATCH:
		return DIR_PAM_DENIED;
	default:
		snprintf(r->why, sizeof(r->why), "no cached password, or older than "
			 "offline_credentials_expiration");
		return DIR_PAM_UNAVAIL;
	}
}

const struct pam_phase pam_auth = { DIR_OP_PAM_AUTH, "auth", answer, offline, pad_unknown };
