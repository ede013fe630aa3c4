/* RFC 2307 entries to records: every value from the server is checked before use. */
#ifndef DIRD_LDAP_MAP_H
#define DIRD_LDAP_MAP_H

#include <ldap.h>

#include "config.h"
#include "record.h"

#define LDAP_USER_ATTRS "uid", "uidNumber", "gidNumber", "gecos", "cn", "homeDirectory", "loginShell"
extern const char *const ldap_user_attrs[];
extern const char *const ldap_group_attrs[];

#define LDAP_USER_CLASS "(objectClass=posixAccount)"
#define LDAP_GROUP_CLASS "(objectClass=posixGroup)"

enum map_result { MAP_OK, MAP_SKIP, MAP_NOMEM };

/* MAP_SKIP (with `why` set) for an entry that cannot be served: a missing or malformed name or
 * id, or an id below the domain's min_id. */
enum map_result ldap_map_user(LDAP *ld, LDAPMessage *e, const struct dir_domain *d,
			      struct dir_user *u, char *why, size_t whylen);
enum map_result ldap_map_group(LDAP *ld, LDAPMessage *e, const struct dir_domain *d,
			       struct dir_group *g, char *why, size_t whylen);

/* Expands home_template: %U user, %D domain, %u uid, %% percent.  NULL when out of memory. */
char *ldap_map_home(const char *tmpl, const char *user, const char *domain, uint32_t uid);

#endif
