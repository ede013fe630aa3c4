/* Members by DN (rfc2307bis member, uniqueMember; nested groups) in a change stream's batch
 * (changes.c), resolved as a full refresh resolves them (nesting.h).
 *
 * A group's member DNs become member names at apply time.  Nothing is held in memory between
 * batches: the tdb files already keep, for each entry a stream put there, its DN and name
 * (changes.h's keys, whose DNs the stream normalizes), which is the DN -> name map of the
 * domain's users; beside them the groups file keeps two keys of this file's:
 *   SYNC_MDN_<domain>/<group dn>   the group's memberUid names and member DNs, as it came
 *   SYNC_MOF_<domain>/<dn>         the DNs of the groups whose member DNs name dn
 * A group put is resolved at once (member_dns_resolve_put); an entry that came, went or changed
 * its DN or name (a user added, renamed, deleted, out of the filter; a group's member DNs
 * changed) makes every group that reaches it, directly or through nested groups, resolved again
 * when the batch ends (member_dns_finish).  A DN that is no user or group the stream serves is
 * skipped (log_level = debug names it), as a refresh skips it: a user renamed without slapd's
 * refint overlay leaves its old DN dangling in its groups, and drops out of them. */
#ifndef DIRD_MEMBER_DNS_H
#define DIRD_MEMBER_DNS_H

#include "config.h"
#include "nesting.h"
#include "store.h"

/* The keys above: a group's memberUid names ('n') and member DNs ('d'); the groups naming a DN. */
#define MEMBER_DNS_KEY_MEMBERS "SYNC_MDN_"
#define MEMBER_DNS_KEY_MEMBER_OF "SYNC_MOF_"

/* What member_dns needs from the batch it serves (changes.c). */
struct member_dns_ops {
	/* The name of the user (group) of the domain db holds under the normalized dn, malloc'd;
	 * NULL when there is none. */
	char *(*name_of_dn)(void *arg, enum store_kind kind, const char *dn);
	/* Sets the group's members to names (sorted by the callee, repeats dropped), with its
	 * members' gid lists. */
	int (*set_members)(void *arg, const char *group, struct name_list *names);
	/* The groups file's value under key, malloc'd (NULL: none), from the files the batch goes
	 * into or the keys it changes before they are written whole (changes.c's apply_whole);
	 * set_key sets it, or with len 0 removes it.  set_key: 0, or -1 on failure. */
	void *(*get_key)(void *arg, const char *key, size_t *len);
	int (*set_key)(void *arg, const char *key, const void *val, size_t len);
	void *arg;
};

struct member_dns;

struct member_dns *member_dns_begin(const struct dir_domain *dom,
				    const struct member_dns_ops *ops);
/* A group about to be put, of DN dn (normalized), with its memberUid names in g->members and
 * its member DNs: g->members becomes its resolved members, and what it came with is kept for
 * member_dns_remembered.  -1 when out of memory. */
int member_dns_resolve_put(struct member_dns *m, const char *dn, struct dir_group *g,
			   const struct dn_list *dns);
/* The stream's keys of an entry (changes.c's remember_keys and forget_keys): it is served
 * under name and dn from now on, or no longer.  -1 on failure. */
int member_dns_remembered(struct member_dns *m, enum store_kind kind, const char *name,
			  const char *dn);
int member_dns_forgotten(struct member_dns *m, enum store_kind kind, const char *name,
			 const char *dn);
/* Resolves again every group that reaches an entry that came, went or changed.  -1 on
 * failure. */
int member_dns_finish(struct member_dns *m);
/* The DNs of the groups that named an entry that went (a user or group renamed, deleted or out
 * of the filter), malloc'd; NULL when none.  slapd's refint overlay rewrites or drops such
 * values without a change a stream sees (slapo-refint(5): its modifications are not
 * propagated by replication): the stream reads these groups again from the server. */
struct dn_list *member_dns_take_went(struct member_dns *m);
void member_dns_free(struct member_dns *m);

#endif
