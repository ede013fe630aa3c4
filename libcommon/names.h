/* Account names as callers hand them to us. */
#ifndef DIR_NAMES_H
#define DIR_NAMES_H

#include <stdbool.h>
#include <stddef.h>

/* True for a name we may look up or serve: 1..DIR_MAX_NAME bytes, no control characters and
 * none of ':' ',' (they would break passwd/group lines), no leading '-' or '+' (nsswitch
 * compat syntax). */
bool dir_valid_name(const char *name);

/* Whether dird's record `served` answers a lookup of `asked`: the same name, or an AD name in
 * another case or form ("adtest\ALICE", "alice@ad.test", and with use_default_domain "ALICE"
 * or "ADTEST\alice" for "alice").  Account parts are compared without regard to ASCII case
 * (dird itself serves LDAP names exactly); a bare name is never answered with a qualified one,
 * nor a name of one workgroup with another's. */
bool dir_name_answers(const char *asked, const char *served);

/* A name built from parts (a ticket cache's, a keytab's, a template for mkstemp), printf-style:
 * 0, or -1 with out empty when it does not fit (a shortened name could be another file's). */
__attribute__((format(printf, 3, 4))) int dir_build_name(char *out, size_t outlen,
							 const char *fmt, ...);

#endif
