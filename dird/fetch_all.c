/* A full refresh's read of one domain: every user and group, through the rules single lookups
 * follow (directory/fetch.h), into a db; clashes of names and ids settled the same way whatever
 * order the server sends entries in; 2307bis and AD members resolved through nested groups
 * (nesting.h); sync_groups applied. */
#include "fetch_all.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ldap_map.h"
#include "log.h"
#include "nesting.h"
#include "protocol.h"

struct fill_ctx {
	struct ldap_conn *conn;	/* for the slices of big groups' members (member_range.c) */
	struct db *db;
	const struct dir_domain *domain;
	const struct local_accounts *local;
	atomic_uint *progress;
	struct nesting *nest; /* members by DN: every DN, to resolve them */
	struct fetch_counts counts;
};

/* Adds u to db, settling a clash of name or uid as fetch_user_wins says (and logging it).  0 added,
 * 1 dropped, -1 out of memory; u is owned by db or freed. */
static int add_user_settled(struct fill_ctx *ctx, struct dir_user *u)
{
	struct dir_user *other;
	while ((other = db_user_by_name(ctx->db, u->name)) || (other = db_user_by_uid(ctx->db, u->uid))) {
		const struct dir_user *kept = fetch_user_wins(u, other) ? u : other;
		const struct dir_user *lost = kept == u ? other : u;
		log_warning("%s: users %s (uid %" PRIu32 ") and %s (uid %" PRIu32 ") share a name or "
			    "uid; %s is served", ctx->domain->name, kept->name, kept->uid, lost->name,
			    lost->uid, kept->name);
		ctx->counts.duplicates++;
		if (kept != u) {
			dir_user_destroy(u);
			return 1;
		}
		if (ctx->nest)
			nesting_forget_user(ctx->nest, other->name);
		db_remove_user(ctx->db, other->name, other->uid);
	}
	return db_add_user(ctx->db, u);
}

static int add_group_settled(struct fill_ctx *ctx, struct dir_group *g)
{
	struct dir_group *other;
	while ((other = db_group_by_name(ctx->db, g->name)) || (other = db_group_by_gid(ctx->db, g->gid))) {
		const struct dir_group *kept = fetch_group_wins(g, other) ? g : other;
		const struct dir_group *lost = kept == g ? other : g;
		log_warning("%s: groups %s (gid %" PRIu32 ") and %s (gid %" PRIu32 ") share a name or "
			    "gid; %s is served", ctx->domain->name, kept->name, kept->gid, lost->name,
			    lost->gid, kept->name);
		ctx->counts.duplicates++;
		if (kept != g) {
			dir_group_destroy(g);
			return 1;
		}
		if (ctx->nest)
			nesting_forget_group(ctx->nest, other);
		db_remove_group(ctx->db, other->name, other->gid);
	}
	return db_add_group(ctx->db, g);
}

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
		fetch_log_unmapped(ctx->domain, r, why, &ctx->counts.refused);
		return 0;
	}
	if (!fetch_user_allowed(ctx->domain, ctx->local, u, &ctx->counts.refused)) {
		dir_user_destroy(u);
		return 0;
	}
	if (ctx->progress)
		atomic_fetch_add(ctx->progress, 1);
	char name[DIR_MAX_NAME + 1];
	snprintf(name, sizeof(name), "%s", u->name);
	int rc = add_user_settled(ctx, u);
	if (rc == 0 && ctx->nest) {
		char *dn = fetch_entry_dn(ld, e);
		rc = dn ? nesting_add_user(ctx->nest, dn, name) : -1;
		free(dn);
	}
	return rc < 0 ? -1 : 0;
}

static int add_group_entry(LDAP *ld, LDAPMessage *e, void *arg)
{
	struct fill_ctx *ctx = arg;
	char why[256];
	struct dn_list dns = { 0 };
	struct dir_group *g = calloc(1, sizeof(*g));
	if (!g)
		return -1;
	enum map_result r = ldap_map_group(ld, e, ctx->domain, g, &dns, why, sizeof(why));
	if (r != MAP_OK) {
		free(g);
		dn_list_free(&dns);
		if (r == MAP_NOMEM)
			return -1;
		fetch_log_unmapped(ctx->domain, r, why, &ctx->counts.refused);
		return 0;
	}
	if (ctx->nest && fetch_member_ranges(ctx->conn, ld, e, &dns, why, sizeof(why)) < 0) {
		log_error("%s: group %s: %s", ctx->domain->name, g->name, why);
		dir_group_destroy(g);
		dn_list_free(&dns);
		return -1;
	}
	if (!fetch_group_allowed(ctx->domain, ctx->local, g, &ctx->counts.refused)) {
		dir_group_destroy(g);
		dn_list_free(&dns);
		return 0;
	}
	fetch_drop_local_members(ctx->local, g);
	if (ctx->progress)
		atomic_fetch_add(ctx->progress, 1);
	int rc = add_group_settled(ctx, g);
	if (rc == 0 && ctx->nest) {
		char *dn = fetch_entry_dn(ld, e);
		rc = dn ? nesting_add_group(ctx->nest, dn, g, &dns) : -1;
		free(dn);
	}
	dn_list_free(&dns);
	return rc < 0 ? -1 : 0;
}

bool fetch_in_sync_groups(const struct dir_user *u, void *arg)
{
	const struct sync_set *s = arg;
	if (!u->domain || strcmp(u->domain, s->domain->name))
		return true; /* another domain's user: its own rules */
	for (size_t i = 0; i < s->domain->n_sync_groups; i++) {
		const struct dir_group *g = db_group_by_name(s->db, s->domain->sync_groups[i]);
		if (!g || (g->domain && strcmp(g->domain, s->domain->name)))
			continue;
		if (g->gid == u->gid)
			return true;
		for (uint32_t m = 0; m < g->n_members; m++)
			if (!strcmp(g->members[m], u->name))
				return true;
	}
	return false;
}

int fetch_all(struct ldap_conn *c, const struct local_accounts *local, struct db *db,
	      atomic_uint *progress, struct fetch_counts *counts, char *err, size_t errlen)
{
	const struct dir_domain *d = c->domain;
	const char *uattrs[MAP_MAX_ATTRS], *gattrs[MAP_MAX_ATTRS];
	ldap_map_user_attrs(d, uattrs, NULL);
	ldap_map_group_attrs(d, gattrs);
	struct fill_ctx ctx = { c, db, d, local, progress, NULL, { 0, 0, 0 } };
	if (domain_members_by_dn(d) && !(ctx.nest = nesting_new(d->name))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int rc = -1;
	if (ldap_conn_search(c, d->user_base, d->user_scope, d->user_filter, uattrs,
			     add_user_entry, &ctx, err, errlen) < 0 ||
	    ldap_conn_search(c, d->group_base, d->group_scope, d->group_filter, gattrs,
			     add_group_entry, &ctx, err, errlen) < 0)
		goto out;
	if (ctx.nest && nesting_resolve(ctx.nest, &ctx.counts.skipped_members) < 0) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (ctx.counts.skipped_members)
		log_info("%s: %u member DNs are no user or group read here and were skipped (log_level "
			 "= debug names them)", d->name, ctx.counts.skipped_members);
	if (d->n_sync_groups) {
		struct sync_set s = { d, db };
		size_t dropped = db_keep_users(db, fetch_in_sync_groups, &s);
		log_debug("%s: %zu users are in none of sync_groups and are not served", d->name,
			  dropped);
	}
	*counts = ctx.counts;
	rc = 0;
out:
	nesting_free(ctx.nest);
	return rc;
}
