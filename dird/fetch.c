#include "fetch.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ldap_filter.h"
#include "ldap_map.h"
#include "log.h"
#include "protocol.h"

#define MAX_FILTER (3 * DIR_MAX_NAME + 128)

struct fill_ctx {
	struct db *db;
	const struct dir_domain *domain;
	const struct local_accounts *local;
	atomic_uint *progress;
};

static int add_user_entry(LDAP *ld, LDAPMessage *e, void *arg)
{
	struct fill_ctx *ctx = arg;
	char why[256];
	struct dir_user *u = calloc(1, sizeof(*u));
	if (!u)
		return -1;
	enum map_result r = ldap_map_user(ld, e, ctx->domain, u, why, sizeof(why));
	if (r != MAP_OK) {
		free(u);
		if (r == MAP_NOMEM)
			return -1;
		log_debug("%s: skipped a user: %s", ctx->domain->name, why);
		return 0;
	}
	if (local_names_has(&ctx->local->users, u->name)) {
		log_debug("%s: skipped user %s: the name is local", ctx->domain->name, u->name);
		dir_user_free(u);
		free(u);
		return 0;
	}
	if (ctx->progress)
		atomic_fetch_add(ctx->progress, 1);
	char name[DIR_MAX_NAME + 1];
	uint32_t uid = u->uid;
	snprintf(name, sizeof(name), "%s", u->name);
	int rc = db_add_user(ctx->db, u);
	if (rc == 1)
		log_warning("%s: user %s (uid %" PRIu32 ") duplicates the name or uid of an earlier "
			    "entry; the earlier one is kept", ctx->domain->name, name, uid);
	return rc < 0 ? -1 : 0;
}

static int add_group_entry(LDAP *ld, LDAPMessage *e, void *arg)
{
	struct fill_ctx *ctx = arg;
	char why[256];
	struct dir_group *g = calloc(1, sizeof(*g));
	if (!g)
		return -1;
	enum map_result r = ldap_map_group(ld, e, ctx->domain, g, why, sizeof(why));
	if (r != MAP_OK) {
		free(g);
		if (r == MAP_NOMEM)
			return -1;
		log_debug("%s: skipped a group: %s", ctx->domain->name, why);
		return 0;
	}
	if (local_names_has(&ctx->local->groups, g->name)) {
		log_debug("%s: skipped group %s: the name is local", ctx->domain->name, g->name);
		dir_group_free(g);
		free(g);
		return 0;
	}
	if (ctx->progress)
		atomic_fetch_add(ctx->progress, 1);
	char name[DIR_MAX_NAME + 1];
	uint32_t gid = g->gid;
	snprintf(name, sizeof(name), "%s", g->name);
	int rc = db_add_group(ctx->db, g);
	if (rc == 1)
		log_warning("%s: group %s (gid %" PRIu32 ") duplicates the name or gid of an earlier "
			    "entry; the earlier one is kept", ctx->domain->name, name, gid);
	return rc < 0 ? -1 : 0;
}

int fetch_all(struct ldap_conn *c, const struct local_accounts *local, struct db *db,
	      atomic_uint *progress, char *err, size_t errlen)
{
	struct fill_ctx ctx = { db, c->domain, local, progress };
	const struct dir_domain *d = c->domain;
	if (ldap_conn_search(c, d->user_base, LDAP_USER_CLASS, ldap_user_attrs, add_user_entry,
			     &ctx, err, errlen) < 0 ||
	    ldap_conn_search(c, d->group_base, LDAP_GROUP_CLASS, ldap_group_attrs, add_group_entry,
			     &ctx, err, errlen) < 0)
		return -1;
	return 0;
}

