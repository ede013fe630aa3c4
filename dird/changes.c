/* A change stream's batch applied to db and the tdb cache, whole or not at all (changes.h). */
#include "changes.h"

#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache_expire.h"
#include "db_copy.h"
#include "fetch.h"
#include "fetch_all.h"
#include "local_accounts.h"
#include "member_index.h"
#include "log.h"
#include "member_dns.h"
#include "nesting.h"
#include "protocol.h"
#include "publish.h"
#include "reclaim.h"
#include "refresh.h"
#include "store.h"
#include "stream_keys.h"
#include "sync_keys.h"

/* The stream's keys in the tdb files, each entry's under its domain's name, and each stream's
 * position: stream_keys.h. */

int change_batch_add(struct change_batch *b, enum change_op op, char *id, char *dn,
		     struct dir_user *user, struct dir_group *group)
{
	char *id_copy = text_pool_copy(&b->text, id), *dn_copy = text_pool_copy(&b->text, dn);
	bool copied = (!id || id_copy) && (!dn || dn_copy);
	free(id);
	free(dn);
	if (copied && b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		struct change *p = realloc(b->changes, cap * sizeof(*p));
		if (p) {
			b->changes = p;
			b->cap = cap;
		}
	}
	if (!copied || b->n == b->cap) {
		dir_user_destroy(user);
		dir_group_destroy(group);
		return -1;
	}
	b->changes[b->n++] = (struct change){ .op = op, .id = id_copy, .dn = dn_copy, .user = user,
							.group = group };
	return 0;
}

/* The changes and their text freed; what changes_apply gives back (users_incomplete,
 * reread_groups) stays. */
static void free_changes(struct change_batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		dir_user_destroy(b->changes[i].user);
		dir_group_destroy(b->changes[i].group);
		if (b->changes[i].member_dns)
			dn_list_free(b->changes[i].member_dns);
		free(b->changes[i].member_dns);
	}
	text_pool_free(&b->text);
	b->n = 0;
}

void change_batch_clear(struct change_batch *b)
{
	free_changes(b);
	b->users_incomplete = false;
	b->read_again = false;
	if (b->reread_groups)
		dn_list_free(b->reread_groups);
	free(b->reread_groups);
	b->reread_groups = NULL;
}

/* A list of names, sorted once filled, for "was it seen" and "was it touched". */
struct names {
	char **v;
	size_t n, cap;
	bool sorted;
	struct text_pool text;
};

static int names_add(struct names *s, const char *name)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		char **p = realloc(s->v, cap * sizeof(*p));
		if (!p)
			return -1;
		s->v = p;
		s->cap = cap;
	}
	if (!(s->v[s->n] = text_pool_copy(&s->text, name)))
		return -1;
	s->n++;
	s->sorted = false;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool names_has(struct names *s, const char *name)
{
	if (!s->sorted && s->n) {
		qsort(s->v, s->n, sizeof(*s->v), cmp_str);
		s->sorted = true;
	}
	return s->n && bsearch(&name, s->v, s->n, sizeof(*s->v), cmp_str);
}

