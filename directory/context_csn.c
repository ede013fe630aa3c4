#include "context_csn.h"

#include <stdlib.h>

#include "root_dse.h"

struct berval **context_csn_read(LDAP *ld, unsigned timeout, const char *base)
{
	char *context = root_dse_naming_context(ld, timeout, base);
	if (!context)
		return NULL;
	char *attrs[] = { "contextCSN", NULL };
	struct timeval tv = { .tv_sec = timeout };
	LDAPMessage *res = NULL, *e;
	struct berval **values = NULL;
	if (ldap_search_ext_s(ld, context, LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, NULL, NULL,
			      &tv, 1, &res) == LDAP_SUCCESS && (e = ldap_first_entry(ld, res)))
		values = ldap_get_values_len(ld, e, "contextCSN");
	ldap_msgfree(res);
	free(context);
	return values;
}
