#include "fetch_bis.h"

#include <stdlib.h>
#include <string.h>

#include "fetch.h"
#include "ldap_map.h"
#include "log.h"

int fetch_bis_member_of(LDAP *ld, LDAPMessage *e, struct dn_list *out)
{
	struct berval **v = ldap_get_values_len(ld, e, "memberOf");
	int rc = 0;
	for (size_t i = 0; v && v[i] && rc == 0; i++)
		rc = dn_list_add_value(out, v[i]);
	ldap_value_free_len(v);
	return rc;
}

/* --- a user's groups ------------------------------------------------------------------------ */

struct parents_ctx {
	const struct dir_domain *domain;
	struct dir_user *user;
	struct dn_list *seen, *next;
};

static int take_parent(LDAP *ld, LDAPMessage *e, void *arg)
{
	struct parents_ctx *ctx = arg;
	char why[256], *raw = ldap_get_dn(ld, e);
	char *dn = raw ? dn_normalize(raw) : NULL;
	ldap_memfree(raw);
	struct dir_group g;
	int rc = 0;
	if (dn && !dn_list_has(ctx->seen, dn) &&
	    ldap_map_group(ld, e, ctx->domain, &g, NULL, why, sizeof(why)) == MAP_OK) {
		rc = dn_list_add(ctx->seen, dn) < 0 || dn_list_add(ctx->next, dn) < 0 ||
				     fetch_add_gid(ctx->user, g.gid) < 0 ? -1 : 0;
		dir_group_free(&g);
	}
	free(dn);
	return rc;
}

/* The groups with member=<dn>. */
static int parents_of(struct ldap_conn *c, const char *dn, struct parents_ctx *ctx, char *err,
		      size_t errlen)
{
	const struct dir_domain *d = c->domain;
	const char *attrs[MAP_MAX_ATTRS];
	ldap_map_group_attrs(d, attrs);
	attrs[2] = NULL; /* the name and the gid are enough */
	char *filter = fetch_filter(d->group_filter, d->attrs.member, dn, 0);
	if (!filter)
		return 0;
	int rc = ldap_conn_search(c, d->group_base, d->group_scope, filter, attrs, take_parent, ctx,
				  err, errlen);
	free(filter);
	return rc;
}

/* Whether the normalized `dn` is one a search of the normalized `base` with `scope` finds:
 * compared RDN by RDN, so "cn=x\,ou=groups,..." is not taken for an entry of ou=groups. */
static bool dn_in_scope(const char *dn, const char *base, enum dir_scope scope)
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

int fetch_bis_user_groups(struct ldap_conn *c, const char *user_dn, const struct dn_list *member_of,
			  struct dir_user *u, char *err, size_t errlen)
{
	const struct dir_domain *d = c->domain;
	struct dn_list seen = { 0 }, level = { 0 }, next = { 0 };
	struct parents_ctx ctx = { d, u, &seen, &next };
	int rc = 0;
	if (member_of->n) {
		/* The server says which groups hold the user: read each that a search of group_base
		 * would find (one elsewhere is not a group of ours, whatever its object class). */
		const char *attrs[MAP_MAX_ATTRS];
		ldap_map_group_attrs(d, attrs);
		attrs[2] = NULL;
		char *base = dn_normalize(d->group_base);
		for (size_t i = 0; rc == 0 && i < member_of->n; i++) {
			if (!base || !dn_in_scope(member_of->v[i], base, d->group_scope)) {
				log_debug("%s: %s's memberOf %s is outside group_base; not a group of ours",
					  d->name, u->name, member_of->v[i]);
				continue;
			}
			rc = ldap_conn_search(c, member_of->v[i], DIR_SCOPE_BASE, d->group_filter, attrs,
					      take_parent, &ctx, err, errlen);
		}
		free(base);
	} else {
		rc = parents_of(c, user_dn, &ctx, err, errlen);
	}
	unsigned depth = 1;
	while (rc == 0 && next.n) {
		dn_list_free(&level);
		level = next;
		memset(&next, 0, sizeof(next));
		if (depth++ >= MAX_NESTING) {
			log_warning("%s: %s's groups nest deeper than %d levels; the deeper ones are "
				    "left out", d->name, u->name, MAX_NESTING);
			break;
		}
		for (size_t i = 0; rc == 0 && i < level.n; i++)
			rc = parents_of(c, level.v[i], &ctx, err, errlen);
	}
	dn_list_free(&seen);
	dn_list_free(&level);
	dn_list_free(&next);
	return rc;
}

