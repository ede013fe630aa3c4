/* dird.conf's uri values checked when the file is read, so a typo (ldap://host:389x) is a
 * file:line error rather than a server that never answers. */
#ifndef DIR_LDAP_URI_H
#define DIR_LDAP_URI_H

#include <stddef.h>

/* uris: one or more ldap://, ldaps:// or ldapi:// uris separated by blanks.  0 when libldap
 * reads each as a uri with a host (ldapi://: a socket path) and a port in 1 ... 65535; else -1
 * with why naming the uri and what is wrong with it. */
int dir_ldap_uris_check(const char *uris, char *why, size_t whylen);

#endif
