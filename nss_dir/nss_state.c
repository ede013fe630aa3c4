/* Configuration and the mapped index, shared by all threads of the host process. */
#include "nss_dir.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"
#include "module_config.h"
#include "protocol.h"
#include "record.h"

/* A missing index is looked for again at most this often, so a host without dird running
 * does not pay an open() per lookup. */
#define RETRY_OPEN_SECONDS 1

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int configured;
static char index_path[PATH_MAX];
static char run_dir[PATH_MAX];
static int timeout_ms;
static unsigned negative_ttl;
static struct nss_mapping *current;
static time_t last_open_try;
static struct nss_mapping slots[2]; /* the current mapping and one still in use by a reader */

static void lock_before_fork(void)
{
	pthread_mutex_lock(&lock);
}

static void unlock_after_fork(void)
{
	pthread_mutex_unlock(&lock);
}

/* Only what the module needs, read tolerantly: a typo dird refuses never hides cached users.
 * On the heap: the host's thread may have a small stack. */
static void load_config(void)
{
	pthread_atfork(lock_before_fork, unlock_after_fork, unlock_after_fork);
	struct dir_module_config *cfg = malloc(sizeof(*cfg));
	if (!cfg)
		return;
	dir_module_config_read(dir_config_path(), cfg);
	int a = snprintf(index_path, sizeof(index_path), "%s/%s", cfg->cache_dir, DIR_INDEX_FILE);
	memcpy(run_dir, cfg->run_dir, sizeof(run_dir));
	timeout_ms = (int)cfg->nss_timeout_ms;
	negative_ttl = cfg->negative_ttl;
	configured = a > 0 && (size_t)a < sizeof(index_path);
	free(cfg);
}

static int ensure_configured(void)
{
	int saved = errno;
	pthread_once(&once, load_config);
	errno = saved;
	return configured;
}

static void retire(struct nss_mapping *m)
{
	m->retired = 1;
	if (m->refs == 0) {
		index_close(&m->map);
		m->retired = 0;
	}
}

static struct nss_mapping *free_slot(void)
{
	for (size_t i = 0; i < sizeof(slots) / sizeof(slots[0]); i++)
		if (!slots[i].map.base && &slots[i] != current)
			return &slots[i];
	return NULL;
}

struct nss_mapping *nss_index_acquire(void)
{
	if (!ensure_configured())
		return NULL;
	int saved = errno;
	pthread_mutex_lock(&lock);
	if (current && !index_current(&current->map)) {
		retire(current);
		current = NULL;
		last_open_try = 0;
	}
	if (!current) {
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
		/* Without a free slot (a reader still holds the older mapping) use none now. */
		struct nss_mapping *m = free_slot();
		if (m && (last_open_try == 0 || now.tv_sec - last_open_try >= RETRY_OPEN_SECONDS)) {
			last_open_try = now.tv_sec;
			if (index_open(index_path, &m->map) == 0) {
				m->refs = 0;
				m->retired = 0;
				current = m;
			}
		}
	}
	struct nss_mapping *m = current;
	if (m)
		m->refs++;
	pthread_mutex_unlock(&lock);
	errno = saved;
	return m;
}

void nss_index_release(struct nss_mapping *m)
{
	if (!m)
		return;
	int saved = errno;
	pthread_mutex_lock(&lock);
	m->refs--;
	if (m->retired && m->refs == 0)
		retire(m);
	pthread_mutex_unlock(&lock);
	errno = saved;
}

unsigned nss_negative_ttl(void)
{
	return ensure_configured() ? negative_ttl : 0;
}

enum nss_status nss_ask_dird(uint32_t op, const struct buf *body, struct buf *reply)
{
	if (!ensure_configured())
		return NSS_STATUS_UNAVAIL;
	uint32_t status;
	int saved = errno;
	int rc = dir_client_call(run_dir, timeout_ms, op, body, &status, reply);
	errno = saved;
	if (rc < 0)
		return NSS_STATUS_UNAVAIL;
	if (status == DIR_OK)
		return NSS_STATUS_SUCCESS;
	return status == DIR_NOTFOUND ? NSS_STATUS_NOTFOUND : NSS_STATUS_UNAVAIL;
}

void nss_hint_dird(uint32_t op, const struct buf *body)
{
	if (!ensure_configured())
		return;
	int saved = errno;
	dir_client_send(run_dir, op, body);
	errno = saved;
}

enum nss_status nss_result(int record_result, int *errnop)
{
	switch (record_result) {
	case RECORD_OK:
		return NSS_STATUS_SUCCESS;
	case RECORD_ERANGE:
		*errnop = ERANGE;
		return NSS_STATUS_TRYAGAIN;
	default:
		*errnop = ENOENT;
		return NSS_STATUS_UNAVAIL;
	}
}
