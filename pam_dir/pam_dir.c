/* pam_dir: authentication and account checks for directory users, through dird.  Users in
 * /etc/passwd are not ours: every phase answers PAM_USER_UNKNOWN (or PAM_IGNORE) for them at
 * once, so local logins never depend on dird; the one exception is authentication when a realm
 * serves local users (local_users = yes), for user accounts (dir_krb5_local_uid): then dird
 * checks the password with the realm's KDC.  No libldap here: dird does the talking. */
#define PAM_SM_AUTH
#define PAM_SM_ACCOUNT
#define PAM_SM_PASSWORD
#include <errno.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "local_accounts.h"
#include "pam_dir.h"
#include "secret.h"

/* pam data: set by authenticate for acct_mgmt and setcred of the same handle. */
#define DATA_AUTHENTICATED "pam_dir_authenticated"
#define DATA_MUST_CHANGE "pam_dir_must_change"

/* The password: an earlier module's (use_first_pass, try_first_pass) or asked for now and kept
 * for the modules after us. */
static int get_password(pam_handle_t *pamh, const struct pam_dir_options *o, const char **out)
{
	const void *tok = NULL;
	if (o->use_first_pass || o->try_first_pass)
		pam_get_item(pamh, PAM_AUTHTOK, &tok);
	if (!tok && o->use_first_pass)
		return PAM_AUTHTOK_RECOVERY_ERR;
	if (!tok) {
		char *answer = NULL;
		int rc = pam_prompt(pamh, PAM_PROMPT_ECHO_OFF, &answer, "Password: ");
		if (rc != PAM_SUCCESS || !answer) {
			secret_free(answer);
			return rc == PAM_SUCCESS ? PAM_CONV_ERR : rc;
		}
		rc = pam_set_item(pamh, PAM_AUTHTOK, answer);
		secret_free(answer);
		if (rc != PAM_SUCCESS || pam_get_item(pamh, PAM_AUTHTOK, &tok) != PAM_SUCCESS || !tok)
			return PAM_AUTHTOK_RECOVERY_ERR;
	}
	*out = tok;
	return PAM_SUCCESS;
}

/* True when `user` is in /etc/passwd: such a user is pam_unix's, never ours, and its login
 * must not depend on dird.  So is anyone when the file cannot be read whole. */
bool pam_dir_is_local_user(pam_handle_t *pamh, const char *user)
{
	char err[512];
	int local = local_user_lookup(LOCAL_PASSWD_FILE, user, err, sizeof(err));
	if (local < 0)
		pam_syslog(pamh, LOG_ERR, "%s: %s counts as a local user", err, user);
	return local != 0;
}

static void set_flag(pam_handle_t *pamh, const char *name)
{
	/* Any non-NULL pointer will do; nothing to free. */
	pam_set_data(pamh, name, (void *)name, NULL);
}

static bool has_flag(pam_handle_t *pamh, const char *name)
{
	const void *v = NULL;
	return pam_get_data(pamh, name, &v) == PAM_SUCCESS && v;
}

static void tell_user(pam_handle_t *pamh, int flags, const char *msg)
{
	if (*msg && !(flags & PAM_SILENT))
		pam_error(pamh, "%s", msg);
}

static int new_password(pam_handle_t *pamh, const struct pam_dir_options *o, const char **out);

/* A KDC said the password has expired, and nothing proves that KDC is the realm's until tickets
 * for a new password are verified with the host keytab: so the change is made now, and the login
 * succeeds only when dird has verified the new password (its tickets come back as a login's). */
