#include "db.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "index.h"

void db_init(struct db *db)
{
	memset(db, 0, sizeof(*db));
}

void db_free(struct db *db)
{
	store_contents_free(&db->c);
	free(db->user_name.slots);
	free(db->user_uid.slots);
	free(db->group_name.slots);
	free(db->group_gid.slots);
	memset(db, 0, sizeof(*db));
}

/* Key access for the four maps. */
enum key { KEY_USER_NAME, KEY_USER_UID, KEY_GROUP_NAME, KEY_GROUP_GID };

static uint32_t hash_of(const struct db *db, enum key k, uint32_t i)
{
	switch (k) {
	case KEY_USER_NAME: return index_hash_name(db->c.users[i]->name);
	case KEY_USER_UID: return index_hash_id(db->c.users[i]->uid);
	case KEY_GROUP_NAME: return index_hash_name(db->c.groups[i]->name);
	default: return index_hash_id(db->c.groups[i]->gid);
	}
}

static int matches(const struct db *db, enum key k, uint32_t i, const char *name, uint32_t id)
{
	switch (k) {
	case KEY_USER_NAME: return strcmp(db->c.users[i]->name, name) == 0;
	case KEY_USER_UID: return db->c.users[i]->uid == id;
	case KEY_GROUP_NAME: return strcmp(db->c.groups[i]->name, name) == 0;
	default: return db->c.groups[i]->gid == id;
	}
}

static struct db_map *map_of(struct db *db, enum key k)
{
	struct db_map *maps[] = { &db->user_name, &db->user_uid, &db->group_name, &db->group_gid };
	return maps[k];
}

/* The slot that holds the record of this key (h its hash), or the empty one where it would
 * go: one walk of the probe sequence for both a lookup and the insertion that follows it.  The
 * map has slots. */
static uint32_t *probe(const struct db *db, enum key k, uint32_t h, const char *name, uint32_t id)
{
	const struct db_map *m = map_of((struct db *)db, k);
	uint32_t mask = m->n_slots - 1;
	for (uint32_t i = h & mask;; i = (i + 1) & mask) {
		uint32_t v = m->slots[i];
		if (!v || matches(db, k, v - 1, name, id))
			return &m->slots[i];
	}
}

static long find(const struct db *db, enum key k, const char *name, uint32_t id)
{
	if (!map_of((struct db *)db, k)->n_slots)
		return -1;
	uint32_t v = *probe(db, k, name ? index_hash_name(name) : index_hash_id(id), name, id);
	return v ? (long)(v - 1) : -1;
}

static void insert_slot(struct db_map *m, uint32_t h, uint32_t idx)
{
	uint32_t mask = m->n_slots - 1, i = h & mask;
	while (m->slots[i])
		i = (i + 1) & mask;
	m->slots[i] = idx + 1;
}

static int map_rebuild(struct db *db, enum key k, size_t count, uint32_t n);

/* The slots a map of count records has: at least twice as many, a power of two. */
static uint32_t map_size(size_t count)
{
	uint32_t n = 64;
	while (n < 2 * (count + 1))
		n <<= 1;
	return n;
}

/* Keeps the map at most half full; rebuilds it from the records, twice the size, when it would
 * be fuller (a million users' two maps are 8 to 16 MB, not 16 to 32). */
static int map_reserve(struct db *db, enum key k, size_t count)
{
	struct db_map *m = map_of(db, k);
	if (m->n_slots >= 2 * (count + 1))
		return 0;
	return map_rebuild(db, k, count, m->n_slots ? m->n_slots : 64);
}

/* Fills a new map of at least n slots with the first `count` records. */
static int map_rebuild(struct db *db, enum key k, size_t count, uint32_t n)
{
	struct db_map *m = map_of(db, k);
	if (n < map_size(count))
		n = map_size(count);
	uint32_t *slots = calloc(n, sizeof(uint32_t));
	if (!slots) {
		/* An empty map finds nothing, which is safe; a stale one is not. */
		free(m->slots);
		m->slots = NULL;
		m->n_slots = 0;
		return -1;
	}
	free(m->slots);
	m->slots = slots;
	m->n_slots = n;
	for (uint32_t i = 0; i < count; i++)
		insert_slot(m, hash_of(db, k, i), i);
	return 0;
}

