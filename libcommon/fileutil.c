#include "fileutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int file_create_tmp(const char *path, mode_t mode, char *tmp, size_t tmplen)
{
	int n = snprintf(tmp, tmplen, "%s.tmp.%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= tmplen) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
}

int file_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int file_finish_tmp(int fd, bool ok, mode_t mode, const char *tmp)
{
	if (ok && fchmod(fd, mode) == 0 && fsync(fd) == 0) {
		if (close(fd) == 0)
			return 0;
		fd = -1;
	}
	int saved = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	errno = saved ? saved : EIO;
	return -1;
}

uint64_t file_sink_pos(const struct file_sink *s)
{
	return s->written + s->chunk.len;
}

/* Past this many bytes written since the last time, their writeback is started: the fsync that
 * ends the file (file_finish_tmp) then waits for the last few of them, not for all of a 160 MB
 * index, which the disk wrote meanwhile (0.25 s of a restart at 1M users). */
#define FILE_SINK_WRITEBACK (8u << 20)

static void start_writeback(struct file_sink *s)
{
	if (s->failed || s->written - s->writeback < FILE_SINK_WRITEBACK)
		return;
	/* advice only: the fsync at the end is what makes the file durable */
	(void)sync_file_range(s->fd, (off_t)s->writeback, (off_t)(s->written - s->writeback),
			      SYNC_FILE_RANGE_WRITE);
	s->writeback = s->written;
}

void file_sink_flush(struct file_sink *s, size_t keep)
{
	if (s->chunk.len <= keep)
		return;
	if (s->chunk.failed || (!s->failed && file_write_all(s->fd, s->chunk.data,
							      s->chunk.len) < 0))
		s->failed = true;
	s->written += s->chunk.len;
	buf_reset(&s->chunk);
	start_writeback(s);
}

void file_sink_put(struct file_sink *s, const void *p, size_t n)
{
	if (n < FILE_SINK_CHUNK) {
		buf_put_bytes(&s->chunk, p, n);
		file_sink_flush(s, FILE_SINK_CHUNK);
		return;
	}
	file_sink_flush(s, 0);
	if (!s->failed && file_write_all(s->fd, p, n) < 0)
		s->failed = true;
	s->written += n;
	start_writeback(s);
}

int file_write_tmp(const char *path, const void *data, size_t len, mode_t mode, char *tmp,
		   size_t tmplen)
{
	int fd = file_create_tmp(path, mode, tmp, tmplen);
	if (fd < 0)
		return -1;
	return file_finish_tmp(fd, file_write_all(fd, data, len) == 0, mode, tmp);
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
	return file_replace_checked(path, data, len, mode, NULL, NULL);
}

int file_replace_checked(const char *path, const void *data, size_t len, mode_t mode,
			 int (*check)(const char *tmp, void *arg), void *arg)
{
	char tmp[PATH_MAX];
	if (file_write_tmp(path, data, len, mode, tmp, sizeof(tmp)) < 0)
		return -1;
	if (check && check(tmp, arg) < 0)
		errno = ECANCELED;
	else if (rename(tmp, path) == 0)
		return dir_sync(path);
	int saved = errno;
	unlink(tmp);
	errno = saved;
	return -1;
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
	/* Shared with others (/tmp), the directory is not ours to make private: refused. */
	if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH))) {
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

int file_read(const char *path, size_t max, char **data, size_t *len, struct stat *st)
{
	*data = NULL;
	*len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	struct stat own;
	st = st ? st : &own;
	char *buf = NULL;
	size_t got = 0;
	if (fstat(fd, st) < 0)
		goto fail;
	if (!S_ISREG(st->st_mode) || (size_t)st->st_size > max) {
		errno = S_ISREG(st->st_mode) ? EFBIG : EINVAL;
		goto fail;
	}
	/* Read to the end, not to st_size: the file may be growing. */
	for (size_t cap = (size_t)st->st_size + 1;;) {
		char *more = realloc(buf, cap + 1);
		if (!more)
			goto fail;
		buf = more;
		ssize_t n = read(fd, buf + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > max) {
			errno = EFBIG;
			goto fail;
		}
		if (got == cap)
			cap *= 2;
	}
	close(fd);
	buf[got] = '\0';
	*data = buf;
	*len = got;
	return 0;
fail:;
	int saved = errno;
	free(buf);
	close(fd);
	errno = saved;
	return -1;
}

int file_copy(const char *from, const char *to)
{
	char *data;
	size_t len;
	struct stat st;
	if (file_read(from, FILE_COPY_MAX, &data, &len, &st) < 0)
		return -1;
	int rc = file_replace(to, data, len, st.st_mode & 07777);
	int saved = errno;
	free(data);
	errno = saved;
	return rc;
}
