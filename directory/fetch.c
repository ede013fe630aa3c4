#include "fetch.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ad_names.h"
#include "fetch_ad.h"
#include "fetch_members.h"
#include "ldap_filter.h"
#include "ldap_map.h"
#include "log.h"
#include "member_range.h"
#include "protocol.h"

char *fetch_filter(const char *cls, const char *attr, const char *value, uint32_t id)
{
	char num[16], *escaped = NULL, *out = NULL;
	if (value) {
		size_t cap = 3 * strlen(value) + 1;
		escaped = malloc(cap);
		if (!escaped || ldap_filter_escape(value, escaped, cap) < 0) {
			free(escaped);
			return NULL;
		}
	} else {
		snprintf(num, sizeof(num), "%" PRIu32, id);
	}
	if (asprintf(&out, "(&%s(%s=%s))", cls, attr, value ? escaped : num) < 0)
		out = NULL;
	free(escaped);
	return out;
}

/* The filter for one user (or group) by name, or by id when name is NULL.  0 with *filter set
 * (caller frees), 1 when it cannot be this domain's (a name too long to be anyone's, another
 * domain's name or id), -1 with err set. */
static int entry_filter(struct ldap_conn *c, bool user, const char *name, uint32_t id,
			char **filter, char *err, size_t errlen)
{
	const struct dir_domain *d = c->domain;
	const char *cls = user ? d->user_filter : d->group_filter;
	const char *name_attr = user ? d->attrs.user_name : d->attrs.group_name;
	if (d->type == DIR_DOMAIN_AD) {
		if (!name)
			return fetch_ad_id_filter(c, user, id, filter, err, errlen);
		if (!(name = ad_name_account(d, name)))
			return 1;
	}
	*filter = fetch_filter(cls, name ? name_attr : user ? d->attrs.uid : d->attrs.gid, name, id);
	return *filter ? 0 : 1;
}

void fetch_log_unmapped(const struct dir_domain *d, enum map_result r, const char *why,
			unsigned *refused)
{
	if (r != MAP_REFUSED) {
		log_debug("%s: skipped an entry: %s", d->name, why);
		return;
	}
	log_warning("%s: refused %s", d->name, why);
	if (refused)
		(*refused)++;
}

/* A local name is `files`' to answer; a local id would give a directory entry a local account's
 * files (or group's): refused. */
static bool allowed(const struct dir_domain *d, enum local_clash clash, const char *kind,
		    const char *name, const char *why, unsigned *refused)
{
	if (clash == LOCAL_CLASH_NAME)
		log_debug("%s: skipped %s %s: the name is local", d->name, kind, name);
	else if (clash == LOCAL_CLASH_ID) {
		log_warning("%s: refused %s %s: %s", d->name, kind, name, why);
		if (refused)
			(*refused)++;
	}
	return clash == LOCAL_CLASH_NONE;
}

bool fetch_user_allowed(const struct dir_domain *d, const struct local_accounts *local,
			const struct dir_user *u, unsigned *refused)
{
	char why[96];
	snprintf(why, sizeof(why), "uid %" PRIu32 " or primary gid %" PRIu32 " is local", u->uid,
		 u->gid);
	return allowed(d, local_accounts_user_clash(local, u->name, u->uid, u->gid), "user",
		       u->name, why, refused);
}

bool fetch_group_allowed(const struct dir_domain *d, const struct local_accounts *local,
			 const struct dir_group *g, unsigned *refused)
{
	char why[64];
	snprintf(why, sizeof(why), "gid %" PRIu32 " is local", g->gid);
	return allowed(d, local_accounts_group_clash(local, g->name, g->gid), "group", g->name,
		       why, refused);
}

bool fetch_drop_local_members(const struct local_accounts *local, struct dir_group *g)
{
	uint32_t kept = 0;
	for (uint32_t i = 0; i < g->n_members; i++) {
		if (local_set_has_name(&local->users, g->members[i])) {
			if (!g->members_packed)
				free(g->members[i]);
		} else
			g->members[kept++] = g->members[i];
	}
	bool dropped = kept != g->n_members;
	g->n_members = kept;
	return dropped;
}

