/* Names and ids dird said it does not have, remembered in this process for negative_ttl, so a
 * program that asks again and again (a prompt, `ls -l` of files whose owner left) pays a round
 * trip to dird once, not each time.  An entry holds only for the index it was learned under:
 * a refresh or a flush (a new index) forgets them all at the next call. */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "nss_dir.h"

#define NEG_SLOTS 64
#define NEG_NAME_MAX 64 /* longer names are not remembered */

struct negative {
	bool used;
	enum index_kind kind;
	bool by_name;
	uint32_t id;
	char name[NEG_NAME_MAX];
	uint64_t generation;
	long long expires_ms;
};

static struct negative slots[NEG_SLOTS];
static pthread_mutex_t neg_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t neg_once = PTHREAD_ONCE_INIT;

static void lock_before_fork(void)
{
	pthread_mutex_lock(&neg_lock);
}

static void unlock_after_fork(void)
{
	pthread_mutex_unlock(&neg_lock);
}

static void setup(void)
{
	pthread_atfork(lock_before_fork, unlock_after_fork, unlock_after_fork);
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static unsigned slot_of(enum index_kind kind, const char *name, uint32_t id)
{
	uint32_t h = 2166136261u ^ (uint32_t)kind;
	if (name)
		for (const char *p = name; *p; p++)
			h = (h ^ (unsigned char)*p) * 16777619u;
	else
		h = (h ^ id) * 16777619u;
	return h % NEG_SLOTS;
}

static bool same_key(const struct negative *n, enum index_kind kind, const char *name, uint32_t id)
{
	return n->used && n->kind == kind && n->by_name == (name != NULL) &&
	       (name ? strcmp(n->name, name) == 0 : n->id == id);
}

bool nss_negative_has(enum index_kind kind, const char *name, uint32_t id, uint64_t generation)
{
	if (name && strlen(name) >= NEG_NAME_MAX)
		return false;
	pthread_once(&neg_once, setup);
	pthread_mutex_lock(&neg_lock);
	const struct negative *n = &slots[slot_of(kind, name, id)];
	bool hit = same_key(n, kind, name, id) && n->generation == generation &&
		   now_ms() < n->expires_ms;
	pthread_mutex_unlock(&neg_lock);
	return hit;
}

void nss_negative_add(enum index_kind kind, const char *name, uint32_t id, uint64_t generation,
		      unsigned ttl_seconds)
{
	if ((name && strlen(name) >= NEG_NAME_MAX) || ttl_seconds == 0)
		return;
	pthread_once(&neg_once, setup);
	pthread_mutex_lock(&neg_lock);
	struct negative *n = &slots[slot_of(kind, name, id)];
	n->used = true;
	n->kind = kind;
	n->by_name = name != NULL;
	n->id = name ? 0 : id;
	snprintf(n->name, sizeof(n->name), "%s", name ? name : "");
	n->generation = generation;
	n->expires_ms = now_ms() + (long long)ttl_seconds * 1000;
	pthread_mutex_unlock(&neg_lock);
}
