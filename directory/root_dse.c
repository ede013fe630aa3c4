#include "root_dse.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static void first_value(LDAP *ld, LDAPMessage *e, const char *attr, char *out, size_t outlen)
{
	struct berval **v = ldap_get_values_len(ld, e, attr);
	if (v && v[0] && v[0]->bv_len < outlen && !memchr(v[0]->bv_val, '\0', v[0]->bv_len)) {
		memcpy(out, v[0]->bv_val, v[0]->bv_len);
		out[v[0]->bv_len] = '\0';
		for (char *p = out; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
	}
	ldap_value_free_len(v);
}

void root_dse_read(LDAP *ld, unsigned timeout, struct root_dse *r)
{
	char *attrs[] = { "dnsHostName", "currentTime", "vendorName", "vendorVersion", NULL };
	struct timeval tv = { .tv_sec = timeout };
	LDAPMessage *res = NULL;
	memset(r, 0, sizeof(*r));
	if (ldap_search_ext_s(ld, "", LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, NULL, NULL, &tv,
			      1, &res) == LDAP_SUCCESS) {
		LDAPMessage *e = ldap_first_entry(ld, res);
		if (e) {
			char version[64] = "";
			first_value(ld, e, "dnsHostName", r->name, sizeof(r->name));
			first_value(ld, e, "currentTime", r->time, sizeof(r->time));
			first_value(ld, e, "vendorName", r->vendor, sizeof(r->vendor) / 2);
			first_value(ld, e, "vendorVersion", version, sizeof(version));
			if (*version) {
				size_t n = strlen(r->vendor);
				snprintf(r->vendor + n, sizeof(r->vendor) - n, "%s%s", n ? " " : "", version);
			}
		}
	}
	ldap_msgfree(res);
}

/* Whether the normalized DN dn is context or below it. */
static bool within(const char *dn, const char *context)
{
	size_t n = strlen(dn), m = strlen(context);
	if (m > n || strcasecmp(dn + n - m, context) != 0)
		return false;
	if (m == n || m == 0)
		return true;
	/* an RDN boundary: a comma before it, not one escaped within a value */
	return dn[n - m - 1] == ',' && (n - m < 2 || dn[n - m - 2] != '\\');
}

static char *normalized(const char *dn)
{
	char *out = NULL;
	return ldap_dn_normalize(dn, LDAP_DN_FORMAT_LDAP, &out, LDAP_DN_FORMAT_LDAPV3) ==
			       LDAP_SUCCESS ? out : NULL;
}

/* The longest of the entry's namingContexts that dn is within. */
static char *holding(LDAP *ld, LDAPMessage *e, const char *dn)
{
	struct berval **v = ldap_get_values_len(ld, e, "namingContexts");
	char *want = normalized(dn), *best = NULL;
	for (size_t i = 0; want && v && v[i]; i++) {
		char *raw = strndup(v[i]->bv_val, v[i]->bv_len);
		char *context = raw && strlen(raw) == v[i]->bv_len ? normalized(raw) : NULL;
		free(raw);
		if (context && within(want, context) && (!best || strlen(context) > strlen(best))) {
			ldap_memfree(best);
			best = context;
			context = NULL;
		}
		ldap_memfree(context);
	}
	ldap_value_free_len(v);
	ldap_memfree(want);
	char *copy = best ? strdup(best) : NULL;
	ldap_memfree(best);
	return copy;
}

char *root_dse_naming_context(LDAP *ld, unsigned timeout, const char *dn)
{
	char *attrs[] = { "namingContexts", NULL };
	struct timeval tv = { .tv_sec = timeout };
	LDAPMessage *res = NULL, *e;
	char *context = NULL;
	if (ldap_search_ext_s(ld, "", LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, NULL, NULL, &tv,
			      1, &res) == LDAP_SUCCESS && (e = ldap_first_entry(ld, res)))
		context = holding(ld, e, dn);
	ldap_msgfree(res);
	return context;
}

long long root_dse_time(const char *s)
{
	struct tm tm = { 0 };
	if (strlen(s) < 15 || sscanf(s, "%4d%2d%2d%2d%2d%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
				     &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (long long)timegm(&tm);
}
