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

static uint32_t table_size(size_t entries)
{
	uint32_t n = 8;
	while (n < entries * 2 && n < (1u << 30))
		n <<= 1;
	return n;
}

/* Appends a table of n_slots slots, filled from the records at offsets[]. */
static void put_table(struct file_sink *out, struct index_table *t, size_t n,
		      const uint32_t *offsets, const uint32_t *hashes)
{
	t->n_slots = table_size(n);
	t->off = file_sink_pos(out);
	uint32_t *slots = calloc(t->n_slots, sizeof(uint32_t));
	if (!slots) {
		out->failed = true;
		return;
	}
	uint32_t mask = t->n_slots - 1;
	for (size_t k = 0; k < n; k++) {
		uint32_t i = hashes[k] & mask;
		while (slots[i])
			i = (i + 1) & mask;
		slots[i] = offsets[k] + 1;
	}
	file_sink_put(out, slots, (size_t)t->n_slots * sizeof(uint32_t));
	free(slots);
}

/* Appends a record: its length, then what put() encodes; its offset in the area from start. */
static uint32_t put_record(struct file_sink *out, uint64_t start,
			   void (*put)(struct buf *b, const void *rec, uint32_t ttl),
			   const void *rec, uint32_t ttl)
{
	uint32_t off = (uint32_t)(file_sink_pos(out) - start);
	size_t at = out->chunk.len;
	buf_put_u32(&out->chunk, 0);
	put(&out->chunk, rec, ttl);
	buf_patch_u32(&out->chunk, at, (uint32_t)(out->chunk.len - at - sizeof(uint32_t)));
	file_sink_flush(out, FILE_SINK_CHUNK);
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
static void put_area(struct file_sink *out, struct index_area *a,
		     void (*put)(struct buf *b, const void *rec, uint32_t ttl),
		     const void *const *recs, const struct index_key *keys, size_t n, uint32_t ttl,
		     uint32_t *offs)
{
	uint64_t start = file_sink_pos(out);
	a->off = start;
	for (size_t i = 0; i < n; i++)
		offs[i] = put_record(out, start, put, recs ? recs[i] : (const void *)&keys[i], ttl);
	a->len = file_sink_pos(out) - start;
}

static void align4(struct file_sink *out)
{
	static const uint8_t zero[4];
	file_sink_put(out, zero, (4 - file_sink_pos(out) % 4) % 4);
}

/* The keys' tables take only the keys that have a name (an id). */
static void put_key_tables(struct file_sink *out, const struct index_key *keys, size_t n,
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
static void put_record_tables(struct file_sink *out, struct index_header *h,
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
static void put_body(struct file_sink *out, struct index_header *h,
		     const struct index_contents *c, uint32_t *offs_u, uint32_t *offs_g,
		     uint32_t *offs_k, uint32_t *sel, uint32_t *hashes)
{
	put_area(out, &h->users, encode_user, (const void *const *)c->users, NULL, c->n_users,
		 c->ttl, offs_u);
	put_area(out, &h->groups, encode_group, (const void *const *)c->groups, NULL,
		 c->n_groups, c->ttl, offs_g);
	align4(out);
	put_record_tables(out, h, c, offs_u, offs_g, hashes);
	put_area(out, &h->gone_users, encode_key, NULL, c->gone_users, c->n_gone_users, 0, offs_k);
	align4(out);
	put_key_tables(out, c->gone_users, c->n_gone_users, offs_k, sel, hashes,
		       &h->gone_user_name, &h->gone_user_uid);
	put_area(out, &h->gone_groups, encode_key, NULL, c->gone_groups, c->n_gone_groups, 0,
		 offs_k);
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
	struct file_sink out = { .fd = -1 };
	buf_init(&out.chunk, UINT32_MAX);
	int rc = -1;
	if (!offs_u || !offs_g || !offs_k || !sel || !hashes) {
		errno = ENOMEM;
		goto out;
	}
	if ((out.fd = file_create_tmp(path, 0644, tmp, tmplen)) < 0)
		goto out;
	file_sink_put(&out, &h, sizeof(h)); /* written again once it is filled in */
	/* written as it is made, not built whole in memory: a million users' index is 160 MB */
	put_body(&out, &h, c, offs_u, offs_g, offs_k, sel, hashes);
	file_sink_flush(&out, 0);
	bool fits = file_sink_pos(&out) <= UINT32_MAX && h.users.len <= UINT32_MAX &&
		    h.groups.len <= UINT32_MAX && h.gone_users.len <= UINT32_MAX &&
		    h.gone_groups.len <= UINT32_MAX;
	if (!fits)
		errno = EFBIG;
	bool ok = !out.failed && fits && pwrite(out.fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h);
	rc = file_finish_tmp(out.fd, ok, 0644, tmp);
out:
	buf_free(&out.chunk);
	free(offs_u);
	free(offs_g);
	free(offs_k);
	free(sel);
	free(hashes);
	return rc;
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
