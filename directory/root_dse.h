/* A server's root DSE: its name, clock and vendor, as it publishes them (AD and Samba do). */
#ifndef DIRD_ROOT_DSE_H
#define DIRD_ROOT_DSE_H

#include <ldap.h>

struct root_dse {
	char name[256];		/* dnsHostName (AD) */
	char time[64];		/* currentTime (AD), generalized time */
	char vendor[128];	/* vendorName / vendorVersion */
};

/* Reads it on ld, bounded by timeout seconds; fields the server leaves out stay empty. */
void root_dse_read(LDAP *ld, unsigned timeout, struct root_dse *r);

/* currentTime ("20261122221500.0Z") as a unix time; -1 when empty or not one. */
long long root_dse_time(const char *generalized);

#endif
