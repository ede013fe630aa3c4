#include "ratelimit.h"

#include "log.h"

bool ratelimit_allow(struct ratelimit *r, uid_t uid, long long now_ms)
{
	if (uid == 0)
		return true;
	/* This uid's slot, or the one used longest ago (a new user starts with a full bucket). */
	size_t pick = 0;
	for (size_t i = 0; i < RATELIMIT_USERS; i++) {
		if (r->slot[i].last_ms && r->slot[i].uid == uid) {
			pick = i;
			goto found;
		}
		if (r->slot[i].last_ms < r->slot[pick].last_ms)
			pick = i;
	}
	r->slot[pick].uid = uid;
	r->slot[pick].tokens = MISS_BURST;
	r->slot[pick].last_ms = now_ms;
	r->slot[pick].warned_ms = 0;
found:;
	double refill = (double)(now_ms - r->slot[pick].last_ms) * MISS_RATE / 1000.0;
	r->slot[pick].tokens = r->slot[pick].tokens + refill > MISS_BURST ? MISS_BURST :
									      r->slot[pick].tokens + refill;
	r->slot[pick].last_ms = now_ms ? now_ms : 1;
	if (r->slot[pick].tokens >= 1) {
		r->slot[pick].tokens -= 1;
		return true;
	}
	if (now_ms - r->slot[pick].warned_ms >= 10000) {
		log_warning("uid %u asks for more than %d unknown names a second; answering "
			    "'unavailable' to the rest", (unsigned)uid, MISS_RATE);
		r->slot[pick].warned_ms = now_ms;
	}
	return false;
}
