#include "fetch_members.h"

#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fetch.h"
#include "ldap_filter.h"
#include "ldap_map.h"
#include "log.h"

/* Groups a search asks for the parents of, at most. */
#define PARENTS_PER_SEARCH 50

/* "(attr=value)", value escaped (RFC 4515), to f.  -1 when out of memory. */
static int put_term(FILE *f, const char *attr, const char *value)
{
	size_t cap = 3 * strlen(value) + 1;
	char *escaped = malloc(cap);
	int rc = escaped && ldap_filter_escape(value, escaped, cap) >= 0 ? 0 : -1;
	if (rc == 0)
		fprintf(f, "(%s=%s)", attr, escaped);
	free(escaped);
	return rc;
}

/* --- a user's groups ------------------------------------------------------------------------ */

struct parents_ctx {
	const struct dir_domain *domain;
	const struct local_accounts *local;
	struct dir_user *user;
	bool nested;			/* members by DN: the groups found have parents to find */
	struct dn_list *seen, *next;
};

static int take_parent(LDAP *ld, LDAPMessage *e, void *arg)
{
	struct parents_ctx *ctx = arg;
	char why[256], *dn = NULL;
	if (ctx->nested) {
		char *raw = ldap_get_dn(ld, e);
		dn = raw ? dn_normalize(raw) : NULL;
		ldap_memfree(raw);
		if (!dn || dn_list_has(ctx->seen, dn)) {
			free(dn);
			return 0;
		}
	}
	struct dir_group g;
	int rc = 0;
	if (ldap_map_group(ld, e, ctx->domain, &g, NULL, why, sizeof(why)) == MAP_OK) {
		rc = dn ? dn_list_add(ctx->seen, dn) : 0;
		/* A group with a local name or gid is not served: neither it nor its parents are
		 * the user's (a refresh never takes it either). */
		if (rc == 0 && fetch_group_allowed(ctx->domain, ctx->local, &g, NULL))
			rc = (dn && dn_list_add(ctx->next, dn) < 0) || fetch_add_gid(ctx->user, g.gid) < 0 ?
				     -1 : 0;
		dir_group_clear(&g);
	}
	free(dn);
	return rc;
}

/* One search for the groups listing any of dns[0..n) in a DN attribute (and, with name, the
 * user's name in the memberUid ones). */
static int search_parents(struct ldap_conn *c, const char *name, char *const *dns, size_t n,
			  struct parents_ctx *ctx, char *err, size_t errlen)
{
	const struct dir_domain *d = c->domain;
	size_t terms = 0;
	for (size_t a = 0; a < d->attrs.n_member; a++)
		terms += member_attr_is_dn(d->attrs.member[a]) ? n : name != NULL;
	if (!terms)
		return 0;
	char *filter = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&filter, &len);
	int rc = f ? 0 : -1;
	/* (&FILTER(term)) for one term, as plain RFC 2307 always asked; else (&FILTER(|terms)) */
	if (f)
		fprintf(f, "(&%s%s", d->group_filter, terms > 1 ? "(|" : "");
	for (size_t a = 0; rc == 0 && a < d->attrs.n_member; a++) {
		const char *attr = d->attrs.member[a];
		if (!member_attr_is_dn(attr) && name)
			rc = put_term(f, attr, name);
		for (size_t i = 0; rc == 0 && member_attr_is_dn(attr) && i < n; i++)
			rc = put_term(f, attr, dns[i]);
	}
	if (f) {
		fputs(terms > 1 ? "))" : ")", f);
		rc = fclose(f) != 0 ? -1 : rc;
	}
	if (rc < 0) {
		snprintf(err, errlen, "out of memory");
	} else {
		const char *attrs[MAP_MAX_ATTRS];
		ldap_map_group_id_attrs(d, attrs);
		rc = ldap_conn_search(c, d->group_base, d->group_scope, filter, attrs, take_parent,
				      ctx, err, errlen);
	}
	free(filter);
	return rc;
}

