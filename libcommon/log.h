/* Logging for dird and dirctl: stderr in the foreground (each line with the local time when
 * log_setup chose stderr and journald does not read it: no JOURNAL_STREAM), syslog otherwise.
 * Never pass a secret to these functions. */
#ifndef DIR_LOG_H
#define DIR_LOG_H

#include <stdbool.h>
#include <stddef.h>

/* dird.conf's log_level, in this order. */
enum dir_log_level { DIR_LOG_ERROR, DIR_LOG_WARNING, DIR_LOG_INFO, DIR_LOG_DEBUG };

/* Their names, as dird.conf and dirctl log-level write them, in that order; NULL after. */
extern const char *const dir_log_level_names[];

void log_setup(const char *ident, bool to_stderr, enum dir_log_level level);
void log_set_level(enum dir_log_level level);
void log_msg(enum dir_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Whether a line of this level would be written (to skip building an expensive one). */
bool log_enabled(enum dir_log_level level);
/* Text from a caller (a user or service name) as it may appear in a log line: printable ASCII
 * only (anything else '?'), at most 64 characters. */
void log_printable(const char *s, char *out, size_t outlen);

#define log_error(...) log_msg(DIR_LOG_ERROR, __VA_ARGS__)
#define log_warning(...) log_msg(DIR_LOG_WARNING, __VA_ARGS__)
#define log_info(...) log_msg(DIR_LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(DIR_LOG_DEBUG, __VA_ARGS__)

#endif
