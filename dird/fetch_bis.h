/* Single lookups in an RFC 2307bis directory: a user's groups through nesting, a group's users
 * through nesting.  (A full refresh resolves nesting in memory instead: nesting.h.) */
#ifndef DIRD_FETCH_BIS_H
#define DIRD_FETCH_BIS_H

#include "ldap_conn.h"
#include "local_accounts.h"
#include "nesting.h"
#include "record.h"

/* A group lookup reads at most this many member entries; beyond, the next refresh fills in. */
#define MAX_MEMBER_READS 5000

/* The user entry's memberOf values (servers with a memberOf overlay, AD), normalized. */
int fetch_bis_member_of(LDAP *ld, LDAPMessage *e, struct dn_list *out);

/* Adds to u->groups the gids of the groups the user is in: those memberOf names that a search of
 * group_base finds or, without memberOf, those with member=<user_dn>; then their parents,
 * MAX_NESTING levels up at most. */
int fetch_bis_user_groups(struct ldap_conn *c, const char *user_dn, const struct dn_list *member_of,
			  struct dir_user *u, char *err, size_t errlen);

/* Sets g->members to the names of the users among member_dns and, through member groups,
 * theirs (MAX_NESTING deep, cycles tolerated). */
int fetch_bis_group_members(struct ldap_conn *c, const struct local_accounts *local,
			    const struct dn_list *member_dns, struct dir_group *g, char *err,
			    size_t errlen);

#endif
