/* Single lookups of members, by name (memberUid) and by DN (member, uniqueMember, nested
 * groups): a user's groups and a group's users.  They give what a full refresh gives
 * (nesting.h): only users under user_base and groups under group_base (in their scopes) count,
 * groups with a local name are not followed, and a member DN that is none of those is skipped
 * and counted. */
#ifndef DIRD_FETCH_MEMBERS_H
#define DIRD_FETCH_MEMBERS_H

#include "ldap_conn.h"
#include "local_accounts.h"
#include "nesting.h"
#include "record.h"

/* A group lookup reads at most this many member DNs (users a hundred to a search, groups one
 * each: 0.3 s for 5,000 here, where a search each took 1.9 s); beyond, its member list is
 * cut, until a full refresh (enumerate = yes) reads them all. */
#define MAX_MEMBER_READS 10000

/* Adds to u->groups the gids of the groups that list the user (its name in a memberUid
 * attribute, user_dn in the others), then of the groups that list those, MAX_NESTING levels up
 * at most. */
int fetch_members_user_groups(struct ldap_conn *c, const struct local_accounts *local,
			      const char *user_dn, struct dir_user *u, char *err, size_t errlen);

/* Sets g->members to its names (memberUid, already in g->members), the names of the users among
 * member_dns and, through member groups, theirs (MAX_NESTING deep, cycles tolerated), sorted.
 * *skipped (if not NULL) counts the member DNs that are no user or group of the domain. */
int fetch_members_group_users(struct ldap_conn *c, const struct local_accounts *local,
			      const struct dn_list *member_dns, struct dir_group *g, unsigned *skipped,
			      char *err, size_t errlen);

/* Reads each group of dns (normalized) that is under group_base and matches group_filter
 * with a base search, with the attributes a group is mapped from and `extra`, calling fn for
 * each (one that is gone is none).  A change stream reads again so the groups that named an
 * entry that went (member_dns.h).  0, or -1 with err set. */
int fetch_members_read_groups(struct ldap_conn *c, const struct dn_list *dns, const char *extra,
			      ldap_entry_fn fn, void *arg, char *err, size_t errlen);

#endif
