#include "text_pool.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct text_block {
	struct text_block *next;
	size_t used, size;	/* of bytes */
	char bytes[];
};

/* The first block is a page, each next one twice the last, up to a megabyte: a few names cost
 * a page, a million a few dozen blocks. */
#define MAX_BLOCK ((size_t)1 << 20)

static void unmap(struct text_block *t)
{
	munmap(t, sizeof(*t) + t->size);
}

/* A block of at least n bytes after `last`, mapped by itself: malloc would put a block of a
 * megabyte in the heap once it had given one back, where only malloc_trim finds it again. */
static struct text_block *block_new(const struct text_block *last, size_t n)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t want = last ? 2 * (sizeof(*last) + last->size) : page;
	if (want > MAX_BLOCK)
		want = MAX_BLOCK;
	size_t len = sizeof(struct text_block) + n;
	if (len < n)
		return NULL;
	if (len < want)
		len = want;
	len = (len + page - 1) / page * page;
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	struct text_block *t = p;
	*t = (struct text_block){ NULL, 0, len - sizeof(*t) };
	return t;
}

char *text_pool_copy(struct text_pool *p, const char *s)
{
	if (!s)
		return NULL;
	size_t n = strlen(s) + 1;
	struct text_block *t = p->last;
	if (!t || t->size - t->used < n) {
		if (!(t = block_new(p->last, n)))
			return NULL;
		if (p->last)
			p->last->next = t;
		else
			p->first = t;
		p->last = t;
	}
	char *copy = memcpy(t->bytes + t->used, s, n);
	t->used += n;
	return copy;
}

static bool holds(const struct text_block *t, const char *s)
{
	return s >= t->bytes && s < t->bytes + t->used;
}

void text_pool_release_before(struct text_pool *p, const char *s)
{
	struct text_block *t = p->first;
	bool found = false;
	for (; t && !found; t = t->next)
		found = holds(t, s);
	if (!found)
		return; /* not p's: nothing is known to be older */
	while (!holds(p->first, s)) {
		struct text_block *next = p->first->next;
		unmap(p->first);
		p->first = next;
	}
}

void text_pool_free(struct text_pool *p)
{
	while (p->first) {
		struct text_block *next = p->first->next;
		unmap(p->first);
		p->first = next;
	}
	p->last = NULL;
}