static int change_at_login(pam_handle_t *pamh, int flags, const struct dir_module_config *cfg,
			   const char *user, const char *password, struct buf *tickets)
{
	char *old = strdup(password); /* PAM_AUTHTOK becomes the new password */
	if (!old)
		return PAM_BUF_ERR;
	const struct pam_dir_options always_ask = { 0 }; /* PAM_AUTHTOK is the old password */
	const char *new = NULL;
	int rc = new_password(pamh, &always_ask, &new);
	if (rc == PAM_SUCCESS && !strcmp(new, old)) {
		/* also what a conversation that answers every prompt with the password says */
		pam_error(pamh, "The new password must differ from the expired one.");
		rc = PAM_AUTH_ERR;
	} else if (rc == PAM_SUCCESS) {
		char msg[256];
		enum dir_pam_result r = pam_dir_ask(pamh, cfg, DIR_OP_PAM_CHAUTHTOK, user, old, new,
						    msg, sizeof(msg), tickets);
		tell_user(pamh, flags, msg);
		rc = r == DIR_PAM_OK ? PAM_SUCCESS : r == DIR_PAM_UNAVAIL ? PAM_AUTHINFO_UNAVAIL :
									     PAM_AUTH_ERR;
	} else if (rc == PAM_AUTHTOK_ERR) {
		rc = PAM_AUTH_ERR; /* the two did not match, or were empty */
	}
	secret_free(old);
	return rc;
}

/* A user of /etc/passwd is pam_unix's, unless a realm serves local users (local_users = yes):
 * then dird checks the password with its KDC, verified with the host keytab, and a user with a
 * principal there logs in with tickets; one without gets PAM_USER_UNKNOWN from dird.  Never
 * root or a system account, and without such a realm nothing is asked of dird. */
static int local_kerberos(pam_handle_t *pamh, int flags, const struct pam_dir_options *o,
			  const struct dir_module_config *cfg, const char *user)
{
	if (!cfg->krb5_local_realms || !local_user_kerberos_allowed(user))
		return PAM_USER_UNKNOWN;
	const char *password = NULL;
	int rc = get_password(pamh, o, &password);
	if (rc != PAM_SUCCESS)
		return rc;
	if (!*password)
		return PAM_AUTH_ERR;
	char msg[256];
	struct buf tickets;
	buf_init(&tickets, 1u << 20);
	enum dir_pam_result r = pam_dir_ask(pamh, cfg, DIR_OP_PAM_AUTH, user, password, NULL, msg,
					    sizeof(msg), &tickets);
	if (o->debug)
		pam_syslog(pamh, LOG_DEBUG, "auth for local user %s with Kerberos: result %d", user,
			   (int)r);
	if (r == DIR_PAM_OK) {
		pam_dir_keep_tickets(pamh, &tickets);
		set_flag(pamh, DATA_AUTHENTICATED);
	}
	buf_free_wipe(&tickets);
	if (r != DIR_PAM_OK)
		tell_user(pamh, flags, msg);
	return r == DIR_PAM_OK ? PAM_SUCCESS : r == DIR_PAM_UNKNOWN ? PAM_USER_UNKNOWN :
	       r == DIR_PAM_UNAVAIL ? PAM_AUTHINFO_UNAVAIL : PAM_AUTH_ERR;
}

