#include "nsswitch.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_SERVICES 64
#define GETENT "/usr/bin/getent"
#define CHECK_SECONDS 10

/* isspace() in the C locale, as glibc's parser uses it. */
static bool ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* One service: its name s[start, name_end) and, with its action list, s[start, end). */
struct service {
	size_t start, name_end, end;
};

static bool is_word(const char *s, size_t n, const char *word)
{
	return n == strlen(word) && !strncasecmp(s, word, n);
}

static bool is_status(const char *s, size_t n)
{
	return is_word(s, n, "success") || is_word(s, n, "notfound") || is_word(s, n, "unavail") ||
	       is_word(s, n, "tryagain");
}

static bool is_action(const char *s, size_t n)
{
	return is_word(s, n, "return") || is_word(s, n, "continue") || is_word(s, n, "merge");
}

static size_t skip_ws(const char *s, size_t i, size_t len)
{
	while (i < len && ws(s[i]))
		i++;
	return i;
}

/* An action list starting at s[i] == '[', as glibc reads it: the index after its ']', or 0
 * with *why set when glibc would reject it (and with it the whole file). */
static size_t action_list(const char *s, size_t i, size_t len, const char **why)
{
	i = skip_ws(s, i + 1, len);
	for (;;) {
		if (i < len && s[i] == '!')
			i++;
		size_t word = i;
		while (i < len && !ws(s[i]) && s[i] != '=' && s[i] != ']')
			i++;
		if (!is_status(s + word, i - word)) {
			*why = "an action list glibc rejects: each entry is [!]STATUS=ACTION, STATUS one of "
			       "success, notfound, unavail, tryagain";
			return 0;
		}
		i = skip_ws(s, i, len);
		if (i == len || s[i] != '=') {
			*why = "an action list glibc rejects: a STATUS without '=ACTION'";
			return 0;
		}
		i = skip_ws(s, i + 1, len);
		word = i;
		while (i < len && !ws(s[i]) && s[i] != '=' && s[i] != ']')
			i++;
		if (!is_action(s + word, i - word)) {
			*why = "an action list glibc rejects: ACTION is return, continue or merge";
			return 0;
		}
		i = skip_ws(s, i, len);
		if (i == len) {
			*why = "an action list glibc rejects: no closing ']'";
			return 0;
		}
		if (s[i] == ']')
			return i + 1;
	}
}

/* The services of s[0, len), as glibc's nss_action_parse reads them.  -1 with *why set when
 * glibc rejects them, or would silently ignore part of them. */
static int parse_services(const char *s, size_t len, struct service *v, size_t *n, const char **why)
{
	*n = 0;
	for (size_t i = skip_ws(s, 0, len); i < len; i = skip_ws(s, i, len)) {
		struct service sv = { .start = i };
		while (i < len && !ws(s[i]) && s[i] != '[')
			i++;
		if (i == sv.start) {
			*why = "an action list with no service before it (glibc ignores the rest of the line)";
			return -1;
		}
		sv.name_end = sv.end = i;
		size_t next = skip_ws(s, i, len);
		if (next < len && s[next] == '[') {
			if (!(sv.end = action_list(s, next, len, why)))
				return -1;
			i = sv.end;
		}
		if (*n == MAX_SERVICES) {
			*why = "too many services";
			return -1;
		}
		v[(*n)++] = sv;
	}
	return 0;
}

static bool named(const char *s, const struct service *sv, const char *name)
{
	return sv->name_end - sv->start == strlen(name) && !strncmp(s + sv->start, name, strlen(name));
}

const char *nsswitch_database(const char *line, size_t *len)
{
	size_t end = strcspn(line, "#"); /* glibc cuts the comment first */
	size_t i = skip_ws(line, 0, end), name = i;
	while (i < end && !ws(line[i]) && line[i] != ':')
		i++;
	if (i == end || i == name)
		return NULL; /* glibc skips such a line */
	*len = i - name;
	return line + name;
}

/* s with s[at, at + cut) replaced by `put`. */
static char *spliced(const char *s, size_t at, size_t cut, const char *put)
{
	char *out = NULL;
	if (asprintf(&out, "%.*s%s%s", (int)at, s, put, s + at + cut) < 0)
		return NULL;
	return out;
}

/* Where dir is, or n. */
static size_t find_dir(const char *s, const struct service *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (named(s, &v[i], "dir"))
			return i;
	return n;
}

/* The services text with dir put in after files or compat (with its action list), or with
 * `first` just before it, else first. */
