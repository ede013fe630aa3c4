#include "sync_keys.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "stream_keys.h"

#define BLOCK_SIZE (1u << 20)

char *sync_bytes_add(struct sync_bytes *b, const char *key, size_t key_len, const void *val,
		     size_t len)
{
	size_t need = key_len + 1 + len + 1;
	if (need > b->room - b->used) {
		if (b->n_blocks == b->cap_blocks) {
			size_t cap = b->cap_blocks ? 2 * b->cap_blocks : 64;
			char **v = realloc(b->blocks, cap * sizeof(*v));
			if (!v)
				return NULL;
			b->blocks = v;
			b->cap_blocks = cap;
		}
		size_t room = need > BLOCK_SIZE ? need : BLOCK_SIZE;
		if (!(b->blocks[b->n_blocks] = malloc(room)))
			return NULL;
		b->n_blocks++;
		b->used = 0;
		b->room = room;
	}
	char *p = b->blocks[b->n_blocks - 1] + b->used;
	memcpy(p, key, key_len);
	p[key_len] = '\0';
	if (len)
		memcpy(p + key_len + 1, val, len);
	p[key_len + 1 + len] = '\0';
	b->used += need;
	return p;
}

void sync_bytes_free(struct sync_bytes *b)
{
	for (size_t i = 0; i < b->n_blocks; i++)
		free(b->blocks[i]);
	free(b->blocks);
	memset(b, 0, sizeof(*b));
}

struct sync_key {
	char *p;	/* in bytes: the key, a NUL, the value, a NUL */
	uint32_t key_len, len;
	uint32_t hash;	/* hash_of(kind, key): a probe of another key reads no bytes */
	unsigned char kind;
	bool unset;
};

/* FNV-1a of the kind and the key. */
static uint32_t hash_of(enum store_kind kind, const char *key)
{
	uint32_t h = 2166136261u ^ (uint32_t)kind;
	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h;
}

/* The slot that holds key (of hash h), or the empty one where it would go. */
static size_t slot_of(const struct sync_keys *k, enum store_kind kind, const char *key, uint32_t h)
{
	size_t mask = k->n_slots - 1, i = h & mask;
	while (k->slots[i]) {
		const struct sync_key *e = &k->v[k->slots[i] - 1];
		if (e->hash == h && e->kind == kind && strcmp(e->p, key) == 0)
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
		k->slots[slot_of(k, k->v[i].kind, k->v[i].p, k->v[i].hash)] = (uint32_t)i + 1;
	return 0;
}

int sync_keys_set(struct sync_keys *k, enum store_kind kind, const char *key, const void *val,
		  size_t len)
{
	size_t key_len = strlen(key);
	if (key_len >= UINT32_MAX || len >= UINT32_MAX || reserve(k) < 0)
		return -1;
	uint32_t h = hash_of(kind, key);
	size_t s = slot_of(k, kind, key, h);
	struct sync_key *e = k->slots[s] ? &k->v[k->slots[s] - 1] : &k->v[k->n];
	if (k->slots[s] && e->len == len) {
		/* the same length (a put of the same entry, mostly): over the old value */
		memcpy(e->p + key_len + 1, val, len);
		e->unset = false;
		return 0;
	}
	char *p = sync_bytes_add(&k->bytes, key, key_len, val, len);
	if (!p)
		return -1;
	*e = (struct sync_key){ p, (uint32_t)key_len, (uint32_t)len, h, (unsigned char)kind, false };
	if (!k->slots[s])
		k->slots[s] = (uint32_t)++k->n;
	return 0;
}

void *sync_keys_get(const struct sync_keys *k, enum store_kind kind, const char *key, size_t *len)
{
	if (!k->n_slots)
		return NULL;
	size_t s = slot_of(k, kind, key, hash_of(kind, key));
	const struct sync_key *e = k->slots[s] ? &k->v[k->slots[s] - 1] : NULL;
	char *copy = e && !e->unset ? malloc(e->len + 1) : NULL;
	if (!copy)
		return NULL;
	memcpy(copy, e->p + e->key_len + 1, e->len + 1);
	*len = e->len;
	return copy;
}

void sync_keys_unset(struct sync_keys *k, enum store_kind kind, const char *key)
{
	if (!k->n_slots)
		return;
	size_t s = slot_of(k, kind, key, hash_of(kind, key));
	if (k->slots[s])
		k->v[k->slots[s] - 1].unset = true;
}

struct read_ctx {
	struct sync_keys *k;
	enum store_kind kind;
};

static int read_one(const char *key, size_t key_len, const void *val, size_t len, void *arg)
{
	struct read_ctx *c = arg;
	if (memchr(key, '\0', key_len) || !stream_key_kept(key, key_len, val, len))
		return 0; /* the layout before's, or damaged: not carried on */
	char *name = strndup(key, key_len);
	int rc = name ? sync_keys_set(c->k, c->kind, name, val, len) : -1;
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
		if (!e->unset)
			k->extra[(*n)++] = (struct store_extra){ e->kind, e->p, e->key_len,
								 e->p + e->key_len + 1, e->len };
	}
	/* the extra points into the bytes alone: the table goes while the files are written */
	free(k->v);
	free(k->slots);
	k->v = NULL;
	k->slots = NULL;
	k->n = k->cap = k->n_slots = 0;
	return k->extra;
}

void sync_keys_free(struct sync_keys *k)
{
	free(k->v);
	free(k->slots);
	sync_bytes_free(&k->bytes);
	free(k->extra);
	memset(k, 0, sizeof(*k));
}