bool fetch_user_wins(const struct dir_user *a, const struct dir_user *b)
{
	int by_name = strcmp(a->name, b->name);
	return by_name == 0 ? a->uid < b->uid : by_name < 0;
}

bool fetch_group_wins(const struct dir_group *a, const struct dir_group *b)
{
	int by_name = strcmp(a->name, b->name);
	return by_name == 0 ? a->gid < b->gid : by_name < 0;
}

char *fetch_entry_dn(LDAP *ld, LDAPMessage *e)
{
	char *dn = ldap_get_dn(ld, e), *copy = dn ? strdup(dn) : NULL;
	ldap_memfree(dn);
	return copy;
}

int fetch_member_ranges(struct ldap_conn *c, LDAP *ld, LDAPMessage *e, struct dn_list *dns,
			char *err, size_t errlen)
{
	const struct dir_attrs *a = &c->domain->attrs;
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < a->n_member; i++)
		if (member_attr_is_dn(a->member[i]))
			rc = member_range_fetch(c, ld, e, a->member[i], dns, err, errlen);
	return rc;
}

/* Keeps the first entry that maps to a record and is the one asked for. */
struct one_ctx {
	struct ldap_conn *conn;
	const struct dir_domain *domain;
	const struct local_accounts *local;
	const char *name;
	uint32_t id;
	void *found;
	char *dn;			/* of what was found */
	struct dn_list refs;		/* a group's member DNs */
	unsigned taken;			/* entries taken so far (a later one may replace one) */
	char skipped[256];		/* why the last entry not taken was not, for a miss's log */
};

static void one_ctx_free(struct one_ctx *ctx, bool user)
{
	if (ctx->found) {
		if (user)
			dir_user_destroy(ctx->found);
		else
			dir_group_destroy(ctx->found);
		ctx->found = NULL;
	}
	free(ctx->dn);
	ctx->dn = NULL;
	dn_list_free(&ctx->refs);
}

/* An entry's mapping r: 1 mapped; else what the take_ function returns, -1 out of memory, or 0
 * for an entry not served (logged, and kept as why a miss found nothing). */
static int mapped(struct one_ctx *ctx, enum map_result r, const char *why)
{
	if (r == MAP_NOMEM)
		return -1;
	if (r != MAP_OK) {
		fetch_log_unmapped(ctx->domain, r, why, NULL);
		snprintf(ctx->skipped, sizeof(ctx->skipped), "%s", why);
		return 0;
	}
	return 1;
}

/* The entry asked for; of several (one uid, two names), the one a refresh would keep. */
static int take_user(LDAP *ld, LDAPMessage *e, void *arg)
{
	struct one_ctx *ctx = arg;
	char why[256];
	struct dir_user u;
	int m = mapped(ctx, ldap_map_user(ld, e, ctx->domain, &u, why, sizeof(why)), why);
	if (m <= 0)
		return m;
	/* The directory may match case-insensitively; we serve exact names only (but AD's). */
	if ((ctx->name ? !ad_name_same(ctx->domain, u.name, ctx->name) : u.uid != ctx->id) ||
	    !fetch_user_allowed(ctx->domain, ctx->local, &u, NULL) ||
	    (ctx->found && !fetch_user_wins(&u, ctx->found))) {
		dir_user_clear(&u);
		return 0;
	}
	one_ctx_free(ctx, true);
	struct dir_user *copy = malloc(sizeof(*copy));
	ctx->dn = fetch_entry_dn(ld, e);
	if (!copy || !ctx->dn) {
		free(copy);
		dir_user_clear(&u);
		return -1;
	}
	*copy = u;
	ctx->found = copy;
	ctx->taken++;
	return 0;
}

