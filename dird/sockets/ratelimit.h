/* Cache misses per local user: a token bucket each, so one user asking for name after name the
 * directory lacks cannot flood it for everyone.  root is not limited. */
#ifndef DIRD_RATELIMIT_H
#define DIRD_RATELIMIT_H

#include <stdbool.h>
#include <sys/types.h>

#define MISS_RATE 50	/* per second, sustained */
#define MISS_BURST 200
#define RATELIMIT_USERS 64

struct ratelimit {
	struct {
		uid_t uid;
		double tokens;
		long long last_ms;	/* 0: slot unused */
		long long warned_ms;
	} slot[RATELIMIT_USERS];
};

/* Takes a token of uid's bucket; false when there is none (and logs it now and then). */
bool ratelimit_allow(struct ratelimit *r, uid_t uid, long long now_ms);

#endif
