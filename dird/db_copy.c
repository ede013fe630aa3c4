#include "db_copy.h"

#include <stdlib.h>
#include <string.h>

/* *to = a copy of s (NULL stays NULL); false out of memory. */
static bool copy_str(char **to, const char *s)
{
	*to = s ? strdup(s) : NULL;
	return !s || *to;
}

/* *to_n is set once the array is there, so that the record frees what was copied. */
static bool copy_strings(char ***to, uint32_t *to_n, char *const *v, uint32_t n)
{
	*to = n ? calloc(n, sizeof(**to)) : NULL;
	if (n && !*to)
		return false;
	*to_n = n;
	for (uint32_t i = 0; i < n; i++)
		if (!copy_str(&(*to)[i], v[i]))
			return false;
	return true;
}

/* c (zeroed) made a copy of u; false out of memory (what was copied is c's to free). */
static bool copy_user(struct dir_user *c, const struct dir_user *u)
{
	c->uid = u->uid;
	c->gid = u->gid;
	c->fetched = u->fetched;
	if (u->n_groups) {
		if (!(c->groups = malloc(u->n_groups * sizeof(*c->groups))))
			return false;
		memcpy(c->groups, u->groups, u->n_groups * sizeof(*c->groups));
		c->n_groups = u->n_groups;
	}
	return copy_str(&c->name, u->name) && copy_str(&c->gecos, u->gecos) &&
	       copy_str(&c->home, u->home) && copy_str(&c->shell, u->shell) &&
	       copy_str(&c->email, u->email) && copy_str(&c->sid, u->sid) &&
	       copy_str(&c->domain, u->domain) &&
	       copy_strings(&c->ssh_keys, &c->n_ssh_keys, u->ssh_keys, u->n_ssh_keys);
}

/* The same for a group; its encoded reply is left out (the copy's is made when first asked
 * for). */
static bool copy_group(struct dir_group *c, const struct dir_group *g)
{
	c->gid = g->gid;
	c->fetched = g->fetched;
	return copy_str(&c->name, g->name) && copy_str(&c->sid, g->sid) &&
	       copy_str(&c->domain, g->domain) &&
	       copy_strings(&c->members, &c->n_members, g->members, g->n_members);
}

int db_copy(struct db *to, const struct db *from)
{
	for (size_t i = 0; i < from->c.n_users; i++) {
		struct dir_user *u = calloc(1, sizeof(*u));
		if (!u || !copy_user(u, from->c.users[i])) {
			dir_user_destroy(u);
			goto fail;
		}
		if (db_add_user(to, u) < 0) /* it frees u */
			goto fail;
	}
	for (size_t i = 0; i < from->c.n_groups; i++) {
		struct dir_group *g = calloc(1, sizeof(*g));
		if (!g || !copy_group(g, from->c.groups[i])) {
			dir_group_destroy(g);
			goto fail;
		}
		if (db_add_group(to, g) < 0)
			goto fail;
	}
	to->c.expires = from->c.expires;
	return 0;
fail:
	db_free(to);
	db_init(to);
	return -1;
}
