#include "index.h"

#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fileutil.h"

/* A hash of a stream of bytes, the same whatever pieces they come in (the writer's records and
 * tables, index_matches's blocks of the file): 32 bytes at a time, in four lanes of 8 bytes each
 * folded in by a multiply (the four at once: a lane alone waits for its multiply).  Not a
 * defence against someone who writes the file (dird alone does): a check that what is there is
 * what dird wrote. */
#define HASH_LANES 4
#define HASH_BLOCK (8 * HASH_LANES)

struct hasher {
	uint64_t h[HASH_LANES], len;
	uint8_t tail[HASH_BLOCK];
	unsigned n_tail;
};

#define HASH_K1 0x9e3779b97f4a7c15ULL
#define HASH_K2 0xc2b2ae3d27d4eb4fULL

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

static void hasher_init(struct hasher *s, uint64_t seed)
{
	*s = (struct hasher){ .len = 0 };
	for (int i = 0; i < HASH_LANES; i++)
		s->h[i] = seed + (uint64_t)(i + 1) * HASH_K2;
}

static void hash_block(struct hasher *s, const uint8_t *p)
{
	for (int i = 0; i < HASH_LANES; i++) {
		uint64_t w;
		memcpy(&w, p + 8 * i, 8);
		uint64_t x = s->h[i] ^ (w * HASH_K1);
		s->h[i] = ((x << 31) | (x >> 33)) * HASH_K2;
	}
}

static void hash_bytes(struct hasher *s, const void *data, size_t n)
{
	const uint8_t *p = data;
	s->len += n;
	if (s->n_tail) {
		size_t k = HASH_BLOCK - s->n_tail < n ? HASH_BLOCK - s->n_tail : n;
		memcpy(s->tail + s->n_tail, p, k);
		s->n_tail += (unsigned)k;
		p += k;
		n -= k;
		if (s->n_tail < HASH_BLOCK)
			return;
		hash_block(s, s->tail);
		s->n_tail = 0;
	}
	for (; n >= HASH_BLOCK; p += HASH_BLOCK, n -= HASH_BLOCK)
		hash_block(s, p);
	if (n)
		memcpy(s->tail, p, n);
	s->n_tail = (unsigned)n;
}

static uint64_t hash_end(const struct hasher *s)
{
	struct hasher e = *s;
	memset(e.tail + e.n_tail, 0, HASH_BLOCK - e.n_tail);
	hash_block(&e, e.tail);
	uint64_t r = mix64(e.len);
	for (int i = 0; i < HASH_LANES; i++)
		r = mix64(r ^ e.h[i]);
	return r;
}

/* contents_hash's part for one record or key (area tells users, groups and the two key areas
 * apart): summed, so the order of the records does not count. */
static uint64_t record_hash(unsigned area, const void *bytes, size_t len)
{
	struct hasher s;
	hasher_init(&s, HASH_K1 * (area + 1));
	hash_bytes(&s, bytes, len);
	return hash_end(&s);
}

/* What the writer sums its records' hashes onto: the counts and what else the file says of all
 * of them. */
static uint64_t contents_seed(const struct index_contents *c)
{
	const uint64_t words[] = { c->n_users, c->n_groups, c->n_gone_users, c->n_gone_groups,
				   c->ttl, c->flags | INDEX_HASHED };
	struct hasher s;
	hasher_init(&s, HASH_K2);
	hash_bytes(&s, words, sizeof(words));
	return hash_end(&s);
}

/* The header's words that say where readers find each area and table (and how many records):
 * hashed after the body, so a header damaged there is not the file written either. */
static void hash_layout(struct hasher *s, const struct index_header *h)
{
	const uint8_t *p = (const uint8_t *)h;
	size_t records = offsetof(struct index_header, n_users);
	size_t keys = offsetof(struct index_header, gone_users);
	hash_bytes(s, p + records, offsetof(struct index_header, delta_seq) - records);
	hash_bytes(s, &h->flags, sizeof(h->flags));
	hash_bytes(s, p + keys, offsetof(struct index_header, contents_hash) - keys);
}

