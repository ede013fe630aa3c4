#include "tdb_open.h"

#include <errno.h>
#include <pthread.h>

static pthread_mutex_t open_list_lock = PTHREAD_MUTEX_INITIALIZER;

struct tdb_context *dir_tdb_open(const char *name, int hash_size, int tdb_flags, int open_flags,
				 mode_t mode)
{
	pthread_mutex_lock(&open_list_lock);
	struct tdb_context *t = tdb_open(name, hash_size, tdb_flags, open_flags, mode);
	int saved = errno;
	pthread_mutex_unlock(&open_list_lock);
	errno = saved;
	return t;
}

int dir_tdb_close(struct tdb_context *t)
{
	pthread_mutex_lock(&open_list_lock);
	int rc = tdb_close(t);
	int saved = errno;
	pthread_mutex_unlock(&open_list_lock);
	errno = saved;
	return rc;
}