int fetch_members_user_groups(struct ldap_conn *c, const struct local_accounts *local,
			      const char *user_dn, struct dir_user *u, char *err, size_t errlen)
{
	const struct dir_domain *d = c->domain;
	struct dn_list seen = { 0 }, level = { 0 }, next = { 0 };
	struct parents_ctx ctx = { d, local, u, domain_members_by_dn(d), &seen, &next };
	char *const me[] = { (char *)user_dn };
	int rc = search_parents(c, u->name, me, 1, &ctx, err, errlen);
	for (unsigned depth = 1; rc == 0 && next.n; depth++) {
		dn_list_free(&level);
		level = next;
		memset(&next, 0, sizeof(next));
		if (depth >= MAX_NESTING) {
			log_warning("%s: %s's groups nest deeper than %d levels; the deeper ones are "
				    "left out", d->name, u->name, MAX_NESTING);
			break;
		}
		for (size_t i = 0; rc == 0 && i < level.n; i += PARENTS_PER_SEARCH) {
			size_t n = level.n - i < PARENTS_PER_SEARCH ? level.n - i : PARENTS_PER_SEARCH;
			rc = search_parents(c, NULL, level.v + i, n, &ctx, err, errlen);
		}
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
	struct name_list names;		/* the members found (the strings are ours to free) */
	bool was_member;		/* the entry read was a user or a group of ours */
	struct dn_list *children;	/* member DNs of a member group */
	unsigned not_dn;		/* values of member groups' DN attributes that are no DN */
};

static int take_member_user(LDAP *ld, LDAPMessage *e, void *arg)
{
	struct members_ctx *ctx = arg;
	char why[256];
	struct dir_user u;
	if (ldap_map_user(ld, e, ctx->domain, &u, why, sizeof(why)) != MAP_OK ||
	    !fetch_user_allowed(ctx->domain, ctx->local, &u, NULL)) {
		dir_user_clear(&u);
		return 0;
	}
	ctx->was_member = true;
	int rc = name_list_add(&ctx->names, u.name);
	if (rc == 0)
		u.name = NULL;
	dir_user_clear(&u);
	return rc;
}

/* A group's members: its memberUid names go to names (the strings taken: g keeps NULLs), its
 * member DNs `dns` to `to`, to be read next. */
static int take_members_of(struct name_list *names, struct dir_group *g, const struct dn_list *dns,
			   struct dn_list *to)
{
	int rc = 0;
	for (uint32_t i = 0; rc == 0 && i < g->n_members; i++)
		if ((rc = name_list_add(names, g->members[i])) == 0)
			g->members[i] = NULL;
	for (size_t i = 0; rc == 0 && i < dns->n; i++)
		rc = dn_list_add(to, dns->v[i]);
	return rc;
}

/* A member group: its member DNs are read next, its memberUid names are members. */
static int take_member_group(LDAP *ld, LDAPMessage *e, void *arg)
{
	struct members_ctx *ctx = arg;
	char why[256];
	struct dir_group g;
	struct dn_list dns = { 0 };
	enum map_result r = ldap_map_group(ld, e, ctx->domain, &g, &dns, why, sizeof(why));
	int rc = r == MAP_NOMEM ? -1 : 0;
	if (r == MAP_OK && fetch_group_allowed(ctx->domain, ctx->local, &g, NULL)) {
		ctx->was_member = true;
		ctx->not_dn += dns.not_dn;
		rc = take_members_of(&ctx->names, &g, &dns, ctx->children);
	}
	if (r == MAP_OK)
		dir_group_clear(&g);
	dn_list_free(&dns);
	return rc;
}

/* Reads one member DN: a user under user_base, else a group under group_base. */
static int read_member(struct ldap_conn *c, const char *dn, const char *user_base,
		       const char *group_base, struct members_ctx *ctx, char *err, size_t errlen)
{
	const struct dir_domain *d = c->domain;
	const char *uattrs[MAP_MAX_ATTRS], *gattrs[MAP_MAX_ATTRS];
	ldap_map_user_attrs(d, uattrs, NULL);
	ldap_map_group_attrs(d, gattrs);
	ctx->was_member = false;
	int rc = 0;
	if (user_base && dn_in_scope(dn, user_base, d->user_scope))
		rc = ldap_conn_search(c, dn, DIR_SCOPE_BASE, d->user_filter, uattrs, take_member_user,
				      ctx, err, errlen);
	if (rc == 0 && !ctx->was_member && group_base && dn_in_scope(dn, group_base, d->group_scope))
		rc = ldap_conn_search(c, dn, DIR_SCOPE_BASE, d->group_filter, gattrs,
				      take_member_group, ctx, err, errlen);
	return rc;
}

/* Member DNs that may be users are read a batch at a time: those under one parent entry with
 * one search of it (scope one) for their RDNs, "(&FILTER(|(uid=a)(uid=b)...))", instead of a
 * search each: a group of 10,000 members costs 100 searches, not 10,000. */
#define MEMBERS_PER_SEARCH 100

struct pending_user {
	char *dn;		/* normalized (the level's) */
	char *parent;		/* normalized */
	char *term;		/* "(attr=value)", escaped */
};

static int cmp_pending(const void *a, const void *b)
{
	return strcmp(((const struct pending_user *)a)->parent,
		      ((const struct pending_user *)b)->parent);
}

/* 1 with p set to dn's parent and a filter term naming its RDN; 0 when its RDN is not one
 * attribute with a text value a filter can hold (it is read with a search of its own); -1 when
 * out of memory. */
static int rdn_term(char *dn, struct pending_user *p)
{
	LDAPDN d = NULL;
	int ok = 0;
	if (ldap_str2dn(dn, &d, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS || !d || !d[0] || !d[1] ||
	    d[0][1] || (d[0][0]->la_flags & LDAP_AVA_BINARY) ||
	    memchr(d[0][0]->la_value.bv_val, '\0', d[0][0]->la_value.bv_len)) {
		ldap_dnfree(d);
		return 0;
	}
	char *parent = NULL, *attr = strndup(d[0][0]->la_attr.bv_val, d[0][0]->la_attr.bv_len),
	     *value = strndup(d[0][0]->la_value.bv_val, d[0][0]->la_value.bv_len);
	size_t cap = value ? 3 * strlen(value) + 1 : 0;
	char *escaped = value ? malloc(cap) : NULL;
	if (!attr || !escaped) {
		ok = -1;
	} else if (ldap_dn2str(d + 1, &parent, LDAP_DN_FORMAT_LDAPV3) == LDAP_SUCCESS && parent &&
		   ldap_filter_escape(value, escaped, cap) >= 0 && (p->parent = dn_normalize(parent))) {
		char *term = NULL;
		if (asprintf(&term, "(%s=%s)", attr, escaped) >= 0) {
			p->term = term;
			p->dn = dn;
			ok = 1;
		} else {
			free(p->parent);
			p->parent = NULL;
			ok = -1;
		}
	}
	ldap_memfree(parent);
	free(attr);
	free(value);
	free(escaped);
	ldap_dnfree(d);
	return ok;
}

struct user_batch {
	struct members_ctx *ctx;
	const struct pending_user *users;
	size_t n;
	bool *found;
};

/* An entry of a batch search: a member when its DN is one of the batch's. */
static int take_batch_user(LDAP *ld, LDAPMessage *e, void *arg)
{
	struct user_batch *b = arg;
	char *raw = ldap_get_dn(ld, e), *dn = raw ? dn_normalize(raw) : NULL;
	ldap_memfree(raw);
	size_t i = 0;
	while (dn && i < b->n && strcmp(b->users[i].dn, dn))
		i++;
	free(dn);
	if (i == b->n || b->found[i])
		return 0;
	b->ctx->was_member = false;
	int rc = take_member_user(ld, e, b->ctx);
	b->found[i] = b->ctx->was_member;
	return rc;
}

/* Reads users[0..n) (one parent) with one search; each not found there is read as a group. */
static int read_user_batch(struct ldap_conn *c, const struct pending_user *users, size_t n,
			   const char *group_base, struct members_ctx *ctx, unsigned *skipped,
			   const char *group, char *err, size_t errlen)
{
	const struct dir_domain *d = c->domain;
	bool found[MEMBERS_PER_SEARCH] = { false };
	struct user_batch b = { ctx, users, n, found };
	char *filter = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&filter, &len);
	if (!f) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	fprintf(f, "(&%s(|", d->user_filter);
	for (size_t i = 0; i < n; i++)
		fputs(users[i].term, f);
	fputs("))", f);
	int rc = fclose(f) != 0 ? -1 : 0;
	const char *uattrs[MAP_MAX_ATTRS];
	ldap_map_user_attrs(d, uattrs, NULL);
	if (rc < 0)
		snprintf(err, errlen, "out of memory");
	else
		rc = ldap_conn_search(c, users[0].parent, DIR_SCOPE_ONE, filter, uattrs,
				      take_batch_user, &b, err, errlen);
	free(filter);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (found[i])
			continue;
		rc = read_member(c, users[i].dn, NULL, group_base, ctx, err, errlen);
		if (rc == 0 && !ctx->was_member) {
			log_debug("%s: group %s: member %s is not a user or group served here; "
				  "skipped", d->name, group, users[i].dn);
			if (skipped)
				(*skipped)++;
		}
	}
	return rc;
}

