/* The bodies of dird's requests (libcommon/protocol.h), read with the cursor API: every string
 * is checked and the body must be used exactly.  Pointers point into the body. */
#ifndef DIRD_REQUESTS_H
#define DIRD_REQUESTS_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"

/* DIR_OP_GETPWNAM / GETGRNAM / SSH_KEYS (a valid name) or GETPWUID / GETGRGID (an id). */
struct lookup_query {
	uint32_t op;
	const char *name; /* NULL: by id */
	uint32_t id;
};
bool request_parse_lookup(uint32_t op, const struct buf *body, struct lookup_query *q);

/* DIR_OP_PAM_AUTH, PAM_ACCOUNT, PAM_CHAUTHTOK. */
struct pam_fields {
	const char *user, *service, *rhost;
	const char *password;		/* AUTH and CHAUTHTOK */
	const char *new_password;	/* CHAUTHTOK; "" only checks */
};
bool request_parse_pam(uint32_t op, const struct buf *body, struct pam_fields *f);

#endif
