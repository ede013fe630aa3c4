#include "index.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

uint32_t index_hash_name(const char *name)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 16777619u;
	return h;
}

uint32_t index_hash_id(uint32_t id)
{
	uint32_t h = id * 2654435761u;
	return h ^ (h >> 16);
}

static bool range_ok(size_t file_len, uint64_t off, uint64_t len)
{
	return off <= file_len && len <= file_len - off;
}

static bool table_ok(size_t file_len, const struct index_table *t)
{
	if (t->n_slots == 0)
		return t->off == 0;
	return (t->n_slots & (t->n_slots - 1)) == 0 && t->off % sizeof(uint32_t) == 0 &&
	       range_ok(file_len, t->off, (uint64_t)t->n_slots * sizeof(uint32_t));
}

int index_open(const char *path, struct index_map *m)
{
	memset(m, 0, sizeof(*m));
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (size_t)st.st_size < sizeof(struct index_header) || st.st_size > (1LL << 34)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	/* MAP_SHARED: dird's write to the old file's `valid` word must reach us. */
	void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return -1;
	m->base = p;
	m->len = (size_t)st.st_size;
	m->hdr = p;
	const struct index_header *h = m->hdr;
	if (memcmp(h->magic, DIR_INDEX_MAGIC, sizeof(h->magic)) || h->version != DIR_INDEX_VERSION ||
	    !range_ok(m->len, h->users.off, h->users.len) ||
	    !range_ok(m->len, h->groups.off, h->groups.len) || h->users.len > UINT32_MAX ||
	    h->groups.len > UINT32_MAX || !table_ok(m->len, &h->user_name) ||
	    !table_ok(m->len, &h->user_uid) || !table_ok(m->len, &h->group_name) ||
	    !table_ok(m->len, &h->group_gid)) {
		index_close(m);
		errno = EINVAL;
		return -1;
	}
	return 0;
}

void index_close(struct index_map *m)
{
	if (m->base)
		munmap((void *)m->base, m->len);
	memset(m, 0, sizeof(*m));
}

bool index_current(const struct index_map *m)
{
	return __atomic_load_n(&m->hdr->valid, __ATOMIC_ACQUIRE) == 1;
}

static const struct index_area *area_of(const struct index_map *m, enum index_kind kind)
{
	return kind == INDEX_USER ? &m->hdr->users : &m->hdr->groups;
}

/* The record at `pos` in an area, bounds-checked. */
static const void *record_at(const struct index_map *m, const struct index_area *a, uint64_t pos,
			     uint32_t *len)
{
	uint32_t n;
	if (pos > a->len || a->len - pos < sizeof(n))
		return NULL;
	memcpy(&n, m->base + a->off + pos, sizeof(n));
	if (n > a->len - pos - sizeof(n))
		return NULL;
	*len = n;
	return m->base + a->off + pos + sizeof(n);
}

static uint32_t slot_value(const struct index_map *m, const struct index_table *t, uint32_t i)
{
	uint32_t v;
	memcpy(&v, m->base + t->off + (uint64_t)i * sizeof(v), sizeof(v));
	return v;
}

const void *index_find_name(const struct index_map *m, enum index_kind kind, const char *name,
			    uint32_t *len)
{
	const struct index_table *t = kind == INDEX_USER ? &m->hdr->user_name : &m->hdr->group_name;
	const struct index_area *a = area_of(m, kind);
	if (!t->n_slots)
		return NULL;
	uint32_t mask = t->n_slots - 1, i = index_hash_name(name) & mask;
	for (uint32_t probe = 0; probe < t->n_slots; probe++, i = (i + 1) & mask) {
		uint32_t v = slot_value(m, t, i);
		if (!v)
			return NULL;
		const void *rec = record_at(m, a, v - 1, len);
		const char *rn = rec ? record_name(rec, *len) : NULL;
		if (rn && !strcmp(rn, name))
			return rec;
	}
	return NULL;
}

const void *index_find_id(const struct index_map *m, enum index_kind kind, uint32_t id,
			  uint32_t *len)
{
	const struct index_table *t = kind == INDEX_USER ? &m->hdr->user_uid : &m->hdr->group_gid;
	const struct index_area *a = area_of(m, kind);
	if (!t->n_slots)
		return NULL;
	uint32_t mask = t->n_slots - 1, i = index_hash_id(id) & mask;
	for (uint32_t probe = 0; probe < t->n_slots; probe++, i = (i + 1) & mask) {
		uint32_t v = slot_value(m, t, i), rid;
		if (!v)
			return NULL;
		const void *rec = record_at(m, a, v - 1, len);
		if (rec && record_id(rec, *len, &rid) == 0 && rid == id)
			return rec;
	}
	return NULL;
}

const void *index_next(const struct index_map *m, enum index_kind kind, uint64_t *pos,
		       uint32_t *len)
{
	const void *rec = record_at(m, area_of(m, kind), *pos, len);
	if (rec)
		*pos += sizeof(uint32_t) + *len;
	return rec;
}