static int grow(void **arr, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : 256;
	void *p = realloc(*arr, c * size);
	if (!p)
		return -1;
	*arr = p;
	*cap = c;
	return 0;
}

/* Texts many users share, each copied once for dird's life: the domains' names (a million
 * copies of one name are 8 to 16 MB more) and the login shells.  They are few; past a table's
 * `max` names, or once its text is full, a user's is packed with it.  Read without the lock: an
 * entry is written before the count that shows it. */
#define SHARED_MAX 64
struct shared_texts {
	char text[4096];
	size_t used, max;
	const char *v[SHARED_MAX];
	_Atomic size_t n;
	pthread_mutex_t lock;
};
static struct shared_texts domains = { .max = SHARED_MAX, .lock = PTHREAD_MUTEX_INITIALIZER };
/* a user's shell is looked for among these on each pack: directories have a handful */
static struct shared_texts shells = { .max = 16, .lock = PTHREAD_MUTEX_INITIALIZER };

static const char *find_shared(const struct shared_texts *t, const char *s, size_t from, size_t n)
{
	for (size_t i = from; i < n; i++)
		if (strcmp(t->v[i], s) == 0)
			return t->v[i];
	return NULL;
}

/* The shared copy of s, or NULL (it is packed with the user). */
static const char *shared_copy(struct shared_texts *t, const char *s)
{
	size_t n = atomic_load_explicit(&t->n, memory_order_acquire);
	const char *found = find_shared(t, s, 0, n);
	if (found || n == t->max)
		return found;
	size_t len = strlen(s) + 1;
	pthread_mutex_lock(&t->lock);
	size_t now = atomic_load_explicit(&t->n, memory_order_relaxed);
	found = find_shared(t, s, n, now);
	if (!found && now < t->max && len <= sizeof(t->text) - t->used) {
		found = memcpy(t->text + t->used, s, len);
		t->used += len;
		t->v[now] = found;
		atomic_store_explicit(&t->n, now + 1, memory_order_release);
	}
	pthread_mutex_unlock(&t->lock);
	return found;
}

/* Where name is the end of home ("/home/alice" and "alice", as most directories have it):
 * its offset there, the name then read from home's bytes; else -1. */
static long name_in_home(const char *name, const char *home)
{
	if (!home)
		return -1;
	size_t n = strlen(name), h = strlen(home);
	return h >= n && strcmp(home + h - n, name) == 0 ? (long)(h - n) : -1;
}

struct dir_user *db_pack_copy(const struct dir_user *u)
{
	const char *domain = u->domain ? shared_copy(&domains, u->domain) : NULL;
	const char *shell = u->shell ? shared_copy(&shells, u->shell) : NULL;
	long in_home = u->name ? name_in_home(u->name, u->home) : -1;
	char *const *fields[] = { domain ? NULL : &u->domain, in_home >= 0 ? NULL : &u->name,
				  &u->gecos, &u->home, shell ? NULL : &u->shell, &u->email,
				  &u->sid };
	/* the gid list first, just past the struct (dir_user_inline_groups_at), then the
	 * strings */
	size_t gids = u->n_groups * sizeof(uint32_t), len = gids;
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (fields[i] && *fields[i])
			len += strlen(*fields[i]) + 1;
	struct dir_user *packed = malloc(sizeof(*packed) + len);
	if (!packed)
		return NULL;
	*packed = *u;
	packed->packed = (char *)(packed + 1);
	packed->groups = NULL;
	if (u->n_groups) {
		packed->groups = dir_user_inline_groups_at(packed);
		memcpy(packed->groups, u->groups, gids);
	}
	char *p = packed->packed + gids;
	packed->domain = (char *)domain;
	packed->shell = (char *)shell;
	char **to[] = { &packed->domain, &packed->name, &packed->gecos, &packed->home,
			&packed->shell, &packed->email, &packed->sid };
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (!fields[i] || !*fields[i])
			continue;
		size_t n = strlen(*fields[i]) + 1;
		memcpy(p, *fields[i], n);
		*to[i] = p;
		p += n;
	}
	if (in_home >= 0)
		packed->name = packed->home + in_home;
	return packed;
}

