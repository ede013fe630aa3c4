/* Windows security identifiers (MS-DTYP 2.4.2): the binary form AD sends in objectSid and
 * tokenGroups, and the S-1-5-21-... text form.  Every binary value is checked against its length
 * before a byte of it is read. */
#ifndef DIR_SID_H
#define DIR_SID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SID_MAX_SUB_AUTHS 15
/* "S-1-" + a 48-bit authority + 15 x "-4294967295" + NUL */
#define SID_MAX_STRING 192
#define SID_MAX_BINARY (8 + 4 * SID_MAX_SUB_AUTHS)

struct sid {
	uint8_t revision;	/* always 1 */
	uint8_t n_sub;		/* 0..15 */
	uint64_t authority;	/* 48 bits */
	uint32_t sub[SID_MAX_SUB_AUTHS];
};

/* From the binary form: exactly len bytes, revision 1, a sub-authority count of at most 15 that
 * matches len.  0, or -1 for anything else. */
int sid_from_binary(const void *data, size_t len, struct sid *out);
/* The binary form into out (SID_MAX_BINARY bytes); returns its length. */
size_t sid_to_binary(const struct sid *s, uint8_t *out);

/* From "S-1-5-21-...": decimal fields without signs or leading zeros, 0..15 sub-authorities. */
int sid_from_string(const char *text, struct sid *out);
/* The text form into out (SID_MAX_STRING bytes). */
void sid_to_string(const struct sid *s, char *out, size_t outlen);

/* The binary form escaped for an LDAP filter value (\01\05...): out holds 3 * SID_MAX_BINARY + 1. */
void sid_filter_value(const struct sid *s, char *out, size_t outlen);

/* A domain account's SID is its domain's (S-1-5-21-a-b-c) plus one RID.  True when s is one:
 * *rid set, and domain (when not NULL) set to s without its RID. */
bool sid_split_rid(const struct sid *s, struct sid *domain, uint32_t *rid);
/* The domain SID plus a RID; false when the domain already has 15 sub-authorities. */
bool sid_append_rid(const struct sid *domain, uint32_t rid, struct sid *out);
bool sid_equal(const struct sid *a, const struct sid *b);
/* S-1-5-32-...: the BUILTIN domain (Administrators, Users...), never served as accounts. */
bool sid_is_builtin(const struct sid *s);

#endif
