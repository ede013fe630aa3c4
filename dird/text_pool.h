/* Strings copied one after another into blocks of a megabyte or so, mapped from the system
 * for themselves (text_pool.c): a million short strings made for a while (a batch's ids and
 * DNs, the names it saw) are then a few blocks given back whole when freed, not a million small
 * allocations whose holes, between the records dird keeps, no page of which goes back. */
#ifndef DIRD_TEXT_POOL_H
#define DIRD_TEXT_POOL_H

struct text_block;
struct text_pool {
	struct text_block *first, *last;	/* oldest first */
};

/* A copy of s in p, until p is freed (NULL stays NULL); NULL out of memory. */
char *text_pool_copy(struct text_pool *p, const char *s);
/* Gives back the blocks older than the one holding s (a copy p made): the strings copied
 * before the block s is in go. */
void text_pool_release_before(struct text_pool *p, const char *s);
void text_pool_free(struct text_pool *p);

#endif
