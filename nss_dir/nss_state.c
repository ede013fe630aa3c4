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
static time_t last_open_try;
/* The index as it is now, and those dird has replaced since that someone still holds: any
 * number of them, so no enumeration left open (many daemons never call endpwent) ever keeps
 * the current one from being mapped. */
static struct nss_mapping *current, *retired;

/* A retired mapping goes away with the last lookup or enumeration that holds it.  Lock held. */
static void drop_if_unused(struct nss_mapping *m)
{
	if (m->refs || m->pins)
		return;
	for (struct nss_mapping **p = &retired; *p; p = &(*p)->next)
		if (*p == m) {
			*p = m->next;
			break;
		}
	index_view_close(&m->view);
	free(m);
}

/* fork: the enumerations' locks and ours are taken, so the child finds none held. */
static void lock_before_fork(void)
{
	pthread_mutex_lock(&nss_pwent.lock);
	pthread_mutex_lock(&nss_grent.lock);
	pthread_mutex_lock(&lock);
}

static void unlock_after_fork(void)
{
	pthread_mutex_unlock(&lock);
	pthread_mutex_unlock(&nss_grent.lock);
	pthread_mutex_unlock(&nss_pwent.lock);
}

/* Only the forking thread lives on in the child: the lookups other threads had under way
 * never end there, so their references are dropped (enumerations are the child's too). */
static void reset_in_child(void)
{
	if (current)
		current->refs = 0;
	for (struct nss_mapping *m = retired, *next; m; m = next) {
		next = m->next;
		m->refs = 0;
		drop_if_unused(m);
	}
	unlock_after_fork();
}

/* Only what the module needs, read tolerantly: a typo dird refuses never hides cached users.
 * On the heap: the host's thread may have a small stack. */
static void load_config(void)
{
	pthread_atfork(lock_before_fork, unlock_after_fork, reset_in_child);
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

static struct nss_mapping *take(bool pin)
{
	if (!ensure_configured())
		return NULL;
	int saved = errno;
	pthread_mutex_lock(&lock);
	if (current && !index_view_current(&current->view)) {
		/* Replaced: it serves those who hold it until the last of them lets go. */
		current->next = retired;
		retired = current;
		current = NULL;
		drop_if_unused(retired);
		last_open_try = 0;
	}
	if (!current) {
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
		if (last_open_try == 0 || now.tv_sec - last_open_try >= RETRY_OPEN_SECONDS) {
			last_open_try = now.tv_sec;
			struct nss_mapping *m = calloc(1, sizeof(*m));
			if (m && index_view_open(index_path, &m->view) == 0)
				current = m;
			else
				free(m);
		}
	}
	struct nss_mapping *m = current;
	if (m && pin)
		m->pins++;
	else if (m)
		m->refs++;
	pthread_mutex_unlock(&lock);
	errno = saved;
	return m;
}

static void give_back(struct nss_mapping *m, bool pin)
{
	if (!m)
		return;
	int saved = errno;
	pthread_mutex_lock(&lock);
	if (pin)
		m->pins--;
	else
		m->refs--;
	if (m != current)
		drop_if_unused(m);
	pthread_mutex_unlock(&lock);
	errno = saved;
}

struct nss_mapping *nss_index_acquire(void)
{
	return take(false);
}

void nss_index_release(struct nss_mapping *m)
{
	give_back(m, false);
}

struct nss_mapping *nss_index_pin(void)
{
	return take(true);
}

void nss_index_unpin(struct nss_mapping *m)
{
	give_back(m, true);
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