static int cmp_dn(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* A walk down a group's members, level by level. */
struct members_walk {
	struct ldap_conn *c;
	const char *group;		/* its name, for the log */
	const char *user_base, *group_base; /* normalized (NULL: out of memory) */
	void *seen;			/* the DNs read: a tree, as a group of 10,000 members looks each up in it */
	size_t reads;			/* the entries read so far, up to MAX_MEMBER_READS */
	unsigned *skipped;
	struct members_ctx *ctx;
};

/* Reads the level's users in searches of up to MEMBERS_PER_SEARCH siblings (users sorted by parent). */
static int read_user_batches(struct members_walk *w, const struct pending_user *users, size_t n_users,
			     char *err, size_t errlen)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < n_users && w->reads <= MAX_MEMBER_READS;) {
		size_t k = 1;
		while (k < MEMBERS_PER_SEARCH && i + k < n_users &&
		       !strcmp(users[i + k].parent, users[i].parent))
			k++;
		w->reads += k;
		if (w->reads <= MAX_MEMBER_READS)
			rc = read_user_batch(w->c, users + i, k, w->group_base, w->ctx, w->skipped,
					     w->group, err, errlen);
		i += k;
	}
	return rc;
}

/* Reads one level of member DNs, each once: those that may be users, by parent, in batches; the others one
 * by one. The member groups' DNs go to ctx->children, the next level. */
