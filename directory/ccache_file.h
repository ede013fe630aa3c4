/* Users' FILE ticket caches, as dird (renewal) and dirctl (sessions) read them: the file is
 * opened without following a link and must be a small regular file of its user, mode 0600 or
 * tighter; its bytes are then parsed from a root-only copy, never from a path a user controls. */
#ifndef DIRD_CCACHE_FILE_H
#define DIRD_CCACHE_FILE_H

#include <krb5.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

#define CCACHE_MAX_FILE (64u << 10)

struct ccache_file {
	uid_t uid;
	gid_t gid;
	mode_t mode;
	dev_t dev;
	ino_t ino;
	struct buf data;	/* the file's bytes */
};

/* Reads path, which must belong to uid.  0, or -1 with err.  ccache_file_free after either. */
int ccache_file_read(const char *path, uid_t uid, struct ccache_file *f, char *err, size_t errlen);
void ccache_file_free(struct ccache_file *f);

/* A copy of bytes in a new 0600 file in scratch_dir (root's), resolved as a FILE cache; its
 * name in path (PATH_MAX), for unlink when done.  0, or -1 with err. */
int ccache_scratch(krb5_context ctx, const char *scratch_dir, const struct buf *bytes,
		   krb5_ccache *cc, char *path, char *err, size_t errlen);

/* The cache's ticket-granting ticket (krbtgt/REALM@REALM of its principal's realm): 0 with
 * creds filled (krb5_free_cred_contents after), or a libkrb5 error. */
krb5_error_code ccache_find_tgt(krb5_context ctx, krb5_ccache cc, krb5_creds *creds);

#endif
