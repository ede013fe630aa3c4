/* libnss_null.so.2, bench/run's floor: an NSS module that does no work.  It answers every name
 * or id at once with a constant record (the name or id asked for, everything else fixed) and
 * adds no groups to initgroups; with NSS_NULL_MISS set in the environment when it is loaded, it
 * answers "not found" to everything instead.  What glibc costs around such a module is the least
 * any module can cost: no lookup can be faster than this one through the same glibc call. */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <nss.h>
#include <pwd.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NULL_ID 4242

static int answer_miss;

__attribute__((constructor)) static void read_mode(void)
{
	answer_miss = getenv("NSS_NULL_MISS") != NULL;
}

/* Copies NAME into BUF; NULL when it does not fit. */
static char *copy_name(const char *name, char *buf, size_t len)
{
	size_t n = strlen(name) + 1;
	if (n > len)
		return NULL;
	return memcpy(buf, name, n);
}

static enum nss_status fill_passwd(const char *name, uid_t uid, struct passwd *pw, char *buf,
				   size_t len, int *errnop)
{
	if (answer_miss)
		return NSS_STATUS_NOTFOUND;
	char *copy = copy_name(name, buf, len);
	if (!copy) {
		*errnop = ERANGE;
		return NSS_STATUS_TRYAGAIN;
	}
	*pw = (struct passwd){ .pw_name = copy, .pw_passwd = (char *)"x", .pw_uid = uid,
			       .pw_gid = NULL_ID, .pw_gecos = (char *)"", .pw_dir = (char *)"/",
			       .pw_shell = (char *)"/bin/sh" };
	return NSS_STATUS_SUCCESS;
}

static enum nss_status fill_group(const char *name, gid_t gid, struct group *gr, char *buf,
				  size_t len, int *errnop)
{
	if (answer_miss)
		return NSS_STATUS_NOTFOUND;
	/* gr_mem: one NULL pointer, aligned, then the name */
	size_t pad = (sizeof(char *) - ((uintptr_t)buf % sizeof(char *))) % sizeof(char *);
	if (len < pad + sizeof(char *)) {
		*errnop = ERANGE;
		return NSS_STATUS_TRYAGAIN;
	}
	char **members = (char **)(void *)(buf + pad);
	members[0] = NULL;
	char *copy = copy_name(name, buf + pad + sizeof(char *), len - pad - sizeof(char *));
	if (!copy) {
		*errnop = ERANGE;
		return NSS_STATUS_TRYAGAIN;
	}
	*gr = (struct group){ .gr_name = copy, .gr_passwd = (char *)"x", .gr_gid = gid,
			      .gr_mem = members };
	return NSS_STATUS_SUCCESS;
}

enum nss_status _nss_null_getpwnam_r(const char *name, struct passwd *pw, char *buf, size_t len,
				     int *errnop)
{
	return fill_passwd(name, NULL_ID, pw, buf, len, errnop);
}

enum nss_status _nss_null_getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t len,
				     int *errnop)
{
	return fill_passwd("null", uid, pw, buf, len, errnop);
}

enum nss_status _nss_null_getgrnam_r(const char *name, struct group *gr, char *buf, size_t len,
				     int *errnop)
{
	return fill_group(name, NULL_ID, gr, buf, len, errnop);
}

enum nss_status _nss_null_getgrgid_r(gid_t gid, struct group *gr, char *buf, size_t len,
				     int *errnop)
{
	return fill_group("null", gid, gr, buf, len, errnop);
}

enum nss_status _nss_null_initgroups_dyn(const char *user, gid_t group, long *start, long *size,
					 gid_t **groups, long limit, int *errnop)
{
	(void)user, (void)group, (void)start, (void)size, (void)groups, (void)limit, (void)errnop;
	return answer_miss ? NSS_STATUS_NOTFOUND : NSS_STATUS_SUCCESS;
}