static void names_free(struct names *s)
{
	text_pool_free(&s->text);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

struct apply {
	struct dird *d;
	const struct dir_domain *dom;
	const struct local_accounts *local;
	struct db *db;		/* the db the batch goes into: d's, or a copy (apply_whole) */
	struct store_txn *t;	/* the files it goes into, or NULL: */
	struct sync_keys *keys;	/* the stream keys it changes, without the files */
	struct names seen_users, seen_groups;
	struct names touched;	/* users whose gid list changed: written once, at the end */
	bool sync_groups_changed;
	bool put;		/* something was added: the negative cache may say otherwise */
	unsigned refused;
	unsigned linked;	/* new users given their gid lists since the groups changed */
	bool members_indexed;	/* members is db's groups as they are now */
	struct member_index members;
	struct member_dns *member_dns;	/* members by DN: resolved as entries come and go */
	/* A stream key read back damaged (dropped): a batch that is not a whole read is refused,
	 * and its stream reads everything. */
	bool damaged;
	const struct change_batch *batch;
	/* A complete batch's ids, packed and sorted (list_ids), for replaced_by. */
	char **ids;
	size_t n_ids;
	struct text_pool id_text;
	/* Per kind: an entry lost a clash and was dropped; one was removed. */
	bool lost[2], removed[2];
	/* Names and ids of the entries removed, where other domains may hold an entry that lost
	 * them in a clash: read again from those once the batch is in (queue_reclaims). */
	struct freed *freed;
	size_t n_freed, cap_freed;
	bool freed_overflow;	/* more than reclaim.c takes: a full refresh reads them */
	struct text_pool freed_text;
};

struct freed {
	enum store_kind kind;
	const char *name;
	uint32_t id;
};

static void note_freed(struct apply *a, enum store_kind kind, const char *name, uint32_t id)
{
	if (a->d->cfg.n_domains < 2 || a->freed_overflow)
		return;
	if (a->n_freed == a->cap_freed) {
		size_t cap = a->cap_freed ? a->cap_freed * 2 : 16;
		struct freed *p = cap <= RECLAIM_MAX ? realloc(a->freed, cap * sizeof(*p)) : NULL;
		if (!p) {
			a->freed_overflow = true;
			return;
		}
		a->freed = p;
		a->cap_freed = cap;
	}
	const char *copy = text_pool_copy(&a->freed_text, name);
	if (!copy) {
		a->freed_overflow = true;
		return;
	}
	a->freed[a->n_freed++] = (struct freed){ kind, copy, id };
}

/* The value under key (whole), malloc'd, from the files or the keys the batch goes into. */
static void *get_raw(struct apply *a, enum store_kind kind, const char *key, size_t *len)
{
	return a->t ? store_txn_get(a->t, kind, key, len) : sync_keys_get(a->keys, kind, key, len);
}

/* The value under a stream key (whole), NUL-terminated, malloc'd (*len without the NUL);
 * NULL when absent (or no memory). */
static char *get_value(struct apply *a, enum store_kind kind, const char *key, size_t *len)
{
	*len = 0;
	char *v = key ? get_raw(a, kind, key, len) : NULL, *z = NULL;
	if (v && (z = realloc(v, *len + 1)))
		z[*len] = '\0';
	else
		free(v);
	return z;
}

/* key (whole, NULL: out of memory) set to val. */
static int set_raw(struct apply *a, enum store_kind kind, const char *key, const void *val,
		   size_t len)
{
	return !key ? -1 : a->t ? store_txn_set(a->t, kind, key, val, len) :
				  sync_keys_set(a->keys, kind, key, val, len);
}

/* key (whole, NULL: out of memory) removed. */
static int unset_raw(struct apply *a, enum store_kind kind, const char *key)
{
	return !key ? -1 : a->t ? store_txn_unset(a->t, kind, key) :
				  (sync_keys_unset(a->keys, kind, key), 0);
}

static int set_key(struct apply *a, enum store_kind kind, const char *prefix, const char *s,
		   const char *val, size_t len)
{
	char *k = stream_key(prefix, a->dom->name, s);
	int rc = set_raw(a, kind, k, val, len);
	free(k);
	return rc;
}

static int unset_key(struct apply *a, enum store_kind kind, const char *prefix, const char *s)
{
	char *k = stream_key(prefix, a->dom->name, s);
	int rc = unset_raw(a, kind, k);
	free(k);
	return rc;
}

/* A key that does not read back as written is dropped; what it stood for is taken for absent.
 * The first of a batch is logged (a file damaged whole would log every entry). */
static void damaged(struct apply *a, enum store_kind kind, const char *key)
{
	if (!a->damaged) /* its kind alone: the rest may be binary (a packed id) */
		log_warning("%s: a change stream's key in the cache is damaged (%.*s...): dropped, "
			    "as any other this batch finds", a->dom->name,
			    (int)strcspn(key, "/"), key);
	unset_raw(a, kind, key);
	a->damaged = true;
}

/* The packed id a stream key holds (SYNC_N_, SYNC_D_), malloc'd; NULL when none. */
static char *id_under(struct apply *a, enum store_kind kind, const char *prefix, const char *s)
{
	char *k = stream_key(prefix, a->dom->name, s);
	size_t len;
	char *id = get_value(a, kind, k, &len);
	if (id && !stream_id_ok(id, len)) {
		damaged(a, kind, k);
		free(id);
		id = NULL;
	}
	free(k);
	return id;
}

/* An entry the stream put, by its packed id: its name and DN point into v. */
struct entry {
	char *v;
	const char *name, *dn;
};

/* The entry with packed id `id`, read back and checked: its name's key names it too.  false
 * when none (or damaged). */
static bool entry_of(struct apply *a, enum store_kind kind, const char *id, struct entry *e)
{
	char *k = stream_key(STREAM_KEY_ENTRY, a->dom->name, id), *of_name = NULL;
	size_t len;
	e->v = get_value(a, kind, k, &len);
	bool ok = e->v && stream_entry_parse(e->v, len, &e->name, &e->dn) &&
		  (of_name = id_under(a, kind, STREAM_KEY_NAME, e->name)) &&
		  strcmp(of_name, id) == 0;
	if (e->v && !ok)
		damaged(a, kind, k);
	free(of_name);
	free(k);
	if (!ok) {
		free(e->v);
		e->v = NULL;
	}
	return ok;
}

/* The name the stream put the entry with this packed id under, malloc'd, or NULL. */
static char *name_of_packed(struct apply *a, enum store_kind kind, const char *id)
{
	struct entry e;
	char *name = NULL;
	if (id && entry_of(a, kind, id, &e)) {
		name = strdup(e.name);
		free(e.v);
	}
	return name;
}

/* The same by the server id as text. */
static char *name_of_id(struct apply *a, enum store_kind kind, const char *id)
{
	char *packed = stream_id_pack(id), *name = name_of_packed(a, kind, packed);
	free(packed);
	return name;
}

/* member_dns's keys, in the groups file (member_dns_ops). */
static void *get_groups_key(void *arg, const char *key, size_t *len)
{
	return get_raw(arg, STORE_GROUPS, key, len);
}

static int set_groups_key(void *arg, const char *key, const void *val, size_t len)
{
	return len ? set_raw(arg, STORE_GROUPS, key, val, len) : unset_raw(arg, STORE_GROUPS, key);
}

/* The records in the files, when the batch goes into them (else the files are written whole from
 * the db afterwards). */
static int store_user(struct apply *a, const struct dir_user *u)
{
	return a->t ? store_txn_put_user(a->t, u) : 0;
}

static int store_group(struct apply *a, const struct dir_group *g)
{
	return a->t ? store_txn_put_group(a->t, g) : 0;
}

static int unstore(struct apply *a, enum store_kind kind, const char *name, uint32_t id)
{
	return a->t ? store_txn_delete(a->t, kind, name, id) : 0;
}

/* The packed id of the entry the stream put under name, with *e that entry (e->v to free);
 * NULL when none.  A name's key naming an entry of another name, or none, is damaged. */
static char *id_of_name(struct apply *a, enum store_kind kind, const char *name, struct entry *e)
{
	char *id = id_under(a, kind, STREAM_KEY_NAME, name);
	e->v = NULL;
	if (id && (!entry_of(a, kind, id, e) || strcmp(e->name, name) != 0)) {
		char *k = stream_key(STREAM_KEY_NAME, a->dom->name, name);
		if (k)
			damaged(a, kind, k);
		free(k);
		free(e->v);
		e->v = NULL;
		free(id);
		id = NULL;
	}
	return id;
}

/* Forgets the id and DN an entry was put with (none: nothing to do). */
static int forget_keys(struct apply *a, enum store_kind kind, const char *name)
{
	struct entry e;
	char *id = id_of_name(a, kind, name, &e), *of_dn = NULL;
	if (!id)
		return 0;
	/* members by DN: the groups naming this DN are resolved again */
	int rc = a->member_dns && e.dn ? member_dns_forgotten(a->member_dns, kind, name, e.dn) : 0;
	if (rc == 0)
		rc = unset_key(a, kind, STREAM_KEY_ENTRY, id);
	/* the DN's key, unless another entry holds that DN now */
	if (rc == 0 && e.dn && (of_dn = id_under(a, kind, STREAM_KEY_DN, e.dn)) &&
	    strcmp(of_dn, id) == 0)
		rc = unset_key(a, kind, STREAM_KEY_DN, e.dn);
	if (rc == 0)
		rc = unset_key(a, kind, STREAM_KEY_NAME, name);
	free(of_dn);
	free(e.v);
	free(id);
	return rc;
}

/* The keys of the entry put under name with server id `id` and DN dn (may be NULL): its DN is
 * kept only where members go by DN, the one use of it. */
static int remember_keys(struct apply *a, enum store_kind kind, const char *name,
			 const char *id, const char *dn)
{
	char *packed = stream_id_pack(id);
	struct entry e;
	/* what either key named before: an entry under another name has it no longer */
	int rc = !packed || forget_keys(a, kind, name) < 0 ? -1 : 0;
	if (rc == 0 && entry_of(a, kind, packed, &e)) {
		rc = forget_keys(a, kind, e.name);
		free(e.v);
	}
	if (!a->member_dns)
		dn = NULL;
	size_t name_len = strlen(name), dn_len = dn ? strlen(dn) : 0;
	char *v = rc == 0 ? malloc(name_len + 1 + dn_len + 1) : NULL;
	if (v) {
		memcpy(v, name, name_len + 1);
		if (dn)
			memcpy(v + name_len + 1, dn, dn_len + 1);
	}
	size_t len = name_len + (dn ? 1 + dn_len : 0), id_len = packed ? strlen(packed) : 0;
	rc = !v || set_key(a, kind, STREAM_KEY_ENTRY, packed, v, len) < 0 ||
			     set_key(a, kind, STREAM_KEY_NAME, name, packed, id_len) < 0 ||
			     (dn && set_key(a, kind, STREAM_KEY_DN, dn, packed, id_len) < 0) ?
		     -1 :
		     0;
	if (rc == 0 && a->member_dns)
		rc = member_dns_remembered(a->member_dns, kind, name, dn);
	free(v);
	free(packed);
	return rc;
}

static bool has_keys(struct apply *a, enum store_kind kind, const char *name)
{
	struct entry e;
	char *id = id_of_name(a, kind, name, &e);
	free(e.v);
	free(id);
	return id != NULL;
}

static bool of_domain(const struct apply *a, const char *domain)
{
	return domain && strcmp(domain, a->dom->name) == 0;
}

static bool is_sync_group(const struct apply *a, const char *name)
{
	for (size_t i = 0; i < a->dom->n_sync_groups; i++)
		if (strcmp(a->dom->sync_groups[i], name) == 0)
			return true;
	return false;
}

/* What changes in db is noted for the next publish, which writes it as a delta of the index
 * (publish.h): a user as it was before it leaves db and as it is once in, a group likewise
 * (its members' gid lists with it). */
static void note_user(struct apply *a, const struct dir_user *u)
{
	if (a->t) /* else the index is written whole */
		publish_user_changed_locked(a->d, u);
}

static void note_group(struct apply *a, const struct dir_group *g)
{
	if (a->t)
		publish_group_changed_locked(a->d, g);
}

static int touch(struct apply *a, const char *user)
{
	return names_add(&a->touched, user);
}

/* The tdb side of removing a user: its records and its keys. */
static int unstore_user(struct apply *a, const struct dir_user *u)
{
	if (unstore(a, STORE_USERS, u->name, u->uid) < 0)
		return -1;
	return forget_keys(a, STORE_USERS, u->name);
}

static int remove_user(struct apply *a, struct dir_user *u)
{
	a->removed[STORE_USERS] = true;
	note_freed(a, STORE_USERS, u->name, u->uid);
	if (unstore_user(a, u) < 0)
		return -1;
	note_user(a, u);
	db_remove_user(a->db, u->name, u->uid);
	return 0;
}

/* Gives (or takes back) a group's gid to the members db holds. */
static int link_members(struct apply *a, const struct dir_group *g, bool add)
{
	for (uint32_t m = 0; m < g->n_members; m++) {
		struct dir_user *u = db_user_by_name(a->db, g->members[m]);
		if (!u)
			continue;
		if (add ? db_user_add_gid(u, g->gid) < 0 : (db_user_drop_gid(u, g->gid), 0))
			return -1;
		if (touch(a, u->name) < 0)
			return -1;
	}
	return 0;
}

/* The member index is of the groups as they were: a group put or removed makes it wrong. */
static void groups_changed(struct apply *a)
{
	member_index_free(&a->members);
	a->members_indexed = false;
	a->linked = 0;
}

static int remove_group(struct apply *a, struct dir_group *g)
{
	a->removed[STORE_GROUPS] = true;
	note_freed(a, STORE_GROUPS, g->name, g->gid);
	if (is_sync_group(a, g->name))
		a->sync_groups_changed = true;
	if (link_members(a, g, false) < 0 ||
	    unstore(a, STORE_GROUPS, g->name, g->gid) < 0 ||
	    forget_keys(a, STORE_GROUPS, g->name) < 0)
		return -1;
	note_group(a, g);
	db_remove_group(a->db, g->name, g->gid);
	groups_changed(a);
	return 0;
}

/* The user (group) db holds under name when it is this domain's: another domain's user of that
 * name won it from the one the stream put (settle_user), whose keys are still the stream's, and
 * a change of the stream's entry is not one of that user's. */
static struct dir_user *own_user(struct apply *a, const char *name)
{
	struct dir_user *u = name ? db_user_by_name(a->db, name) : NULL;
	return u && of_domain(a, u->domain) ? u : NULL;
}

static struct dir_group *own_group(struct apply *a, const char *name)
{
	struct dir_group *g = name ? db_group_by_name(a->db, name) : NULL;
	return g && of_domain(a, g->domain) ? g : NULL;
}

/* u (or g), when it is of this domain and no stream put it there (a full refresh or a single
 * lookup read it): the same entry read another way, replaced where it stands. */
static struct dir_user *read_otherwise(struct apply *a, struct dir_user *u)
{
	return u && of_domain(a, u->domain) && !has_keys(a, STORE_USERS, u->name) ? u : NULL;
}

static struct dir_group *group_read_otherwise(struct apply *a, struct dir_group *g)
{
	return g && of_domain(a, g->domain) && !has_keys(a, STORE_GROUPS, g->name) ? g : NULL;
}

/* A complete batch's ids, packed as the keys hold them, sorted: taken before it is applied (an
 * applied change's id is given back).  Into an empty cache (a first read) no entry can be left
 * over: none is taken. */
static int list_ids(struct apply *a, const struct change_batch *b)
{
	if (!a->db->c.n_users && !a->db->c.n_groups)
		return 0;
	if (!(a->ids = malloc((b->n + 1) * sizeof(*a->ids))))
		return -1;
	for (size_t i = 0; i < b->n; i++) {
		if (b->changes[i].op == CHANGE_DELETE || !b->changes[i].id)
			continue;
		char *packed = stream_id_pack(b->changes[i].id);
		a->ids[a->n_ids] = packed ? text_pool_copy(&a->id_text, packed) : NULL;
		free(packed);
		if (!a->ids[a->n_ids++])
			return -1;
	}
	qsort(a->ids, a->n_ids, sizeof(*a->ids), cmp_str);
	return 0;
}

/* Whether the complete batch lists the entry with this packed id. */
static bool batch_lists(const struct apply *a, char *id)
{
	return !a->ids || bsearch(&id, a->ids, a->n_ids, sizeof(*a->ids), cmp_str);
}

/* Whether the copy the stream put under name (none: read another way) is one the entry coming
 * under dn replaces.  The server holds one entry under a DN, so one under the same DN with
 * another id is the same entry deleted and added again (where DNs are kept: members by DN); and
 * a complete batch lists every entry the stream serves, so a copy whose id it does not list is
 * what a delete the stream never saw left (a restored or another server, whose ids differ). */
static bool replaced_by(struct apply *a, enum store_kind kind, const char *name, const char *dn)
{
	struct entry e;
	char *id = id_of_name(a, kind, name, &e);
	if (!id)
		return true;
	bool same_dn = dn && e.dn && strcmp(e.dn, dn) == 0;
	bool complete = kind == STORE_USERS ? a->batch->complete_users : a->batch->complete_groups;
	bool leftover = !same_dn && complete && !batch_lists(a, id);
	free(e.v);
	free(id);
	return same_dn || leftover;
}

/* other is the entry u (under dn) is another copy of: of this domain, and replaced_by u. */
static bool same_entry(struct apply *a, enum store_kind kind, const char *domain,
		       const char *name, const char *dn)
{
	return of_domain(a, domain) && replaced_by(a, kind, name, dn);
}

/* The same entry (same_entry) is replaced by the new copy.  Any other clash is settled as a
 * refresh settles it.  0: u may go in; 1: u loses (and was freed); -1: failure. */
static int settle_user(struct apply *a, struct dir_user *u, const struct change *c)
{
	const char *dn = c->dn;
	struct dir_user *other;
	while ((other = db_user_by_name(a->db, u->name)) ||
	       (other = db_user_by_uid(a->db, u->uid))) {
		if (!same_entry(a, STORE_USERS, other->domain, other->name, dn)) {
			bool wins = fetch_user_wins(u, other);
			log_warning("%s: users %s (uid %" PRIu32 ") and %s (uid %" PRIu32 ") share a "
				    "name or uid; %s is served", a->dom->name, u->name, u->uid,
				    other->name, other->uid, wins ? u->name : other->name);
			/* the loser, of this domain, is read again when the winner goes */
			a->lost[STORE_USERS] |= of_domain(a, other->domain);
			/* the stream's keys of an entry another domain's won: its change or
			 * delete is seen (own_user), and it is read again when the winner goes */
			int rc = !wins && !of_domain(a, other->domain) ?
					 remember_keys(a, STORE_USERS, u->name, c->id, dn) : 0;
			if (!wins) {
				dir_user_destroy(u);
				return rc < 0 ? -1 : 1;
			}
			/* other goes, but its name and id stay served: not a removal */
			bool removed = a->removed[STORE_USERS];
			if (remove_user(a, other) < 0)
				return -1;
			a->removed[STORE_USERS] = removed;
			continue;
		}
		if (remove_user(a, other) < 0)
			return -1;
	}
	return 0;
}

static int settle_group(struct apply *a, struct dir_group *g, const struct change *c)
{
	const char *dn = c->dn;
	struct dir_group *other;
	while ((other = db_group_by_name(a->db, g->name)) ||
	       (other = db_group_by_gid(a->db, g->gid))) {
		if (!same_entry(a, STORE_GROUPS, other->domain, other->name, dn)) {
			bool wins = fetch_group_wins(g, other);
			log_warning("%s: groups %s (gid %" PRIu32 ") and %s (gid %" PRIu32 ") share a "
				    "name or gid; %s is served", a->dom->name, g->name, g->gid,
				    other->name, other->gid, wins ? g->name : other->name);
			/* the loser, of this domain, is read again when the winner goes */
			a->lost[STORE_GROUPS] |= of_domain(a, other->domain);
			int rc = !wins && !of_domain(a, other->domain) ?
					 remember_keys(a, STORE_GROUPS, g->name, c->id, dn) : 0;
			if (!wins) {
				dir_group_destroy(g);
				return rc < 0 ? -1 : 1;
			}
			/* other goes, but its name and id stay served: not a removal */
			bool removed = a->removed[STORE_GROUPS];
			if (remove_group(a, other) < 0)
				return -1;
			a->removed[STORE_GROUPS] = removed;
			continue;
		}
		if (remove_group(a, other) < 0)
			return -1;
	}
	return 0;
}

static int add_gid_to(uint32_t gid, void *u)
{
	return db_user_add_gid(u, gid);
}

/* A new user's gid list, from the groups db holds (a refresh's db_link_groups, for one).  The
 * first few read every membership; past them (a stream's first read: a million users) the
 * memberships are sorted once, so each user costs a binary search, not the whole directory. */
#define LINK_BY_SCAN 32
static int link_user(struct apply *a, struct dir_user *u)
{
	const struct db *db = a->db;
	if (!a->members_indexed && a->linked++ >= LINK_BY_SCAN) {
		if (member_index_build(&a->members, db) < 0)
			return -1;
		a->members_indexed = true;
	}
	if (a->members_indexed && a->members.db == db)
		return member_index_each_gid(&a->members, u->name, add_gid_to, u);
	for (size_t i = 0; i < db->c.n_groups; i++) {
		const struct dir_group *g = db->c.groups[i];
		for (uint32_t m = 0; m < g->n_members; m++)
			if (strcmp(g->members[m], u->name) == 0) {
				if (db_user_add_gid(u, g->gid) < 0)
					return -1;
				break;
			}
	}
	return 0;
}

/* The gids a user is given: its own, then those of the groups naming it, each once. */
struct gid_list {
	uint32_t *v;
	uint32_t n, cap;
	uint32_t primary;
};

static int gid_list_add(uint32_t gid, void *arg)
{
	struct gid_list *l = arg;
	if (gid == l->primary)
		return 0;
	for (uint32_t i = 0; i < l->n; i++)
		if (l->v[i] == gid)
			return 0;
	if (l->n == l->cap) {
		uint32_t cap = l->cap ? l->cap * 2 : 64;
		uint32_t *p = cap > l->cap ? realloc(l->v, (size_t)cap * sizeof(*p)) : NULL;
		if (!p)
			return -1;
		l->v = p;
		l->cap = cap;
	}
	l->v[l->n++] = gid;
	return 0;
}

/* u's gid list, of the size it needs, from the member index. */
static int link_exactly(struct apply *a, struct dir_user *u, struct gid_list *l)
{
	l->n = 0;
	l->primary = u->gid;
	for (uint32_t i = 0; i < u->n_groups; i++)
		if (gid_list_add(u->groups[i], l) < 0)
			return -1;
	if (member_index_each_gid(&a->members, u->name, gid_list_add, l) < 0)
		return -1;
	uint32_t *groups = l->n ? malloc((size_t)l->n * sizeof(*groups)) : NULL;
	if (l->n && !groups)
		return -1;
	if (l->n)
		memcpy(groups, l->v, (size_t)l->n * sizeof(*groups));
	db_user_set_groups(u, groups, l->n);
	return 0;
}

/* A put of a user db does not hold under the same name and uid: put_user links it. */
static bool puts_new_user(const struct apply *a, const struct change *c)
{
	if (c->op != CHANGE_PUT || !c->user)
		return false;
	const struct dir_user *old = db_user_by_name(a->db, c->user->name);
	return !old || old->uid != c->user->uid;
}

/* A batch of users alone with more than a few new ones (a stream's whole read: a million) gives
 * its new users their gid lists before anything else of it is applied, so that the lists, which
 * db keeps, lie side by side in the heap and not among the keys and names applying makes and
 * frees (a million holes, no page of which would go back to the system).  No group changes in
 * such a batch, so the lists stay true; a user db holds with the same name and uid keeps its
 * own (put_user). */
static int link_new_users(struct apply *a, struct change_batch *b)
{
	if (b->kinds != CHANGES_USERS_ONLY)
		return 0;
	size_t fresh = 0; /* past a few, the member index pays (link_user) */
	for (size_t i = 0; fresh <= LINK_BY_SCAN && i < b->n; i++)
		fresh += puts_new_user(a, &b->changes[i]);
	if (fresh <= LINK_BY_SCAN)
		return 0;
	if (!a->members_indexed && member_index_build(&a->members, a->db) < 0)
		return -1;
	a->members_indexed = true;
	struct gid_list l = { 0 };
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < b->n; i++) {
		struct change *c = &b->changes[i];
		if (!puts_new_user(a, c))
			continue;
		rc = link_exactly(a, c->user, &l);
		c->linked = rc == 0;
	}
	free(l.v);
	return rc;
}

