/* What a slapd holds of its naming context's changes: the contextCSN values of the suffix entry
 * (one per provider, serverID, in a multi-provider pair; syncprov keeps them), against which an
 * RFC 4533 position is compared (sync_cookie_held). */
#ifndef DIR_CONTEXT_CSN_H
#define DIR_CONTEXT_CSN_H

#include <ldap.h>

/* The contextCSN values of the naming context that holds base, read on ld within timeout
 * seconds: NULL-ended (ldap_value_free_len), NULL when the server shows none (no syncprov, an ACL, a
 * base in no naming context it lists) or out of memory. */
struct berval **context_csn_read(LDAP *ld, unsigned timeout, const char *base);

#endif
