/* Account names as callers hand them to us. */
#ifndef DIR_NAMES_H
#define DIR_NAMES_H

#include <stdbool.h>
#include <stddef.h>

/* True for a name we may look up or serve: 1..DIR_MAX_NAME bytes, no control characters and
 * none of ':' ',' (they would break passwd/group lines), no leading '-' or '+' (nsswitch
 * compat syntax). */
bool dir_valid_name(const char *name);

/* A name built from parts (a ticket cache's, a keytab's, a template for mkstemp), printf-style:
 * 0, or -1 with out empty when it does not fit (a shortened name could be another file's). */
__attribute__((format(printf, 3, 4))) int dir_build_name(char *out, size_t outlen,
							 const char *fmt, ...);

#endif
