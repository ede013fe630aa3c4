/* Account names as callers hand them to us. */
#ifndef DIR_NAMES_H
#define DIR_NAMES_H

#include <stdbool.h>

/* True for a name we may look up or serve: 1..DIR_MAX_NAME bytes, no control characters and
 * none of ':' ',' (they would break passwd/group lines), no leading '-' or '+' (nsswitch
 * compat syntax). */
bool dir_valid_name(const char *name);

#endif