/* The file being written, and its hashes as it goes. */
struct index_out {
	struct file_sink sink;
	struct hasher body;
	uint64_t contents;
};

static void out_put(struct index_out *out, const void *p, size_t n)
{
	hash_bytes(&out->body, p, n);
	file_sink_put(&out->sink, p, n);
}

static uint32_t table_size(size_t entries)
{
	uint32_t n = 8;
	while (n < entries * 2 && n < (1u << 30))
		n <<= 1;
	return n;
}

/* Appends a table of n_slots slots, filled from the records at offsets[]. */
static void put_table(struct index_out *out, struct index_table *t, size_t n,
		      const uint32_t *offsets, const uint32_t *hashes)
{
	t->n_slots = table_size(n);
	t->off = file_sink_pos(&out->sink);
	uint32_t *slots = calloc(t->n_slots, sizeof(uint32_t));
	if (!slots) {
		out->sink.failed = true;
		return;
	}
	uint32_t mask = t->n_slots - 1;
	for (size_t k = 0; k < n; k++) {
		uint32_t i = hashes[k] & mask;
		while (slots[i])
			i = (i + 1) & mask;
		slots[i] = offsets[k] + 1;
	}
	out_put(out, slots, (size_t)t->n_slots * sizeof(uint32_t));
	free(slots);
}

/* Appends a record: its length, then what put() encodes; its offset in the area from start. */
static uint32_t put_record(struct index_out *out, unsigned area, uint64_t start,
			   void (*put)(struct buf *b, const void *rec, uint32_t ttl),
			   const void *rec, uint32_t ttl)
{
	struct buf *chunk = &out->sink.chunk;
	uint32_t off = (uint32_t)(file_sink_pos(&out->sink) - start);
	size_t at = chunk->len;
	buf_put_u32(chunk, 0);
	put(chunk, rec, ttl);
	size_t len = chunk->len - at - sizeof(uint32_t);
	buf_patch_u32(chunk, at, (uint32_t)len);
	if (!chunk->failed) {
		hash_bytes(&out->body, chunk->data + at, chunk->len - at);
		out->contents += record_hash(area, chunk->data + at + sizeof(uint32_t), len);
	}
	file_sink_flush(&out->sink, FILE_SINK_CHUNK);
	return off;
}

static void encode_user(struct buf *b, const void *u, uint32_t ttl)
{
	record_encode_user(b, u, ttl);
}

static void encode_group(struct buf *b, const void *g, uint32_t ttl)
{
	record_encode_group(b, g, ttl);
}

static void encode_key(struct buf *b, const void *k, uint32_t ttl)
{
	(void)ttl;
	const struct index_key *key = k;
	buf_put_str(b, key->name);
	buf_put_u32(b, key->id);
}

/* Appends an area of records, each with its length prefix; offs[i] its offset in the area. */
/* The areas, as record_hash tells them apart. */
enum { AREA_USERS, AREA_GROUPS, AREA_GONE_USERS, AREA_GONE_GROUPS };

static void put_area(struct index_out *out, unsigned area, struct index_area *a,
		     void (*put)(struct buf *b, const void *rec, uint32_t ttl),
		     const void *const *recs, const struct index_key *keys, size_t n, uint32_t ttl,
		     uint32_t *offs)
{
	uint64_t start = file_sink_pos(&out->sink);
	a->off = start;
	for (size_t i = 0; i < n; i++)
		offs[i] = put_record(out, area, start, put,
				     recs ? recs[i] : (const void *)&keys[i], ttl);
	a->len = file_sink_pos(&out->sink) - start;
}

static void align4(struct index_out *out)
{
	static const uint8_t zero[4];
	out_put(out, zero, (4 - file_sink_pos(&out->sink) % 4) % 4);
}