static int put_user(struct apply *a, struct change *c)
{
	struct dir_user *u = c->user;
	c->user = NULL;
	char *old_name = name_of_id(a, STORE_USERS, c->id);
	struct dir_user *old = own_user(a, old_name);
	int rc = old_name && !old ? forget_keys(a, STORE_USERS, old_name) : 0;
	free(old_name);
	if (rc < 0)
		goto fail;
	struct sync_set sync = { a->dom, a->db };
	if (!fetch_user_allowed(a->dom, a->local, u, &a->refused) ||
	    (a->dom->n_sync_groups && !fetch_in_sync_groups(u, &sync))) {
		dir_user_destroy(u);
		return old ? remove_user(a, old) : 0;
	}
	if (names_add(&a->seen_users, u->name) < 0)
		goto fail;
	a->put = true;
	if (!old)
		old = read_otherwise(a, db_user_by_name(a->db, u->name));
	if (old && strcmp(old->name, u->name) == 0 && old->uid == u->uid) {
		/* The same name and uid: replaced where it stands, its gid list kept (the one the
		 * record came with, an AD user's from tokenGroups, goes). */
		if (db_user_take_groups(u, old) < 0 || store_user(a, u) < 0 ||
		    remember_keys(a, STORE_USERS, u->name, c->id, c->dn) < 0)
			goto fail;
		/* db's record is replaced, not copied over: u may be one block with its strings (a
		 * record taken from another db, as AD's whole read takes them) */
		if (!(u = db_replace_user(a->db, old, u)))
			return -1;
		note_user(a, u);
		return 0;
	}
	if (old && remove_user(a, old) < 0)
		goto fail;
	if ((rc = settle_user(a, u, c)) != 0)
		return rc > 0 ? 0 : -1;
	if ((!c->linked && link_user(a, u) < 0) || store_user(a, u) < 0 ||
	    remember_keys(a, STORE_USERS, u->name, c->id, c->dn) < 0)
		goto fail;
	note_user(a, u);
	return db_add_user(a->db, u) < 0 ? -1 : 0;
fail:
	dir_user_destroy(u);
	return -1;
}

