#include "nesting.h"

#include <ctype.h>
#include <ldap.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"

bool member_attr_is_dn(const char *attr)
{
	return strcasecmp(attr, "memberUid") != 0;
}

bool domain_members_by_dn(const struct dir_domain *d)
{
	for (size_t i = 0; i < d->attrs.n_member; i++)
		if (member_attr_is_dn(d->attrs.member[i]))
			return true;
	return false;
}

char *dn_normalize(const char *dn)
{
	char *out = NULL;
	if (ldap_dn_normalize(dn, LDAP_DN_FORMAT_LDAP, &out, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS ||
	    !out)
		return NULL;
	char *copy = strdup(out);
	ldap_memfree(out);
	for (char *p = copy; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return copy;
}

/* Adds norm (taken). */
static int dn_list_take(struct dn_list *l, char *norm)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		char **v = realloc(l->v, cap * sizeof(*v));
		if (!v) {
			free(norm);
			return -1;
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = norm;
	return 0;
}

int dn_list_add(struct dn_list *l, const char *dn)
{
	char *norm = dn_normalize(dn);
	return norm ? dn_list_take(l, norm) : 0; /* not a DN: nothing to add */
}

int dn_list_add_value(struct dn_list *l, const struct berval *v)
{
	char *dn = NULL, *norm = NULL;
	if (v->bv_len && v->bv_len <= 4096 && !memchr(v->bv_val, '\0', v->bv_len)) {
		if (!(dn = strndup(v->bv_val, v->bv_len)))
			return -1;
		norm = dn_normalize(dn);
		free(dn);
	}
	if (!norm) {
		l->not_dn++;
		return 0;
	}
	return dn_list_take(l, norm);
}

void dn_list_free(struct dn_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

int dn_list_has(const struct dn_list *l, const char *normalized)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i], normalized))
			return 1;
	return 0;
}

/* Compared RDN by RDN, so "cn=x\,ou=groups,..." is not taken for an entry of ou=groups. */
bool dn_in_scope(const char *dn, const char *base, enum dir_scope scope)
{
	LDAPDN d = NULL, b = NULL;
	bool in = false;
	if (ldap_str2dn(dn, &d, LDAP_DN_FORMAT_LDAPV3) == LDAP_SUCCESS &&
	    ldap_str2dn(base, &b, LDAP_DN_FORMAT_LDAPV3) == LDAP_SUCCESS) {
		size_t nd = 0, nb = 0;
		while (d && d[nd])
			nd++;
		while (b && b[nb])
			nb++;
		size_t depth = nd >= nb ? nd - nb : 0;
		in = nd >= nb && (scope == DIR_SCOPE_SUB || depth == (scope == DIR_SCOPE_ONE ? 1u : 0u));
		for (size_t i = 0; in && i < nb; i++) {
			char *x = NULL, *y = NULL;
			in = ldap_rdn2str(d[depth + i], &x, LDAP_DN_FORMAT_LDAPV3) == LDAP_SUCCESS &&
			     ldap_rdn2str(b[i], &y, LDAP_DN_FORMAT_LDAPV3) == LDAP_SUCCESS && !strcmp(x, y);
			ldap_memfree(x);
			ldap_memfree(y);
		}
	}
	ldap_dnfree(d);
	ldap_dnfree(b);
	return in;
}

struct user_dn {
	char *dn, *name;
};

struct group_node {
	char *dn;
	struct dir_group *group;
	struct dn_list members;
	char **names;		/* memberUid: the group's members by name */
	uint32_t n_names;
	bool names_packed;	/* as dir_group's members_packed */
	size_t *children;	/* indexes of member groups, filled by resolve */
	size_t n_children;
};

static void group_node_free(struct group_node *g)
{
	free(g->dn);
	dn_list_free(&g->members);
	dir_members_free(g->names, g->n_names, g->names_packed);
	free(g->children);
}