/* The keys' tables take only the keys that have a name (an id). */
static void put_key_tables(struct index_out *out, const struct index_key *keys, size_t n,
			   const uint32_t *offs, uint32_t *sel_offs, uint32_t *hashes,
			   struct index_table *by_name, struct index_table *by_id)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (keys[i].name && keys[i].name[0]) {
			sel_offs[k] = offs[i];
			hashes[k++] = index_hash_name(keys[i].name);
		}
	if (k)
		put_table(out, by_name, k, sel_offs, hashes);
	k = 0;
	for (size_t i = 0; i < n; i++)
		if (keys[i].id != INDEX_NO_ID) {
			sel_offs[k] = offs[i];
			hashes[k++] = index_hash_id(keys[i].id);
		}
	if (k)
		put_table(out, by_id, k, sel_offs, hashes);
}

/* The four tables of the users and groups by name and id. */
static void put_record_tables(struct index_out *out, struct index_header *h,
			      const struct index_contents *c, const uint32_t *offs_u,
			      const uint32_t *offs_g, uint32_t *hashes)
{
	struct index_table *tables[] = { &h->user_name, &h->user_uid, &h->group_name,
					 &h->group_gid };
	for (int t = 0; t < 4; t++) {
		bool users = t < 2, by_name = t % 2 == 0;
		size_t n = users ? c->n_users : c->n_groups;
		for (size_t i = 0; i < n; i++) {
			const char *name = users ? c->users[i]->name : c->groups[i]->name;
			uint32_t id = users ? c->users[i]->uid : c->groups[i]->gid;
			hashes[i] = by_name ? index_hash_name(name) : index_hash_id(id);
		}
		put_table(out, tables[t], n, users ? offs_u : offs_g, hashes);
	}
}

/* Everything after the header, as the header then describes it. */
static void put_body(struct index_out *out, struct index_header *h,
		     const struct index_contents *c, uint32_t *offs_u, uint32_t *offs_g,
		     uint32_t *offs_k, uint32_t *sel, uint32_t *hashes)
{
	put_area(out, AREA_USERS, &h->users, encode_user, (const void *const *)c->users, NULL,
		 c->n_users, c->ttl, offs_u);
	put_area(out, AREA_GROUPS, &h->groups, encode_group, (const void *const *)c->groups, NULL,
		 c->n_groups, c->ttl, offs_g);
	align4(out);
	put_record_tables(out, h, c, offs_u, offs_g, hashes);
	put_area(out, AREA_GONE_USERS, &h->gone_users, encode_key, NULL, c->gone_users,
		 c->n_gone_users, 0, offs_k);
	align4(out);
	put_key_tables(out, c->gone_users, c->n_gone_users, offs_k, sel, hashes,
		       &h->gone_user_name, &h->gone_user_uid);
	put_area(out, AREA_GONE_GROUPS, &h->gone_groups, encode_key, NULL, c->gone_groups,
		 c->n_gone_groups, 0, offs_k);
	align4(out);
	put_key_tables(out, c->gone_groups, c->n_gone_groups, offs_k, sel, hashes,
		       &h->gone_group_name, &h->gone_group_gid);
}