/* u's packed copy, which takes u's keys; u freed.  NULL without the memory (u as it was). */
static struct dir_user *pack_over(struct dir_user *u)
{
	struct dir_user *packed = db_pack_copy(u);
	if (packed) {
		u->ssh_keys = NULL; /* packed's now (its gid list was copied) */
		u->n_ssh_keys = 0;
		dir_user_destroy(u);
	}
	return packed;
}

struct dir_user *db_pack_user(struct dir_user *u)
{
	struct dir_user *packed;
	if (u->packed == (char *)(u + 1)) {
		/* a list given since (a stream's new user, linked to its groups) is packed in */
		if (u->n_groups && !dir_user_inline_groups(u) && (packed = pack_over(u)))
			return packed;
		return u;
	}
	if (!(packed = pack_over(u)))
		dir_user_destroy(u);
	return packed;
}

int db_add_user(struct db *db, struct dir_user *u)
{
	size_t n = db->c.n_users;
	if (n >= UINT32_MAX - 1 || grow((void **)&db->c.users, &db->cap_users, n, sizeof(u)) < 0 ||
	    map_reserve(db, KEY_USER_NAME, n) < 0 || map_reserve(db, KEY_USER_UID, n) < 0) {
		dir_user_destroy(u);
		return -1;
	}
	uint32_t *by_name = probe(db, KEY_USER_NAME, index_hash_name(u->name), u->name, 0);
	uint32_t *by_uid =
		*by_name ? NULL : probe(db, KEY_USER_UID, index_hash_id(u->uid), NULL, u->uid);
	if (*by_name || *by_uid) {
		dir_user_destroy(u);
		return 1;
	}
	if (!(u = db_pack_user(u)))
		return -1;
	db->c.users[n] = u;
	db->c.n_users++;
	*by_name = *by_uid = (uint32_t)n + 1;
	return 0;
}

struct dir_user *db_replace_user(struct db *db, struct dir_user *old, struct dir_user *u)
{
	long i = find(db, KEY_USER_NAME, old->name, 0);
	if (i < 0 || db->c.users[i] != old || strcmp(u->name, old->name) != 0 || u->uid != old->uid) {
		dir_user_destroy(u);
		return NULL;
	}
	if (!(u = db_pack_user(u)))
		return NULL;
	dir_user_destroy(old);
	db->c.users[i] = u; /* the same name and uid: the maps stay as they are */
	return u;
}

int db_add_group(struct db *db, struct dir_group *g)
{
	size_t n = db->c.n_groups;
	if (n >= UINT32_MAX - 1 || grow((void **)&db->c.groups, &db->cap_groups, n, sizeof(g)) < 0 ||
	    map_reserve(db, KEY_GROUP_NAME, n) < 0 || map_reserve(db, KEY_GROUP_GID, n) < 0) {
		dir_group_destroy(g);
		return -1;
	}
	uint32_t *by_name = probe(db, KEY_GROUP_NAME, index_hash_name(g->name), g->name, 0);
	uint32_t *by_gid =
		*by_name ? NULL : probe(db, KEY_GROUP_GID, index_hash_id(g->gid), NULL, g->gid);
	if (*by_name || *by_gid) {
		dir_group_destroy(g);
		return 1;
	}
	dir_group_pack_members(g);
	db->c.groups[n] = g;
	db->c.n_groups++;
	*by_name = *by_gid = (uint32_t)n + 1;
	return 0;
}

int db_append_user(struct db *db, struct dir_user *u)
{
	size_t n = db->c.n_users;
	if (n >= UINT32_MAX - 1 || grow((void **)&db->c.users, &db->cap_users, n, sizeof(u)) < 0) {
		dir_user_destroy(u);
		return -1;
	}
	if (!(u = db_pack_user(u)))
		return -1;
	db->c.users[db->c.n_users++] = u;
	return 0;
}