/* Members of a and not of b get `add` applied: the gid given or taken back. */
static int relink_difference(struct apply *a, const struct dir_group *from,
			     const struct dir_group *without, bool add)
{
	struct names other = { 0 };
	int rc = 0;
	for (uint32_t m = 0; rc == 0 && m < without->n_members; m++)
		rc = names_add(&other, without->members[m]);
	for (uint32_t m = 0; rc == 0 && m < from->n_members; m++) {
		struct dir_user *u = db_user_by_name(a->db, from->members[m]);
		if (!u || names_has(&other, u->name))
			continue;
		if (add ? db_user_add_gid(u, from->gid) < 0 : (db_user_drop_gid(u, from->gid), 0))
			rc = -1;
		else
			rc = touch(a, u->name);
	}
	names_free(&other);
	return rc;
}

static int put_group(struct apply *a, struct change *c)
{
	groups_changed(a);
	struct dir_group *g = c->group;
	c->group = NULL;
	char *old_name = name_of_id(a, STORE_GROUPS, c->id);
	struct dir_group *old = own_group(a, old_name);
	int rc = old_name && !old ? forget_keys(a, STORE_GROUPS, old_name) : 0;
	free(old_name);
	if (rc < 0)
		goto fail;
	if (!fetch_group_allowed(a->dom, a->local, g, &a->refused)) {
		dir_group_destroy(g);
		return old ? remove_group(a, old) : 0;
	}
	/* a local account's groups are /etc/group's (a refresh drops them too) */
	fetch_drop_local_members(a->local, g);
	/* members by DN: g comes with its memberUid names and its member DNs, and is served with
	 * its member users, as a refresh resolves them */
	if (a->member_dns && c->dn &&
	    member_dns_resolve_put(a->member_dns, c->dn, g, c->member_dns) < 0)
		goto fail;
	if (names_add(&a->seen_groups, g->name) < 0)
		goto fail;
	a->put = true;
	if (is_sync_group(a, g->name))
		a->sync_groups_changed = true;
	if (!old)
		old = group_read_otherwise(a, db_group_by_name(a->db, g->name));
	if (old && strcmp(old->name, g->name) == 0 && old->gid == g->gid) {
		/* The same name and gid: only the members who came or went change. */
		if (relink_difference(a, old, g, false) < 0 || relink_difference(a, g, old, true) < 0 ||
		    store_group(a, g) < 0 ||
		    remember_keys(a, STORE_GROUPS, g->name, c->id, c->dn) < 0)
			goto fail;
		note_group(a, old); /* the members who left */
		dir_group_clear(old);
		*old = *g;
		free(g);
		note_group(a, old);
		return 0;
	}
	if (old && remove_group(a, old) < 0)
		goto fail;
	if ((rc = settle_group(a, g, c)) != 0)
		return rc > 0 ? 0 : -1;
	if (link_members(a, g, true) < 0 || store_group(a, g) < 0 ||
	    remember_keys(a, STORE_GROUPS, g->name, c->id, c->dn) < 0)
		goto fail;
	note_group(a, g);
	return db_add_group(a->db, g) < 0 ? -1 : 0;
fail:
	dir_group_destroy(g);
	return -1;
}

