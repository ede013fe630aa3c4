#include "fileutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int file_write_tmp(const char *path, const void *data, size_t len, mode_t mode, char *tmp,
		   size_t tmplen)
{
	int n = snprintf(tmp, tmplen, "%s.tmp.%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= tmplen) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -1;
	const char *p = data;
	size_t left = len;
	while (left > 0) {
		ssize_t w = write(fd, p, left);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		p += w;
		left -= (size_t)w;
	}
	if (fchmod(fd, mode) < 0 || fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:;
	int saved = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	errno = saved;
	return -1;
}

/* The directory holding path, and where its last part starts. */
static const char *dir_of(const char *path, char *dir, size_t dirlen)
{
	const char *slash = strrchr(path, '/');
	int n = !slash ? snprintf(dir, dirlen, ".") :
		snprintf(dir, dirlen, "%.*s", slash == path ? 1 : (int)(slash - path), path);
	if (n < 0 || (size_t)n >= dirlen) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	return slash ? slash + 1 : path;
}

int dir_sync(const char *path)
{
	char dir[PATH_MAX];
	if (!dir_of(path, dir, sizeof(dir)))
		return -1;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	int saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

int file_replace(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	if (file_write_tmp(path, data, len, mode, tmp, sizeof(tmp)) < 0)
		return -1;
	if (rename(tmp, path) < 0) {
		int saved = errno;
		unlink(tmp);
		errno = saved;
		return -1;
	}
	return dir_sync(path);
}

void file_remove_tmps(const char *path)
{
	char dir[PATH_MAX], prefix[NAME_MAX + 8];
	const char *base = dir_of(path, dir, sizeof(dir));
	int m = base ? snprintf(prefix, sizeof(prefix), "%s.tmp.", base) : -1;
	if (m < 0 || (size_t)m >= sizeof(prefix))
		return;
	DIR *d = opendir(dir);
	if (!d)
		return;
	for (struct dirent *e; (e = readdir(d));)
		if (!strncmp(e->d_name, prefix, (size_t)m))
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
}

int dir_ensure(const char *path, mode_t mode)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return -1;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct stat st;
	int rc = -1;
	if (fstat(fd, &st) < 0)
		goto out;
	if (st.st_uid != geteuid()) {
		errno = EPERM;
		goto out;
	}
	if ((st.st_mode & 07777) != mode && fchmod(fd, mode) < 0)
		goto out;
	rc = 0;
out:;
	int saved = errno;
	close(fd);
	errno = saved;
	return rc;
}