int index_write_contents_tmp(const char *path, const struct index_contents *c, char *tmp,
			     size_t tmplen)
{
	struct index_header h = { .version = DIR_INDEX_VERSION, .valid = 1 };
	memcpy(h.magic, DIR_INDEX_MAGIC, sizeof(h.magic));
	h.generation = c->generation;
	h.base_generation = c->base_generation;
	h.flags = c->flags;
	h.created = (uint64_t)time(NULL);
	h.n_users = (uint32_t)c->n_users;
	h.n_groups = (uint32_t)c->n_groups;

	size_t n_max = c->n_users;
	size_t counts[] = { c->n_groups, c->n_gone_users, c->n_gone_groups };
	for (size_t i = 0; i < 3; i++)
		if (counts[i] > n_max)
			n_max = counts[i];
	if (n_max > UINT32_MAX / 4) {
		errno = EFBIG;
		return -1;
	}
	uint32_t *offs_u = calloc(c->n_users + 1, sizeof(uint32_t));
	uint32_t *offs_g = calloc(c->n_groups + 1, sizeof(uint32_t));
	uint32_t *offs_k = calloc(n_max + 1, sizeof(uint32_t));
	uint32_t *sel = calloc(n_max + 1, sizeof(uint32_t));
	uint32_t *hashes = calloc(n_max + 1, sizeof(uint32_t));
	struct index_out out = { .sink = { .fd = -1 }, .contents = contents_seed(c) };
	hasher_init(&out.body, 0);
	buf_init(&out.sink.chunk, UINT32_MAX);
	int rc = -1;
	if (!offs_u || !offs_g || !offs_k || !sel || !hashes) {
		errno = ENOMEM;
		goto out;
	}
	if ((out.sink.fd = file_create_tmp(path, 0644, tmp, tmplen)) < 0)
		goto out;
	file_sink_put(&out.sink, &h, sizeof(h)); /* written again once it is filled in */
	/* written as it is made, not built whole in memory: a million users' index is 160 MB */
	put_body(&out, &h, c, offs_u, offs_g, offs_k, sel, hashes);
	file_sink_flush(&out.sink, 0);
	h.flags |= INDEX_HASHED;
	h.contents_hash = out.contents;
	hash_layout(&out.body, &h);
	h.body_hash = hash_end(&out.body);
	bool fits = file_sink_pos(&out.sink) <= UINT32_MAX && h.users.len <= UINT32_MAX &&
		    h.groups.len <= UINT32_MAX && h.gone_users.len <= UINT32_MAX &&
		    h.gone_groups.len <= UINT32_MAX;
	if (!fits)
		errno = EFBIG;
	bool ok = !out.sink.failed && fits &&
		  pwrite(out.sink.fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h);
	rc = file_finish_tmp(out.sink.fd, ok, 0644, tmp);
out:
	buf_free(&out.sink.chunk);
	free(offs_u);
	free(offs_g);
	free(offs_k);
	free(sel);
	free(hashes);
	return rc;
}

/* The contents hash index_write_contents_tmp would write for c. */
static bool contents_hash_of(const struct index_contents *c, uint64_t *sum)
{
	struct buf b;
	buf_init(&b, UINT32_MAX);
	*sum = contents_seed(c);
	const struct {
		unsigned area;
		void (*put)(struct buf *b, const void *rec, uint32_t ttl);
		const void *const *recs;
		const struct index_key *keys;
		size_t n;
		uint32_t ttl;
	} areas[] = {
		{ AREA_USERS, encode_user, (const void *const *)c->users, NULL, c->n_users, c->ttl },
		{ AREA_GROUPS, encode_group, (const void *const *)c->groups, NULL, c->n_groups, c->ttl },
		{ AREA_GONE_USERS, encode_key, NULL, c->gone_users, c->n_gone_users, 0 },
		{ AREA_GONE_GROUPS, encode_key, NULL, c->gone_groups, c->n_gone_groups, 0 },
	};
	for (size_t a = 0; a < sizeof(areas) / sizeof(areas[0]) && !b.failed; a++)
		for (size_t i = 0; i < areas[a].n && !b.failed; i++) {
			b.len = 0;
			areas[a].put(&b, areas[a].recs ? areas[a].recs[i] :
					 (const void *)&areas[a].keys[i], areas[a].ttl);
			*sum += record_hash(areas[a].area, b.data, b.len);
		}
	bool ok = !b.failed;
	buf_free(&b);
	return ok;
}

#define READ_BLOCK ((size_t)1 << 20)

/* The body hash of the file open at fd, size bytes long, read forward a block at a time, with
 * its header h's layout. */
static bool body_hash_of(int fd, uint64_t size, const struct index_header *h, uint64_t *hash)
{
	uint8_t *block = malloc(READ_BLOCK);
	struct hasher s;
	hasher_init(&s, 0);
	uint64_t at = sizeof(struct index_header);
	while (block && at < size) {
		size_t want = size - at < READ_BLOCK ? (size_t)(size - at) : READ_BLOCK;
		ssize_t got = pread(fd, block, want, (off_t)at);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		hash_bytes(&s, block, (size_t)got);
		at += (uint64_t)got;
	}
	free(block);
	hash_layout(&s, h);
	*hash = hash_end(&s);
	return block && at == size;
}

