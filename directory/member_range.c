#include "member_range.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A decimal bound, digits only, below UINT32_MAX. */
static const char *parse_bound(const char *p, uint32_t *out)
{
	uint64_t n = 0;
	if (!isdigit((unsigned char)*p))
		return NULL;
	for (; isdigit((unsigned char)*p); p++)
		if ((n = n * 10 + (uint64_t)(*p - '0')) >= UINT32_MAX)
			return NULL;
	*out = (uint32_t)n;
	return p;
}

int member_range_parse(const char *desc, const char *attr, uint32_t *next)
{
	static const char option[] = ";range=";
	size_t n = strlen(attr);
	if (strncasecmp(desc, attr, n) || strncasecmp(desc + n, option, sizeof(option) - 1))
		return 0;
	const char *p = desc + n + sizeof(option) - 1;
	uint32_t low, high;
	if (!(p = parse_bound(p, &low)) || *p++ != '-')
		return -1;
	if (p[0] == '*' && p[1] == '\0') {
		*next = 0;
		return 1;
	}
	if (!(p = parse_bound(p, &high)) || *p || high < low)
		return -1;
	*next = high + 1;
	return 1;
}

struct slice {
	const char *attr;
	struct dn_list *dns;
	bool seen;		/* a slice came */
	bool bad;		/* a malformed one */
	uint32_t next;
};

/* The slices of s->attr in e, into s->dns. */
static int take_slices(LDAP *ld, LDAPMessage *e, void *arg)
{
	struct slice *s = arg;
	BerElement *ber = NULL;
	int rc = 0;
	for (char *a = ldap_first_attribute(ld, e, &ber); a && rc == 0;
	     a = ldap_next_attribute(ld, e, ber)) {
		uint32_t next;
		int r = member_range_parse(a, s->attr, &next);
		if (r < 0)
			s->bad = true;
		if (r > 0) {
			s->seen = true;
			s->next = next;
			struct berval **v = ldap_get_values_len(ld, e, a);
			for (size_t i = 0; v && v[i] && rc == 0; i++)
				rc = dn_list_add_value(s->dns, v[i]);
			ldap_value_free_len(v);
		}
		ldap_memfree(a);
	}
	ber_free(ber, 0);
	return rc;
}

int member_range_fetch(struct ldap_conn *c, LDAP *ld, LDAPMessage *e, const char *attr,
		       struct dn_list *dns, char *err, size_t errlen)
{
	struct slice s = { attr, dns, false, false, 0 };
	if (take_slices(ld, e, &s) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (!s.seen || !s.next)
		return 0;
	char *raw = ldap_get_dn(ld, e), *dn = raw ? strdup(raw) : NULL;
	ldap_memfree(raw);
	if (!dn) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int rc = 0;
	for (unsigned slices = 1; rc == 0 && s.next; slices++) {
		if (slices == MAX_RANGE_SLICES) {
			snprintf(err, errlen, "%s has more than %d slices of %s", dn, MAX_RANGE_SLICES, attr);
			rc = -1;
			break;
		}
		char want[128];
		snprintf(want, sizeof(want), "%s;range=%u-*", attr, s.next);
		const char *attrs[] = { want, NULL };
		uint32_t asked = s.next;
		s.seen = false;
		rc = ldap_conn_search(c, dn, DIR_SCOPE_BASE, "(objectClass=*)", attrs, take_slices, &s,
				      err, errlen);
		/* A server that sends no slice, or one that does not move on, is not followed. */
		if (rc == 0 && (!s.seen || s.bad || (s.next && s.next <= asked))) {
			snprintf(err, errlen, "%s: a malformed slice of %s after %u", dn, attr, asked);
			rc = -1;
		}
	}
	free(dn);
	return rc;
}