int db_append_group(struct db *db, struct dir_group *g)
{
	size_t n = db->c.n_groups;
	if (n >= UINT32_MAX - 1 || grow((void **)&db->c.groups, &db->cap_groups, n, sizeof(g)) < 0) {
		dir_group_destroy(g);
		return -1;
	}
	dir_group_pack_members(g);
	db->c.groups[db->c.n_groups++] = g;
	return 0;
}

/* How many records the maps of k cover: users for the users' keys, else groups. */
static size_t *count_of(struct db *db, enum key k)
{
	return k <= KEY_USER_UID ? &db->c.n_users : &db->c.n_groups;
}

/* probe for the key of the record at i (h that key's hash). */
static uint32_t *probe_record(const struct db *db, enum key k, size_t i, uint32_t h)
{
	bool user = k <= KEY_USER_UID, by_name = k == KEY_USER_NAME || k == KEY_GROUP_NAME;
	const char *name = user ? db->c.users[i]->name : db->c.groups[i]->name;
	uint32_t id = user ? db->c.users[i]->uid : db->c.groups[i]->gid;
	return probe(db, k, h, by_name ? name : NULL, by_name ? 0 : id);
}

/* index_kind asks for what a record's insertion reads this many records ahead of it: the
 * record's struct (two of these ahead: its hashes read it), then its slots.  Each of a
 * million would be a wait for memory otherwise. */
#define INDEX_AHEAD 8

static void prefetch_record(const struct db *db, enum key k, size_t i)
{
	const void *r = k <= KEY_USER_UID ? (const void *)db->c.users[i] : db->c.groups[i];
	__builtin_prefetch(r);
	__builtin_prefetch((const char *)r + 64); /* a packed user's name */
}

struct hashes {
	uint32_t name, id;
};

static void hash_ahead(const struct db *db, enum key by_name, enum key by_id, size_t i,
		       struct hashes *h)
{
	const struct db_map *mn = map_of((struct db *)db, by_name);
	const struct db_map *mi = map_of((struct db *)db, by_id);
	h->name = hash_of(db, by_name, (uint32_t)i);
	h->id = hash_of(db, by_id, (uint32_t)i);
	__builtin_prefetch(&mn->slots[h->name & (mn->n_slots - 1)]);
	__builtin_prefetch(&mi->slots[h->id & (mi->n_slots - 1)]);
}

/* The two maps of one kind built over its records as they were appended, at their final size
 * (no map rebuilt as it grows), each record dropped whose name or id one before it has, as
 * db_add_user would drop it.  How many were dropped, or -1 without the memory (the maps then
 * find nothing).  Records ahead of i stay where they were appended until their turn. */
static long index_kind(struct db *db, enum key by_name, enum key by_id)
{
	size_t *n = count_of(db, by_name), kept = 0;
	struct hashes ahead[INDEX_AHEAD];
	if (map_rebuild(db, by_name, 0, map_size(*n)) < 0 ||
	    map_rebuild(db, by_id, 0, map_size(*n)) < 0)
		return -1;
	for (size_t i = 0; i < *n && i < 2 * INDEX_AHEAD; i++)
		prefetch_record(db, by_name, i);
	for (size_t i = 0; i < *n && i < INDEX_AHEAD; i++)
		hash_ahead(db, by_name, by_id, i, &ahead[i]);
	for (size_t i = 0; i < *n; i++) {
		struct hashes h = ahead[i % INDEX_AHEAD];
		if (i + INDEX_AHEAD < *n)
			hash_ahead(db, by_name, by_id, i + INDEX_AHEAD, &ahead[i % INDEX_AHEAD]);
		if (i + 2 * INDEX_AHEAD < *n)
			prefetch_record(db, by_name, i + 2 * INDEX_AHEAD);
		if (by_name == KEY_USER_NAME)
			db->c.users[kept] = db->c.users[i];
		else
			db->c.groups[kept] = db->c.groups[i];
		uint32_t *slot_name = probe_record(db, by_name, kept, h.name);
		uint32_t *slot_id = *slot_name ? NULL : probe_record(db, by_id, kept, h.id);
		if (*slot_name || *slot_id) {
			if (by_name == KEY_USER_NAME)
				dir_user_destroy(db->c.users[kept]);
			else
				dir_group_destroy(db->c.groups[kept]);
			continue;
		}
		*slot_name = *slot_id = (uint32_t)++kept;
	}
	long dropped = (long)(*n - kept);
	*n = kept;
	return dropped;
}

