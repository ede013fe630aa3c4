/* Password checks against a Kerberos KDC, verified with the host keytab. */
#ifndef DIRD_KRB5_AUTH_H
#define DIRD_KRB5_AUTH_H

#include "buf.h"
#include "config.h"
#include "ldap_conn.h"

/* Gets initial credentials for user@krb5_realm with the password, then proves the KDC is the
 * realm's own with a ticket for a key in krb5_keytab (krb5_verify_init_creds): a KDC that knows
 * the password but not the host's key logs nobody in.  On USER_BIND_OK, `ccache` holds the
 * user's tickets as the bytes of a FILE ticket cache, for pam_dir to hand to the user.  An
 * expired password that is right gives USER_BIND_MUST_CHANGE.  `scratch_dir` is a root-only
 * directory for the moment the cache exists as a file. */
enum user_bind_result krb5_check_password(const struct dir_config *cfg,
					  const struct dir_domain *dom, const char *user,
					  const char *password, const char *scratch_dir,
					  struct buf *ccache, char *err, size_t errlen);

/* Changes user@krb5_realm's password through the realm's password-change service (kpasswd),
 * with a kadmin/changepw ticket from the old password.  An empty new password only checks the
 * old one.  USER_BIND_DENIED with msg for the user. */
enum user_bind_result krb5_change_user_password(const struct dir_config *cfg,
						const struct dir_domain *dom, const char *user,
						const char *old_password, const char *new_password,
						char *msg, size_t msglen, char *err, size_t errlen);

#endif
