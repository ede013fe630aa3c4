/* What dird and dirctl ask a directory for: one user or group (a cache miss), a user's entry for
 * PAM, and the rules every entry read passes (dird/fetch_all.c reads a whole domain with them). */
#ifndef DIRD_FETCH_H
#define DIRD_FETCH_H

#include "account_policy.h"
#include "ldap_conn.h"
#include "ldap_map.h"
#include "local_accounts.h"

/* One user, by name (name != NULL) or uid, with its supplementary groups (less local gids).  1
 * found (*out set, caller frees), 0 not in the directory (or not servable: err then says why an
 * entry was not served, or is empty), -1 error with err set. */
int fetch_user(struct ldap_conn *c, const struct local_accounts *local, const char *name,
	       uint32_t uid, struct dir_user **out, char *err, size_t errlen);
/* The same for a group; *skipped_members (if not NULL) counts its member DNs that are no user
 * or group of the domain. */
int fetch_group(struct ldap_conn *c, const struct local_accounts *local, const char *name,
		uint32_t gid, struct dir_group **out, unsigned *skipped_members, char *err,
		size_t errlen);

/* The names of the users whose primary gid is gid (an LDAP domain's users by their gidNumber),
 * each given to each(name, arg), which returns 0 or -1 to stop.  0, 1 when there are more than
 * max (none given), -1 error with err set; an AD domain (its primary groups are RIDs) gives
 * -1 with err saying so. */
int fetch_user_names_by_gid(struct ldap_conn *c, uint32_t gid, size_t max,
			    int (*each)(const char *name, void *arg), void *arg, char *err,
			    size_t errlen);

/* A user's entry for PAM, found as fetch_user finds it (exact name, servable, not local): its DN
 * (caller frees) and account state.  1 found, 0 not in the directory, -1 error with err set. */
int fetch_account(struct ldap_conn *c, const struct local_accounts *local, const char *name,
		  char **dn, struct account_state *state, char *err, size_t errlen);

/* Whether the entry `dn` matches `filter` (a base search).  1 yes, 0 no, -1 error. */
int fetch_entry_matches(struct ldap_conn *c, const char *dn, const char *filter, char *err,
			size_t errlen);

/* "(&<cls>(<attr>=<value>))" with value escaped (RFC 4515), or with the number id when value
 * is NULL.  The caller frees; NULL when out of memory. */
char *fetch_filter(const char *cls, const char *attr, const char *value, uint32_t id);

/* Whether a user (group) the directory has may be served beside the local accounts: not with a
 * local name (logged in debug), nor a local id (a refusal: logged as a warning and counted in
 * *refused, which may be NULL). */
bool fetch_user_allowed(const struct dir_domain *d, const struct local_accounts *local,
			const struct dir_user *u, unsigned *refused);
bool fetch_group_allowed(const struct dir_domain *d, const struct local_accounts *local,
			 const struct dir_group *g, unsigned *refused);
/* A directory group with a local gid is not served (fetch_group_allowed): nor is its gid among a
 * user's groups, which would hand the user that local group's files.  True when one was taken
 * out of u's list. */
bool fetch_drop_local_gids(const struct local_accounts *local, struct dir_user *u);
/* rfc2307: a member name that is a local account's is not the directory's user of that name
 * (never served): listed, it would be the local account that a member-list check (newgrp, sg)
 * takes for a member.  True when such a name was taken out of g's members. */
bool fetch_drop_local_members(const struct local_accounts *local, struct dir_group *g);
/* ldap_map_user or ldap_map_group gave no record: a refusal is logged as a warning (and counted
 * in *refused, which may be NULL), anything else in debug. */
void fetch_log_unmapped(const struct dir_domain *d, enum map_result r, const char *why,
			unsigned *refused);

/* Whether gid is the user's primary group or one of its others. */
bool fetch_user_has_gid(const struct dir_user *u, uint32_t gid);
/* access_groups, asked of the directory: 1 the user is a member of one, 0 of none, -1 error. */
int fetch_in_access_groups(struct ldap_conn *c, const struct local_accounts *local,
			   const char *user, char *err, size_t errlen);

/* Adds gid to the user's supplementary groups unless it is there (or is the primary one). */
int fetch_add_gid(struct dir_user *u, uint32_t gid);

/* Of two users (groups) with one name or id, the one served is the same whatever order the
 * server sends them in: the lower id for one name, the smaller name for one id.  True when a
 * wins over b. */
bool fetch_user_wins(const struct dir_user *a, const struct dir_user *b);
bool fetch_group_wins(const struct dir_group *a, const struct dir_group *b);

/* The entry's DN (caller frees), or NULL when out of memory. */
char *fetch_entry_dn(LDAP *ld, LDAPMessage *e);

/* Adds to dns the slices of a big group's member DNs (AD's ranged retrieval, member_range.h)
 * for every member attribute that holds DNs.  -1 with err set. */
int fetch_member_ranges(struct ldap_conn *c, LDAP *ld, LDAPMessage *e, struct dn_list *dns,
			char *err, size_t errlen);

#endif
