#include "sync_keys.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct sync_key {
	enum store_kind kind;
	char *key;	/* owned; NUL-terminated */
	void *val;	/* owned, len bytes; NULL once unset */
	size_t len;
};

/* FNV-1a of the kind and the key. */
static uint32_t hash_of(enum store_kind kind, const char *key)
{
	uint32_t h = 2166136261u ^ (uint32_t)kind;
	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h;
}

/* The slot that holds key, or the empty one where it would go. */
static size_t slot_of(const struct sync_keys *k, enum store_kind kind, const char *key)
{
	size_t mask = k->n_slots - 1, i = hash_of(kind, key) & mask;
	while (k->slots[i]) {
		const struct sync_key *e = &k->v[k->slots[i] - 1];
		if (e->kind == kind && strcmp(e->key, key) == 0)
			return i;
		i = (i + 1) & mask;
	}
	return i;
}

/* Room for one more key: the table kept at most half full. */
static int reserve(struct sync_keys *k)
{
	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 1024;
		struct sync_key *v = cap < UINT32_MAX ? realloc(k->v, cap * sizeof(*v)) : NULL;
		if (!v)
			return -1;
		k->v = v;
		k->cap = cap;
	}
	if (2 * (k->n + 1) <= k->n_slots)
		return 0;
	size_t n_slots = k->n_slots ? k->n_slots * 2 : 2048;
	uint32_t *slots = calloc(n_slots, sizeof(*slots));
	if (!slots)
		return -1;
	free(k->slots);
	k->slots = slots;
	k->n_slots = n_slots;
	for (size_t i = 0; i < k->n; i++)
		k->slots[slot_of(k, k->v[i].kind, k->v[i].key)] = (uint32_t)i + 1;
	return 0;
}

int sync_keys_set(struct sync_keys *k, enum store_kind kind, const char *key, const void *val,
		  size_t len)
{
	if (reserve(k) < 0)
		return -1;
	void *copy = malloc(len + 1);
	if (!copy)
		return -1;
	memcpy(copy, val, len);
	((char *)copy)[len] = '\0';
	size_t s = slot_of(k, kind, key);
	if (k->slots[s]) {
		struct sync_key *e = &k->v[k->slots[s] - 1];
		free(e->val);
		e->val = copy;
		e->len = len;
		return 0;
	}
	char *name = strdup(key);
	if (!name) {
		free(copy);
		return -1;
	}
	k->v[k->n] = (struct sync_key){ kind, name, copy, len };
	k->slots[s] = (uint32_t)++k->n;
	return 0;
}

void *sync_keys_get(const struct sync_keys *k, enum store_kind kind, const char *key, size_t *len)
{
	if (!k->n_slots)
		return NULL;
	size_t s = slot_of(k, kind, key);
	const struct sync_key *e = k->slots[s] ? &k->v[k->slots[s] - 1] : NULL;
	char *copy = e && e->val ? malloc(e->len + 1) : NULL;
	if (!copy)
		return NULL;
	memcpy(copy, e->val, e->len + 1);
	*len = e->len;
	return copy;
}

void sync_keys_unset(struct sync_keys *k, enum store_kind kind, const char *key)
{
	if (!k->n_slots)
		return;
	size_t s = slot_of(k, kind, key);
	if (k->slots[s]) {
		struct sync_key *e = &k->v[k->slots[s] - 1];
		free(e->val);
		e->val = NULL;
	}
}

struct read_ctx {
	struct sync_keys *k;
	enum store_kind kind;
};

static int read_one(const char *key, size_t key_len, const void *val, size_t len, void *arg)
{
	struct read_ctx *c = arg;
	char *name = strndup(key, key_len);
	int rc = name && strlen(name) == key_len ? sync_keys_set(c->k, c->kind, name, val, len) : -1;
	free(name);
	return rc;
}

int sync_keys_read(struct sync_keys *k, const char *cache_dir)
{
	memset(k, 0, sizeof(*k));
	for (int kind = STORE_USERS; kind <= STORE_GROUPS; kind++) {
		struct read_ctx c = { k, kind };
		if (store_each_key(cache_dir, kind, "SYNC_", read_one, &c) != 0) {
			sync_keys_free(k);
			return -1;
		}
	}
	return 0;
}

const struct store_extra *sync_keys_extra(struct sync_keys *k, size_t *n)
{
	*n = 0;
	free(k->extra);
	k->extra = calloc(k->n + 1, sizeof(*k->extra));
	if (!k->extra)
		return NULL;
	for (size_t i = 0; i < k->n; i++) {
		const struct sync_key *e = &k->v[i];
		if (e->val)
			k->extra[(*n)++] = (struct store_extra){ e->kind, e->key, strlen(e->key),
								 e->val, e->len };
	}
	return k->extra;
}

void sync_keys_free(struct sync_keys *k)
{
	for (size_t i = 0; i < k->n; i++) {
		free(k->v[i].key);
		free(k->v[i].val);
	}
	free(k->v);
	free(k->slots);
	free(k->extra);
	memset(k, 0, sizeof(*k));
}
