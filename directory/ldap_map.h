/* RFC 2307 (and 2307bis) entries to records, through the domain's attribute map: every value
 * from the server is checked before use. */
#ifndef DIRD_LDAP_MAP_H
#define DIRD_LDAP_MAP_H

#include <ldap.h>

#include "config.h"
#include "record.h"

#include "nesting.h"

#define MAP_MAX_ATTRS 24

/* The attributes to ask for a user (the mapped ones, cn for a missing gecos, the SSH keys, then
 * `extra`, which ends with NULL) and for a group (its name, gid and objectSid with AD, then its
 * member attributes); ldap_map_group_id_attrs leaves the members out.  `out` holds
 * MAP_MAX_ATTRS. */
void ldap_map_user_attrs(const struct dir_domain *d, const char **out, const char *const *extra);
void ldap_map_group_attrs(const struct dir_domain *d, const char **out);
void ldap_map_group_id_attrs(const struct dir_domain *d, const char **out);

/* MAP_SKIP: the entry is not one we can serve (a missing or malformed name or id, or an AD id
 * outside idmap_range).  MAP_REFUSED: it is well-formed but must never be served, and says so in
 * the log: an id below min_id (a user's primary gid included), or a name that would take a
 * home_template path out of its directory. */
enum map_result { MAP_OK, MAP_SKIP, MAP_REFUSED, MAP_NOMEM };

/* MAP_SKIP or MAP_REFUSED with `why` set for an entry that cannot be served. */
enum map_result ldap_map_user(LDAP *ld, LDAPMessage *e, const struct dir_domain *d,
			      struct dir_user *u, char *why, size_t whylen);
/* The names in memberUid go to g->members; the DNs in the other member attributes go to `dns`
 * (when not NULL), for the caller to resolve (nesting.h, fetch_members.h). */
enum map_result ldap_map_group(LDAP *ld, LDAPMessage *e, const struct dir_domain *d,
			       struct dir_group *g, struct dn_list *dns, char *why, size_t whylen);

/* Expands home_template into *out: %U user, %D domain, %u uid, %% percent.  MAP_REFUSED when
 * the user's name would leave the template's directory (it holds '/' or "..", or is "."). */
enum map_result ldap_map_home(const char *tmpl, const char *user, const char *domain, uint32_t uid,
			      char **out);

#endif