/* --- a group's users ------------------------------------------------------------------------ */

struct members_ctx {
	const struct dir_domain *domain;
	const struct local_accounts *local;
	char **names;
	size_t n_names;
	bool was_user;
	struct dn_list *children;	/* member DNs of a member group */
};

static int take_member_user(LDAP *ld, LDAPMessage *e, void *arg)
{
	struct members_ctx *ctx = arg;
	char why[256];
	struct dir_user u;
	if (ldap_map_user(ld, e, ctx->domain, &u, why, sizeof(why)) != MAP_OK)
		return 0;
	ctx->was_user = true;
	int rc = 0;
	if (fetch_user_allowed(ctx->domain, ctx->local, &u, NULL)) {
		char **v = realloc(ctx->names, (ctx->n_names + 1) * sizeof(char *));
		if (v) {
			ctx->names = v;
			v[ctx->n_names++] = u.name;
			u.name = NULL;
		} else {
			rc = -1;
		}
	}
	dir_user_free(&u);
	return rc;
}

static int take_member_group(LDAP *ld, LDAPMessage *e, void *arg)
{
	struct members_ctx *ctx = arg;
	char why[256];
	struct dir_group g;
	enum map_result r = ldap_map_group(ld, e, ctx->domain, &g, ctx->children, why, sizeof(why));
	if (r == MAP_OK)
		dir_group_free(&g);
	return r == MAP_NOMEM ? -1 : 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Moves the collected names into g->members, sorted and without repeats. */
static void set_members(struct dir_group *g, struct members_ctx *ctx)
{
	qsort(ctx->names, ctx->n_names, sizeof(char *), cmp_name);
	size_t k = 0;
	for (size_t i = 0; i < ctx->n_names; i++) {
		if (k && !strcmp(ctx->names[i], ctx->names[k - 1]))
			free(ctx->names[i]);
		else
			ctx->names[k++] = ctx->names[i];
	}
	for (uint32_t i = 0; i < g->n_members; i++)
		free(g->members[i]);
	free(g->members);
	g->members = ctx->names;
	g->n_members = (uint32_t)k;
	ctx->names = NULL;
	ctx->n_names = 0;
}

int fetch_bis_group_members(struct ldap_conn *c, const struct local_accounts *local,
			    const struct dn_list *member_dns, struct dir_group *g, char *err,
			    size_t errlen)
{
	const struct dir_domain *d = c->domain;
	const char *uattrs[MAP_MAX_ATTRS], *gattrs[MAP_MAX_ATTRS];
	ldap_map_user_attrs(d, uattrs, NULL);
	ldap_map_group_attrs(d, gattrs);
	struct dn_list seen = { 0 }, level = { 0 }, next = { 0 };
	struct members_ctx ctx = { d, local, NULL, 0, false, &next };
	int rc = 0;
	size_t reads = 0;
	for (size_t i = 0; rc == 0 && i < member_dns->n; i++)
		rc = dn_list_add(&next, member_dns->v[i]);
	for (unsigned depth = 0; rc == 0 && next.n; depth++) {
		dn_list_free(&level);
		level = next;
		memset(&next, 0, sizeof(next));
		if (depth >= MAX_NESTING) {
			log_warning("%s: group %s nests groups deeper than %d levels; the deeper ones "
				    "are left out", d->name, g->name, MAX_NESTING);
			break;
		}
		for (size_t i = 0; rc == 0 && i < level.n; i++) {
			if (dn_list_has(&seen, level.v[i]))
				continue; /* a cycle, or reached twice */
			if (++reads > MAX_MEMBER_READS) {
				log_warning("%s: group %s has more than %d members to read; the rest "
					    "come with the next refresh", d->name, g->name, MAX_MEMBER_READS);
				goto done;
			}
			rc = dn_list_add(&seen, level.v[i]);
			ctx.was_user = false;
			if (rc == 0)
				rc = ldap_conn_search(c, level.v[i], DIR_SCOPE_BASE, d->user_filter,
						      uattrs, take_member_user, &ctx, err, errlen);
			if (rc == 0 && !ctx.was_user)
				rc = ldap_conn_search(c, level.v[i], DIR_SCOPE_BASE, d->group_filter,
						      gattrs, take_member_group, &ctx, err, errlen);
		}
	}
done:
	if (rc == 0)
		set_members(g, &ctx);
	for (size_t i = 0; i < ctx.n_names; i++)
		free(ctx.names[i]);
	free(ctx.names);
	dn_list_free(&seen);
	dn_list_free(&level);
	dn_list_free(&next);
	return rc;
}
