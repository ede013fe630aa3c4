/* Names and ids the directory said it does not have, remembered for negative_ttl so that
 * repeated lookups of them (a typo in a script's loop, a uid on an old file) do not each reach
 * the directory.  A fixed-size table: a collision forgets the older entry, which only costs
 * a directory query. */
#ifndef DIRD_NEGCACHE_H
#define DIRD_NEGCACHE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "protocol.h"

#define NEGCACHE_SLOTS 4096

struct negcache_entry {
	uint32_t op;
	uint32_t id;
	time_t expires;
	char name[DIR_MAX_NAME + 1];
};

struct negcache {
	struct negcache_entry slot[NEGCACHE_SLOTS];
};

/* name is NULL for lookups by id. */
bool negcache_has(const struct negcache *n, uint32_t op, const char *name, uint32_t id);
void negcache_add(struct negcache *n, uint32_t op, const char *name, uint32_t id, time_t ttl);
void negcache_clear(struct negcache *n);

#endif
