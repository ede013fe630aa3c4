/* A server's root DSE: its name, clock and vendor, as it publishes them (AD and Samba do), and
 * its naming contexts. */
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

/* The naming context (namingContexts) that holds dn: the longest one dn is within, compared as
 * normalized DNs, case aside.  malloc'd; NULL when none does, the root DSE cannot be read or
 * out of memory. */
char *root_dse_naming_context(LDAP *ld, unsigned timeout, const char *dn);

/* currentTime ("20261122221500.0Z") as a unix time; -1 when empty or not one. */
long long root_dse_time(const char *generalized);

#endif
