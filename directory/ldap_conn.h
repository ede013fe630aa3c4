/* One LDAP connection to one domain, every step bounded by the domain's timeout. */
#ifndef DIRD_LDAP_CONN_H
#define DIRD_LDAP_CONN_H

#include <ldap.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "config.h"
#include "password_result.h"
#include "sid.h"

/* The longest uri we use, with its NUL. */
#define DIR_MAX_URI 1024

struct ldap_conn {
	LDAP *ld;
	const struct dir_domain *domain;
	char server[DIR_MAX_URI]; /* the uri that answered */
	bool have_domain_sid;	  /* AD: domain_sid read from the base entry (fetch_ad.c) */
	struct sid domain_sid;
	/* When set (after ldap_conn_open, which clears it) and true, a paged search ends before
	 * its next page with "stopped": a reload ends a refresh so (dird/refresh.c). */
	const atomic_bool *stop;
};

/* Connects and binds to the first uri that answers: `prefer` (the one that answered last, may
 * be NULL or empty) first, then the domain's uris in order, each bounded by the domain's
 * timeout.  Binds anonymously without bind_dn, else with a simple bind with the password file,
 * which is read, used and wiped each time.  -1 with err set (the last uri's failure). */
int ldap_conn_open(struct ldap_conn *c, const struct dir_domain *d, const char *prefer,
		   char *err, size_t errlen);
/* The uris to try, space-separated: the domain's, or those DNS SRV records name now. */
int ldap_conn_uris(const struct dir_domain *d, char *out, size_t outlen, char *err, size_t errlen);
/* A new handle for uri with the domain's timeouts and TLS (StartTLS when tls = starttls),
 * connected; NULL with err set (for a refused certificate, why). */
LDAP *ldap_conn_connect(const struct dir_domain *d, const char *uri, char *err, size_t errlen);
/* How what is sent over a connection stays private, decided on the connection itself, never on
 * the text of its uri: TLS in place, or a peer on this host (a loopback address, or a Unix socket:
 * ldapi://), or neither (clear text to another host).  `peer` gets the address connected to. */
enum conn_privacy { CONN_TLS, CONN_LOCAL, CONN_CLEAR };
enum conn_privacy ldap_conn_privacy(LDAP *ld, char *peer, size_t peerlen);

/* Binds c->ld as the domain says: simple with bind_dn, else not at all (anonymous).  A simple
 * bind's password goes in clear text to another host only with allow_insecure_bind. */
int ldap_conn_bind(struct ldap_conn *c, char *err, size_t errlen);
/* Reads the base entry: proof the directory answers searches. */
int ldap_conn_read_base(struct ldap_conn *c, char *err, size_t errlen);
void ldap_conn_close(struct ldap_conn *c);

/* Checks a user's password with a simple bind as `dn` on a new connection to the server `c`
 * answered from, asking the password policy overlay for its verdict; bounded by the domain's
 * timeout.  The caller never passes an empty password.  Refuses to send it in clear text to
 * another host (ldap_conn_privacy), whatever the options.  PASSWORD_ERROR has err set. */
enum password_result ldap_conn_bind_user(const struct ldap_conn *c, const char *dn,
					 const char *password, char *err, size_t errlen);

/* Changes a user's password with the Password Modify extended operation (RFC 3062), bound as
 * the user with the old one.  An empty new password only checks that the old one binds.
 * PASSWORD_DENIED with msg for the user (wrong old password, or the server's policy refused
 * the new one). */
enum password_result ldap_conn_change_password(const struct ldap_conn *c, const char *dn,
					       const char *old_password,
					       const char *new_password, char *msg,
					       size_t msglen, char *err, size_t errlen);

typedef int (*ldap_entry_fn)(LDAP *ld, LDAPMessage *entry, void *arg);

/* A search in pages of the domain's page_size; calls fn for every entry (referrals are
 * skipped; a base that does not exist is no entries).  0 on success; -1 with err set, and the
 * connection closed when it broke. */
int ldap_conn_search(struct ldap_conn *c, const char *base, enum dir_scope scope,
		     const char *filter, const char *const *attrs, ldap_entry_fn fn, void *arg,
		     char *err, size_t errlen);
/* The same with one more request control (AD's Show Deleted), which may be NULL. */
int ldap_conn_search_ctrl(struct ldap_conn *c, const char *base, enum dir_scope scope,
			  const char *filter, const char *const *attrs, LDAPControl *extra,
			  ldap_entry_fn fn, void *arg, char *err, size_t errlen);
/* LDAP_SCOPE_SUBTREE, _ONELEVEL or _BASE. */
int ldap_conn_scope(enum dir_scope scope);

#endif