struct nesting {
	const char *domain;
	struct user_dn *users;
	size_t n_users, cap_users;
	struct group_node *groups;
	size_t n_groups, cap_groups;
};

struct nesting *nesting_new(const char *domain)
{
	struct nesting *n = calloc(1, sizeof(*n));
	if (n)
		n->domain = domain;
	return n;
}

int nesting_add_user(struct nesting *n, const char *dn, const char *name)
{
	if (n->n_users == n->cap_users) {
		size_t cap = n->cap_users ? n->cap_users * 2 : 64;
		struct user_dn *v = realloc(n->users, cap * sizeof(*v));
		if (!v)
			return -1;
		n->users = v;
		n->cap_users = cap;
	}
	char *norm = dn_normalize(dn), *copy = strdup(name);
	if (!norm || !copy) {
		free(norm);
		free(copy);
		return norm ? -1 : 0;
	}
	n->users[n->n_users++] = (struct user_dn){ norm, copy };
	return 0;
}

int nesting_add_group(struct nesting *n, const char *dn, struct dir_group *g,
		      struct dn_list *members)
{
	if (n->n_groups == n->cap_groups) {
		size_t cap = n->cap_groups ? n->cap_groups * 2 : 64;
		struct group_node *v = realloc(n->groups, cap * sizeof(*v));
		if (!v)
			return -1;
		n->groups = v;
		n->cap_groups = cap;
	}
	char *norm = dn_normalize(dn);
	if (!norm)
		return 0;
	n->groups[n->n_groups++] = (struct group_node){ norm, g, *members, g->members, g->n_members,
							g->members_packed, NULL, 0 };
	memset(members, 0, sizeof(*members));
	g->members = NULL; /* until nesting_resolve sets them all */
	g->n_members = 0;
	g->members_packed = false;
	return 0;
}

void nesting_forget_user(struct nesting *n, const char *name)
{
	for (size_t i = 0; i < n->n_users; i++)
		if (!strcmp(n->users[i].name, name)) {
			free(n->users[i].dn);
			free(n->users[i].name);
			n->users[i--] = n->users[--n->n_users];
		}
}

void nesting_forget_group(struct nesting *n, const struct dir_group *g)
{
	for (size_t i = 0; i < n->n_groups; i++)
		if (n->groups[i].group == g) {
			group_node_free(&n->groups[i]);
			n->groups[i] = n->groups[--n->n_groups];
			return;
		}
}

static int cmp_user(const void *a, const void *b)
{
	return strcmp(((const struct user_dn *)a)->dn, ((const struct user_dn *)b)->dn);
}

static int cmp_group(const void *a, const void *b)
{
	return strcmp(((const struct group_node *)a)->dn, ((const struct group_node *)b)->dn);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int name_list_add(struct name_list *s, char *name)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		char **v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = name;
	return 0;
}

/* Splits each group's member DNs into users (their names, after the memberUid ones) and groups
 * (children); counts those that are neither. */
static int link_members(struct nesting *n, size_t gi, struct name_list *direct, unsigned *skipped)
{
	struct group_node *g = &n->groups[gi];
	g->children = calloc(g->members.n + 1, sizeof(size_t));
	if (!g->children)
		return -1;
	for (uint32_t i = 0; i < g->n_names; i++)
		if (name_list_add(direct, g->names[i]) < 0)
			return -1;
	for (size_t i = 0; i < g->members.n; i++) {
		struct user_dn ukey = { g->members.v[i], NULL };
		struct group_node gkey = { .dn = g->members.v[i] };
		struct user_dn *u = n->n_users ? bsearch(&ukey, n->users, n->n_users, sizeof(*u),
							 cmp_user) : NULL;
		struct group_node *child = bsearch(&gkey, n->groups, n->n_groups, sizeof(*child),
						   cmp_group);
		if (u && name_list_add(direct, u->name) < 0)
			return -1;
		if (child)
			g->children[g->n_children++] = (size_t)(child - n->groups);
		if (!u && !child) {
			log_debug("%s: group %s: member %s is not a user or group served here; skipped",
				  n->domain, g->group->name, g->members.v[i]);
			(*skipped)++;
		}
	}
	if (g->members.not_dn)
		log_debug("%s: group %s: %u values of its DN member attributes are no DN; skipped",
			  n->domain, g->group->name, g->members.not_dn);
	*skipped += g->members.not_dn;
	return 0;
}