/* member_dns.h's callbacks: the user (group) db holds under the DN the stream put it with. */
static char *name_of_dn(void *arg, enum store_kind kind, const char *dn)
{
	struct apply *a = arg;
	char *id = id_under(a, kind, STREAM_KEY_DN, dn), *name = name_of_packed(a, kind, id);
	free(id);
	const struct dir_user *u = name && kind == STORE_USERS ? db_user_by_name(a->db, name) : NULL;
	const struct dir_group *g = name && kind == STORE_GROUPS ? db_group_by_name(a->db, name) :
								   NULL;
	if (!of_domain(a, u ? u->domain : g ? g->domain : NULL)) {
		free(name);
		return NULL;
	}
	return name;
}

static bool same_members(const struct dir_group *x, const struct dir_group *y)
{
	if (x->n_members != y->n_members)
		return false;
	for (uint32_t i = 0; i < x->n_members; i++)
		if (strcmp(x->members[i], y->members[i]))
			return false;
	return true;
}

/* A group's members resolved again: replaced where it stands, the members who came or went
 * relinked. */
static int set_members(void *arg, const char *group, struct name_list *names)
{
	struct apply *a = arg;
	struct dir_group *old = db_group_by_name(a->db, group);
	if (!old || !of_domain(a, old->domain))
		return 0;
	struct dir_group *g = calloc(1, sizeof(*g));
	if (!g || !(g->name = strdup(old->name)) || !(g->domain = strdup(old->domain)) ||
	    (old->sid && !(g->sid = strdup(old->sid))) || group_set_members(g, names) < 0) {
		dir_group_destroy(g);
		return -1;
	}
	g->gid = old->gid;
	g->fetched = old->fetched;
	if (same_members(old, g)) {
		dir_group_destroy(g);
		return 0;
	}
	groups_changed(a);
	if (relink_difference(a, old, g, false) < 0 || relink_difference(a, g, old, true) < 0 ||
	    store_group(a, g) < 0) {
		dir_group_destroy(g);
		return -1;
	}
	note_group(a, old); /* the members who left */
	dir_group_clear(old);
	*old = *g;
	free(g);
	note_group(a, old);
	return 0;
}

/* An entry the batch's stream serves, by its server id, else by its DN: a user or a group (name
 * malloc'd), or neither. */
static char *find_entry(struct apply *a, const struct change_batch *b, const struct change *c,
			enum store_kind *kind)
{
	int first = b->kinds == CHANGES_GROUPS_ONLY ? STORE_GROUPS : STORE_USERS;
	int last = b->kinds == CHANGES_USERS_ONLY ? STORE_USERS : STORE_GROUPS;
	for (int k = first; k <= last; k++) {
		char *id = c->id ? stream_id_pack(c->id) :
			   c->dn ? id_under(a, k, STREAM_KEY_DN, c->dn) : NULL;
		char *name = name_of_packed(a, k, id);
		free(id);
		if (name) {
			*kind = k;
			return name;
		}
	}
	return NULL;
}

static int delete_entry(struct apply *a, const struct change_batch *b, const struct change *c)
{
	enum store_kind kind;
	char *name = find_entry(a, b, c, &kind);
	if (!name)
		return 0; /* not served: refused, or never seen */
	int rc;
	if (kind == STORE_USERS) {
		struct dir_user *u = own_user(a, name);
		rc = u ? remove_user(a, u) : forget_keys(a, kind, name);
	} else {
		struct dir_group *g = own_group(a, name);
		rc = g ? remove_group(a, g) : forget_keys(a, kind, name);
	}
	free(name);
	return rc;
}

