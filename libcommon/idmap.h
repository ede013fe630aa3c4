/* Active Directory names and ids: names as winbind prints them (WORKGROUP\user), and SIDs to
 * uids and gids as its rid and ad backends map them, inside each domain's idmap_range. */
#ifndef DIR_IDMAP_H
#define DIR_IDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

enum name_form { NAME_BARE, NAME_QUALIFIED };

/* A caller's name as dird serves it: "ADTEST\alice" (a workgroup, any case) or "alice@ad.test"
 * (a realm, any case) of a configured AD domain gives NAME_QUALIFIED, *domain its index and in
 * `out` the name served for it (idmap_served_name); anything else is NAME_BARE with the name as
 * it is in `out`.  -1 when the account part is empty or the name does not fit. */
int idmap_canonical_name(const struct dir_config *c, const char *name, size_t *domain, char *out,
			 size_t cap);

/* The name served for an account of AD domain d: "WORKGROUP\account", or the account alone
 * with use_default_domain.  -1 when it does not fit in cap. */
int idmap_served_name(const struct dir_domain *d, const char *account, char *out, size_t cap);

/* Whether domain d may hold a caller's name of this form: a bare name goes to LDAP domains and
 * to AD domains with use_default_domain; a qualified one only to its own domain. */
bool idmap_domain_takes_name(const struct dir_config *c, size_t d, enum name_form form,
			     size_t name_domain);

/* Whether domain d may hold this uid or gid: LDAP domains any, AD ones only inside their range. */
bool idmap_domain_takes_id(const struct dir_domain *d, uint32_t id);

/* idmap = rid: id = range low + RID, inside the range. */
bool idmap_rid_to_id(const struct dir_domain *d, uint32_t rid, uint32_t *id);
bool idmap_id_to_rid(const struct dir_domain *d, uint32_t id, uint32_t *rid);

/* An AD time (100 ns intervals since 1601: accountExpires, pwdLastSet) as a unix time; 0 for
 * 0 and for "never" (0x7fffffffffffffff); a time before 1970 is 1. */
long long idmap_ad_time(long long nt);

#endif
