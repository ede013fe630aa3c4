/* What the server a full refresh read a domain from held when the read began, set against the
 * positions of the domain's change stream (or AD's poll) that the refresh would write back into
 * its new files (sync_keep.c).  A position counts the changes of the server its stream
 * followed, and the refresh may have read another one (another uri answered, the stream failed
 * over since) that lags behind it: a position is written back only when the server read held
 * every change the position counts, so that what the stream is sent after it is all the files
 * may lack.  slapd: the contextCSN of each provider the position names at least the position's
 * CSN of that provider.  AD: the same DC and database at a USN no lower. */
#ifndef DIRD_SERVER_HOLDS_H
#define DIRD_SERVER_HOLDS_H

#include <stdbool.h>
#include <stddef.h>

#include "ad_changes.h"
#include "ldap_conn.h"

struct server_holds {
	bool read;
	char server[DIR_MAX_URI];
	struct berval **csns[2];	/* slapd: the contextCSN values of the groups' and the
					 * users' bases' naming contexts (NULL: none shown) */
	struct ad_position at;		/* AD: where the DC stood (dc empty: unknown) */
};

/* Reads it on c (its domain's server), before the refresh reads the domain. */
void server_holds_read(struct server_holds *h, struct ldap_conn *c);
/* Whether it held every change the position of the domain's stream `stream` ("groups",
 * "users", "usn") counts; when not, why (for the log). */
bool server_holds_position(const struct server_holds *h, const char *stream, const void *position,
			   size_t len, char *why, size_t whylen);
void server_holds_free(struct server_holds *h);

#endif
