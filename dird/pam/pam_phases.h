/* The PAM phases dird answers, one file each (rra/pam-krb5's layout): auth.c checks passwords,
 * account.c whether an account may log in now, password.c changes passwords.  pam_request.c
 * reads a request, finds the user's entry in the domains that may hold it and hands it to its
 * phase, or to the phase's answer without the directory when no domain could be asked. */
#ifndef DIRD_PAM_PHASES_H
#define DIRD_PAM_PHASES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "account_policy.h"
#include "buf.h"
#include "dird.h"
#include "ldap_conn.h"
#include "local_accounts.h"
#include "protocol.h"

struct pam_phase;

struct pam_request {
	const struct pam_phase *phase;
	const char *user, *service, *rhost, *password;
	const char *new_password;	/* DIR_OP_PAM_CHAUTHTOK; "" only checks */
	char canonical[DIR_MAX_NAME + 1];	/* user as served (an AD name in another form) */
	bool offline;		/* answered from cached credentials */
	bool locked;		/* refused for the entry's lock, not for the password */
	char msg[256];		/* for the user */
	struct buf ccache;	/* auth = krb5: the user's tickets, as a FILE cache's bytes */
	char where[200];	/* "service sshd from 10.1.2.3", for the log */
	const char *path;	/* how it was judged, for the log ("LDAP bind as the user"); NULL */
	char path_domain[120];	/* the domain path names, for the log */
	char why[600];		/* why, beyond the result, for the log (never a secret) */
};

/* The user's entry, as domain `domain` (connected as conn) has it: dn NULL when it has none. */
struct pam_entry {
	size_t domain;
	struct ldap_conn *conn;
	const char *dn;
	const struct account_state *state;
	const struct local_accounts *local;
};

struct pam_phase {
	uint32_t op;		/* DIR_OP_PAM_AUTH, _ACCOUNT, _CHAUTHTOK */
	const char *name;	/* for the log */
	/* The verdict on the user's entry e (DIR_PAM_UNKNOWN when the domain has none), or -1 when
	 * the directory did not answer (err set). */
	int (*answer)(struct dird *d, struct pam_request *r, const struct pam_entry *e, char *err,
		      size_t errlen);
	/* The verdict when a domain that may have the user could not be asked. */
	enum dir_pam_result (*offline)(struct dird *d, struct pam_request *r);
	/* Every domain that may have the user answered, and none has: what comes before the
	 * DIR_PAM_UNKNOWN (may be NULL). */
	void (*unknown)(struct dird *d);
};

extern const struct pam_phase pam_auth, pam_account, pam_password;

/* auth.c: the domain's own password check, a bind as the user or the KDC verified with the host
 * keytab (the user's tickets then go to r->ccache). */
enum password_result pam_check_password(struct dird *d, struct pam_request *r,
					const struct pam_entry *e, const char *password,
					char *err, size_t errlen);

/* account.c: what the state of the user's entry says now (account_policy.h), as PAM's answer,
 * with its message in r->msg. */
enum dir_pam_result pam_account_state(const struct pam_entry *e, struct pam_request *r);

#endif
