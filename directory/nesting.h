/* Members by DN (RFC 2307bis member, uniqueMember), where a member may be a group.  A full
 * refresh records every user's and group's DN and each group's member DNs, then gives each
 * group its user members, through nested groups, next to the names its memberUid lists (a
 * nested group's count too): cycles are tolerated, nesting deeper than MAX_NESTING is cut (and
 * logged), and a member DN that is none of the users or groups read is skipped and counted. */
#ifndef DIRD_NESTING_H
#define DIRD_NESTING_H

#include <lber.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "record.h"

#define MAX_NESTING 16

/* memberUid holds names; every other member attribute holds DNs. */
bool member_attr_is_dn(const char *attr);
/* Whether any of the domain's member attributes holds DNs (then nesting applies). */
bool domain_members_by_dn(const struct dir_domain *d);

/* DNs compared as the server would: normalized by libldap, then lower-cased. */
struct dn_list {
	char **v;
	size_t n, cap;
	unsigned not_dn;	/* values dn_list_add_value skipped: no DN (member_attr naming an
				 * attribute that holds none) */
};

/* The normalized form of dn (caller frees), or NULL when it is not a DN. */
char *dn_normalize(const char *dn);
/* Adds dn's normalized form; a value that is not a DN is skipped.  -1 when out of memory. */
int dn_list_add(struct dn_list *l, const char *dn);
/* The same for a DN as the server sent it: empty values, values over 4 KiB or holding a NUL are
 * skipped, and counted in not_dn with those that are no DN. */
int dn_list_add_value(struct dn_list *l, const struct berval *v);
void dn_list_free(struct dn_list *l);
/* True when the normalized dn is in l. */
int dn_list_has(const struct dn_list *l, const char *normalized);
/* Whether a search of `base` with `scope` finds the entry `dn` (both normalized). */
bool dn_in_scope(const char *dn, const char *base, enum dir_scope scope);

/* A growing list of names; it owns none of them. */
struct name_list {
	char **v;
	size_t n, cap;
};
/* -1 when out of memory. */
int name_list_add(struct name_list *l, char *name);
/* Sets g->members to copies of the names, sorted, without repeats (the old ones are freed).
 * -1 when out of memory (g unchanged). */
int group_set_members(struct dir_group *g, struct name_list *names);

struct nesting;

struct nesting *nesting_new(const char *domain);
/* Records a user's DN and name. */
int nesting_add_user(struct nesting *n, const char *dn, const char *name);
/* Records a group (owned by the caller's db; it must outlive nesting_resolve) and takes its
 * member DNs and the names in its members (memberUid). */
int nesting_add_group(struct nesting *n, const char *dn, struct dir_group *g,
		      struct dn_list *members);
/* Forgets the user named `name` (another took its name or uid). */
void nesting_forget_user(struct nesting *n, const char *name);
/* Forgets group g (about to be freed: another took its name or gid). */
void nesting_forget_group(struct nesting *n, const struct dir_group *g);
/* Sets every recorded group's members, sorted: its memberUid names, the names of the users among
 * its member DNs and, through member DNs that are groups, theirs.  *skipped counts the member
 * DNs that are neither a recorded user nor a recorded group.  -1 when out of memory. */
int nesting_resolve(struct nesting *n, unsigned *skipped);
void nesting_free(struct nesting *n);

#endif
