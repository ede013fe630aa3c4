#include "offline_passwords.h"

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tdb.h>
#include <time.h>

#include "log.h"
#include "tdb_open.h"

#define STORE_FILE "credentials.tdb"
/* A record: "<unix time the password last worked online> <crypt hash>". */
#define MAX_RECORD (CRYPT_OUTPUT_SIZE + 32)

/* tdb's locks are per process: one opener at a time within dird. */
static pthread_mutex_t store_lock = PTHREAD_MUTEX_INITIALIZER;

static TDB_CONTEXT *open_store(const char *cache_dir, int flags)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", cache_dir, STORE_FILE);
	TDB_CONTEXT *t = dir_tdb_open(path, 0, TDB_DEFAULT, flags | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (!t && errno != ENOENT)
		log_warning("%s: %s", path, strerror(errno));
	return t;
}

static TDB_DATA key_of(const char *user)
{
	return (TDB_DATA){ .dptr = (unsigned char *)user, .dsize = strlen(user) };
}

void offline_password_remember(const char *cache_dir, const char *user, const char *password)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE], record[MAX_RECORD];
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	/* yescrypt with a random salt from the kernel (rbytes NULL). */
	if (!cd || !crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof(salt)) ||
	    !crypt_r(password, salt, cd) || cd->output[0] == '*') {
		log_warning("cannot hash %s's password for offline logins", user);
		goto out;
	}
	int n = snprintf(record, sizeof(record), "%lld %s", (long long)time(NULL), cd->output);
	if (n < 0 || (size_t)n >= sizeof(record))
		goto out;
	pthread_mutex_lock(&store_lock);
	TDB_CONTEXT *t = open_store(cache_dir, O_RDWR | O_CREAT);
	TDB_DATA value = { .dptr = (unsigned char *)record, .dsize = (size_t)n };
	if (!t || tdb_store(t, key_of(user), value, TDB_REPLACE) != 0)
		log_warning("cannot store %s's credentials for offline logins", user);
	if (t)
		dir_tdb_close(t);
	pthread_mutex_unlock(&store_lock);
out:
	explicit_bzero(record, sizeof(record));
	if (cd) {
		explicit_bzero(cd, sizeof(*cd));
		free(cd);
	}
}

void offline_password_forget(const char *cache_dir, const char *user)
{
	pthread_mutex_lock(&store_lock);
	TDB_CONTEXT *t = open_store(cache_dir, O_RDWR);
	if (t) {
		tdb_delete(t, key_of(user));
		dir_tdb_close(t);
	}
	pthread_mutex_unlock(&store_lock);
}

/* Compares in time independent of where the strings differ. */
static bool same(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char diff = la != lb;
	for (size_t i = 0; i < la && i < lb; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

enum offline_password offline_password_check(const char *cache_dir, const char *user,
					     const char *password, unsigned max_age_days)
{
	char record[MAX_RECORD];
	size_t len = 0;
	pthread_mutex_lock(&store_lock);
	TDB_CONTEXT *t = open_store(cache_dir, O_RDONLY);
	if (t) {
		TDB_DATA v = tdb_fetch(t, key_of(user));
		if (v.dptr && v.dsize < sizeof(record)) {
			memcpy(record, v.dptr, v.dsize);
			len = v.dsize;
		}
		free(v.dptr);
		dir_tdb_close(t);
	}
	pthread_mutex_unlock(&store_lock);
	record[len] = '\0';

	enum offline_password res = OFFLINE_PASSWORD_NONE;
	char *hash = strchr(record, ' ');
	char *end;
	long long stored = strtoll(record, &end, 10);
	long long age = (long long)time(NULL) - stored;
	if (!len || !hash || end != hash || hash[1] != '$' ||
	    (max_age_days && (age < 0 || age > (long long)max_age_days * 86400)))
		goto out;
	hash++;
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	if (!cd)
		goto out;
	res = crypt_r(password, hash, cd) && same(cd->output, hash) ? OFFLINE_PASSWORD_MATCH :
								      OFFLINE_PASSWORD_MISMATCH;
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
out:
	explicit_bzero(record, sizeof(record));
	return res;
}
