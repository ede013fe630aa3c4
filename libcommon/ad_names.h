/* Active Directory account names, in every form a caller uses: "ADTEST\alice" (winbind's, the
 * form dird serves), "alice@ad.test" (a UPN, the realm in any case) and, with
 * use_default_domain, "alice".  This file alone splits such names, puts them in the form
 * served, tells which domain may hold one, and whether a served name answers an asked one. */
#ifndef DIR_AD_NAMES_H
#define DIR_AD_NAMES_H

#include <stdbool.h>
#include <stddef.h>

struct dir_config;
struct dir_domain;

/* A name's parts, pointers into it: "ADTEST\alice" has the prefix ADTEST before '\', "alice@
 * ad.test" the prefix ad.test after the last '@' (a '\' wins over an '@'), a bare name none. */
struct ad_name {
	char separator;		/* '\\', '@' or 0 (bare) */
	const char *prefix;	/* the workgroup or realm; NULL when bare */
	size_t prefix_len;
	const char *account;
	size_t account_len;
};
void ad_name_split(const char *name, struct ad_name *out);

/* Whether dird's record `served` answers a lookup of `asked`: the same name, or an AD name in
 * another case or form ("adtest\ALICE", "alice@ad.test", and with use_default_domain "ALICE"
 * or "ADTEST\alice" for "alice").  Account parts are compared without regard to ASCII case
 * (dird itself serves LDAP names exactly); a bare name is never answered with a qualified one,
 * nor a name of one workgroup with another's.  libnss_dir asks this of every record it reads. */
bool dir_name_answers(const char *asked, const char *served);

enum name_form { NAME_BARE, NAME_QUALIFIED };

/* A caller's name as dird serves it: "ADTEST\alice" (a workgroup, any case) or "alice@ad.test"
 * (a realm, any case) of a configured AD domain gives NAME_QUALIFIED, *domain its index and in
 * `out` the name served for it (ad_name_served); anything else is NAME_BARE with the name as it
 * is in `out`.  -1 when the account part is empty or the name does not fit. */
int ad_name_canonical(const struct dir_config *c, const char *name, size_t *domain, char *out,
		      size_t cap);

/* The name served for an account of AD domain d: "WORKGROUP\account", or the account alone
 * with use_default_domain.  -1 when it does not fit in cap. */
int ad_name_served(const struct dir_domain *d, const char *account, char *out, size_t cap);

/* The account a served name of AD domain d names there (its sAMAccountName): "ADTEST\alice"
 * -> "alice"; a bare name with use_default_domain is itself.  NULL when the name is not this
 * domain's. */
const char *ad_name_account(const struct dir_domain *d, const char *served);

/* Whether domain d may hold a caller's name of this form: a bare name goes to LDAP domains and
 * to AD domains with use_default_domain; a qualified one only to its own domain. */
bool ad_name_domain_takes(const struct dir_config *c, size_t d, enum name_form form,
			  size_t name_domain);

/* Whether two names of domain d are one account: AD's without regard to case (the directory's
 * case is served), other directories' exactly. */
bool ad_name_same(const struct dir_domain *d, const char *a, const char *b);

#endif
