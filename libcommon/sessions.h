/* The session registry: one file per open login session in <run_dir>/sessions/ (a root-only
 * directory), written by pam_dir at open_session, removed at close_session (or when the PAM
 * handle that opened it ends), listed by dirctl.  A session whose process has died, whose pid
 * now belongs to another process (its start time differs), or whose age limit has passed is
 * not live: it does not count and the next registration removes it. */
#ifndef DIR_SESSIONS_H
#define DIR_SESSIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "protocol.h"

#define DIR_SESSIONS_DIR "sessions"

struct dir_session {
	char id[37];			/* a random UUID */
	char user[DIR_MAX_NAME + 1];
	uint32_t uid;
	char service[64];
	char tty[64];
	char rhost[256];
	int32_t pid;			/* the process that opened it */
	uint64_t pid_start;		/* its start time, clock ticks after boot */
	uint64_t started;		/* unix time */
	uint64_t expires;		/* unix time it stops counting; 0: while its process lives */
	char ccache[512];		/* the user's ticket cache pam_dir made; "": none */
};

/* Registers s (user, uid, service, tty, rhost filled in by the caller; text is stored with
 * anything unprintable as '?').  Sets id, pid (ours), pid_start, started and, with max_age > 0,
 * expires (started + max_age).  With max_per_user > 0, refuses when the account (its uid, by
 * whatever name it logged in) already has that many live sessions.
 * 0 registered, 1 refused, -1 error with err set. */
int session_register(const char *run_dir, struct dir_session *s, unsigned max_per_user,
		     unsigned max_age, char *err, size_t errlen);

/* Records the ticket cache of session `id` (dird renews its tickets while the session lives).
 * 0, or -1 with errno (ENOENT: no such session; ENAMETOOLONG: a path too long to keep). */
int session_set_ccache(const char *run_dir, const char *id, const char *ccache);

/* Removes session `id`; 0, or -1 with errno (ENOENT when there is none). */
int session_unregister(const char *run_dir, const char *id);

/* Calls fn for every live session, in no order; stops when fn returns non-zero and returns
 * that.  -1 with errno when the registry cannot be read (ENOENT: no session yet). */
int session_each(const char *run_dir, int (*fn)(const struct dir_session *s, void *arg),
		 void *arg);

bool session_alive(const struct dir_session *s);

#endif
