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

/* A copy of u as db holds it, packed (db_pack_copy) and with its own keys: one allocation for
 * the struct, its strings and its gid list, not nine made and then packed.  NULL out of
 * memory. */
static struct dir_user *copy_user(const struct dir_user *u)
{
	struct dir_user *c = db_pack_copy(u);
	if (!c)
		return NULL;
	c->ssh_keys = NULL;
	c->n_ssh_keys = 0;
	if (!copy_strings(&c->ssh_keys, &c->n_ssh_keys, u->ssh_keys, u->n_ssh_keys)) {
		dir_user_destroy(c);
		return NULL;
	}
	return c;
}

/* A group's members in one block, as dir_group_pack_members makes it (the array, NULL-ended,
 * then the names), copied at once.  false out of memory. */
static bool copy_members(struct dir_group *c, const struct dir_group *g)
{
	if (!g->n_members)
		return true;
	size_t len = ((size_t)g->n_members + 1) * sizeof(char *);
	for (uint32_t i = 0; i < g->n_members; i++)
		len += strlen(g->members[i]) + 1;
	char **block = malloc(len);
	if (!block)
		return false;
	char *p = (char *)(block + g->n_members + 1);
	for (uint32_t i = 0; i < g->n_members; i++) {
		size_t n = strlen(g->members[i]) + 1;
		block[i] = memcpy(p, g->members[i], n);
		p += n;
	}
	block[g->n_members] = NULL;
	c->members = block;
	c->n_members = g->n_members;
	c->members_packed = true;
	return true;
}

/* The same for a group; its encoded reply is left out (the copy's is made when first asked
 * for). */
static bool copy_group(struct dir_group *c, const struct dir_group *g)
{
	c->gid = g->gid;
	c->fetched = g->fetched;
	return copy_str(&c->name, g->name) && copy_str(&c->sid, g->sid) &&
	       copy_str(&c->domain, g->domain) && copy_members(c, g);
}

int db_copy(struct db *to, const struct db *from)
{
	for (size_t i = 0; i < from->c.n_users; i++) {
		struct dir_user *u = copy_user(from->c.users[i]);
		if (!u || db_add_user(to, u) < 0) /* it frees u */
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
