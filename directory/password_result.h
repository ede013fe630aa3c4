/* What a password check comes to, whoever checks it: a bind as the user (ldap_conn.h) or the
 * realm's KDC, verified with the host keytab (dird/pam/krb5_auth.h). */
#ifndef DIR_PASSWORD_RESULT_H
#define DIR_PASSWORD_RESULT_H

enum password_result {
	PASSWORD_OK,
	PASSWORD_MUST_CHANGE,	/* right, but it must be changed now */
	PASSWORD_DENIED,	/* wrong (or refused, with a message for the user) */
	/* right, but the account may not log in (AD: disabled or expired) */
	PASSWORD_ACCOUNT_REFUSED,
	PASSWORD_ERROR,		/* the server could not be asked; err says why */
	/* Kerberos: a KDC says the password has expired, and nothing proves that KDC is the
	 * realm's (krb5_auth.h): not a sign the password is right. */
	PASSWORD_EXPIRED_UNPROVEN,
	PASSWORD_UNKNOWN,	/* the KDC has no such principal */
};

#endif