PAM_EXPORT int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct pam_dir_options o;
	pam_dir_parse_options(pamh, argc, argv, &o);
	if (o.apikey) /* local and directory users alike */
		return pam_dir_apikey_auth(pamh, &o);
	const char *user = pam_dir_user(pamh);
	if (!user)
		return PAM_USER_UNKNOWN;
	struct dir_module_config cfg;
	pam_dir_load_config(pamh, &cfg);
	if (pam_dir_is_local_user(pamh, user))
		return local_kerberos(pamh, flags, &o, &cfg, user);
	const char *password = NULL;
	int rc = get_password(pamh, &o, &password);
	if (rc != PAM_SUCCESS)
		return rc;
	if (!*password)
		return PAM_AUTH_ERR; /* never to the directory: an empty bind "succeeds" */
	char msg[256];
	struct buf tickets;
	buf_init(&tickets, 1u << 20);
	enum dir_pam_result r = pam_dir_ask(pamh, &cfg, DIR_OP_PAM_AUTH, user, password, NULL, msg,
					    sizeof(msg), &tickets);
	if (o.debug)
		pam_syslog(pamh, LOG_DEBUG, "auth for %s: result %d", user, (int)r);
	if (r == DIR_PAM_CHANGE_FIRST) {
		tell_user(pamh, flags, msg);
		rc = change_at_login(pamh, flags, &cfg, user, password, &tickets);
		if (rc == PAM_SUCCESS) {
			pam_dir_keep_tickets(pamh, &tickets);
			set_flag(pamh, DATA_AUTHENTICATED);
		}
		buf_free_wipe(&tickets);
		return rc;
	}
	if (r == DIR_PAM_OK)
		pam_dir_keep_tickets(pamh, &tickets);
	buf_free_wipe(&tickets);
	switch (r) {
	case DIR_PAM_NEW_AUTHTOK:
		/* The password is right; acct_mgmt asks for a new one, as PAM expects. */
		set_flag(pamh, DATA_MUST_CHANGE);
		/* fall through */
	case DIR_PAM_OK:
		set_flag(pamh, DATA_AUTHENTICATED);
		return PAM_SUCCESS;
	case DIR_PAM_UNKNOWN:
		return PAM_USER_UNKNOWN;
	case DIR_PAM_UNAVAIL:
		return PAM_AUTHINFO_UNAVAIL;
	case DIR_PAM_DISABLED:
	case DIR_PAM_EXPIRED:
		/* AD refused a right password (disabled, expired): say why, but no login. */
		tell_user(pamh, flags, msg);
		return PAM_AUTH_ERR;
	default:
		/* a refusal says why only when dird has a reason for the user (an expired password
		 * that cannot be changed here) */
		tell_user(pamh, flags, msg);
		return PAM_AUTH_ERR;
	}
}

PAM_EXPORT int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)argc, (void)argv;
	if (!has_flag(pamh, DATA_AUTHENTICATED))
		return PAM_IGNORE;
	if (flags & PAM_DELETE_CRED) {
		pam_dir_drop_tickets(pamh);
		return PAM_SUCCESS;
	}
	int rc = pam_dir_store_tickets(pamh);
	pam_dir_session_tickets(pamh); /* a session opened before setcred */
	return rc;
}

PAM_EXPORT int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct pam_dir_options o;
	pam_dir_parse_options(pamh, argc, argv, &o);
	const char *user = pam_dir_user(pamh);
	if (!user || pam_dir_is_local_user(pamh, user))
		return PAM_USER_UNKNOWN;
	struct dir_module_config cfg;
	pam_dir_load_config(pamh, &cfg);
	char msg[256];
	enum dir_pam_result r = pam_dir_ask(pamh, &cfg, DIR_OP_PAM_ACCOUNT, user, NULL, NULL, msg,
					    sizeof(msg), NULL);
	if (o.debug)
		pam_syslog(pamh, LOG_DEBUG, "account for %s: result %d", user, (int)r);
	if (r == DIR_PAM_OK && has_flag(pamh, DATA_MUST_CHANGE)) {
		r = DIR_PAM_NEW_AUTHTOK;
		strcpy(msg, "You are required to change your password immediately.");
	}
	tell_user(pamh, flags, msg);
	switch (r) {
	case DIR_PAM_OK: return PAM_SUCCESS;
	case DIR_PAM_UNKNOWN: return PAM_USER_UNKNOWN;
	case DIR_PAM_NEW_AUTHTOK: return PAM_NEW_AUTHTOK_REQD;
	case DIR_PAM_EXPIRED: return PAM_ACCT_EXPIRED;
	case DIR_PAM_UNAVAIL: return PAM_AUTHINFO_UNAVAIL;
	default: return PAM_PERM_DENIED;
	}
}

/* A password (old, or new twice) from the user; kept as the PAM item for later modules. */
static int ask_password(pam_handle_t *pamh, int item, const char *prompt, const char **out)
{
	char *answer = NULL;
	int rc = pam_prompt(pamh, PAM_PROMPT_ECHO_OFF, &answer, "%s", prompt);
	if (rc != PAM_SUCCESS || !answer) {
		secret_free(answer);
		return rc == PAM_SUCCESS ? PAM_CONV_ERR : rc;
	}
	rc = pam_set_item(pamh, item, answer);
	secret_free(answer);
	const void *v = NULL;
	if (rc != PAM_SUCCESS || pam_get_item(pamh, item, &v) != PAM_SUCCESS || !v)
		return PAM_AUTHTOK_RECOVERY_ERR;
	*out = v;
	return PAM_SUCCESS;
}

