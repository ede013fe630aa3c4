/* Whether a directory account may log in now, from the state attributes of its entry:
 * shadowAccount (RFC 2307), the password policy overlay (ppolicy) and 389-DS / FreeIPA. */
#ifndef DIRD_ACCOUNT_POLICY_H
#define DIRD_ACCOUNT_POLICY_H

#include <ldap.h>
#include <stdbool.h>
#include <stddef.h>

#include "protocol.h"

/* The attributes account_state_read looks at. */
#define ACCOUNT_STATE_ATTRS "shadowExpire", "shadowLastChange", "shadowMax", \
	"pwdAccountLockedTime", "pwdReset", "nsAccountLock"

struct account_state {
	bool disabled;		/* nsAccountLock: TRUE */
	bool locked;		/* pwdAccountLockedTime is set */
	bool reset;		/* pwdReset: TRUE (an administrator set the password) */
	long long expire_day;	/* shadowExpire, days since 1970-01-01; -1: never */
	long long last_change;	/* shadowLastChange, days; -1: unknown, 0: must change */
	long long max_days;	/* shadowMax; -1: no maximum */
};

/* Reads the state from an entry; a missing or malformed value counts as not set. */
void account_state_read(LDAP *ld, LDAPMessage *e, struct account_state *s);

/* DIR_PAM_OK, DIR_PAM_DISABLED, DIR_PAM_EXPIRED or DIR_PAM_NEW_AUTHTOK, and a message for the
 * user in msg.  `today` is days since 1970-01-01. */
enum dir_pam_result account_check(const struct account_state *s, long long today, char *msg,
				  size_t msglen);

#endif
