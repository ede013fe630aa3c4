#include "fetch_ad.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fetch.h"
#include "idmap.h"
#include "ldap_map.h"

/* tokenGroups SIDs are looked up this many to a search. */
#define SIDS_PER_SEARCH 64
/* More groups than this in one token are not read (AD's own limit is 1,015). */
#define MAX_TOKEN_GROUPS 5000

struct sid_list {
	struct sid *v;
	size_t n;
};

static int take_domain_sid(LDAP *ld, LDAPMessage *e, void *arg)
{
	struct sid_list *out = arg;
	struct berval **v = ldap_get_values_len(ld, e, "objectSid");
	if (v && v[0] && !v[1] && !out->n && sid_from_binary(v[0]->bv_val, v[0]->bv_len, out->v) == 0)
		out->n = 1;
	ldap_value_free_len(v);
	return 0;
}

int fetch_ad_domain_sid(struct ldap_conn *c, struct sid *out, char *err, size_t errlen)
{
	if (c->have_domain_sid) {
		*out = c->domain_sid;
		return 0;
	}
	const char *attrs[] = { "objectSid", NULL };
	struct sid sid;
	struct sid_list found = { &sid, 0 };
	if (ldap_conn_search(c, c->domain->base_dn, DIR_SCOPE_BASE, "(objectClass=*)", attrs,
			     take_domain_sid, &found, err, errlen) < 0)
		return -1;
	/* A domain's SID is S-1-5-21-a-b-c: a RID appended makes an account's. */
	uint32_t rid;
	struct sid probe;
	if (!found.n || !sid_append_rid(&sid, 0, &probe) || !sid_split_rid(&probe, NULL, &rid)) {
		snprintf(err, errlen, "%s has no domain objectSid: is base_dn the domain's root?",
			 c->domain->base_dn);
		return -1;
	}
	c->domain_sid = *out = sid;
	c->have_domain_sid = true;
	return 0;
}

