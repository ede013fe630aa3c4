/* initgroups_dyn: a user's groups from the gid list in the user's own record, so `id` costs
 * one lookup however many groups exist. */
#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "nss_dir.h"

/* Adds gid unless it is `skip` or among the first `before` entries (what glibc and earlier
 * modules put there).  Our own list has no repeats, so it is not searched: 5,000 groups cost
 * 5,000 steps, not 12 million.  0 added (or already there), 1 full at glibc's limit, -1 out
 * of memory. */
static int add_group(gid_t gid, gid_t skip, long before, long *start, long *size, gid_t **groupsp,
		     long limit)
{
	if (gid == skip)
		return 0;
	for (long i = 0; i < before; i++)
		if ((*groupsp)[i] == gid)
			return 0;
	if (*start == *size) {
		if (limit > 0 && *size >= limit)
			return 1; /* full: glibc's limit, not an error */
		long n = *size ? *size * 2 : 16;
		if (limit > 0 && n > limit)
			n = limit;
		gid_t *grown = realloc(*groupsp, (size_t)n * sizeof(gid_t));
		if (!grown)
			return -1;
		*groupsp = grown;
		*size = n;
	}
	(*groupsp)[(*start)++] = gid;
	return 0;
}

/* 0, or -1 when the array could not grow: a list cut short could leave out a group that
 * denies access, so the caller is told to try again (glibc: TRYAGAIN with ENOMEM). */
static int add_all(const void *rec, size_t len, gid_t skip, long *start, long *size,
		   gid_t **groupsp, long limit)
{
	uint32_t primary, n;
	const unsigned char *gids = record_user_groups(rec, len, &primary, &n);
	long before = *start;
	/* Room for all of them at once, not by doubling (glibc's limit still applies). */
	long want = *start + (long)n;
	if (gids && want > *size && (limit <= 0 || *size < limit)) {
		if (limit > 0 && want > limit)
			want = limit;
		gid_t *grown = realloc(*groupsp, (size_t)want * sizeof(gid_t));
		if (grown) {
			*groupsp = grown;
			*size = want;
		}
	}
	for (uint32_t i = 0; gids && i < n; i++) {
		uint32_t gid;
		memcpy(&gid, gids + (size_t)i * sizeof(gid), sizeof(gid));
		int r = add_group(gid, skip, before, start, size, groupsp, limit);
		if (r != 0)
			return r < 0 ? -1 : 0;
	}
	return 0;
}

NSS_EXPORT enum nss_status _nss_dir_initgroups_dyn(const char *user, gid_t group, long *start, long *size,
					gid_t **groupsp, long limit, int *errnop)
{
	if (!dir_valid_name(user)) {
		*errnop = ENOENT;
		return NSS_STATUS_NOTFOUND;
	}
	int saved = errno;
	struct nss_found f;
	enum nss_status st = nss_find(INDEX_USER, user, 0, &f);
	if (st != NSS_STATUS_SUCCESS) {
		*errnop = ENOENT;
	} else if (add_all(f.rec, f.len, group, start, size, groupsp, limit) < 0) {
		*errnop = ENOMEM;
		st = NSS_STATUS_TRYAGAIN;
	}
	nss_found_release(&f);
	if (st == NSS_STATUS_SUCCESS)
		errno = saved;
	return st;
}
