#include "index.h"

#include <errno.h>
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

/* Appends a table of n_slots zeros to out; fills it from the records at offsets[]. */
static void put_table(struct buf *out, struct index_table *t, size_t n, const uint32_t *offsets,
		      const uint32_t *hashes)
{
	t->n_slots = table_size(n);
	t->off = out->len;
	uint32_t *slots = buf_extend(out, (size_t)t->n_slots * sizeof(uint32_t));
	if (!slots)
		return;
	memset(slots, 0, (size_t)t->n_slots * sizeof(uint32_t));
	uint32_t mask = t->n_slots - 1;
	for (size_t k = 0; k < n; k++) {
		uint32_t i = hashes[k] & mask;
		while (slots[i])
			i = (i + 1) & mask;
		slots[i] = offsets[k] + 1;
	}
}

/* Appends each record with its length prefix; records its offset in the area. */
static void put_users(struct buf *out, struct dir_user *const *users, size_t n, uint32_t ttl,
		      uint32_t *offs)
{
	size_t start = out->len;
	for (size_t i = 0; i < n; i++) {
		size_t at = out->len;
		offs[i] = (uint32_t)(at - start);
		buf_put_u32(out, 0);
		record_encode_user(out, users[i], ttl);
		buf_patch_u32(out, at, (uint32_t)(out->len - at - sizeof(uint32_t)));
	}
}

static void put_groups(struct buf *out, struct dir_group *const *groups, size_t n,
		       uint32_t ttl, uint32_t *offs)
{
	size_t start = out->len;
	for (size_t i = 0; i < n; i++) {
		size_t at = out->len;
		offs[i] = (uint32_t)(at - start);
		buf_put_u32(out, 0);
		record_encode_group(out, groups[i], ttl);
		buf_patch_u32(out, at, (uint32_t)(out->len - at - sizeof(uint32_t)));
	}
}

static void align4(struct buf *out)
{
	static const uint8_t zero[4];
	buf_put_bytes(out, zero, (4 - out->len % 4) % 4);
}

int index_write(const char *path, struct dir_user *const *users, size_t n_users,
		struct dir_group *const *groups, size_t n_groups, uint32_t ttl, uint64_t generation)
{
	struct index_header h = { .version = DIR_INDEX_VERSION, .valid = 1 };
	memcpy(h.magic, DIR_INDEX_MAGIC, sizeof(h.magic));
	h.generation = generation;
	h.created = (uint64_t)time(NULL);
	h.n_users = (uint32_t)n_users;
	h.n_groups = (uint32_t)n_groups;

	size_t n_max = n_users > n_groups ? n_users : n_groups;
	uint32_t *offs_u = calloc(n_users + 1, sizeof(uint32_t));
	uint32_t *offs_g = calloc(n_groups + 1, sizeof(uint32_t));
	uint32_t *hashes = calloc(n_max + 1, sizeof(uint32_t));
	struct buf out;
	buf_init(&out, UINT32_MAX);
	int rc = -1;
	if (!offs_u || !offs_g || !hashes || n_users > UINT32_MAX / 4 || n_groups > UINT32_MAX / 4)
		goto out;

	buf_put_bytes(&out, &h, sizeof(h));
	h.users.off = out.len;
	put_users(&out, users, n_users, ttl, offs_u);
	h.users.len = out.len - h.users.off;
	h.groups.off = out.len;
	put_groups(&out, groups, n_groups, ttl, offs_g);
	h.groups.len = out.len - h.groups.off;
	align4(&out);

	for (size_t i = 0; i < n_users; i++)
		hashes[i] = index_hash_name(users[i]->name);
	put_table(&out, &h.user_name, n_users, offs_u, hashes);
	for (size_t i = 0; i < n_users; i++)
		hashes[i] = index_hash_id(users[i]->uid);
	put_table(&out, &h.user_uid, n_users, offs_u, hashes);
	for (size_t i = 0; i < n_groups; i++)
		hashes[i] = index_hash_name(groups[i]->name);
	put_table(&out, &h.group_name, n_groups, offs_g, hashes);
	for (size_t i = 0; i < n_groups; i++)
		hashes[i] = index_hash_id(groups[i]->gid);
	put_table(&out, &h.group_gid, n_groups, offs_g, hashes);
	if (out.failed || h.users.len > UINT32_MAX || h.groups.len > UINT32_MAX) {
		errno = EFBIG;
		goto out;
	}
	memcpy(out.data, &h, sizeof(h));

	/* Keep the old file open across the rename so we can tell its readers it is stale. */
	int old = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (file_replace(path, out.data, out.len, 0644) == 0) {
		rc = 0;
		if (old >= 0) {
			uint32_t stale = 0;
			if (pwrite(old, &stale, sizeof(stale), offsetof(struct index_header, valid)) !=
			    sizeof(stale))
				rc = -1;
		}
	}
	if (old >= 0) {
		int saved = errno;
		close(old);
		errno = saved;
	}
out:
	buf_free(&out);
	free(offs_u);
	free(offs_g);
	free(hashes);
	return rc;
}
