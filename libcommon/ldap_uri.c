#include "ldap_uri.h"

#include <ldap.h>
#include <stdio.h>
#include <string.h>

static int check_one(const char *uri, char *why, size_t whylen)
{
	if (strncmp(uri, "ldap://", 7) && strncmp(uri, "ldaps://", 8) && strncmp(uri, "ldapi://", 8)) {
		snprintf(why, whylen, "'%s' must start with ldap://, ldaps:// or ldapi://", uri);
		return -1;
	}
	LDAPURLDesc *u = NULL;
	int rc = ldap_url_parse(uri, &u);
	int result = -1;
	if (rc != LDAP_URL_SUCCESS)
		snprintf(why, whylen, "'%s' is not a valid LDAP uri (scheme://host[:port], a port "
			 "of digits alone)", uri);
	else if (strcmp(u->lud_scheme, "ldapi") && (!u->lud_host || !*u->lud_host))
		snprintf(why, whylen, "'%s' names no host", uri);
	else if (u->lud_port < 0 || u->lud_port > 65535)
		snprintf(why, whylen, "'%s': port %d is not in 1 ... 65535", uri, u->lud_port);
	else
		result = 0;
	ldap_free_urldesc(u);
	return result;
}

int dir_ldap_uris_check(const char *uris, char *why, size_t whylen)
{
	char uri[1024];
	for (const char *p = uris + strspn(uris, " \t"); *p; p += strspn(p, " \t")) {
		size_t n = strcspn(p, " \t");
		if (n >= sizeof(uri)) {
			snprintf(why, whylen, "a uri longer than %zu bytes", sizeof(uri) - 1);
			return -1;
		}
		memcpy(uri, p, n);
		uri[n] = '\0';
		if (check_one(uri, why, whylen) < 0)
			return -1;
		p += n;
	}
	return 0;
}