static int mark_present(struct apply *a, const struct change_batch *b, const struct change *c)
{
	enum store_kind kind;
	char *name = find_entry(a, b, c, &kind);
	int rc = name ? names_add(kind == STORE_USERS ? &a->seen_users : &a->seen_groups, name) : 0;
	free(name);
	return rc;
}

/* Users of this domain the batch says are gone (complete: not seen), or sync_groups no longer
 * hold: their tdb records first, then db in one pass. */
struct doomed {
	struct apply *a;
	bool unseen;		/* not seen in a complete batch */
	bool out_of_sync_groups;
};

static bool user_doomed(const struct dir_user *u, const struct doomed *x)
{
	if (!of_domain(x->a, u->domain))
		return false;
	if (x->unseen && !names_has(&x->a->seen_users, u->name))
		return true;
	struct sync_set sync = { x->a->dom, x->a->db };
	return x->out_of_sync_groups && !fetch_in_sync_groups(u, &sync);
}

static bool keep_user(const struct dir_user *u, void *arg)
{
	return !user_doomed(u, arg);
}

static int drop_users(struct apply *a, bool unseen, bool out_of_sync_groups)
{
	struct doomed x = { a, unseen, out_of_sync_groups };
	size_t n = 0;
	for (size_t i = 0; i < a->db->c.n_users; i++) {
		const struct dir_user *u = a->db->c.users[i];
		if (user_doomed(u, &x)) {
			if (unstore_user(a, u) < 0)
				return -1;
			note_user(a, u);
			note_freed(a, STORE_USERS, u->name, u->uid);
			n++;
		}
	}
	if (n)
		db_keep_users(a->db, keep_user, &x);
	return 0;
}

static int drop_unseen_groups(struct apply *a)
{
	struct db *db = a->db;
	for (size_t i = db->c.n_groups; i-- > 0;) {
		struct dir_group *g = db->c.groups[i];
		if (i < db->c.n_groups && of_domain(a, g->domain) &&
		    !names_has(&a->seen_groups, g->name) && remove_group(a, g) < 0)
			return -1;
	}
	return 0;
}

/* A sync group's member db does not hold: a user the stream dropped, or never read. */
static bool sync_groups_lack_members(struct apply *a)
{
	for (size_t i = 0; i < a->dom->n_sync_groups; i++) {
		const struct dir_group *g = db_group_by_name(a->db, a->dom->sync_groups[i]);
		if (!g || !of_domain(a, g->domain))
			continue;
		for (uint32_t m = 0; m < g->n_members; m++)
			if (!db_user_by_name(a->db, g->members[m]) &&
			    !local_set_has_name(&a->local->users, g->members[m]))
				return true;
	}
	return false;
}

static int write_touched(struct apply *a)
{
	names_has(&a->touched, ""); /* sorts: each name written once */
	for (size_t i = 0; i < a->touched.n; i++) {
		if (i && strcmp(a->touched.v[i], a->touched.v[i - 1]) == 0)
			continue;
		const struct dir_user *u = db_user_by_name(a->db, a->touched.v[i]);
		if (!u)
			continue;
		if (store_user(a, u) < 0)
			return -1;
		note_user(a, u);
	}
	return 0;
}

/* Change i is applied: its id and DN are not needed again, nor those of the changes before
 * (a whole read's go back to the system as it is applied). */
static void consumed(struct change_batch *b, size_t i)
{
	struct change *c = &b->changes[i];
	c->id = c->dn = NULL;
	const struct change *next = i + 1 < b->n ? &b->changes[i + 1] : NULL;
	const char *s = next ? next->id ? next->id : next->dn : NULL;
	if (s)
		text_pool_release_before(&b->text, s);
}

static int apply_all(struct apply *a, struct change_batch *b)
{
	/* members by DN: an LDAP domain's stream sends member DNs (AD's poll resolves its own) */
	const struct member_dns_ops ops = { name_of_dn, set_members, get_groups_key, set_groups_key,
					    a };
	if (a->dom->type == DIR_DOMAIN_LDAP && domain_members_by_dn(a->dom) &&
	    !(a->member_dns = member_dns_begin(a->dom, &ops)))
		return -1;
	/* a damaged key, where the batch is not a whole read: what it named cannot be told */
	bool whole = b->complete_users || b->complete_groups;
	a->batch = b;
	int rc = whole ? list_ids(a, b) : 0;
	if (rc == 0)
		rc = link_new_users(a, b);
	for (size_t i = 0; rc == 0 && !(a->damaged && !whole) && i < b->n; i++) {
		struct change *c = &b->changes[i];
		switch (c->op) {
		case CHANGE_PUT:
			/* neither record: refused, whichever it was, its copy goes */
			rc = c->group ? put_group(a, c) :
			     c->user ? put_user(a, c) : delete_entry(a, b, c);
			break;
		case CHANGE_DELETE: rc = delete_entry(a, b, c); break;
		case CHANGE_PRESENT: rc = mark_present(a, b, c); break;
		}
		consumed(b, i);
	}
	/* Groups first: their members' gid lists go with them. */
	if (rc == 0 && b->complete_groups)
		rc = drop_unseen_groups(a);
	bool resync_groups = a->sync_groups_changed && a->dom->n_sync_groups;
	if (rc == 0 && (b->complete_users || resync_groups))
		rc = drop_users(a, b->complete_users, a->dom->n_sync_groups > 0);
	if (rc == 0 && resync_groups)
		b->users_incomplete = sync_groups_lack_members(a);
	if (rc == 0 && a->member_dns && (rc = member_dns_finish(a->member_dns)) == 0)
		b->reread_groups = member_dns_take_went(a->member_dns);
	if (rc == 0)
		rc = write_touched(a);
	if (a->damaged && !whole)
		rc = -1;
	if (rc == 0 && b->position) {
		char *k = stream_key(STREAM_KEY_POSITION, NULL, b->stream);
		rc = set_raw(a, STORE_USERS, k, b->position, b->position_len) == 0 &&
				     set_raw(a, STORE_GROUPS, k, b->position, b->position_len) == 0 ?
			     0 :
			     -1;
		free(k);
	}
	return rc;
}

static bool text_ok(const char *s, size_t max)
{
	if (!s || !*s)
		return false;
	size_t n = strnlen(s, max + 1);
	return n <= max;
}

static bool record_name_ok(const char *name, const char *domain, const struct dir_domain *dom)
{
	return text_ok(name, DIR_MAX_NAME) && domain && strcmp(domain, dom->name) == 0;
}

/* Everything checked before anything is applied. */
static bool batch_ok(const struct change_batch *b, const struct dir_domain *dom, char *err,
		     size_t errlen)
{
	if (!text_ok(b->stream, CHANGES_MAX_STREAM) ||
	    (b->position && (!b->position_len || b->position_len > CHANGES_MAX_POSITION))) {
		snprintf(err, errlen, "a malformed stream name or position");
		return false;
	}
	for (size_t i = 0; i < b->n; i++) {
		const struct change *c = &b->changes[i];
		bool ok = (!c->id || text_ok(c->id, CHANGES_MAX_ID)) &&
			  (!c->dn || text_ok(c->dn, CHANGES_MAX_DN));
		switch (c->op) {
		case CHANGE_PUT:
			ok = ok && c->id && !(c->user && c->group) &&
			     (!c->user || record_name_ok(c->user->name, c->user->domain, dom)) &&
			     (!c->group || record_name_ok(c->group->name, c->group->domain, dom));
			break;
		case CHANGE_DELETE: ok = ok && (c->id || c->dn) && !c->user && !c->group; break;
		case CHANGE_PRESENT: ok = ok && c->id && !c->user && !c->group; break;
		default: ok = false;
		}
		if (!ok) {
			snprintf(err, errlen, "change %zu of %zu is malformed", i + 1, b->n);
			return false;
		}
	}
	return true;
}

