/* What a full refresh reads of a domain (fetch_all.c). */
#ifndef DIRD_FETCH_ALL_H
#define DIRD_FETCH_ALL_H

#include <stdatomic.h>

#include "db.h"
#include "fetch.h"

/* What a refresh left out, for dirctl status. */
struct fetch_counts {
	unsigned duplicates;	  /* entries another with their name or id is served instead of
				   * (which one stays does not depend on the server's order) */
	unsigned refused;	  /* entries refused (and logged) for an id no directory entry may
				   * have, or a name unfit for home_template */
	unsigned skipped_members; /* member DNs that are no user or group of the domain */
};

/* Adds every user and group of the connection's domain to db, less those with a local name or
 * id.  *progress counts entries as they arrive.  0 on success, -1 with err set. */
int fetch_all(struct ldap_conn *c, const struct local_accounts *local, struct db *db,
	      atomic_uint *progress, struct fetch_counts *counts, char *err, size_t errlen);

/* sync_groups: whether u may be served, its domain's sync_groups as db holds them (a user of
 * another domain: yes).  arg: a struct sync_set. */
struct sync_set {
	const struct dir_domain *domain;
	const struct db *db;
};
bool fetch_in_sync_groups(const struct dir_user *u, void *arg);

#endif
