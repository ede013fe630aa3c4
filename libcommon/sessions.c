#include "sessions.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fileutil.h"

#define MAX_SESSION_FILE 4096

/* Field 22 of /proc/PID/stat, counted after the command name, which may hold spaces and
 * parentheses: everything after its last ')'.  0 when the process is gone. */
static uint64_t process_start(pid_t pid)
{
	char path[64], data[1024];
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, data, sizeof(data) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	data[n] = '\0';
	char *p = strrchr(data, ')');
	/* After ')': state is field 3, start time field 22. */
	for (int field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (!p)
		return 0;
	char *end;
	unsigned long long v = strtoull(p + 1, &end, 10);
	return end == p + 1 ? 0 : v;
}

bool session_alive(const struct dir_session *s)
{
	return s->pid > 0 && process_start(s->pid) == s->pid_start && s->pid_start != 0 &&
	       (!s->expires || (uint64_t)time(NULL) < s->expires);
}

static void clean_copy(char *dst, size_t dstlen, const char *src)
{
	size_t i = 0;
	for (; src && *src && i + 1 < dstlen; src++)
		dst[i++] = (*src >= 0x20 && *src < 0x7f) ? *src : '?';
	dst[i] = '\0';
}

static bool valid_id(const char *id)
{
	if (strlen(id) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? id[i] != '-' : !strchr("0123456789abcdef", id[i]))
			return false;
	}
	return true;
}

static int new_id(char out[37])
{
	uint8_t r[16];
	if (getrandom(r, sizeof(r), 0) != sizeof(r))
		return -1;
	r[6] = (r[6] & 0x0f) | 0x40; /* version 4 */
	r[8] = (r[8] & 0x3f) | 0x80; /* RFC 4122 variant */
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12],
		 r[13], r[14], r[15]);
	return 0;
}

