/* RFC 4515 escaping of values put into LDAP search filters. */
#ifndef DIR_LDAP_FILTER_H
#define DIR_LDAP_FILTER_H

#include <stddef.h>

/* Writes `value` into out with '*', '(', ')', '\\' and NUL as \XX escapes.  Returns the length,
 * or -1 when it does not fit in outlen (including the terminating NUL). */
int ldap_filter_escape(const char *value, char *out, size_t outlen);

#endif
