/* group: getgrnam_r, getgrgid_r and enumeration. */
#include <errno.h>
#include <grp.h>

#include "names.h"
#include "nss_dir.h"

static enum record_result decode(const void *rec, size_t len, void *result, char *buffer,
				 size_t buflen)
{
	return record_to_group(rec, len, result, buffer, buflen);
}

NSS_EXPORT enum nss_status _nss_dir_getgrnam_r(const char *name, struct group *gr, char *buffer,
				    size_t buflen, int *errnop)
{
	if (!dir_valid_name(name)) {
		*errnop = ENOENT;
		return NSS_STATUS_NOTFOUND;
	}
	return nss_lookup(INDEX_GROUP, name, 0, decode, gr, buffer, buflen, errnop);
}

NSS_EXPORT enum nss_status _nss_dir_getgrgid_r(gid_t gid, struct group *gr, char *buffer, size_t buflen,
				    int *errnop)
{
	if (gid == (gid_t)-1) {
		*errnop = ENOENT;
		return NSS_STATUS_NOTFOUND;
	}
	return nss_lookup(INDEX_GROUP, NULL, gid, decode, gr, buffer, buflen, errnop);
}

struct nss_ent nss_grent = { PTHREAD_MUTEX_INITIALIZER, INDEX_GROUP, NULL, 0 };

NSS_EXPORT enum nss_status _nss_dir_setgrent(int stayopen)
{
	(void)stayopen;
	nss_ent_start(&nss_grent);
	return NSS_STATUS_SUCCESS;
}

NSS_EXPORT enum nss_status _nss_dir_endgrent(void)
{
	nss_ent_end(&nss_grent);
	return NSS_STATUS_SUCCESS;
}

NSS_EXPORT enum nss_status _nss_dir_getgrent_r(struct group *gr, char *buffer, size_t buflen, int *errnop)
{
	return nss_ent_next(&nss_grent, decode, gr, buffer, buflen, errnop);
}
