/* Whether a directory account may log in now, from the state attributes of its entry:
 * shadowAccount (RFC 2307), the password policy overlay (ppolicy), 389-DS / FreeIPA and Active
 * Directory (userAccountControl and the rest). */
#ifndef DIRD_ACCOUNT_POLICY_H
#define DIRD_ACCOUNT_POLICY_H

#include <ldap.h>
#include <stdbool.h>
#include <stddef.h>

/* The attributes account_state_read looks at. */
#define ACCOUNT_STATE_ATTRS "shadowExpire", "shadowLastChange", "shadowMax", \
	"pwdAccountLockedTime", "pwdReset", "nsAccountLock", "userAccountControl", \
	"msDS-User-Account-Control-Computed", "accountExpires", "pwdLastSet"

struct account_state {
	bool disabled;		/* nsAccountLock: TRUE; AD: userAccountControl ACCOUNTDISABLE */
	bool locked;		/* pwdAccountLockedTime is set; AD: LOCKOUT */
	bool reset;		/* pwdReset: TRUE (an administrator set the password); AD:
				 * pwdLastSet 0 */
	long long expire_day;	/* shadowExpire, days since 1970-01-01; -1: never */
	long long last_change;	/* shadowLastChange, days; -1: unknown, 0: must change */
	long long max_days;	/* shadowMax; -1: no maximum */
	long long expires_at;	/* AD accountExpires as a unix time; 0: never */
	bool password_expired;	/* AD: PASSWORD_EXPIRED (older than the domain's maximum age) */
};

/* An AD time (100 ns intervals since 1601: accountExpires, pwdLastSet) as a unix time; 0 for
 * 0 and for "never" (0x7fffffffffffffff); a time before 1970 is 1. */
long long ad_time_to_unix(long long nt);

/* Reads the state from an entry; a missing or malformed value counts as not set. */
void account_state_read(LDAP *ld, LDAPMessage *e, struct account_state *s);

enum account_verdict {
	ACCOUNT_OK,
	ACCOUNT_DISABLED,	/* disabled or locked */
	ACCOUNT_EXPIRED,
	ACCOUNT_MUST_CHANGE,	/* its password must be changed now */
};

/* Whether the account may log in at `now` (a unix time), with a message for the user in msg. */
enum account_verdict account_check(const struct account_state *s, long long now, char *msg,
				   size_t msglen);

#endif
