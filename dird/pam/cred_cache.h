/* Cached credentials for logins while the directory is offline (cache_credentials = yes): a
 * salted yescrypt hash of the last password that worked online, per user, in
 * <cache_dir>/credentials.tdb (mode 0600, dird alone opens it). */
#ifndef DIRD_CRED_CACHE_H
#define DIRD_CRED_CACHE_H

#include <stdbool.h>

/* Remembers `password` as user's; logged and ignored on failure. */
void cred_cache_store(const char *cache_dir, const char *user, const char *password);

/* Forgets the user's password (the directory no longer has the user). */
void cred_cache_forget(const char *cache_dir, const char *user);

enum cred_check { CRED_MATCH, CRED_MISMATCH, CRED_NONE };

/* Checks a password offline.  CRED_NONE when nothing is cached for the user or what is cached
 * is older than max_age_days (0: no limit). */
enum cred_check cred_cache_check(const char *cache_dir, const char *user, const char *password,
				 unsigned max_age_days);

#endif