/* The stored position is the one the stream expects (a batch that is not complete). */
static bool position_expected(struct store_txn *t, const struct change_batch *b)
{
	if (b->complete_users || b->complete_groups)
		return true;
	char *k = stream_key(STREAM_KEY_POSITION, NULL, b->stream);
	size_t len = 0;
	void *v = k ? store_txn_get(t, STORE_USERS, k, &len) : NULL;
	free(k);
	bool same = v ? b->expected && len == b->expected_len && memcmp(v, b->expected, len) == 0 :
			!b->expected;
	free(v);
	return same;
}

/* The batch into d's db and the files, in one transaction each, under the locks. */
static enum changes_result apply_in_place(struct apply *a, struct change_batch *b, char *err,
					  size_t errlen)
{
	struct dird *d = a->d;
	enum changes_result result = CHANGES_APPLIED;
	a->db = &d->db;
	/* Files a flush or a first start left to this batch are created for a directory of
	 * this size: each entry has two record keys and two or three of the stream's. */
	a->t = store_txn_begin_sized(d->cfg.cache_dir,
				     5 * (b->n + d->db.c.n_users + d->db.c.n_groups) + (1 << 17));
	if (!a->t) {
		snprintf(err, errlen, "cannot write the cache in %s", d->cfg.cache_dir);
		result = CHANGES_FAILED;
	} else if (!position_expected(a->t, b)) {
		/* The files' position is true of the files' data (a refresh wrote the one
		 * taken before it read, sync_keep.c): the stream goes on from it. */
		snprintf(err, errlen, "the stored position is not the stream's (the cache was "
			 "replaced since)");
		store_txn_cancel(a->t);
		result = CHANGES_RESYNC;
	} else if ((apply_all(a, b) < 0 ? (store_txn_cancel(a->t), -1) : store_txn_commit(a->t)) < 0) {
		if (a->damaged)
			snprintf(err, errlen, "a change stream's key in the cache is damaged");
		else
			snprintf(err, errlen, "cannot apply the changes (out of memory, or the cache "
				 "in %s cannot be written)", d->cfg.cache_dir);
		/* db may hold part of the batch: it is read back from the files, which do not. */
		db_free(&d->db);
		db_init(&d->db);
		publish_load_cache(d);
		mark_dirty_locked(d);
		/* damaged: as a malformed batch, the stream reads everything (changes_apply) */
		result = a->damaged ? CHANGES_REFUSED : CHANGES_FAILED;
	} else {
		d->domains[b->domain].changes_applied++;
		if (a->put)
			negcache_clear(d->negative);
		/* a complete batch is a whole read: the whole index; other changes were noted */
		if (b->complete_users || b->complete_groups)
			mark_dirty_locked(d);
	}
	return result;
}

/* A copy of d's db and the stream keys of the files, to apply a complete batch to, unless a
 * refresh is writing the cache's temporary files.  While they are in use d->refreshing keeps
 * refreshes and other whole writes away.  1 taken; 0 not now; -1 out of memory, or the files
 * cannot be read (nothing held).  Locks held. */
static int take_copy_locked(struct dird *d, struct db *next, struct sync_keys *keys,
			    uint64_t *refreshes)
{
	if (d->refreshing)
		return 0;
	db_init(next);
	if (db_copy(next, &d->db) < 0)
		return -1;
	if (sync_keys_read(keys, d->cfg.cache_dir) < 0) {
		db_free(next);
		return -1;
	}
	*refreshes = d->refresh_count;
	d->refreshing = true;
	cache_expire_forget_locked(d);
	return 1;
}

/* Swaps next in and installs the files written from it, unless a flush or a full read due
 * replaced the cache meanwhile.  Locks held; *next is what is left to free. */
static enum changes_result install_locked(struct apply *a, const struct change_batch *b,
					  struct db *next, bool written, uint64_t refreshes,
					  char *err, size_t errlen)
{
	struct dird *d = a->d;
	bool replaced = d->refresh_count != refreshes;
	d->refreshing = false;
	if (!written || replaced) {
		if (written)
			publish_refresh_discard(d);
		snprintf(err, errlen, replaced ? "the cache was replaced while the batch was written" :
			 "cannot write the cache in %s", d->cfg.cache_dir);
		return replaced ? CHANGES_RESYNC : CHANGES_FAILED;
	}
	struct db old = d->db;
	d->db = *next;
	if (publish_refresh_install_locked(d) < 0) {
		d->db = old; /* the files still hold it */
		snprintf(err, errlen, "cannot write the cache in %s", d->cfg.cache_dir);
		return CHANGES_FAILED;
	}
	*next = old;
	/* a dirctl cache expire meanwhile went into the db the copy replaced */
	if (cache_expire_replay_locked(d) && publish_locked(d, true) < 0)
		mark_dirty_locked(d);
	d->domains[b->domain].changes_applied++;
	/* Other streams' positions in the new files are those taken with the copy: a stream that
	 * applied changes since goes on from its position there, and is sent them again. */
	d->refresh_count++;
	if (a->put)
		negcache_clear(d->negative);
	return CHANGES_APPLIED;
}

/* Once a complete batch is in the copy, what only applying it needed goes (its changes, which
 * the copy holds now, the names seen, the member index), and back to the system, before the
 * files are written from the copy: a whole read of a million users then does not hold them too
 * while the files and their index are built. */
static void release_applied(struct apply *a, struct change_batch *b)
{
	free_changes(b);
	free(b->changes);
	b->changes = NULL;
	b->cap = 0;
	names_free(&a->seen_users);
	names_free(&a->seen_groups);
	names_free(&a->touched);
	member_index_free(&a->members);
	a->members_indexed = false;
	malloc_trim(0);
}

/* A complete batch is a whole read of what the stream serves: as a refresh does, it goes into a
 * copy of the db, which is written into new files with no lock held (lookups, PAM requests and
 * dirctl are answered from the current cache meanwhile), and only the swap and the renames are
 * done under the locks.  What others wrote to the cache meanwhile is replaced, as by a refresh:
 * another stream is sent its changes again (install_locked), a lookup asks again.  false when
 * it cannot be done so now (a refresh is writing): then it is applied in place. */