static int read_level(struct members_walk *w, const struct dn_list *level, char *err, size_t errlen)
{
	const struct dir_domain *d = w->c->domain;
	struct pending_user *users = calloc(level->n + 1, sizeof(*users));
	size_t n_users = 0;
	int rc = 0;
	if (!users) {
		snprintf(err, errlen, "out of memory");
		rc = -1;
	}
	for (size_t i = 0; rc == 0 && i < level->n; i++) {
		if (tfind(level->v[i], &w->seen, cmp_dn))
			continue; /* a cycle, or reached twice */
		char *copy = strdup(level->v[i]);
		if (!copy || !tsearch(copy, &w->seen, cmp_dn)) {
			free(copy);
			snprintf(err, errlen, "out of memory");
			rc = -1;
		}
		int batched = 0;
		if (rc == 0 && w->user_base && dn_in_scope(level->v[i], w->user_base, d->user_scope) &&
		    (batched = rdn_term(level->v[i], &users[n_users])) < 0) {
			snprintf(err, errlen, "out of memory");
			rc = -1;
		}
		if (batched > 0) {
			n_users++;
			continue;
		}
		if (rc == 0 && ++w->reads > MAX_MEMBER_READS)
			break;
		if (rc == 0)
			rc = read_member(w->c, level->v[i], w->user_base, w->group_base, w->ctx, err,
					 errlen);
		if (rc == 0 && !w->ctx->was_member) {
			log_debug("%s: group %s: member %s is not a user or group served here; "
				  "skipped", d->name, w->group, level->v[i]);
			if (w->skipped)
				(*w->skipped)++;
		}
	}
	if (n_users)
		qsort(users, n_users, sizeof(*users), cmp_pending);
	if (rc == 0)
		rc = read_user_batches(w, users, n_users, err, errlen);
	for (size_t i = 0; i < n_users; i++) {
		free(users[i].parent);
		free(users[i].term);
	}
	free(users);
	return rc;
}

