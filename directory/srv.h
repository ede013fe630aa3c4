/* DNS SRV discovery of LDAP servers: `uri = _srv_` or `discover = yes`. */
#ifndef DIRD_SRV_H
#define DIRD_SRV_H

#include <stddef.h>

/* Looks up _ldap._tcp.<dns_domain> and writes "ldap://host:port ..." to out, in priority order
 * (lowest first) and, within a priority, heaviest weight first.  -1 with err set when nothing
 * usable came back. */
int srv_discover(const char *dns_domain, char *out, size_t outlen, char *err, size_t errlen);

/* The same for any service (_kerberos._tcp): "<prefix>host:port ...". */
int srv_lookup(const char *service, const char *dns_domain, const char *prefix, char *out,
	       size_t outlen, char *err, size_t errlen);

/* The DNS domain of a base DN: its dc= components joined by dots, or -1. */
int srv_domain_of_base(const char *base_dn, char *out, size_t outlen);

#endif
