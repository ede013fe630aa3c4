#include "tdb_walk.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
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
	/* Steps a file of this size can take: chains that share records (a damaged file) would
	 * otherwise be followed for as long as their product. */
	uint64_t budget;
	/* Set when either half of a split walk has ended other than by going through its
	 * chains: the other stops at its next block. */
	atomic_bool *ended;
};

static uint32_t u32_at(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

/* A record found in a lane: where, the next one of its chain (index into the found list), and
 * what visit_block needs of its header, read while find_block has it at hand. */
struct found {
	uint32_t off;
	int32_t next;
	uint32_t key_len, data_len;
	bool wanted;
};

/* A chain being followed.  A chain damaged into a loop is seen by Brent's method: the record
 * at the last power of two steps is kept (mark) and the loop found when it comes round again,
 * within twice the loop's length past its start, so a lane never finds more records than
 * about twice its chain's. */
struct lane {
	uint32_t off;		/* the record to read next; 0: the chain is done */
	int32_t first, last;	/* its records found so far */
	uint32_t mark, steps, power;
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

/* Whether the record at h is live and its key begins with prefix. */
static bool wanted(const uint8_t *h, const char *prefix, size_t prefix_len)
{
	return u32_at(h + 20) == RECORD_MAGIC && u32_at(h + 8) >= prefix_len &&
	       memcmp(h + RECORD_HEAD, prefix, prefix_len) == 0;
}

/* The record at off asked for ahead, once it is known to lie in the map. */
static void prefetch_at(const struct walk *w, uint32_t off)
{
	if (off >= w->data_start && off < w->size)
		__builtin_prefetch(w->map + off);
}

/* One step of lane l to off: -1 when off is the record it marked (a loop). */
static int step(struct lane *l, uint32_t off)
{
	if (off && off == l->mark)
		return -1;
	if (++l->steps == l->power) {
		l->mark = off;
		l->steps = 0;
		l->power *= 2;
	}
	l->off = off;
	return 0;
}

/* The records of chains [from, from + n), found lane by lane, one step of each lane a round,
 * each lane's next record prefetched.  -1 with errno: EIO (damaged), ENOMEM. */
static int find_block(struct walk *w, uint32_t from, uint32_t n, const char *prefix,
		      struct found **list, size_t *len, size_t *cap, struct lane *lanes)
{
	size_t prefix_len = strlen(prefix);
	*len = 0;
	for (uint32_t j = 0; j < n; j++) {
		uint32_t head = u32_at(w->map + HEADER_LEN + 4 * ((uint64_t)from + j + 1));
		lanes[j] = (struct lane){ head, -1, -1, head, 0, 1 };
		prefetch_at(w, head);
	}
	for (bool busy = true; busy;) {
		busy = false;
		for (uint32_t j = 0; j < n; j++) {
			struct lane *l = &lanes[j];
			if (!l->off)
				continue;
			if (record_ok(w, l->off) < 0 || !w->budget--) {
				errno = EIO;
				return -1;
			}
			if (*len == *cap) {
				size_t c = *cap ? *cap * 2 : 1024;
				struct found *grown = realloc(*list, c * sizeof(**list));
				if (!grown) {
					errno = ENOMEM;
					return -1;
				}
				*list = grown;
				*cap = c;
			}
			const uint8_t *h = w->map + l->off;
			(*list)[*len] = (struct found){ l->off, -1, u32_at(h + 8), u32_at(h + 12),
							wanted(h, prefix, prefix_len) };
			if (l->last >= 0)
				(*list)[l->last].next = (int32_t)*len;
			else
				l->first = (int32_t)*len;
			l->last = (int32_t)(*len)++;
			if (step(l, u32_at(h)) < 0) {
				errno = EIO;
				return -1;
			}
			prefetch_at(w, l->off);
			busy = true;
		}
	}
	return 0;
}

/* Records whose bytes are asked for ahead of the one fn reads: a user's record is some six
 * cache lines, which fn (a JSON parser) would otherwise wait for one after the other. */
#define AHEAD 4

static void prefetch_record(const struct walk *w, const struct found *f)
{
	const uint8_t *h = w->map + f->off;
	uint32_t len = RECORD_HEAD + f->key_len + f->data_len;
	for (uint32_t at = 0; at < len; at += 64)
		__builtin_prefetch(h + at);
}

/* The block's wanted records handed to fn chain by chain, as tdb_traverse_chain would, the
 * ones AHEAD of it prefetched (*order: room for as many as the list holds). */
static int visit_block(struct tdb_context *t, const struct walk *w, const struct found *list,
		       const struct lane *lanes, uint32_t n, tdb_traverse_func fn, void *arg,
		       uint32_t *order)
{
	size_t m = 0;
	for (uint32_t j = 0; j < n; j++)
		for (int32_t i = lanes[j].first; i >= 0; i = list[i].next)
			if (list[i].wanted)
				order[m++] = (uint32_t)i;
	for (size_t i = 0; i < m && i < AHEAD; i++)
		prefetch_record(w, &list[order[i]]);
	for (size_t i = 0; i < m; i++) {
		if (i + AHEAD < m)
			prefetch_record(w, &list[order[i + AHEAD]]);
		const struct found *f = &list[order[i]];
		TDB_DATA key = { (unsigned char *)w->map + f->off + RECORD_HEAD, f->key_len };
		TDB_DATA data = { key.dptr + f->key_len, f->data_len };
		if (fn(t, key, data, arg))
			return 1;
	}
	return 0;
}

/* p grown to n entries, or NULL (p freed). */
static uint32_t *reallocf_u32(uint32_t *p, size_t n)
{
	uint32_t *grown = realloc(p, n * sizeof(*p));
	if (!grown)
		free(p);
	return grown;
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
	w->ended = NULL;
	if (memcmp(w->map, MAGIC_FOOD, sizeof(MAGIC_FOOD)) != 0 ||
	    u32_at(w->map + VERSION_OFF) != TDB_FILE_VERSION ||
	    u32_at(w->map + HASH_SIZE_OFF) != hash_size) {
		munmap(m, w->size);
		return TDB_WALK_OTHER;
	}
	return 0;
}

/* What walk_chains returns when the other half of a split walk ended first. */
#define STOPPED 2

/* The chains [from, to) of w's file to fn.  w's budget is this walk's own. */
static int walk_chains(struct tdb_context *t, struct walk *w, const char *prefix, uint32_t from,
		       uint32_t to, tdb_traverse_func fn, void *arg)
{
	struct lane lanes[LANES];
	struct found *list = NULL;
	uint32_t *order = NULL;
	size_t len = 0, cap = 0, order_cap = 0;
	int rc = 0;
	for (; rc == 0 && from < to; from += LANES) {
		uint32_t n = to - from < LANES ? to - from : LANES;
		if (w->ended && atomic_load(w->ended))
			rc = STOPPED;
		else if (find_block(w, from, n, prefix, &list, &len, &cap, lanes) < 0)
			rc = -1;
		else if (order_cap < cap && !(order = reallocf_u32(order, cap))) {
			errno = ENOMEM;
			rc = -1;
		} else {
			order_cap = cap;
			rc = visit_block(t, w, list, lanes, n, fn, arg, order);
		}
	}
	int err = errno;
	free(list);
	free(order);
	if (rc != 0 && rc != STOPPED && w->ended)
		atomic_store(w->ended, true);
	errno = err;
	return rc;
}

int tdb_walk(struct tdb_context *t, const char *prefix, tdb_traverse_func fn, void *arg)
{
	struct walk w;
	if (map_file(t, &w) < 0)
		return TDB_WALK_OTHER;
	int rc = walk_chains(t, &w, prefix, 0, (uint32_t)tdb_hash_size(t), fn, arg);
	munmap((void *)w.map, w.size);
	return rc;
}

/* The second half of a split walk, on a thread of its own. */
struct half {
	struct tdb_context *t;
	struct walk w;
	const char *prefix;
	uint32_t from, to;
	tdb_traverse_func fn;
	void *arg;
	int rc, err;
};

static void *walk_half(void *p)
{
	struct half *h = p;
	h->rc = walk_chains(h->t, &h->w, h->prefix, h->from, h->to, h->fn, h->arg);
	h->err = errno;
	return NULL;
}

int tdb_walk_split(struct tdb_context *t, const char *prefix, tdb_traverse_func fn, void *arg,
		   tdb_traverse_func second_fn, void *second_arg)
{
	struct walk w;
	if (map_file(t, &w) < 0)
		return TDB_WALK_OTHER;
	uint32_t hash_size = (uint32_t)tdb_hash_size(t);
	atomic_bool ended = false;
	w.ended = &ended;
	struct half second = { t, w, prefix, hash_size / 2, hash_size, second_fn, second_arg, 0, 0 };
	pthread_t thread;
	bool split = pthread_create(&thread, NULL, walk_half, &second) == 0;
	int rc = walk_chains(t, &w, prefix, 0, split ? second.from : hash_size, fn, arg);
	if (split) {
		int err = errno;
		pthread_join(thread, NULL);
		errno = err;
		if ((rc == 0 || rc == STOPPED) && second.rc != 0) {
			rc = second.rc;
			errno = second.err;
		}
	}
	munmap((void *)w.map, w.size);
	return rc;
}