static int new_password(pam_handle_t *pamh, const struct pam_dir_options *o, const char **out)
{
	const void *tok = NULL;
	if (o->use_first_pass) {
		/* use_authtok: an earlier module (pam_pwquality) asked and checked it. */
		if (pam_get_item(pamh, PAM_AUTHTOK, &tok) != PAM_SUCCESS || !tok)
			return PAM_AUTHTOK_ERR;
		*out = tok;
		return PAM_SUCCESS;
	}
	char *first = NULL, *again = NULL;
	int rc = pam_prompt(pamh, PAM_PROMPT_ECHO_OFF, &first, "New password: ");
	if (rc == PAM_SUCCESS && first)
		rc = pam_prompt(pamh, PAM_PROMPT_ECHO_OFF, &again, "Retype new password: ");
	if (rc == PAM_SUCCESS && (!first || !again))
		rc = PAM_CONV_ERR;
	if (rc == PAM_SUCCESS && strcmp(first, again)) {
		pam_error(pamh, "Sorry, passwords do not match.");
		rc = PAM_AUTHTOK_ERR;
	}
	if (rc == PAM_SUCCESS && !*first) {
		pam_error(pamh, "No password has been supplied.");
		rc = PAM_AUTHTOK_ERR;
	}
	if (rc == PAM_SUCCESS)
		rc = pam_set_item(pamh, PAM_AUTHTOK, first);
	secret_free(first);
	secret_free(again);
	if (rc == PAM_SUCCESS && (pam_get_item(pamh, PAM_AUTHTOK, &tok) != PAM_SUCCESS || !tok))
		rc = PAM_AUTHTOK_ERR;
	if (rc == PAM_SUCCESS)
		*out = tok;
	return rc;
}

/* The first pass (PAM_PRELIM_CHECK) gets the current password and asks dird whether the change
 * is allowed; the second (PAM_UPDATE_AUTHTOK) gets the new one and makes the change.  Local
 * users are pam_unix's. */
PAM_EXPORT int pam_sm_chauthtok(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct pam_dir_options o;
	pam_dir_parse_options(pamh, argc, argv, &o);
	const char *user = pam_dir_user(pamh);
	if (!user || pam_dir_is_local_user(pamh, user))
		return PAM_IGNORE;
	struct dir_module_config cfg;
	pam_dir_load_config(pamh, &cfg);
	char msg[256] = "";
	const void *old = NULL;
	const char *new = "";
	int rc = PAM_SUCCESS;
	/* libpam forgets the login's password when pam_authenticate returns: asked again, as
	 * pam_unix does, unless an earlier module of this stack has it. */
	pam_get_item(pamh, PAM_OLDAUTHTOK, &old);
	if (!old && (flags & PAM_PRELIM_CHECK))
		rc = ask_password(pamh, PAM_OLDAUTHTOK, "Current password: ", (const char **)&old);
	if (rc == PAM_SUCCESS && !old)
		rc = PAM_AUTHTOK_RECOVERY_ERR;
	if (rc == PAM_SUCCESS && (flags & PAM_UPDATE_AUTHTOK))
		rc = new_password(pamh, &o, &new);
	if (rc != PAM_SUCCESS)
		return rc;
	enum dir_pam_result r = pam_dir_ask(pamh, &cfg, DIR_OP_PAM_CHAUTHTOK, user, old, new, msg,
					    sizeof(msg), NULL);
	tell_user(pamh, flags, msg);
	switch (r) {
	case DIR_PAM_OK:
		if (flags & PAM_UPDATE_AUTHTOK)
			pam_set_data(pamh, DATA_MUST_CHANGE, NULL, NULL);
		return PAM_SUCCESS;
	case DIR_PAM_UNKNOWN: return PAM_IGNORE;
	case DIR_PAM_UNAVAIL: return PAM_TRY_AGAIN;
	case DIR_PAM_NOT_ALLOWED: return PAM_PERM_DENIED;
	default: return PAM_AUTHTOK_ERR;
	}
}