/* Depth-first through the children of gi, adding each reached group's direct users. */
static int collect(struct nesting *n, size_t gi, unsigned depth, unsigned char *seen,
		   struct name_list *direct_of, struct name_list *out, bool *cut)
{
	seen[gi] = 1;
	for (size_t i = 0; i < direct_of[gi].n; i++)
		if (name_list_add(out, direct_of[gi].v[i]) < 0)
			return -1;
	for (size_t i = 0; i < n->groups[gi].n_children; i++) {
		size_t c = n->groups[gi].children[i];
		if (seen[c])
			continue; /* a cycle, or reached twice */
		if (depth + 1 > MAX_NESTING) {
			*cut = true;
			continue;
		}
		if (collect(n, c, depth + 1, seen, direct_of, out, cut) < 0)
			return -1;
	}
	return 0;
}

int group_set_members(struct dir_group *g, struct name_list *names)
{
	if (names->n) /* an empty group has no array at all */
		qsort(names->v, names->n, sizeof(char *), cmp_str);
	char **members = calloc(names->n + 1, sizeof(char *));
	if (!members)
		return -1;
	uint32_t k = 0;
	for (size_t i = 0; i < names->n; i++) {
		if (i && !strcmp(names->v[i], names->v[i - 1]))
			continue;
		if (!(members[k] = strdup(names->v[i]))) {
			for (uint32_t j = 0; j < k; j++)
				free(members[j]);
			free(members);
			return -1;
		}
		k++;
	}
	dir_members_free(g->members, g->n_members, g->members_packed);
	g->members = members;
	g->n_members = k;
	g->members_packed = false;
	dir_group_pack_members(g);
	return 0;
}

int nesting_resolve(struct nesting *n, unsigned *skipped)
{
	/* qsort of no array (a domain without users or groups) is undefined */
	if (n->n_users)
		qsort(n->users, n->n_users, sizeof(*n->users), cmp_user);
	if (n->n_groups)
		qsort(n->groups, n->n_groups, sizeof(*n->groups), cmp_group);
	struct name_list *direct = calloc(n->n_groups + 1, sizeof(*direct));
	unsigned char *seen = calloc(n->n_groups + 1, 1);
	int rc = direct && seen ? 0 : -1;
	for (size_t i = 0; rc == 0 && i < n->n_groups; i++)
		rc = link_members(n, i, &direct[i], skipped);
	for (size_t i = 0; rc == 0 && i < n->n_groups; i++) {
		struct name_list all = { 0 };
		bool cut = false;
		memset(seen, 0, n->n_groups);
		rc = collect(n, i, 0, seen, direct, &all, &cut);
		if (rc == 0)
			rc = group_set_members(n->groups[i].group, &all);
		if (cut)
			log_warning("%s: group %s nests groups deeper than %d levels; the deeper ones "
				    "are left out", n->domain, n->groups[i].group->name, MAX_NESTING);
		free(all.v);
	}
	for (size_t i = 0; direct && i < n->n_groups; i++)
		free(direct[i].v);
	free(direct);
	free(seen);
	return rc;
}

void nesting_free(struct nesting *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n_users; i++) {
		free(n->users[i].dn);
		free(n->users[i].name);
	}
	for (size_t i = 0; i < n->n_groups; i++)
		group_node_free(&n->groups[i]);
	free(n->users);
	free(n->groups);
	free(n);
}
