#include "ccache_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "names.h"

int ccache_file_read(const char *path, uid_t uid, struct ccache_file *f, char *err, size_t errlen)
{
	memset(f, 0, sizeof(*f));
	buf_init(&f->data, CCACHE_MAX_FILE);
	/* O_NONBLOCK: a FIFO put in its place does not hang us */
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	int ret = -1;
	if (fstat(fd, &st) < 0)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	else if (!S_ISREG(st.st_mode) || st.st_uid != uid || (st.st_mode & 077) ||
		 st.st_size <= 0 || st.st_size > (off_t)CCACHE_MAX_FILE)
		snprintf(err, errlen, "%s: not a ticket cache of uid %u (a regular file of at most "
			 "%u bytes, mode 0600)", path, (unsigned)uid, CCACHE_MAX_FILE);
	else {
		void *dst = buf_extend(&f->data, (size_t)st.st_size);
		if (dst && pread(fd, dst, (size_t)st.st_size, 0) == st.st_size) {
			f->uid = st.st_uid;
			f->gid = st.st_gid;
			f->mode = st.st_mode & 0777;
			f->dev = st.st_dev;
			f->ino = st.st_ino;
			ret = 0;
		} else {
			snprintf(err, errlen, "%s: cannot be read", path);
		}
	}
	close(fd);
	return ret;
}

void ccache_file_free(struct ccache_file *f)
{
	buf_free_wipe(&f->data);
}

int ccache_scratch(krb5_context ctx, const char *scratch_dir, const struct buf *bytes,
		   krb5_ccache *cc, char *path, char *err, size_t errlen)
{
	char name[PATH_MAX + 8];
	*cc = NULL;
	path[0] = '\0';
	if (dir_build_name(path, PATH_MAX, "%s/ccache-XXXXXX", scratch_dir) < 0) {
		snprintf(err, errlen, "%s is too long for a ticket cache's name", scratch_dir);
		path[0] = '\0';
		return -1;
	}
	int fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		path[0] = '\0';
		return -1;
	}
	ssize_t w = write(fd, bytes->data, bytes->len);
	if (close(fd) < 0 || w != (ssize_t)bytes->len) {
		snprintf(err, errlen, "%s: cannot be written", path);
		return -1;
	}
	dir_build_name(name, sizeof(name), "FILE:%s", path); /* fits: name is 8 bytes longer */
	krb5_error_code rc = krb5_cc_resolve(ctx, name, cc);
	if (rc) {
		const char *m = krb5_get_error_message(ctx, rc);
		snprintf(err, errlen, "%s: %s", path, m);
		krb5_free_error_message(ctx, m);
		*cc = NULL;
		return -1;
	}
	return 0;
}

krb5_error_code ccache_find_tgt(krb5_context ctx, krb5_ccache cc, krb5_creds *creds)
{
	krb5_principal client = NULL, tgs = NULL;
	krb5_creds match;
	memset(&match, 0, sizeof(match));
	krb5_error_code rc = krb5_cc_get_principal(ctx, cc, &client);
	if (rc)
		return rc;
	const krb5_data *realm = &client->realm;
	rc = krb5_build_principal_ext(ctx, &tgs, realm->length, realm->data, KRB5_TGS_NAME_SIZE,
				      KRB5_TGS_NAME, realm->length, realm->data, 0);
	if (!rc) {
		match.client = client;
		match.server = tgs;
		rc = krb5_cc_retrieve_cred(ctx, cc, 0, &match, creds);
		krb5_free_principal(ctx, tgs);
	}
	krb5_free_principal(ctx, client);
	return rc;
}
