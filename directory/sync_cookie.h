/* slapd's RFC 4533 cookies, as a consumer of a multi-provider pair must keep them.  RFC 4533
 * leaves a cookie opaque; slapd writes "rid=NNN[,sid=NNN][,csn=CSN[;CSN...]]", one CSN per
 * provider (serverID: the CSN's third '#' field).  Anything else passes through unchanged. */
#ifndef DIR_SYNC_COOKIE_H
#define DIR_SYNC_COOKIE_H

#include <lber.h>
#include <stdbool.h>

/* The position after `next` arrived, `known` being the one before (NULL: none).  In its persist
 * phase slapd's cookies carry the CSN of the change alone: kept as sent, a position would forget
 * the other providers' CSNs, and a resume from it is a present phase of every entry.  So each
 * provider's newest CSN of the two is kept.  A new berval (ber_bvfree), NULL when out of memory. */
struct berval *sync_cookie_merge(const struct berval *known, const struct berval *next);

/* The stored position as it is sent: without slapd's sid, which names the provider that sent
 * it.  Sent back to the other provider of a pair (a failover), a sid makes it take the stream
 * for that provider's replication and withhold every change that provider originated (its loop
 * guard).  A new berval, NULL when out of memory. */
struct berval *sync_cookie_to_send(const struct berval *stored);

/* Whether a server holds every change the position counts, its contextCSN values being `held`
 * (NULL-ended, one per serverID, as slapd keeps them on the suffix entry): for each provider's
 * CSN in the position, the server's CSN of that provider is no older.  Providers apply each
 * other's changes in CSN order, so such a server has them all.  False when the position or a
 * value is not in slapd's form, or the position names no CSN: nothing shows the server has
 * what it counts. */
bool sync_cookie_held(const struct berval *position, struct berval *const *held);

/* Whether a stored position may be sent.  False when it is empty, or in slapd's form without a
 * CSN slapd can read ("rid=000", a damaged file): slapd takes such a cookie for none, reads out
 * every entry as added and ends with a delete phase that lists nothing, so a stream resuming
 * from it would keep serving what was deleted meanwhile. */
bool sync_cookie_usable(const struct berval *stored);

#endif
