/* AD's change notification (1.2.840.113556.1.4.528), to wake a poll early (ad_notify.c). */
#ifndef DIRD_AD_NOTIFY_H
#define DIRD_AD_NOTIFY_H

#include <ldap.h>
#include <stdbool.h>
#include <stddef.h>

#include "dird.h"

/* One domain's notification search; ld NULL when none is open. */
struct ad_notify {
	LDAP *ld;
	int msgid;
};

/* Opens domain i's search unless one is open.  Reads the configuration: called where a poll
 * may (lock not held). */
void ad_notify_open(struct dird *d, size_t i, struct ad_notify *n);
/* Waits at most ms for a notification on any of the `count` searches; woke[k] true for each
 * that had one.  A search that ended or broke is closed (the next poll opens it again).  False
 * when none is open (nothing waited). */
bool ad_notify_wait(struct ad_notify *n, size_t count, int ms, bool *woke);
void ad_notify_close(struct ad_notify *n);

#endif