static int registry_path(char *out, size_t len, const char *run_dir, const char *name)
{
	int n = name ? snprintf(out, len, "%s/%s/%s", run_dir, DIR_SESSIONS_DIR, name) :
		       snprintf(out, len, "%s/%s", run_dir, DIR_SESSIONS_DIR);
	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static int parse_u64(const char *v, uint64_t max, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long n = strtoull(v, &end, 10);
	if (errno || end == v || *end || v[0] == '-' || n > max)
		return -1;
	*out = n;
	return 0;
}

/* One "key=value" line of a session file; unknown keys are an error. */
static int parse_line(struct dir_session *s, char *line)
{
	char *v = strchr(line, '=');
	if (!v)
		return -1;
	*v++ = '\0';
	uint64_t n;
	struct { const char *key; char *dst; size_t len; } text[] = {
		{ "id", s->id, sizeof(s->id) }, { "user", s->user, sizeof(s->user) },
		{ "service", s->service, sizeof(s->service) }, { "tty", s->tty, sizeof(s->tty) },
		{ "rhost", s->rhost, sizeof(s->rhost) }, { "ccache", s->ccache, sizeof(s->ccache) },
	};
	for (size_t i = 0; i < sizeof(text) / sizeof(text[0]); i++)
		if (!strcmp(line, text[i].key)) {
			if (strlen(v) >= text[i].len)
				return -1;
			clean_copy(text[i].dst, text[i].len, v);
			return 0;
		}
	if (!strcmp(line, "uid") && parse_u64(v, UINT32_MAX, &n) == 0)
		s->uid = (uint32_t)n;
	else if (!strcmp(line, "pid") && parse_u64(v, INT32_MAX, &n) == 0)
		s->pid = (int32_t)n;
	else if (!strcmp(line, "pid_start") && parse_u64(v, UINT64_MAX, &n) == 0)
		s->pid_start = n;
	else if (!strcmp(line, "started") && parse_u64(v, UINT64_MAX, &n) == 0)
		s->started = n;
	else if (!strcmp(line, "expires") && parse_u64(v, UINT64_MAX, &n) == 0)
		s->expires = n;
	else
		return -1;
	return 0;
}

/* Reads one session file; -1 for anything but a small regular file of known keys. */
static int read_session(int dirfd, const char *name, struct dir_session *s)
{
	char data[MAX_SESSION_FILE + 1];
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return -1;
	struct stat st;
	ssize_t n = -1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size <= MAX_SESSION_FILE)
		n = read(fd, data, MAX_SESSION_FILE);
	close(fd);
	if (n < 0)
		return -1;
	data[n] = '\0';
	memset(s, 0, sizeof(*s));
	for (char *save = NULL, *line = strtok_r(data, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (parse_line(s, line) < 0)
			return -1;
	return strcmp(s->id, name) == 0 && s->user[0] && s->pid > 0 ? 0 : -1;
}

int session_each(const char *run_dir, int (*fn)(const struct dir_session *s, void *arg),
		 void *arg)
{
	char path[PATH_MAX];
	if (registry_path(path, sizeof(path), run_dir, NULL) < 0)
		return -1;
	DIR *dir = opendir(path);
	if (!dir)
		return -1;
	int rc = 0;
	struct dirent *de;
	while (rc == 0 && (de = readdir(dir))) {
		struct dir_session s;
		if (valid_id(de->d_name) && read_session(dirfd(dir), de->d_name, &s) == 0 &&
		    session_alive(&s))
			rc = fn(&s, arg);
	}
	closedir(dir);
	return rc;
}

/* Counts the account's live sessions and removes dead ones.  The registry lock is held. */
static unsigned count_and_prune(int dirfd, uint32_t uid)
{
	unsigned n = 0;
	int fd = dup(dirfd);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (!dir) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	struct dirent *de;
	while ((de = readdir(dir))) {
		struct dir_session s;
		if (!valid_id(de->d_name))
			continue;
		if (read_session(dirfd, de->d_name, &s) < 0 || !session_alive(&s))
			unlinkat(dirfd, de->d_name, 0);
		else if (s.uid == uid)
			n++;
	}
	closedir(dir);
	return n;
}

static int write_session(int dirfd, const struct dir_session *s)
{
	char data[MAX_SESSION_FILE], tmp[64];
	int n = snprintf(data, sizeof(data),
			 "id=%s\nuser=%s\nuid=%" PRIu32 "\nservice=%s\ntty=%s\nrhost=%s\npid=%" PRId32
			 "\npid_start=%" PRIu64 "\nstarted=%" PRIu64 "\nexpires=%" PRIu64 "\nccache=%s\n",
			 s->id, s->user, s->uid, s->service, s->tty, s->rhost, s->pid, s->pid_start,
			 s->started, s->expires, s->ccache);
	if (n < 0 || (size_t)n >= sizeof(data)) {
		errno = EOVERFLOW;
		return -1;
	}
	snprintf(tmp, sizeof(tmp), ".%s", s->id);
	int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	bool ok = write(fd, data, (size_t)n) == n;
	ok = close(fd) == 0 && ok;
	if (!ok || renameat(dirfd, tmp, dirfd, s->id) < 0) {
		int saved = errno;
		unlinkat(dirfd, tmp, 0);
		errno = saved ? saved : EIO;
		return -1;
	}
	return 0;
}

int session_register(const char *run_dir, struct dir_session *in, unsigned max_per_user,
		     unsigned max_age, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct dir_session s = *in;
	clean_copy(s.user, sizeof(s.user), in->user);
	clean_copy(s.service, sizeof(s.service), in->service);
	clean_copy(s.tty, sizeof(s.tty), in->tty);
	clean_copy(s.rhost, sizeof(s.rhost), in->rhost);
	s.pid = (int32_t)getpid();
	s.pid_start = process_start(getpid());
	s.started = (uint64_t)time(NULL);
	s.expires = max_age ? s.started + max_age : 0;
	if (registry_path(path, sizeof(path), run_dir, NULL) < 0 || dir_ensure(run_dir, 0755) < 0 ||
	    dir_ensure(path, 0700) < 0 || new_id(s.id) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	int dirfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	/* Only root can reach the lock (the directory is 0700), so this wait is between logins. */
	if (dirfd < 0 || flock(dirfd, LOCK_EX) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (dirfd >= 0)
			close(dirfd);
		return -1;
	}
	int rc = 0;
	unsigned live = count_and_prune(dirfd, s.uid);
	if (max_per_user && live >= max_per_user)
		rc = 1;
	else if (write_session(dirfd, &s) < 0) {
		snprintf(err, errlen, "%s/%s: %s", path, s.id, strerror(errno));
		rc = -1;
	}
	close(dirfd); /* and the lock with it */
	if (rc == 0)
		*in = s;
	return rc;
}

int session_set_ccache(const char *run_dir, const char *id, const char *ccache)
{
	char path[PATH_MAX];
	struct dir_session s;
	if (!valid_id(id)) {
		errno = EINVAL;
		return -1;
	}
	if (strlen(ccache) >= sizeof(s.ccache)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (registry_path(path, sizeof(path), run_dir, NULL) < 0)
		return -1;
	int dirfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dirfd < 0 || flock(dirfd, LOCK_EX) < 0) {
		int saved = errno;
		if (dirfd >= 0)
			close(dirfd);
		errno = saved;
		return -1;
	}
	int rc = -1;
	if (read_session(dirfd, id, &s) < 0) {
		errno = ENOENT;
	} else {
		clean_copy(s.ccache, sizeof(s.ccache), ccache);
		rc = write_session(dirfd, &s);
	}
	int saved = errno;
	close(dirfd);
	errno = saved;
	return rc;
}

int session_unregister(const char *run_dir, const char *id)
{
	char path[PATH_MAX];
	if (!valid_id(id)) {
		errno = EINVAL;
		return -1;
	}
	if (registry_path(path, sizeof(path), run_dir, id) < 0)
		return -1;
	return unlink(path);
}