static int take_group(LDAP *ld, LDAPMessage *e, void *arg)
{
	struct one_ctx *ctx = arg;
	char why[256];
	struct dir_group g;
	struct dn_list dns = { 0 };
	int m = mapped(ctx, ldap_map_group(ld, e, ctx->domain, &g, &dns, why, sizeof(why)), why);
	if (m <= 0)
		return m;
	if ((ctx->name ? !ad_name_same(ctx->domain, g.name, ctx->name) : g.gid != ctx->id) ||
	    !fetch_group_allowed(ctx->domain, ctx->local, &g, NULL) ||
	    (ctx->found && !fetch_group_wins(&g, ctx->found))) {
		dir_group_clear(&g);
		dn_list_free(&dns);
		return 0;
	}
	fetch_drop_local_members(ctx->local, &g);
	one_ctx_free(ctx, false);
	struct dir_group *copy = malloc(sizeof(*copy));
	if (!copy || fetch_member_ranges(ctx->conn, ld, e, &dns, why, sizeof(why)) < 0) {
		if (copy)
			log_error("%s: group %s: %s", ctx->domain->name, g.name, why);
		free(copy);
		dir_group_clear(&g);
		dn_list_free(&dns);
		return -1;
	}
	*copy = g;
	ctx->found = copy;
	ctx->refs = dns;
	return 0;
}

int fetch_add_gid(struct dir_user *u, uint32_t gid)
{
	if (gid == u->gid)
		return 0;
	for (uint32_t i = 0; i < u->n_groups; i++)
		if (u->groups[i] == gid)
			return 0;
	uint32_t *p = realloc(u->groups, ((size_t)u->n_groups + 1) * sizeof(uint32_t));
	if (!p)
		return -1;
	u->groups = p;
	u->groups[u->n_groups++] = gid;
	return 0;
}

struct gid_ctx {
	const struct dir_domain *domain;
	const char *name;
	uint32_t gid;
	bool found;
};

static int take_gid(LDAP *ld, LDAPMessage *e, void *arg)
{
	struct gid_ctx *ctx = arg;
	char why[256];
	struct dir_group g;
	if (ctx->found || ldap_map_group(ld, e, ctx->domain, &g, NULL, why, sizeof(why)) != MAP_OK)
		return 0;
	if (ad_name_same(ctx->domain, g.name, ctx->name)) {
		ctx->found = true;
		ctx->gid = g.gid;
	}
	dir_group_clear(&g);
	return 0;
}

/* sync_groups for one user: 1 a member of one of them, 0 not, -1 error. */
static int user_in_sync_groups(struct ldap_conn *c, const struct dir_user *u, char *err,
			       size_t errlen)
{
	const struct dir_domain *d = c->domain;
	const char *attrs[MAP_MAX_ATTRS];
	ldap_map_group_id_attrs(d, attrs);
	for (size_t i = 0; i < d->n_sync_groups; i++) {
		struct gid_ctx ctx = { d, d->sync_groups[i], 0, false };
		char *filter = NULL;
		int rc = entry_filter(c, false, ctx.name, 0, &filter, err, errlen);
		if (rc == 0)
			rc = ldap_conn_search(c, d->group_base, d->group_scope, filter, attrs, take_gid,
					      &ctx, err, errlen);
		free(filter);
		if (rc < 0)
			return -1;
		if (!ctx.found)
			continue;
		if (ctx.gid == u->gid)
			return 1;
		for (uint32_t k = 0; k < u->n_groups; k++)
			if (u->groups[k] == ctx.gid)
				return 1;
	}
	return 0;
}

bool fetch_drop_local_gids(const struct local_accounts *local, struct dir_user *u)
{
	uint32_t kept = 0;
	for (uint32_t i = 0; i < u->n_groups; i++)
		if (!local_set_has_id(&local->groups, u->groups[i]))
			u->groups[kept++] = u->groups[i];
	bool dropped = kept != u->n_groups;
	u->n_groups = kept;
	return dropped;
}

struct names_ctx {
	const struct dir_domain *domain;
	uint32_t gid;
	size_t max;
	char **names;
	size_t n;
	bool over;
};

static int take_name(LDAP *ld, LDAPMessage *e, void *arg)
{
	struct names_ctx *ctx = arg;
	char why[256];
	struct dir_user u;
	if (ldap_map_user(ld, e, ctx->domain, &u, why, sizeof(why)) != MAP_OK)
		return 0;
	int rc = 0;
	if (u.gid == ctx->gid) {
		if (ctx->n == ctx->max)
			ctx->over = true;
		else if (!(ctx->names[ctx->n] = strdup(u.name)))
			rc = -1;
		else
			ctx->n++;
	}
	dir_user_clear(&u);
	return rc;
}

