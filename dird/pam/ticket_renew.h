/* Users' tickets renewed while their sessions are open (ticket_renew.c). */
#ifndef DIRD_TICKET_RENEW_H
#define DIRD_TICKET_RENEW_H

#include <stddef.h>
#include <sys/types.h>

#include "dird.h"

enum renew_result {
	RENEW_NOT_DUE,	/* less than half of the ticket's lifetime has passed */
	RENEW_DONE,
	RENEW_ENDED,	/* not renewable (any more): expired, past its renew lifetime, none */
	RENEW_FAILED,	/* err says why; tried again at the next check */
};

/* Renews the TGT of the FILE ticket cache at path, which must be uid's, when half of its
 * lifetime has passed; scratch_dir is a directory of root's.  *until: when the tickets end now
 * (0: unknown). */
enum renew_result ticket_renew(const char *path, uid_t uid, const char *scratch_dir,
			       long long *until, char *err, size_t errlen);

/* Starts the thread that renews the tickets of the registered sessions. */
int renew_start(struct dird *d);

#endif
