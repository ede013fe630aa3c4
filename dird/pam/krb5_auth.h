/* Password checks against a Kerberos KDC, verified with the host keytab. */
#ifndef DIRD_KRB5_AUTH_H
#define DIRD_KRB5_AUTH_H

#include "buf.h"
#include "config.h"
#include "password_result.h"

/* Where a password is checked: user@realm, the KDC's answer proven with a key of `keytab`;
 * `label` names the domain or realm in the log. */
struct krb5_target {
	const char *realm;
	const char *keytab;
	const char *label;
};

/* A domain's: its krb5_realm, krb5_keytab and name. */
struct krb5_target krb5_domain_target(const struct dir_domain *dom);
/* The name before @REALM in a served user's principal there: the user's, or for AD its
 * sAMAccountName, without the workgroup. */
const char *krb5_domain_user(const struct dir_domain *dom, const char *user);

/* Gets initial credentials for user@realm with the password, then proves the KDC is the
 * realm's own with a ticket for a key in the keytab (krb5_verify_init_creds): a KDC that knows
 * the password but not the host's key logs nobody in.  PASSWORD_UNKNOWN: the KDC has no such
 * principal.  On PASSWORD_OK, `ccache` holds the
 * user's tickets as the bytes of a FILE ticket cache, for pam_dir to hand to the user.  A KDC that
 * says the password has expired (and gives a kadmin/changepw ticket for it) gives
 * PASSWORD_EXPIRED_UNPROVEN: without a TGT nothing proves that KDC is the realm's, so only a
 * new password whose tickets this function then verifies may log in.  `scratch_dir` is a
 * root-only directory for the moment the cache exists as a file. */
enum password_result krb5_check_password(const struct dir_config *cfg,
					 const struct krb5_target *t, const char *user,
					 const char *password, const char *scratch_dir,
					 struct buf *ccache, char *err, size_t errlen);

/* Changes user@realm's password through the realm's password-change service (kpasswd),
 * with a kadmin/changepw ticket from the old password.  An empty new password only checks the
 * old one.  PASSWORD_DENIED with msg for the user.  PASSWORD_OK says only that a KDC took the
 * change: nothing proves it is the realm's until the new password passes a check the domain
 * trusts (pam_request.c). */
enum password_result krb5_change_user_password(const struct dir_config *cfg,
					       const struct krb5_target *t, const char *user,
					       const char *old_password, const char *new_password,
					       char *msg, size_t msglen, char *err, size_t errlen);

#endif