long db_index_appended(struct db *db)
{
	long users = index_kind(db, KEY_USER_NAME, KEY_USER_UID);
	long groups = users < 0 ? -1 : index_kind(db, KEY_GROUP_NAME, KEY_GROUP_GID);
	return groups < 0 ? -1 : users + groups;
}

struct dir_user *db_user_by_name(const struct db *db, const char *name)
{
	long i = find(db, KEY_USER_NAME, name, 0);
	return i < 0 ? NULL : db->c.users[i];
}

struct dir_user *db_user_by_uid(const struct db *db, uint32_t uid)
{
	long i = find(db, KEY_USER_UID, NULL, uid);
	return i < 0 ? NULL : db->c.users[i];
}

struct dir_group *db_group_by_name(const struct db *db, const char *name)
{
	long i = find(db, KEY_GROUP_NAME, name, 0);
	return i < 0 ? NULL : db->c.groups[i];
}

struct dir_group *db_group_by_gid(const struct db *db, uint32_t gid)
{
	long i = find(db, KEY_GROUP_GID, NULL, gid);
	return i < 0 ? NULL : db->c.groups[i];
}

static int add_gid(struct dir_user *u, uint32_t gid, uint32_t *cap)
{
	if (gid == u->gid)
		return 0;
	for (uint32_t i = 0; i < u->n_groups; i++)
		if (u->groups[i] == gid)
			return 0;
	bool inline_list = dir_user_inline_groups(u);
	if (u->n_groups == *cap || inline_list) {
		uint32_t c = *cap > u->n_groups ? *cap : *cap ? *cap * 2 : 8;
		/* a list packed with the record grows into one of its own */
		uint32_t *p = inline_list ? malloc((size_t)c * sizeof(uint32_t))
					  : realloc(u->groups, (size_t)c * sizeof(uint32_t));
		if (!p)
			return -1;
		if (inline_list)
			memcpy(p, u->groups, u->n_groups * sizeof(uint32_t));
		u->groups = p;
		*cap = c;
	}
	u->groups[u->n_groups++] = gid;
	return 0;
}

int db_link_group(struct db *db, const struct dir_group *g)
{
	for (uint32_t m = 0; m < g->n_members; m++) {
		struct dir_user *u = db_user_by_name(db, g->members[m]);
		uint32_t cap = u ? u->n_groups : 0;
		if (u && add_gid(u, g->gid, &cap) < 0)
			return -1;
	}
	return 0;
}

int db_user_add_gid(struct dir_user *u, uint32_t gid)
{
	uint32_t cap = u->n_groups;
	return add_gid(u, gid, &cap);
}

void db_user_set_groups(struct dir_user *u, uint32_t *groups, uint32_t n)
{
	if (!dir_user_inline_groups(u))
		free(u->groups);
	u->groups = groups;
	u->n_groups = n;
}

int db_user_take_groups(struct dir_user *to, struct dir_user *from)
{
	uint32_t *groups = from->groups;
	if (dir_user_inline_groups(from)) {
		if (!(groups = malloc(from->n_groups * sizeof(uint32_t))))
			return -1;
		memcpy(groups, from->groups, from->n_groups * sizeof(uint32_t));
	}
	db_user_set_groups(to, groups, from->n_groups);
	from->groups = NULL; /* to's now, or the copy's original, freed with from */
	from->n_groups = 0;
	return 0;
}

void db_user_drop_gid(struct dir_user *u, uint32_t gid)
{
	for (uint32_t i = 0; i < u->n_groups; i++)
		if (u->groups[i] == gid) {
			u->groups[i] = u->groups[--u->n_groups];
			return;
		}
}

/* Calls fn with each (user index, gid) a group's member list gives, until it returns non-zero. */
static int each_membership(struct db *db, int (*fn)(struct db *db, long u, uint32_t gid, void *arg),
			   void *arg)
{
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < db->c.n_groups; i++) {
		const struct dir_group *g = db->c.groups[i];
		for (uint32_t m = 0; rc == 0 && m < g->n_members; m++) {
			long u = find(db, KEY_USER_NAME, g->members[m], 0);
			if (u >= 0)
				rc = fn(db, u, g->gid, arg);
		}
	}
	return rc;
}

