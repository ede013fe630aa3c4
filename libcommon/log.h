/* Logging for dird and dirctl: stderr in the foreground, syslog otherwise.  Never pass a
 * secret to these functions. */
#ifndef DIR_LOG_H
#define DIR_LOG_H

#include <stdbool.h>

/* dird.conf's log_level, in this order. */
enum dir_log_level { DIR_LOG_ERROR, DIR_LOG_WARNING, DIR_LOG_INFO, DIR_LOG_DEBUG };

void log_setup(const char *ident, bool to_stderr, enum dir_log_level level);
void log_set_level(enum dir_log_level level);
void log_msg(enum dir_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(DIR_LOG_ERROR, __VA_ARGS__)
#define log_warning(...) log_msg(DIR_LOG_WARNING, __VA_ARGS__)
#define log_info(...) log_msg(DIR_LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(DIR_LOG_DEBUG, __VA_ARGS__)

#endif
