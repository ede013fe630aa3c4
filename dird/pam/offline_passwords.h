/* Passwords for logins while the directory is offline (cache_credentials = yes): a salted
 * yescrypt hash of the last password that worked online, per user, in
 * <cache_dir>/credentials.tdb (mode 0600, dird alone opens it).  Not a Kerberos credential
 * cache: users' tickets are krb5_auth.c's and ticket_renew.c's. */
#ifndef DIRD_OFFLINE_PASSWORDS_H
#define DIRD_OFFLINE_PASSWORDS_H

#include <stdbool.h>

/* Remembers `password` as user's; logged and ignored on failure. */
void offline_password_remember(const char *cache_dir, const char *user, const char *password);

/* Forgets the user's password (the directory no longer has the user). */
void offline_password_forget(const char *cache_dir, const char *user);

enum offline_password { OFFLINE_PASSWORD_MATCH, OFFLINE_PASSWORD_MISMATCH, OFFLINE_PASSWORD_NONE };

/* Checks a password offline.  OFFLINE_PASSWORD_NONE when nothing is kept for the user or what
 * is kept is older than max_age_days (0: no limit). */
enum offline_password offline_password_check(const char *cache_dir, const char *user,
					     const char *password, unsigned max_age_days);

#endif
