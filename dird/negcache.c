#include "negcache.h"

#include <stdio.h>
#include <string.h>

#include "index.h"

static struct negcache_entry *slot_of(const struct negcache *n, uint32_t op, const char *name,
				      uint32_t id)
{
	uint32_t h = (name ? index_hash_name(name) : index_hash_id(id)) ^ (op * 2654435761u);
	return (struct negcache_entry *)&n->slot[h % NEGCACHE_SLOTS];
}

bool negcache_has(const struct negcache *n, uint32_t op, const char *name, uint32_t id)
{
	const struct negcache_entry *e = slot_of(n, op, name, id);
	return e->op == op && e->expires > time(NULL) &&
	       (name ? strcmp(e->name, name) == 0 : e->id == id);
}

void negcache_add(struct negcache *n, uint32_t op, const char *name, uint32_t id, time_t ttl)
{
	struct negcache_entry *e = slot_of(n, op, name, id);
	e->op = op;
	e->id = id;
	e->expires = time(NULL) + ttl;
	snprintf(e->name, sizeof(e->name), "%s", name ? name : "");
}

void negcache_clear(struct negcache *n)
{
	memset(n, 0, sizeof(*n));
}
