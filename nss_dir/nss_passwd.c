/* passwd: getpwnam_r, getpwuid_r and enumeration. */
#include <errno.h>
#include <pwd.h>

#include "names.h"
#include "nss_dir.h"

static enum record_result decode(const void *rec, size_t len, void *result, char *buffer,
				 size_t buflen)
{
	return record_to_passwd(rec, len, result, buffer, buflen);
}

NSS_EXPORT enum nss_status _nss_dir_getpwnam_r(const char *name, struct passwd *pw, char *buffer,
				    size_t buflen, int *errnop)
{
	if (!dir_valid_name(name)) {
		*errnop = ENOENT;
		return NSS_STATUS_NOTFOUND;
	}
	return nss_lookup(INDEX_USER, name, 0, decode, pw, buffer, buflen, errnop);
}

NSS_EXPORT enum nss_status _nss_dir_getpwuid_r(uid_t uid, struct passwd *pw, char *buffer, size_t buflen,
				    int *errnop)
{
	if (uid == (uid_t)-1) {
		*errnop = ENOENT;
		return NSS_STATUS_NOTFOUND;
	}
	return nss_lookup(INDEX_USER, NULL, uid, decode, pw, buffer, buflen, errnop);
}

struct nss_ent nss_pwent = { PTHREAD_MUTEX_INITIALIZER, INDEX_USER, NULL, 0 };

NSS_EXPORT enum nss_status _nss_dir_setpwent(int stayopen)
{
	(void)stayopen;
	nss_ent_start(&nss_pwent);
	return NSS_STATUS_SUCCESS;
}

NSS_EXPORT enum nss_status _nss_dir_endpwent(void)
{
	nss_ent_end(&nss_pwent);
	return NSS_STATUS_SUCCESS;
}

NSS_EXPORT enum nss_status _nss_dir_getpwent_r(struct passwd *pw, char *buffer, size_t buflen, int *errnop)
{
	return nss_ent_next(&nss_pwent, decode, pw, buffer, buflen, errnop);
}