static bool apply_whole(struct apply *a, struct change_batch *b, enum changes_result *result,
			char *err, size_t errlen)
{
	struct dird *d = a->d;
	struct db next;
	struct sync_keys keys;
	uint64_t refreshes = 0;
	long long start = now_ms();
	pthread_mutex_lock(&d->store_lock);
	pthread_mutex_lock(&d->lock);
	int taken = take_copy_locked(d, &next, &keys, &refreshes);
	pthread_mutex_unlock(&d->lock);
	pthread_mutex_unlock(&d->store_lock);
	long long copied = now_ms();
	if (taken <= 0) {
		snprintf(err, errlen, "out of memory, or the cache in %s cannot be read",
			 d->cfg.cache_dir);
		*result = CHANGES_FAILED;
		return taken < 0;
	}
	a->db = &next;
	a->keys = &keys;
	size_t n = b->n;
	bool written = apply_all(a, b) == 0;
	if (written) {
		release_applied(a, b);
		next.c.extra = sync_keys_extra(&keys, &next.c.n_extra);
		written = next.c.extra && publish_refresh_write(d, &next) == 0;
		next.c.extra = NULL; /* keys', freed with them */
		next.c.n_extra = 0;
	}
	pthread_mutex_lock(&d->store_lock);
	pthread_mutex_lock(&d->lock);
	long long locked = now_ms();
	*result = install_locked(a, b, &next, written, refreshes, err, errlen);
	if (d->refresh_wanted) { /* asked for while the batch held d->refreshing */
		d->refresh_wanted = false;
		refresh_start_locked(d);
	}
	pthread_mutex_unlock(&d->lock);
	pthread_mutex_unlock(&d->store_lock);
	log_debug("%s: a complete batch of %zu: copying the cache took %lld ms (locked), applying and "
		  "writing it %lld ms, installing it %lld ms (locked)", b->stream, n,
		  copied - start, locked - copied, now_ms() - locked);
	/* the db nobody serves, freed without the locks (a million users take a second) */
	db_free(&next);
	sync_keys_free(&keys);
	return true;
}

/* A batch that removed an entry of a kind an entry lost a clash of (settle_user) since the last
 * complete batch of that kind: the loser may hold the name or id alone now, and the stream
 * reads its kind again to serve it, as a refresh would.  A complete batch settles every clash
 * anew. */
static void note_clashes(struct dird *d, struct change_batch *b, const struct apply *a)
{
	pthread_mutex_lock(&d->lock);
	bool *lost = d->domains[b->domain].clash_lost;
	for (int k = STORE_USERS; k <= STORE_GROUPS; k++) {
		bool complete = k == STORE_USERS ? b->complete_users : b->complete_groups;
		if (!complete && (lost[k] || a->lost[k]) && a->removed[k])
			b->read_again = true;
		lost[k] = a->lost[k] || (!complete && lost[k]);
	}
	pthread_mutex_unlock(&d->lock);
}

/* What the batch removed, where no entry holds its name or id now: another domain's entry that
 * lost it in a clash is read again (reclaim.c), as a refresh would serve it.  More than that
 * takes: a full refresh. */
static void queue_reclaims(struct dird *d, const struct change_batch *b, const struct apply *a)
{
	pthread_mutex_lock(&d->store_lock);
	pthread_mutex_lock(&d->lock);
	bool queued = !a->freed_overflow;
	for (size_t i = 0; queued && i < a->n_freed; i++) {
		const struct freed *f = &a->freed[i];
		bool user = f->kind == STORE_USERS;
		bool name_free = user ? !db_user_by_name(&d->db, f->name) :
					!db_group_by_name(&d->db, f->name);
		bool id_free = user ? !db_user_by_uid(&d->db, f->id) : !db_group_by_gid(&d->db, f->id);
		queued = (!name_free || reclaim_queue_locked(d, user ? DIR_OP_GETPWNAM : DIR_OP_GETGRNAM,
							     f->name, 0, b->domain, 0)) &&
			 (!id_free || reclaim_queue_locked(d, user ? DIR_OP_GETPWUID : DIR_OP_GETGRGID,
							   NULL, f->id, b->domain, 0));
	}
	if (!queued) {
		log_info("%s: too many entries removed to read again what other domains hold of their "
			 "names and ids: a full refresh reads them", b->stream);
		refresh_start_locked(d);
	}
	pthread_mutex_unlock(&d->lock);
	pthread_mutex_unlock(&d->store_lock);
}

enum changes_result changes_apply(struct dird *d, struct change_batch *b, char *err, size_t errlen)
{
	const struct dir_domain *dom = b->domain < d->cfg.n_domains ? &d->cfg.domains[b->domain] : NULL;
	if (!dom || !batch_ok(b, dom, err, errlen)) {
		if (!dom) {
			snprintf(err, errlen, "no such domain");
			return CHANGES_RESYNC;
		}
		changes_forget_position(d, b->stream);
		return CHANGES_REFUSED;
	}
	struct local_accounts local;
	if (local_accounts_load(&local, err, errlen) < 0)
		return CHANGES_FAILED;
	struct apply a = { .d = d, .dom = dom, .local = &local };
	enum changes_result result;
	if (!((b->complete_users || b->complete_groups) && apply_whole(&a, b, &result, err, errlen))) {
		pthread_mutex_lock(&d->store_lock);
		pthread_mutex_lock(&d->lock);
		result = apply_in_place(&a, b, err, errlen);
		pthread_mutex_unlock(&d->lock);
		pthread_mutex_unlock(&d->store_lock);
		if (result == CHANGES_REFUSED)
			changes_forget_position(d, b->stream);
	}
	if (result == CHANGES_APPLIED)
		note_clashes(d, b, &a);
	if (result == CHANGES_APPLIED && (a.n_freed || a.freed_overflow))
		queue_reclaims(d, b, &a);
	if (a.refused)
		log_info("%s: %u changed entries refused", dom->name, a.refused);
	names_free(&a.seen_users);
	names_free(&a.seen_groups);
	names_free(&a.touched);
	member_index_free(&a.members);
	member_dns_free(a.member_dns);
	free(a.ids);
	text_pool_free(&a.id_text);
	free(a.freed);
	text_pool_free(&a.freed_text);
	local_accounts_free(&local);
	return result;
}

void *changes_position(struct dird *d, const char *stream, size_t *len)
{
	char *k = stream_key(STREAM_KEY_POSITION, NULL, stream);
	if (!k)
		return NULL;
	pthread_mutex_lock(&d->store_lock);
	void *v = store_agreed(d->cfg.cache_dir, k, len);
	pthread_mutex_unlock(&d->store_lock);
	free(k);
	return v;
}

void changes_forget_position(struct dird *d, const char *stream)
{
	char *k = text_ok(stream, CHANGES_MAX_STREAM) ? stream_key(STREAM_KEY_POSITION, NULL, stream) : NULL;
	if (!k)
		return;
	pthread_mutex_lock(&d->store_lock);
	struct store_txn *t = store_txn_begin(d->cfg.cache_dir);
	if (t && (store_txn_unset(t, STORE_USERS, k) < 0 || store_txn_unset(t, STORE_GROUPS, k) < 0)) {
		store_txn_cancel(t);
		t = NULL;
	}
	if (!t || store_txn_commit(t) < 0)
		log_warning("cannot drop the stored position of %s", stream);
	pthread_mutex_unlock(&d->store_lock);
	free(k);
}

char *changes_name_of_id(struct dird *d, size_t domain, enum store_kind kind, const char *id)
{
	if (domain >= d->cfg.n_domains || !text_ok(id, CHANGES_MAX_ID))
		return NULL;
	char *k = stream_key_entry(d->cfg.domains[domain].name, id), *name = NULL;
	if (k) {
		pthread_mutex_lock(&d->store_lock);
		name = store_fetch(d->cfg.cache_dir, kind, k);
		pthread_mutex_unlock(&d->store_lock);
	}
	free(k);
	/* its name, before the NUL of a DN: not one (damaged), none */
	if (name && !text_ok(name, DIR_MAX_NAME)) {
		free(name);
		name = NULL;
	}
	return name;
}