int fetch_user_names_by_gid(struct ldap_conn *c, uint32_t gid, size_t max,
			    int (*each)(const char *name, void *arg), void *arg, char *err,
			    size_t errlen)
{
	const struct dir_domain *d = c->domain;
	if (d->type == DIR_DOMAIN_AD) {
		snprintf(err, errlen, "%s: an AD domain's primary groups are not searched by gid",
			 d->name);
		return -1;
	}
	const char *attrs[MAP_MAX_ATTRS];
	ldap_map_user_attrs(d, attrs, NULL);
	struct names_ctx ctx = { d, gid, max, calloc(max ? max : 1, sizeof(char *)), 0, false };
	char *filter = fetch_filter(d->user_filter, d->attrs.gid, NULL, gid);
	int rc = !ctx.names || !filter ? (snprintf(err, errlen, "out of memory"), -1) :
		 ldap_conn_search(c, d->user_base, d->user_scope, filter, attrs, take_name, &ctx,
				  err, errlen);
	free(filter);
	if (rc == 0 && ctx.over)
		rc = 1;
	for (size_t i = 0; i < ctx.n; i++) {
		if (rc == 0 && each(ctx.names[i], arg) < 0) {
			snprintf(err, errlen, "out of memory");
			rc = -1;
		}
		free(ctx.names[i]);
	}
	free(ctx.names);
	return rc;
}

int fetch_user(struct ldap_conn *c, const struct local_accounts *local, const char *name,
	       uint32_t uid, struct dir_user **out, char *err, size_t errlen)
{
	const struct dir_domain *d = c->domain;
	const char *attrs[MAP_MAX_ATTRS];
	ldap_map_user_attrs(d, attrs, NULL);
	struct one_ctx ctx = { c, d, local, name, uid, NULL, NULL, { 0 }, 0, "" };
	*out = NULL;
	char *filter = NULL;
	int rc = entry_filter(c, true, name, uid, &filter, err, errlen);
	if (rc != 0)
		return rc > 0 ? 0 : -1;
	rc = ldap_conn_search(c, d->user_base, d->user_scope, filter, attrs, take_user, &ctx,
				  err, errlen);
	free(filter);
	if (rc < 0)
		goto fail;
	struct dir_user *u = ctx.found;
	if (!u) {
		snprintf(err, errlen, "%s", ctx.skipped);
		one_ctx_free(&ctx, true);
		return 0;
	}
	rc = d->type == DIR_DOMAIN_AD ? fetch_ad_user_groups(c, ctx.dn, u, err, errlen) :
					 fetch_members_user_groups(c, local, ctx.dn, u, err, errlen);
	if (rc < 0)
		goto fail;
	fetch_drop_local_gids(local, u);
	if (d->n_sync_groups) {
		rc = user_in_sync_groups(c, u, err, errlen);
		if (rc < 0)
			goto fail;
		if (rc == 0) {
			one_ctx_free(&ctx, true);
			return 0; /* not served here */
		}
	}
	*out = u;
	ctx.found = NULL;
	one_ctx_free(&ctx, true);
	return 1;
fail:
	one_ctx_free(&ctx, true);
	return -1;
}

int fetch_group(struct ldap_conn *c, const struct local_accounts *local, const char *name,
		uint32_t gid, struct dir_group **out, unsigned *skipped_members, char *err,
		size_t errlen)
{
	const struct dir_domain *d = c->domain;
	const char *attrs[MAP_MAX_ATTRS];
	ldap_map_group_attrs(d, attrs);
	struct one_ctx ctx = { c, d, local, name, gid, NULL, NULL, { 0 }, 0, "" };
	*out = NULL;
	char *filter = NULL;
	int rc = entry_filter(c, false, name, gid, &filter, err, errlen);
	if (rc != 0)
		return rc > 0 ? 0 : -1;
	rc = ldap_conn_search(c, d->group_base, d->group_scope, filter, attrs, take_group, &ctx,
				  err, errlen);
	free(filter);
	if (rc == 0 && ctx.found && domain_members_by_dn(d))
		rc = fetch_members_group_users(c, local, &ctx.refs, ctx.found, skipped_members,
					       err, errlen);
	if (rc < 0) {
		one_ctx_free(&ctx, false);
		return -1;
	}
	*out = ctx.found;
	if (!*out)
		snprintf(err, errlen, "%s", ctx.skipped);
	ctx.found = NULL;
	one_ctx_free(&ctx, false);
	return *out ? 1 : 0;
}

