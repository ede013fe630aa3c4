#include "index.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <limits.h>
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
	    !table_ok(m->len, &h->group_gid) || !range_ok(m->len, h->gone_users.off, h->gone_users.len) ||
	    !range_ok(m->len, h->gone_groups.off, h->gone_groups.len) ||
	    h->gone_users.len > UINT32_MAX || h->gone_groups.len > UINT32_MAX ||
	    !table_ok(m->len, &h->gone_user_name) || !table_ok(m->len, &h->gone_user_uid) ||
	    !table_ok(m->len, &h->gone_group_name) || !table_ok(m->len, &h->gone_group_gid)) {
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

/* The record of table t (over area a) with this name (or, name NULL, this id). */
static const void *find_in(const struct index_map *m, const struct index_table *t,
			   const struct index_area *a, const char *name, uint32_t id, uint32_t *len)
{
	if (!m->base || !t->n_slots)
		return NULL;
	uint32_t mask = t->n_slots - 1;
	uint32_t i = (name ? index_hash_name(name) : index_hash_id(id)) & mask;
	for (uint32_t probe = 0; probe < t->n_slots; probe++, i = (i + 1) & mask) {
		uint32_t v = slot_value(m, t, i), rid;
		if (!v)
			return NULL;
		const void *rec = record_at(m, a, v - 1, len);
		if (!rec)
			continue;
		if (name) {
			const char *rn = record_name(rec, *len);
			if (rn && !strcmp(rn, name))
				return rec;
		} else if (record_id(rec, *len, &rid) == 0 && rid == id) {
			return rec;
		}
	}
	return NULL;
}

const void *index_find_name(const struct index_map *m, enum index_kind kind, const char *name,
			    uint32_t *len)
{
	const struct index_header *h = m->hdr;
	return kind == INDEX_USER ? find_in(m, &h->user_name, &h->users, name, 0, len) :
				    find_in(m, &h->group_name, &h->groups, name, 0, len);
}

const void *index_find_id(const struct index_map *m, enum index_kind kind, uint32_t id,
			  uint32_t *len)
{
	const struct index_header *h = m->hdr;
	return kind == INDEX_USER ? find_in(m, &h->user_uid, &h->users, NULL, id, len) :
				    find_in(m, &h->group_gid, &h->groups, NULL, id, len);
}

/* Whether m's keys hold this name (or, name NULL, this id). */
static bool has_key(const struct index_map *m, enum index_kind kind, const char *name,
		    uint32_t id)
{
	const struct index_header *h = m->hdr;
	uint32_t len;
	if (kind == INDEX_USER)
		return find_in(m, name ? &h->gone_user_name : &h->gone_user_uid, &h->gone_users,
			       name, id, &len) != NULL;
	return find_in(m, name ? &h->gone_group_name : &h->gone_group_gid, &h->gone_groups, name,
		       id, &len) != NULL;
}

const void *index_next(const struct index_map *m, enum index_kind kind, uint64_t *pos,
		       uint32_t *len)
{
	const void *rec = record_at(m, kind == INDEX_USER ? &m->hdr->users : &m->hdr->groups, *pos,
				    len);
	if (rec)
		*pos += sizeof(uint32_t) + *len;
	return rec;
}

int index_delta_path(const char *path, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s%s", path, DIR_INDEX_DELTA_SUFFIX);
	if (n < 0 || (size_t)n >= outlen) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static uint32_t delta_seq_of(const struct index_map *base)
{
	return __atomic_load_n(&base->hdr->delta_seq, __ATOMIC_ACQUIRE);
}

int index_view_open(const char *path, struct index_view *v)
{
	memset(v, 0, sizeof(*v));
	if (index_open(path, &v->base) < 0)
		return -1;
	if (v->base.hdr->flags & INDEX_DELTA) {
		index_close(&v->base);
		errno = EINVAL;
		return -1;
	}
	v->delta_seq = delta_seq_of(&v->base);
	char delta[PATH_MAX];
	if (!v->delta_seq || index_delta_path(path, delta, sizeof(delta)) < 0 ||
	    index_open(delta, &v->delta) < 0)
		return 0;
	const struct index_header *d = v->delta.hdr;
	if (!(d->flags & INDEX_DELTA) || d->base_generation != v->base.hdr->generation ||
	    d->generation < v->delta_seq)
		index_close(&v->delta);
	return 0;
}

void index_view_close(struct index_view *v)
{
	index_close(&v->base);
	index_close(&v->delta);
	memset(v, 0, sizeof(*v));
}

bool index_view_current(const struct index_view *v)
{
	return index_current(&v->base) && delta_seq_of(&v->base) == v->delta_seq;
}

enum index_found index_view_find(const struct index_view *v, enum index_kind kind,
				 const char *name, uint32_t id, const void **rec, uint32_t *len)
{
	*rec = NULL;
	/* Local accounts first: whatever a delta says, a local name or id is `files`'s. */
	if (has_key(&v->base, kind, name, id))
		return INDEX_LOCAL;
	if (v->delta.base) {
		*rec = name ? index_find_name(&v->delta, kind, name, len) :
			      index_find_id(&v->delta, kind, id, len);
		if (*rec)
			return INDEX_FOUND;
		if (has_key(&v->delta, kind, name, id))
			return INDEX_GONE;
	}
	*rec = name ? index_find_name(&v->base, kind, name, len) :
		      index_find_id(&v->base, kind, id, len);
	return *rec ? INDEX_FOUND : INDEX_ABSENT;
}

/* Whether the delta replaces (or removes) base's record rec: every change to an entry puts its
 * old name and id among the delta's records or keys. */
static bool superseded(const struct index_view *v, enum index_kind kind, const void *rec,
		       uint32_t len)
{
	const char *name = record_name(rec, len);
	uint32_t id, dlen;
	if (!name || record_id(rec, len, &id) < 0)
		return true;
	return index_find_name(&v->delta, kind, name, &dlen) || has_key(&v->delta, kind, name, 0) ||
	       index_find_id(&v->delta, kind, id, &dlen) || has_key(&v->delta, kind, NULL, id);
}

const void *index_view_next(const struct index_view *v, enum index_kind kind, uint64_t *pos,
			    uint32_t *len)
{
	const struct index_area *a = kind == INDEX_USER ? &v->base.hdr->users :
							  &v->base.hdr->groups;
	/* Positions past the base's area are the delta's, after it. */
	while (*pos < a->len) {
		const void *rec = index_next(&v->base, kind, pos, len);
		if (!rec) {
			*pos = a->len;
			break;
		}
		if (!v->delta.base || !superseded(v, kind, rec, *len))
			return rec;
	}
	if (!v->delta.base)
		return NULL;
	uint64_t dpos = *pos - a->len;
	const void *rec = index_next(&v->delta, kind, &dpos, len);
	if (rec)
		*pos = a->len + dpos;
	return rec;
}

bool index_name_lower(const char *name)
{
	for (const char *p = name; *p; p++)
		if ((*p >= 'A' && *p <= 'Z') || *p == '@' || *p == '\\')
			return false;
	return true;
}

bool index_view_authoritative(const struct index_view *v, const char *name, uint64_t now)
{
	if (now >= __atomic_load_n(&v->base.hdr->authoritative_until, __ATOMIC_ACQUIRE))
		return false;
	/* dird matches a name without regard to case and in AD's other forms: a miss of such a
	 * name is decisive only when every name served is lower case and this one is bare. */
	if (!name)
		return true;
	uint32_t flags = v->base.hdr->flags & (v->delta.base ? v->delta.hdr->flags : UINT32_MAX);
	return (flags & INDEX_NAMES_LOWER) && index_name_lower(name);
}