bool index_matches(const char *path, const struct index_contents *c, uint64_t *generation,
		   uint64_t *authoritative_until)
{
	char delta[PATH_MAX];
	struct index_header h;
	struct stat st;
	/* a delta beside it, announced or not, is one more thing to be sure of: not kept */
	if (index_delta_path(path, delta, sizeof(delta)) < 0 || access(delta, F_OK) == 0 ||
	    errno != ENOENT)
		return false;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		return false;
	uint64_t sum = 0, body = 0;
	/* dird's own, written by no one else (a file others may write is theirs to change under
	 * every reader: a start replaces it, as it always did) */
	bool same = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
		    !(st.st_mode & (S_IWGRP | S_IWOTH)) &&
		    (uint64_t)st.st_size >= sizeof(h) && st.st_size <= (off_t)UINT32_MAX &&
		    pread(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h) &&
		    !memcmp(h.magic, DIR_INDEX_MAGIC, sizeof(h.magic)) &&
		    h.version == DIR_INDEX_VERSION && h.valid == 1 && h.delta_seq == 0 &&
		    h.flags == (c->flags | INDEX_HASHED) && h.n_users == c->n_users &&
		    h.n_groups == c->n_groups && contents_hash_of(c, &sum) &&
		    sum == h.contents_hash && body_hash_of(fd, (uint64_t)st.st_size, &h, &body) &&
		    body == h.body_hash;
	close(fd);
	if (same) {
		*generation = h.generation;
		*authoritative_until = h.authoritative_until;
	}
	return same;
}

/* One word of path's header, written in place: readers map it shared and see it at once. */
static int set_word(const char *path, const void *word, size_t len, off_t at)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	int rc = pwrite(fd, word, len, at) == (ssize_t)len ? 0 : -1;
	close(fd);
	return rc;
}

int index_set_delta_seq(const char *path, uint32_t seq)
{
	return set_word(path, &seq, sizeof(seq), offsetof(struct index_header, delta_seq));
}

int index_set_authoritative(const char *path, uint64_t until)
{
	return set_word(path, &until, sizeof(until),
			offsetof(struct index_header, authoritative_until));
}

static int old_name(const char *path, char *old, size_t oldlen)
{
	int n = snprintf(old, oldlen, "%s%s", path, DIR_INDEX_OLD_SUFFIX);
	if (n < 0 || (size_t)n >= oldlen) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int index_install(const char *path, const char *tmp)
{
	char old[PATH_MAX];
	if (old_name(path, old, sizeof(old)) < 0 || index_retire_old(path) < 0)
		return -1;
	/* The file readers have now stays reachable under path.old until it is marked stale. */
	if (link(path, old) < 0 && errno != ENOENT)
		return -1;
	if (rename(tmp, path) < 0) {
		int saved = errno;
		unlink(tmp);
		unlink(old);
		errno = saved;
		return -1;
	}
	return dir_sync(path);
}

int index_retire_old(const char *path)
{
	char old[PATH_MAX];
	if (old_name(path, old, sizeof(old)) < 0)
		return -1;
	int fd = open(old, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	struct stat o, now;
	int rc = fstat(fd, &o);
	/* A link to the file in place (the rename never happened) is not stale: only removed. */
	bool replaced = rc == 0 && (stat(path, &now) < 0 || now.st_ino != o.st_ino ||
				    now.st_dev != o.st_dev);
	uint32_t stale = 0;
	if (rc == 0 && replaced &&
	    pwrite(fd, &stale, sizeof(stale), offsetof(struct index_header, valid)) != sizeof(stale))
		rc = -1;
	close(fd);
	if (rc == 0 && unlink(old) < 0)
		rc = -1;
	return rc;
}

int index_write(const char *path, struct dir_user *const *users, size_t n_users,
		struct dir_group *const *groups, size_t n_groups, uint32_t ttl, uint64_t generation)
{
	char tmp[PATH_MAX];
	const struct index_contents c = { .users = users, .n_users = n_users, .groups = groups,
					  .n_groups = n_groups, .ttl = ttl,
					  .generation = generation };
	if (index_write_contents_tmp(path, &c, tmp, sizeof(tmp)) < 0)
		return -1;
	if (index_install(path, tmp) < 0)
		return -1;
	return index_retire_old(path);
}