struct account_ctx {
	struct one_ctx one;
	struct account_state *state;
};

static int take_account(LDAP *ld, LDAPMessage *e, void *arg)
{
	struct account_ctx *ctx = arg;
	unsigned before = ctx->one.taken;
	if (take_user(ld, e, &ctx->one) < 0)
		return -1;
	if (ctx->one.taken != before) /* this entry was taken */
		account_state_read(ld, e, ctx->state);
	return 0;
}

int fetch_account(struct ldap_conn *c, const struct local_accounts *local, const char *name,
		  char **dn, struct account_state *state, char *err, size_t errlen)
{
	static const char *const extra[] = { ACCOUNT_STATE_ATTRS, NULL };
	const struct dir_domain *d = c->domain;
	const char *attrs[MAP_MAX_ATTRS];
	ldap_map_user_attrs(d, attrs, extra);
	struct account_ctx ctx = { { c, d, local, name, 0, NULL, NULL, { 0 }, 0, "" }, state };
	*dn = NULL;
	char *filter = NULL;
	int rc = entry_filter(c, true, name, 0, &filter, err, errlen);
	if (rc != 0)
		return rc > 0 ? 0 : -1;
	rc = ldap_conn_search(c, d->user_base, d->user_scope, filter, attrs, take_account, &ctx,
				  err, errlen);
	free(filter);
	if (rc == 0 && ctx.one.found && d->n_sync_groups) {
		/* A user NSS does not serve does not log in either. */
		struct dir_user *u = NULL;
		rc = fetch_user(c, local, name, 0, &u, err, errlen);
		bool served = u != NULL;
		dir_user_destroy(u);
		if (!served && rc == 0) {
			one_ctx_free(&ctx.one, true);
			return 0;
		}
	}
	if (rc < 0) {
		one_ctx_free(&ctx.one, true);
		return -1;
	}
	bool found = ctx.one.found != NULL;
	*dn = found ? ctx.one.dn : NULL;
	if (found)
		ctx.one.dn = NULL;
	one_ctx_free(&ctx.one, true);
	return found ? 1 : 0;
}

int fetch_entry_matches(struct ldap_conn *c, const char *dn, const char *filter, char *err,
			size_t errlen)
{
	struct timeval tv = { .tv_sec = c->domain->timeout };
	LDAPMessage *res = NULL;
	char *attrs[] = { LDAP_NO_ATTRS, NULL };
	int rc = ldap_search_ext_s(c->ld, dn, LDAP_SCOPE_BASE, filter, attrs, 0, NULL, NULL, &tv, 1,
				   &res);
	int n = rc == LDAP_SUCCESS ? ldap_count_entries(c->ld, res) : -1;
	ldap_msgfree(res);
	if (rc != LDAP_SUCCESS && rc != LDAP_NO_SUCH_OBJECT) {
		snprintf(err, errlen, "checking %s against %s: %s", dn, filter, ldap_err2string(rc));
		return -1;
	}
	return n > 0 ? 1 : 0;
}

bool fetch_user_has_gid(const struct dir_user *u, uint32_t gid)
{
	if (u->gid == gid)
		return true;
	for (uint32_t i = 0; i < u->n_groups; i++)
		if (u->groups[i] == gid)
			return true;
	return false;
}

int fetch_in_access_groups(struct ldap_conn *c, const struct local_accounts *local,
			   const char *user, char *err, size_t errlen)
{
	const struct dir_domain *dom = c->domain;
	struct dir_user *u = NULL;
	int r = fetch_user(c, local, user, 0, &u, err, errlen);
	for (size_t i = 0; r > 0 && i < dom->n_access_groups; i++) {
		struct dir_group *g = NULL;
		int found = fetch_group(c, local, dom->access_groups[i], 0, &g, NULL, err, errlen);
		if (found < 0)
			r = -1;
		if (found > 0 && fetch_user_has_gid(u, g->gid))
			r = 2;
		dir_group_destroy(g);
		if (r == 2)
			break;
	}
	dir_user_destroy(u);
	return r == 2 ? 1 : r < 0 ? -1 : 0;
}
