/* Names in /etc/passwd and /etc/group.  A directory entry with a local name is never served:
 * `files` wins for lookups anyway, and initgroups must never add a directory user's groups to
 * a local account of the same name (say, root). */
#ifndef DIRD_LOCAL_NAMES_H
#define DIRD_LOCAL_NAMES_H

#include <stdbool.h>
#include <stddef.h>

struct local_names {
	char **names; /* sorted */
	size_t n;
};

struct local_accounts {
	struct local_names users, groups;
};

/* Reads the user names of /etc/passwd and the group names of /etc/group (the files, never
 * NSS).  A missing file is no names. */
int local_accounts_load(struct local_accounts *a);
void local_accounts_free(struct local_accounts *a);
bool local_names_has(const struct local_names *l, const char *name);

#endif
