/* Members by DN resolved in a change stream's batch, against the stream's keys (member_dns.h). */
#include "member_dns.h"

#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"


/* Strings one after another, each ending with a NUL (a key's value). */
struct blob {
	char *v;
	size_t len;
};

struct member_dns {
	const struct dir_domain *dom;
	struct member_dns_ops ops;
	/* The entry forgotten last, until the next call: a put forgets an entry's keys and
	 * remembers them at once, and one that comes back the same changes nothing. */
	bool gone;
	enum store_kind gone_kind;
	char *gone_dn, *gone_name;
	struct blob gone_blob;	/* a group's members as they were (its key stays until then) */
	/* member_dns_resolve_put's group, for member_dns_remembered */
	char *pending_dn;
	struct blob pending;
	/* the groups that named an entry that went, for member_dns_take_went */
	struct dn_list went;
	/* the groups to resolve again: a tree to look them up, an array to walk */
	void *dirty_tree;
	char **dirty;
	size_t n_dirty, cap_dirty;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* prefix + domain + "/" + s, malloc'd. */
static char *key_of(const struct member_dns *m, const char *prefix, const char *s)
{
	char *k = NULL;
	return asprintf(&k, "%s%s/%s", prefix, m->dom->name, s) < 0 ? NULL : k;
}

static struct blob get(struct member_dns *m, const char *prefix, const char *dn)
{
	char *k = key_of(m, prefix, dn);
	struct blob b = { NULL, 0 };
	b.v = k ? m->ops.get_key(m->ops.arg, k, &b.len) : NULL;
	free(k);
	if (!b.v || !b.len || b.v[b.len - 1] != '\0') { /* absent, or not ours */
		free(b.v);
		b = (struct blob){ NULL, 0 };
	}
	return b;
}

static int set(struct member_dns *m, const char *prefix, const char *dn, const struct blob *b)
{
	char *k = key_of(m, prefix, dn);
	int rc = k ? m->ops.set_key(m->ops.arg, k, b->v, b->len) : -1;
	free(k);
	return rc;
}

/* The next string of b after p (NULL: the first), or NULL at its end. */
static const char *next(const struct blob *b, const char *p)
{
	p = p ? p + strlen(p) + 1 : b->v;
	return p && p < b->v + b->len ? p : NULL;
}

static int append(struct blob *b, char type, const char *s)
{
	size_t n = strlen(s) + (type ? 2 : 1);
	char *v = realloc(b->v, b->len + n);
	if (!v)
		return -1;
	if (type)
		v[b->len] = type;
	memcpy(v + b->len + (type ? 1 : 0), s, n - (type ? 1 : 0));
	b->v = v;
	b->len += n;
	return 0;
}

static bool same(const struct blob *a, const struct blob *b)
{
	return a->len == b->len && (!a->len || memcmp(a->v, b->v, a->len) == 0);
}

/* --- the groups naming a DN --------------------------------------------------------------- */

/* Adds group to (or, add false, takes it out of) the groups naming dn. */
static int member_of(struct member_dns *m, const char *dn, const char *group, bool add)
{
	struct blob old = get(m, MEMBER_DNS_KEY_MEMBER_OF, dn), now = { NULL, 0 };
	bool had = false;
	int rc = 0;
	for (const char *p = next(&old, NULL); p && rc == 0; p = next(&old, p)) {
		if (strcmp(p, group) == 0)
			had = true;
		else
			rc = append(&now, 0, p);
	}
	if (rc == 0 && add)
		rc = append(&now, 0, group);
	if (rc == 0 && (had || add))
		rc = set(m, MEMBER_DNS_KEY_MEMBER_OF, dn, &now);
	free(old.v);
	free(now.v);
	return rc;
}

/* The member DNs of b (the 'd' entries), pointing into it. */
static const char **dns_of(const struct blob *b, size_t *n)
{
	size_t k = 0;
	for (const char *p = next(b, NULL); p; p = next(b, p))
		k += *p == 'd';
	const char **v = calloc(k + 1, sizeof(*v));
	*n = 0;
	for (const char *p = next(b, NULL); v && p; p = next(b, p))
		if (*p == 'd')
			v[(*n)++] = p + 1;
	return v;
}

static int cmp_ptr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The groups naming each DN follow group's member DNs going from `from` to `to`. */
static int relink(struct member_dns *m, const char *group, const struct blob *from,
		  const struct blob *to)
{
	size_t nf, nt;
	const char **f = dns_of(from, &nf), **t = dns_of(to, &nt);
	int rc = f && t ? 0 : -1;
	if (f && nf)
		qsort(f, nf, sizeof(*f), cmp_ptr);
	if (t && nt)
		qsort(t, nt, sizeof(*t), cmp_ptr);
	size_t i = 0, j = 0;
	while (rc == 0 && (i < nf || j < nt)) {
		int c = i == nf ? 1 : j == nt ? -1 : strcmp(f[i], t[j]);
		if (c < 0)
			rc = member_of(m, f[i], group, false);
		else if (c > 0)
			rc = member_of(m, t[j], group, true);
		const char *was = c <= 0 ? f[i] : t[j];
		/* past this DN in both (a DN listed twice, by member and uniqueMember) */
		while (i < nf && strcmp(f[i], was) == 0)
			i++;
		while (j < nt && strcmp(t[j], was) == 0)
			j++;
	}
	free(f);
	free(t);
	return rc;
}

/* --- groups to resolve again --------------------------------------------------------------- */

static int mark(struct member_dns *m, const char *group)
{
	if (tfind(group, &m->dirty_tree, cmp_str))
		return 0;
	if (m->n_dirty == m->cap_dirty) {
		size_t cap = m->cap_dirty ? 2 * m->cap_dirty : 16;
		char **v = realloc(m->dirty, cap * sizeof(*v));
		if (!v)
			return -1;
		m->dirty = v;
		m->cap_dirty = cap;
	}
	char *copy = strdup(group);
	if (!copy || !tsearch(copy, &m->dirty_tree, cmp_str)) {
		free(copy);
		return -1;
	}
	m->dirty[m->n_dirty++] = copy;
	return 0;
}

/* The groups naming dn, which changed (came, went, or another entry holds it now); went: no
 * entry holds it now. */
static int mark_parents(struct member_dns *m, const char *dn, bool went)
{
	struct blob of = get(m, MEMBER_DNS_KEY_MEMBER_OF, dn);
	int rc = 0;
	for (const char *p = next(&of, NULL); p && rc == 0; p = next(&of, p)) {
		rc = mark(m, p);
		if (rc == 0 && went && !dn_list_has(&m->went, p))
			rc = dn_list_add(&m->went, p);
	}
	free(of.v);
	return rc;
}

static void clear_gone(struct member_dns *m)
{
	free(m->gone_dn);
	free(m->gone_name);
	free(m->gone_blob.v);
	m->gone_dn = m->gone_name = NULL;
	m->gone_blob = (struct blob){ NULL, 0 };
	m->gone = false;
}

/* The entry forgotten last did not come back: it went. */
static int flush_gone(struct member_dns *m)
{
	if (!m->gone)
		return 0;
	struct blob none = { NULL, 0 };
	int rc = m->gone_kind == STORE_GROUPS ?
			 relink(m, m->gone_dn, &m->gone_blob, &none) == 0 &&
					 set(m, MEMBER_DNS_KEY_MEMBERS, m->gone_dn, &none) == 0 ?
				 0 :
				 -1 :
			 0;
	if (rc == 0)
		rc = mark_parents(m, m->gone_dn, true);
	clear_gone(m);
	return rc;
}

/* --- resolving --------------------------------------------------------------------------- */

struct walk {
	struct member_dns *m;
	const char *group;		/* its name, for the log */
	void *seen;			/* the groups' DNs reached */
	struct name_list names;		/* malloc'd */
	bool cut;
};

static int add_name(struct walk *w, char *name)
{
	if (name && name_list_add(&w->names, name) < 0) {
		free(name);
		return -1;
	}
	return 0;
}

/* As nesting.c's collect: depth first through member groups, each reached once, at most
 * MAX_NESTING levels down; each reached group's memberUid names and member users count. */
static int collect(struct walk *w, const char *dn, const struct blob *b, unsigned depth)
{
	char *copy = strdup(dn);
	if (!copy || !tsearch(copy, &w->seen, cmp_str)) {
		free(copy);
		return -1;
	}
	int rc = 0;
	for (const char *p = next(b, NULL); p && rc == 0; p = next(b, p)) {
		if (*p == 'n') {
			char *name = strdup(p + 1);
			rc = name ? add_name(w, name) : -1;
			continue;
		}
		if (*p != 'd')
			continue; /* not ours */
		const char *member = p + 1;
		char *user = w->m->ops.name_of_dn(w->m->ops.arg, STORE_USERS, member);
		char *group = w->m->ops.name_of_dn(w->m->ops.arg, STORE_GROUPS, member);
		bool is_user = user, is_group = group;
		free(group);
		rc = add_name(w, user);
		if (!is_user && !is_group)
			log_debug("%s: group %s: member %s is not a user or group served here; "
				  "skipped", w->m->dom->name, w->group, member);
		if (rc < 0 || !is_group || tfind(member, &w->seen, cmp_str))
			continue; /* a cycle, or reached twice */
		if (depth + 1 > MAX_NESTING) {
			w->cut = true;
			continue;
		}
		struct blob child = get(w->m, MEMBER_DNS_KEY_MEMBERS, member);
		rc = collect(w, member, &child, depth + 1);
		free(child.v);
	}
	return rc;
}

/* The members of the group of DN dn and members b, and of the groups it reaches. */
static int resolve(struct member_dns *m, const char *group, const char *dn, const struct blob *b,
		   struct name_list *names)
{
	struct walk w = { m, group, NULL, { NULL, 0, 0 }, false };
	int rc = collect(&w, dn, b, 0);
	if (w.cut)
		log_warning("%s: group %s nests groups deeper than %d levels; the deeper ones are "
			    "left out", m->dom->name, group, MAX_NESTING);
	tdestroy(w.seen, free);
	*names = w.names;
	return rc;
}

static void names_free(struct name_list *names)
{
	for (size_t i = 0; i < names->n; i++)
		free(names->v[i]);
	free(names->v);
}

/* --- the calls of a batch ------------------------------------------------------------------ */

struct member_dns *member_dns_begin(const struct dir_domain *dom,
				    const struct member_dns_ops *ops)
{
	struct member_dns *m = calloc(1, sizeof(*m));
	if (m) {
		m->dom = dom;
		m->ops = *ops;
	}
	return m;
}

int member_dns_resolve_put(struct member_dns *m, const char *dn, struct dir_group *g,
			   const struct dn_list *dns)
{
	free(m->pending.v);
	free(m->pending_dn);
	m->pending = (struct blob){ NULL, 0 };
	if (!(m->pending_dn = strdup(dn)))
		return -1;
	int rc = 0;
	for (uint32_t i = 0; rc == 0 && i < g->n_members; i++)
		rc = append(&m->pending, 'n', g->members[i]);
	for (size_t i = 0; rc == 0 && dns && i < dns->n; i++)
		rc = append(&m->pending, 'd', dns->v[i]);
	if (dns && dns->not_dn)
		log_debug("%s: group %s: %u values of its DN member attributes are no DN; skipped",
			  m->dom->name, g->name, dns->not_dn);
	struct name_list names = { NULL, 0, 0 };
	if (rc == 0)
		rc = resolve(m, g->name, dn, &m->pending, &names);
	if (rc == 0)
		rc = group_set_members(g, &names);
	names_free(&names);
	return rc;
}

int member_dns_remembered(struct member_dns *m, enum store_kind kind, const char *name,
			  const char *dn)
{
	if (!dn)
		return 0;
	bool back = m->gone && m->gone_kind == kind && strcmp(m->gone_dn, dn) == 0;
	if (kind == STORE_USERS) {
		/* the same user under the same DN: no group changes */
		if (back && strcmp(m->gone_name, name) == 0) {
			clear_gone(m);
			return 0;
		}
		return flush_gone(m) == 0 && mark_parents(m, dn, false) == 0 ? 0 : -1;
	}
	struct blob none = { NULL, 0 }, *was = back ? &m->gone_blob : &none;
	struct blob *now = m->pending_dn && strcmp(m->pending_dn, dn) == 0 ? &m->pending : &none;
	if (back && same(was, now)) {
		clear_gone(m);
		return 0;
	}
	int rc = back ? 0 : flush_gone(m);
	if (rc == 0)
		rc = relink(m, dn, was, now);
	if (rc == 0)
		rc = set(m, MEMBER_DNS_KEY_MEMBERS, dn, now);
	if (rc == 0)
		rc = mark_parents(m, dn, false);
	clear_gone(m);
	return rc;
}

int member_dns_forgotten(struct member_dns *m, enum store_kind kind, const char *name,
			 const char *dn)
{
	if (!dn || flush_gone(m) < 0)
		return dn ? -1 : 0;
	m->gone = true;
	m->gone_kind = kind;
	m->gone_dn = strdup(dn);
	m->gone_name = strdup(name);
	if (kind == STORE_GROUPS)
		m->gone_blob = get(m, MEMBER_DNS_KEY_MEMBERS, dn);
	return m->gone_dn && m->gone_name ? 0 : -1;
}

int member_dns_finish(struct member_dns *m)
{
	int rc = flush_gone(m);
	/* every group reaching one that changes: the array grows as it is walked */
	for (size_t i = 0; rc == 0 && i < m->n_dirty; i++)
		rc = mark_parents(m, m->dirty[i], false);
	for (size_t i = 0; rc == 0 && i < m->n_dirty; i++) {
		char *name = m->ops.name_of_dn(m->ops.arg, STORE_GROUPS, m->dirty[i]);
		if (!name)
			continue; /* not served */
		struct blob b = get(m, MEMBER_DNS_KEY_MEMBERS, m->dirty[i]);
		struct name_list names = { NULL, 0, 0 };
		rc = resolve(m, name, m->dirty[i], &b, &names);
		if (rc == 0)
			rc = m->ops.set_members(m->ops.arg, name, &names);
		names_free(&names);
		free(b.v);
		free(name);
	}
	return rc;
}

struct dn_list *member_dns_take_went(struct member_dns *m)
{
	struct dn_list *l = m->went.n ? malloc(sizeof(*l)) : NULL;
	if (l) {
		*l = m->went;
		memset(&m->went, 0, sizeof(m->went));
	}
	return l;
}

void member_dns_free(struct member_dns *m)
{
	if (!m)
		return;
	clear_gone(m);
	dn_list_free(&m->went);
	free(m->pending.v);
	free(m->pending_dn);
	tdestroy(m->dirty_tree, free); /* frees the strings m->dirty points to */
	free(m->dirty);
	free(m);
}