int fetch_members_group_users(struct ldap_conn *c, const struct local_accounts *local,
			      const struct dn_list *member_dns, struct dir_group *g, unsigned *skipped,
			      char *err, size_t errlen)
{
	const struct dir_domain *d = c->domain;
	struct dn_list level = { 0 }, next = { 0 };
	struct members_ctx ctx = { d, local, { NULL, 0, 0 }, false, &next, member_dns->not_dn };
	char *user_base = dn_normalize(d->user_base), *group_base = dn_normalize(d->group_base);
	struct members_walk w = { c, g->name, user_base, group_base, NULL, 0, skipped, &ctx };
	/* the group's own names first (memberUid), and its member DNs the first level */
	int rc = take_members_of(&ctx.names, g, member_dns, &next);
	for (unsigned depth = 0; rc == 0 && next.n; depth++) {
		dn_list_free(&level);
		level = next;
		memset(&next, 0, sizeof(next));
		if (depth >= MAX_NESTING) {
			log_warning("%s: group %s nests groups deeper than %d levels; the deeper ones "
				    "are left out", d->name, g->name, MAX_NESTING);
			break;
		}
		rc = read_level(&w, &level, err, errlen);
		if (rc == 0 && w.reads > MAX_MEMBER_READS) {
			log_warning("%s: group %s has more than %d members to read; its member list "
				    "is cut there (a full refresh, enumerate = yes, reads them all)",
				    d->name, g->name, MAX_MEMBER_READS);
			break;
		}
	}

	if (ctx.not_dn)
		log_debug("%s: group %s: %u values of DN member attributes are no DN; skipped",
			  d->name, g->name, ctx.not_dn);
	if (skipped)
		*skipped += ctx.not_dn;
	if (rc == 0 && group_set_members(g, &ctx.names) < 0) {
		snprintf(err, errlen, "out of memory");
		rc = -1;
	}
	for (size_t i = 0; i < ctx.names.n; i++)
		free(ctx.names.v[i]);
	free(ctx.names.v);
	free(user_base);
	free(group_base);
	tdestroy(w.seen, free);
	dn_list_free(&level);
	dn_list_free(&next);
	return rc;
}

/* --- groups read again ------------------------------------------------------------------- */

int fetch_members_read_groups(struct ldap_conn *c, const struct dn_list *dns, const char *extra,
			      ldap_entry_fn fn, void *arg, char *err, size_t errlen)
{
	const struct dir_domain *d = c->domain;
	const char *attrs[MAP_MAX_ATTRS + 1];
	ldap_map_group_attrs(d, attrs);
	size_t n = 0;
	while (attrs[n])
		n++;
	attrs[n] = extra;
	attrs[n + 1] = NULL;
	char *base = dn_normalize(d->group_base);
	if (!base) {
		snprintf(err, errlen, "group_base %s is no DN", d->group_base);
		return -1;
	}
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < dns->n; i++)
		if (dn_in_scope(dns->v[i], base, d->group_scope))
			rc = ldap_conn_search(c, dns->v[i], DIR_SCOPE_BASE, d->group_filter, attrs, fn,
					      arg, err, errlen);
	free(base);
	return rc;
}
