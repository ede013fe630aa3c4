#include "tdb_walk.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "tdb_layout.h"

/* Chains followed at once: enough waits in flight to fill the memory's queues. */
#define LANES 64

struct walk {
	const uint8_t *map;
	uint64_t size, data_start;
	uint64_t budget;	/* records a file of this size can hold: more is a loop */
};

static uint32_t u32_at(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

/* A record found in a lane: where, and the next one of its chain (index into the found list). */
struct found {
	uint32_t off;
	int32_t next;
};

struct lane {
	uint32_t off;		/* the record to read next; 0: the chain is done */
	int32_t first, last;	/* its records found so far */
};

/* The record at off checked as tdb_rec_read checks it (and the lengths as its reader needs
 * them): 0, or -1. */
static int record_ok(const struct walk *w, uint32_t off)
{
	if (off < w->data_start || (uint64_t)off + RECORD_HEAD > w->size)
		return -1;
	const uint8_t *h = w->map + off;
	uint32_t magic = u32_at(h + 20);
	uint64_t rec_len = u32_at(h + 4), key_len = u32_at(h + 8), data_len = u32_at(h + 12);
	if (magic != RECORD_MAGIC && magic != DEAD_MAGIC)
		return -1;
	if (key_len + data_len > rec_len || off + RECORD_HEAD + rec_len > w->size)
		return -1;
	return 0;
}

/* The records of chains [from, from + n), found lane by lane, one step of each lane a round,
 * each lane's next record prefetched. */
static int find_block(struct walk *w, uint32_t from, uint32_t n, struct found **list,
		      size_t *len, size_t *cap, struct lane *lanes)
{
	*len = 0;
	for (uint32_t j = 0; j < n; j++) {
		lanes[j] = (struct lane){ u32_at(w->map + HEADER_LEN + 4 * ((uint64_t)from + j + 1)),
					  -1, -1 };
		__builtin_prefetch(w->map + lanes[j].off);
	}
	for (bool busy = true; busy;) {
		busy = false;
		for (uint32_t j = 0; j < n; j++) {
			struct lane *l = &lanes[j];
			if (!l->off)
				continue;
			if (record_ok(w, l->off) < 0 || !w->budget--)
				return -1;
			if (*len == *cap) {
				size_t c = *cap ? *cap * 2 : 1024;
				struct found *grown = realloc(*list, c * sizeof(**list));
				if (!grown)
					return -1;
				*list = grown;
				*cap = c;
			}
			(*list)[*len] = (struct found){ l->off, -1 };
			if (l->last >= 0)
				(*list)[l->last].next = (int32_t)*len;
			else
				l->first = (int32_t)*len;
			l->last = (int32_t)(*len)++;
			l->off = u32_at(w->map + l->off);
			__builtin_prefetch(w->map + l->off);
			busy = true;
		}
	}
	return 0;
}

/* Whether the record at h is live and its key begins with prefix. */
static bool wanted(const uint8_t *h, const char *prefix, size_t prefix_len)
{
	return u32_at(h + 20) == RECORD_MAGIC && u32_at(h + 8) >= prefix_len &&
	       memcmp(h + RECORD_HEAD, prefix, prefix_len) == 0;
}

/* The block's wanted records handed to fn chain by chain, as tdb_traverse_chain would. */
static int visit_block(struct tdb_context *t, const struct walk *w, const struct found *list,
		       const struct lane *lanes, uint32_t n, const char *prefix,
		       tdb_traverse_func fn, void *arg)
{
	size_t prefix_len = strlen(prefix);
	for (uint32_t j = 0; j < n; j++)
		for (int32_t i = lanes[j].first; i >= 0; i = list[i].next) {
			const uint8_t *h = w->map + list[i].off;
			if (!wanted(h, prefix, prefix_len))
				continue;
			uint32_t key_len = u32_at(h + 8);
			TDB_DATA key = { (unsigned char *)h + RECORD_HEAD, key_len };
			TDB_DATA data = { key.dptr + key_len, u32_at(h + 12) };
			if (fn(t, key, data, arg))
				return 1;
		}
	return 0;
}

/* The map of t's file, when its header is the layout known here. */
static int map_file(struct tdb_context *t, struct walk *w)
{
	struct stat st;
	int fd = tdb_fd(t);
	uint32_t hash_size = (uint32_t)tdb_hash_size(t);
	w->data_start = HEADER_LEN + 4 * ((uint64_t)hash_size + 1);
	if (fd < 0 || fstat(fd, &st) < 0 || (uint64_t)st.st_size < w->data_start ||
	    (uint64_t)st.st_size > UINT32_MAX)
		return TDB_WALK_OTHER;
	w->size = (uint64_t)st.st_size;
	void *m = mmap(NULL, w->size, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);
	if (m == MAP_FAILED)
		return TDB_WALK_OTHER;
	w->map = m;
	w->budget = w->size / RECORD_HEAD;
	if (memcmp(w->map, MAGIC_FOOD, sizeof(MAGIC_FOOD)) != 0 ||
	    u32_at(w->map + VERSION_OFF) != TDB_FILE_VERSION ||
	    u32_at(w->map + HASH_SIZE_OFF) != hash_size) {
		munmap(m, w->size);
		return TDB_WALK_OTHER;
	}
	return 0;
}

int tdb_walk(struct tdb_context *t, const char *prefix, tdb_traverse_func fn, void *arg)
{
	struct walk w;
	if (map_file(t, &w) < 0)
		return TDB_WALK_OTHER;
	uint32_t hash_size = (uint32_t)tdb_hash_size(t);
	struct lane lanes[LANES];
	struct found *list = NULL;
	size_t len = 0, cap = 0;
	int rc = 0;
	for (uint32_t from = 0; rc == 0 && from < hash_size; from += LANES) {
		uint32_t n = hash_size - from < LANES ? hash_size - from : LANES;
		if (find_block(&w, from, n, &list, &len, &cap, lanes) < 0) {
			errno = EIO;
			rc = -1;
		} else {
			rc = visit_block(t, &w, list, lanes, n, prefix, fn, arg);
		}
	}
	free(list);
	munmap((void *)w.map, w.size);
	return rc;
}
