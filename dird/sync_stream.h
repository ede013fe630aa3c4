/* Each LDAP domain's change stream: RFC 4533 refreshAndPersist on a connection of its own, one
 * thread per domain (sync_stream.c). */
#ifndef DIRD_SYNC_STREAM_H
#define DIRD_SYNC_STREAM_H

#include <stdbool.h>

#include "dird.h"

/* Starts a stream thread for every domain that may have one (type ldap, enumerate = yes, members
 * by name); each finds out whether its server offers content sync.  Lock held. */
void sync_start_locked(struct dird *d);
/* Whether every domain has a stream with a stored position for its users and its groups, so
 * that the streams bring the cache up to date without a full refresh. */
bool sync_resumes_all(struct dird *d);
/* Whether every domain has a stream thread (started, or live: its server may still turn out to
 * offer none, and it then asks for a full refresh).  Lock held. */
bool sync_streams_all_locked(const struct dird *d);
/* Whether every domain's stream is in sync now.  Lock held. */
bool sync_all_in_sync_locked(const struct dird *d);

#endif
