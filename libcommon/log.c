#include "log.h"

#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <time.h>

const char *const dir_log_level_names[] = { "error", "warning", "info", "debug", NULL };

static bool use_stderr = true;
/* dird -f's lines carry the time, unless journald (which stamps them) reads its stderr. */
static bool stamp = false;
static enum dir_log_level max_level = DIR_LOG_INFO;
static const char *ident_name = "dir";
static pthread_mutex_t stderr_lock = PTHREAD_MUTEX_INITIALIZER;

void log_setup(const char *ident, bool to_stderr, enum dir_log_level level)
{
	ident_name = ident;
	use_stderr = to_stderr;
	stamp = to_stderr && !getenv("JOURNAL_STREAM");
	max_level = level;
	if (!to_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_set_level(enum dir_log_level level)
{
	max_level = level;
}

bool log_enabled(enum dir_log_level level)
{
	return level <= max_level;
}

void log_msg(enum dir_log_level level, const char *fmt, ...)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	static const char *const tag[] = { "error", "warning", "info", "debug" };
	if (level > max_level)
		return;
	va_list ap;
	va_start(ap, fmt);
	if (use_stderr) {
		char msg[1024];
		vsnprintf(msg, sizeof(msg), fmt, ap);
		char when[48] = "";
		struct timespec ts;
		struct tm tm;
		if (stamp && clock_gettime(CLOCK_REALTIME, &ts) == 0 && localtime_r(&ts.tv_sec, &tm)) {
			size_t n = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
			n += (size_t)snprintf(when + n, sizeof(when) - n, ".%03ld", ts.tv_nsec / 1000000);
			strftime(when + n, sizeof(when) - n, "%z ", &tm);
		}
		pthread_mutex_lock(&stderr_lock);
		fprintf(stderr, "%s%s: %s: %s\n", when, ident_name, tag[level], msg);
		pthread_mutex_unlock(&stderr_lock);
	} else {
		vsyslog(prio[level], fmt, ap);
	}
	va_end(ap);
}

void log_printable(const char *s, char *out, size_t outlen)
{
	size_t i = 0;
	for (; *s && i + 1 < outlen && i < 64; s++)
		out[i++] = isprint((unsigned char)*s) ? *s : '?';
	out[i] = '\0';
}