static char *put_dir(const char *s, const struct service *v, size_t n, bool first)
{
	for (size_t i = 0; i < n; i++)
		if (named(s, &v[i], "files") || named(s, &v[i], "compat")) {
			if (first)
				return spliced(s, v[i].start, 0, "dir ");
			size_t at = v[i].end;
			bool glued = s[at] && !ws(s[at]); /* "files[NOTFOUND=return]systemd" */
			return spliced(s, at, 0, glued ? " dir " : " dir");
		}
	return spliced(s, v[0].start, 0, "dir ");
}

/* The services text with one dir (and its action list) taken out, with the space before the
 * next service (or, for the last one, after the previous). */
static char *take_dir(const char *s, const struct service *v, size_t n, size_t d)
{
	if (d + 1 < n)
		return spliced(s, v[d].start, v[d + 1].start - v[d].start, "");
	return spliced(s, v[d - 1].end, v[d].end - v[d - 1].end, "");
}

char *nsswitch_change_line(const char *line, bool enable, bool first, const char **why)
{
	*why = NULL;
	size_t namelen, end = strcspn(line, "#");
	const char *name = nsswitch_database(line, &namelen);
	if (!name) {
		*why = "not 'database: services'";
		return NULL;
	}
	/* glibc takes any run of spaces and colons after the name; we want one colon in it. */
	size_t at = (size_t)(name - line) + namelen, services = at;
	bool colon = false;
	while (services < end && (ws(line[services]) || line[services] == ':'))
		colon |= line[services++] == ':';
	if (!colon) {
		*why = "not 'database: services'";
		return NULL;
	}
	char *text = strndup(line + services, end - services);
	if (!text) {
		*why = "out of memory";
		return NULL;
	}
	struct service v[MAX_SERVICES];
	size_t n;
	char *changed = NULL;
	if (parse_services(text, strlen(text), v, &n, why) < 0)
		goto out;
	size_t d = find_dir(text, v, n);
	if (enable && d == n) {
		if (n == 0)
			*why = "no service at all: glibc finds no one there, root included";
		else
			changed = put_dir(text, v, n, first);
	} else if (!enable && d < n) {
		/* Take every dir out; the line must keep a service. */
		changed = strdup(text);
		while (changed && parse_services(changed, strlen(changed), v, &n, why) == 0 &&
		       (d = find_dir(changed, v, n)) < n) {
			if (n == 1) {
				*why = "dir is its only service: without it glibc would find no one, root included";
				break;
			}
			char *next = take_dir(changed, v, n, d);
			free(changed);
			changed = next;
		}
		if (*why) {
			free(changed);
			changed = NULL;
		}
	}
	if (changed) {
		char *whole = NULL;
		if (asprintf(&whole, "%.*s%s%s", (int)services, line, changed, line + end) < 0)
			whole = NULL;
		free(changed);
		changed = whole;
		if (!changed)
			*why = "out of memory";
	}
out:
	free(text);
	return changed;
}

/* In the check's namespace: getent DB KEY, bounded; true when glibc found it. */
static bool getent_finds(const char *db, const char *key)
{
	pid_t pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null >= 0) {
			dup2(null, STDOUT_FILENO);
			dup2(null, STDERR_FILENO);
		}
		alarm(CHECK_SECONDS); /* kept across exec: a module that hangs ends the check */
		execl(GETENT, "getent", db, key, (char *)NULL);
		_exit(127);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return false;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

enum { CHECK_OK, CHECK_NO_NAMESPACE, CHECK_NO_BIND, CHECK_NO_ROOT, CHECK_NO_ROOT_GROUP };

int nsswitch_glibc_check(const char *candidate, char *err, size_t errlen)
{
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		/* Root has its own mount namespace; anyone else gets one with a user namespace. */
		if (unshare(CLONE_NEWNS) < 0 && unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
			_exit(CHECK_NO_NAMESPACE);
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount(candidate, "/etc/nsswitch.conf", NULL, MS_BIND, NULL) < 0)
			_exit(CHECK_NO_BIND);
		if (!getent_finds("passwd", "0"))
			_exit(CHECK_NO_ROOT);
		_exit(getent_finds("group", "0") ? CHECK_OK : CHECK_NO_ROOT_GROUP);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			snprintf(err, errlen, "waitpid: %s", strerror(errno));
			return -1;
		}
	int rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	switch (rc) {
	case CHECK_OK:
		return 0;
	case CHECK_NO_NAMESPACE:
	case CHECK_NO_BIND:
		snprintf(err, errlen, "glibc could not be made to read it (a mount namespace of its own "
				      "needs root)");
		break;
	case CHECK_NO_ROOT:
	case CHECK_NO_ROOT_GROUP:
		snprintf(err, errlen, "glibc, reading it as /etc/nsswitch.conf, finds no %s 0: it "
				      "rejects the file or misses local accounts",
			 rc == CHECK_NO_ROOT ? "uid" : "gid");
		break;
	default:
		snprintf(err, errlen, "the check with getent failed");
	}
	return -1;
}