/* "(&<class>(attr=value))" with the value escaped, or an id. */
static int make_filter(char *out, size_t len, const char *cls, const char *attr,
		       const char *name, uint32_t id)
{
	char value[3 * DIR_MAX_NAME + 1];
	if (name) {
		if (ldap_filter_escape(name, value, sizeof(value)) < 0)
			return -1;
	} else {
		snprintf(value, sizeof(value), "%" PRIu32, id);
	}
	int n = snprintf(out, len, "(&%s(%s=%s))", cls, attr, value);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* Keeps the first entry that maps to a record and is the one asked for. */
struct one_ctx {
	const struct dir_domain *domain;
	const struct local_accounts *local;
	const char *name;
	uint32_t id;
	void *found;
};

static int take_user(LDAP *ld, LDAPMessage *e, void *arg)
{
	struct one_ctx *ctx = arg;
	char why[256];
	struct dir_user u;
	if (ctx->found)
		return 0;
	enum map_result r = ldap_map_user(ld, e, ctx->domain, &u, why, sizeof(why));
	if (r == MAP_NOMEM)
		return -1;
	if (r != MAP_OK)
		return 0;
	/* The directory may match case-insensitively; we serve exact names only. */
	if ((ctx->name ? strcmp(u.name, ctx->name) != 0 : u.uid != ctx->id) ||
	    local_names_has(&ctx->local->users, u.name)) {
		dir_user_free(&u);
		return 0;
	}
	struct dir_user *copy = malloc(sizeof(*copy));
	if (!copy) {
		dir_user_free(&u);
		return -1;
	}
	*copy = u;
	ctx->found = copy;
	return 0;
}

static int take_group(LDAP *ld, LDAPMessage *e, void *arg)
{
	struct one_ctx *ctx = arg;
	char why[256];
	struct dir_group g;
	if (ctx->found)
		return 0;
	enum map_result r = ldap_map_group(ld, e, ctx->domain, &g, why, sizeof(why));
	if (r == MAP_NOMEM)
		return -1;
	if (r != MAP_OK)
		return 0;
	if ((ctx->name ? strcmp(g.name, ctx->name) != 0 : g.gid != ctx->id) ||
	    local_names_has(&ctx->local->groups, g.name)) {
		dir_group_free(&g);
		return 0;
	}
	struct dir_group *copy = malloc(sizeof(*copy));
	if (!copy) {
		dir_group_free(&g);
		return -1;
	}
	*copy = g;
	ctx->found = copy;
	return 0;
}

/* The groups listing a user in memberUid become its supplementary gids. */
static int add_membership(LDAP *ld, LDAPMessage *e, void *arg)
{
	struct one_ctx *ctx = arg;
	struct dir_user *u = ctx->found;
	char why[256];
	struct dir_group g;
	enum map_result r = ldap_map_group(ld, e, ctx->domain, &g, why, sizeof(why));
	if (r == MAP_NOMEM)
		return -1;
	if (r != MAP_OK)
		return 0;
	uint32_t gid = g.gid;
	dir_group_free(&g);
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

int fetch_user(struct ldap_conn *c, const struct local_accounts *local, const char *name,
	       uint32_t uid, struct dir_user **out, char *err, size_t errlen)
{
	const struct dir_domain *d = c->domain;
	char filter[MAX_FILTER];
	struct one_ctx ctx = { d, local, name, uid, NULL };
	*out = NULL;
	if (make_filter(filter, sizeof(filter), LDAP_USER_CLASS, name ? "uid" : "uidNumber", name,
			uid) < 0)
		return 0; /* a name too long to be anyone's */
	if (ldap_conn_search(c, d->user_base, filter, ldap_user_attrs, take_user, &ctx, err,
			     errlen) < 0)
		goto fail;
	struct dir_user *u = ctx.found;
	if (!u)
		return 0;
	if (make_filter(filter, sizeof(filter), LDAP_GROUP_CLASS, "memberUid", u->name, 0) < 0 ||
	    ldap_conn_search(c, d->group_base, filter, ldap_group_attrs, add_membership, &ctx, err,
			     errlen) < 0)
		goto fail;
	*out = u;
	return 1;
fail:
	if (ctx.found) {
		dir_user_free(ctx.found);
		free(ctx.found);
	}
	return -1;
}

int fetch_group(struct ldap_conn *c, const struct local_accounts *local, const char *name,
		uint32_t gid, struct dir_group **out, char *err, size_t errlen)
{
	const struct dir_domain *d = c->domain;
	char filter[MAX_FILTER];
	struct one_ctx ctx = { d, local, name, gid, NULL };
	*out = NULL;
	if (make_filter(filter, sizeof(filter), LDAP_GROUP_CLASS, name ? "cn" : "gidNumber", name,
			gid) < 0)
		return 0;
	if (ldap_conn_search(c, d->group_base, filter, ldap_group_attrs, take_group, &ctx, err,
			     errlen) < 0) {
		if (ctx.found) {
			dir_group_free(ctx.found);
			free(ctx.found);
		}
		return -1;
	}
	*out = ctx.found;
	return ctx.found ? 1 : 0;
}

struct account_ctx {
	struct one_ctx one;
	char *dn;
	struct account_state *state;
};

static int take_account(LDAP *ld, LDAPMessage *e, void *arg)
{
	struct account_ctx *ctx = arg;
	if (ctx->dn)
		return 0;
	if (take_user(ld, e, &ctx->one) < 0)
		return -1;
	if (!ctx->one.found)
		return 0;
	dir_user_free(ctx->one.found);
	free(ctx->one.found);
	ctx->one.found = NULL;
	char *dn = ldap_get_dn(ld, e);
	ctx->dn = dn ? strdup(dn) : NULL;
	ldap_memfree(dn);
	if (!ctx->dn)
		return -1;
	account_state_read(ld, e, ctx->state);
	return 0;
}

int fetch_account(struct ldap_conn *c, const struct local_accounts *local, const char *name,
		  char **dn, struct account_state *state, char *err, size_t errlen)
{
	static const char *const attrs[] = { LDAP_USER_ATTRS, ACCOUNT_STATE_ATTRS, NULL };
	const struct dir_domain *d = c->domain;
	char filter[MAX_FILTER];
	struct account_ctx ctx = { { d, local, name, 0, NULL }, NULL, state };
	*dn = NULL;
	if (make_filter(filter, sizeof(filter), LDAP_USER_CLASS, "uid", name, 0) < 0)
		return 0;
	if (ldap_conn_search(c, d->user_base, filter, attrs, take_account, &ctx, err, errlen) < 0) {
		free(ctx.dn);
		return -1;
	}
	*dn = ctx.dn;
	return ctx.dn ? 1 : 0;
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