int fetch_ad_id_filter(struct ldap_conn *c, bool user, uint32_t id, char **filter, char *err,
		       size_t errlen)
{
	const struct dir_domain *d = c->domain;
	const char *cls = user ? d->user_filter : d->group_filter;
	uint32_t rid;
	*filter = NULL;
	if (d->idmap == DIR_IDMAP_AD) {
		if (id < d->idmap_low || id > d->idmap_high)
			return 1;
		*filter = fetch_filter(cls, user ? d->attrs.uid : d->attrs.gid, NULL, id);
		return *filter ? 0 : (snprintf(err, errlen, "out of memory"), -1);
	}
	struct sid domain, sid;
	if (!idmap_id_to_rid(d, id, &rid))
		return 1;
	if (fetch_ad_domain_sid(c, &domain, err, errlen) < 0)
		return -1;
	if (!sid_append_rid(&domain, rid, &sid))
		return 1;
	char value[3 * SID_MAX_BINARY + 1];
	sid_filter_value(&sid, value, sizeof(value));
	if (asprintf(filter, "(&%s(objectSid=%s))", cls, value) < 0) {
		*filter = NULL;
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

/* tokenGroups of one entry: each value a whole SID, or it is skipped. */
static int take_token(LDAP *ld, LDAPMessage *e, void *arg)
{
	struct sid_list *out = arg;
	struct berval **v = ldap_get_values_len(ld, e, "tokenGroups");
	size_t n = v ? (size_t)ldap_count_values_len(v) : 0;
	if (n > MAX_TOKEN_GROUPS)
		n = MAX_TOKEN_GROUPS;
	int rc = 0;
	if (n && !(out->v = calloc(n, sizeof(struct sid))))
		rc = -1;
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (sid_from_binary(v[i]->bv_val, v[i]->bv_len, &out->v[out->n]) == 0)
			out->n++;
	ldap_value_free_len(v);
	return rc;
}

struct gid_ctx {
	const struct dir_domain *d;
	struct dir_user *u;
};

static int add_group_gid(LDAP *ld, LDAPMessage *e, void *arg)
{
	struct gid_ctx *ctx = arg;
	char why[256];
	struct dir_group g;
	enum map_result r = ldap_map_group(ld, e, ctx->d, &g, NULL, why, sizeof(why));
	if (r != MAP_OK)
		return r == MAP_NOMEM ? -1 : 0;
	int rc = fetch_add_gid(ctx->u, g.gid);
	dir_group_clear(&g);
	return rc;
}

int fetch_ad_user_groups(struct ldap_conn *c, const char *dn, struct dir_user *u, char *err,
			 size_t errlen)
{
	const struct dir_domain *d = c->domain;
	const char *token_attrs[] = { "tokenGroups", NULL };
	struct sid_list token = { NULL, 0 };
	struct sid domain;
	int rc = ldap_conn_search(c, dn, DIR_SCOPE_BASE, "(objectClass=*)", token_attrs, take_token,
				  &token, err, errlen);
	if (rc == 0)
		rc = fetch_ad_domain_sid(c, &domain, err, errlen);
	const char *attrs[MAP_MAX_ATTRS];
	ldap_map_group_attrs(d, attrs);
	attrs[2] = "objectSid"; /* the member list is not needed */
	attrs[3] = NULL;
	struct gid_ctx ctx = { d, u };
	/* Only this domain's groups (not BUILTIN's, not another domain's), many to a search. */
	for (size_t i = 0; rc == 0 && i < token.n;) {
		char *filter = NULL, value[3 * SID_MAX_BINARY + 1];
		size_t len = 0, in_filter = 0;
		FILE *f = open_memstream(&filter, &len);
		if (!f) {
			rc = -1;
			break;
		}
		fprintf(f, "(&%s(|", d->group_filter);
		for (; i < token.n && in_filter < SIDS_PER_SEARCH; i++) {
			struct sid dom;
			uint32_t rid;
			if (!sid_split_rid(&token.v[i], &dom, &rid) || !sid_equal(&dom, &domain))
				continue;
			sid_filter_value(&token.v[i], value, sizeof(value));
			fprintf(f, "(objectSid=%s)", value);
			in_filter++;
		}
		fputs("))", f);
		if (fclose(f) != 0) {
			free(filter);
			rc = -1;
			break;
		}
		if (in_filter)
			rc = ldap_conn_search(c, d->group_base, d->group_scope, filter, attrs,
					      add_group_gid, &ctx, err, errlen);
		free(filter);
	}
	if (rc < 0 && !*err)
		snprintf(err, errlen, "out of memory");
	free(token.v);
	return rc;
}

struct sid_ctx {
	const struct dir_domain *d;
	const struct local_accounts *local;
	void *found;
};

static int take_user_by_sid(LDAP *ld, LDAPMessage *e, void *arg)
{
	struct sid_ctx *ctx = arg;
	char why[256];
	struct dir_user u;
	if (ctx->found)
		return 0;
	enum map_result r = ldap_map_user(ld, e, ctx->d, &u, why, sizeof(why));
	if (r != MAP_OK)
		return r == MAP_NOMEM ? -1 : 0;
	if (!fetch_user_allowed(ctx->d, ctx->local, &u, NULL)) {
		dir_user_clear(&u);
		return 0;
	}
	if (!(ctx->found = malloc(sizeof(u)))) {
		dir_user_clear(&u);
		return -1;
	}
	memcpy(ctx->found, &u, sizeof(u));
	return 0;
}

static int take_group_by_sid(LDAP *ld, LDAPMessage *e, void *arg)
{
	struct sid_ctx *ctx = arg;
	char why[256];
	struct dir_group g;
	if (ctx->found)
		return 0;
	enum map_result r = ldap_map_group(ld, e, ctx->d, &g, NULL, why, sizeof(why));
	if (r != MAP_OK)
		return r == MAP_NOMEM ? -1 : 0;
	if (!fetch_group_allowed(ctx->d, ctx->local, &g, NULL)) {
		dir_group_clear(&g);
		return 0;
	}
	if (!(ctx->found = malloc(sizeof(g)))) {
		dir_group_clear(&g);
		return -1;
	}
	memcpy(ctx->found, &g, sizeof(g));
	return 0;
}

int fetch_ad_by_sid(struct ldap_conn *c, const struct local_accounts *local, const struct sid *sid,
		    struct dir_user **user, struct dir_group **group, char *err, size_t errlen)
{
	const struct dir_domain *d = c->domain;
	char value[3 * SID_MAX_BINARY + 1], *filter = NULL;
	const char *uattrs[MAP_MAX_ATTRS], *gattrs[MAP_MAX_ATTRS];
	ldap_map_user_attrs(d, uattrs, NULL);
	ldap_map_group_attrs(d, gattrs);
	*user = NULL;
	*group = NULL;
	sid_filter_value(sid, value, sizeof(value));
	struct sid_ctx ctx = { d, local, NULL };
	int rc = asprintf(&filter, "(&%s(objectSid=%s))", d->user_filter, value) < 0 ? -1 :
		 ldap_conn_search(c, d->user_base, d->user_scope, filter, uattrs, take_user_by_sid,
				  &ctx, err, errlen);
	free(filter);
	filter = NULL;
	if (rc == 0 && ctx.found) {
		*user = ctx.found;
		return 1;
	}
	if (rc == 0)
		rc = asprintf(&filter, "(&%s(objectSid=%s))", d->group_filter, value) < 0 ? -1 :
		     ldap_conn_search(c, d->group_base, d->group_scope, filter, gattrs,
				      take_group_by_sid, &ctx, err, errlen);
	free(filter);
	if (rc < 0) {
		if (!*err)
			snprintf(err, errlen, "out of memory");
		return -1;
	}
	*group = ctx.found;
	return ctx.found ? 1 : 0;
}