static int count_membership(struct db *db, long u, uint32_t gid, void *arg)
{
	uint32_t *caps = arg;
	(void)db;
	(void)gid;
	caps[u] += caps[u] < UINT32_MAX;
	return 0;
}

static int add_membership(struct db *db, long u, uint32_t gid, void *arg)
{
	uint32_t *caps = arg;
	return add_gid(db->c.users[u], gid, &caps[u]);
}

int db_link_groups(struct db *db)
{
	uint32_t *caps = calloc(db->c.n_users + 1, sizeof(uint32_t));
	if (!caps)
		return -1;
	for (size_t i = 0; i < db->c.n_users; i++)
		db_user_set_groups(db->c.users[i], NULL, 0);
	/* Counted first, so that each list is one allocation of its size: a million lists grown
	 * by doubling would hold a third more than they use. */
	each_membership(db, count_membership, caps);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < db->c.n_users; i++)
		if (caps[i] && !(db->c.users[i]->groups = malloc((size_t)caps[i] * sizeof(uint32_t))))
			rc = -1;
	rc = rc ? rc : each_membership(db, add_membership, caps);
	free(caps);
	/* each list then packed with its record (without the memory for it, left as it is) */
	for (size_t i = 0; rc == 0 && i < db->c.n_users; i++) {
		struct dir_user *packed = db->c.users[i]->n_groups ? pack_over(db->c.users[i]) : NULL;
		if (packed)
			db->c.users[i] = packed;
	}
	return rc;
}

/* Removal moves the last record into the hole and rebuilds the maps: O(n), and rare (an entry
 * the directory no longer has, or one replaced by a newer copy). */
static void remove_user_at(struct db *db, size_t i)
{
	dir_user_destroy(db->c.users[i]);
	db->c.users[i] = db->c.users[--db->c.n_users];
	map_rebuild(db, KEY_USER_NAME, db->c.n_users, db->user_name.n_slots);
	map_rebuild(db, KEY_USER_UID, db->c.n_users, db->user_uid.n_slots);
}

static void remove_group_at(struct db *db, size_t i)
{
	dir_group_destroy(db->c.groups[i]);
	db->c.groups[i] = db->c.groups[--db->c.n_groups];
	map_rebuild(db, KEY_GROUP_NAME, db->c.n_groups, db->group_name.n_slots);
	map_rebuild(db, KEY_GROUP_GID, db->c.n_groups, db->group_gid.n_slots);
}

void db_remove_user(struct db *db, const char *name, uint32_t uid)
{
	long i;
	if (name && (i = find(db, KEY_USER_NAME, name, 0)) >= 0)
		remove_user_at(db, (size_t)i);
	if ((i = find(db, KEY_USER_UID, NULL, uid)) >= 0)
		remove_user_at(db, (size_t)i);
}

void db_remove_group(struct db *db, const char *name, uint32_t gid)
{
	long i;
	if (name && (i = find(db, KEY_GROUP_NAME, name, 0)) >= 0)
		remove_group_at(db, (size_t)i);
	if ((i = find(db, KEY_GROUP_GID, NULL, gid)) >= 0)
		remove_group_at(db, (size_t)i);
}

size_t db_keep_users(struct db *db, bool (*keep)(const struct dir_user *u, void *arg), void *arg)
{
	size_t kept = 0, dropped = 0;
	for (size_t i = 0; i < db->c.n_users; i++) {
		struct dir_user *u = db->c.users[i];
		if (keep(u, arg)) {
			db->c.users[kept++] = u;
		} else {
			dir_user_destroy(u);
			dropped++;
		}
	}
	db->c.n_users = kept;
	if (dropped) {
		map_rebuild(db, KEY_USER_NAME, kept, db->user_name.n_slots);
		map_rebuild(db, KEY_USER_UID, kept, db->user_uid.n_slots);
	}
	return dropped;
}
