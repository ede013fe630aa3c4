#include "ad_names.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "protocol.h"

void ad_name_split(const char *name, struct ad_name *out)
{
	const char *bs = strchr(name, '\\'), *at = strrchr(name, '@');
	if (bs)
		*out = (struct ad_name){ '\\', name, (size_t)(bs - name), bs + 1, strlen(bs + 1) };
	else if (at)
		*out = (struct ad_name){ '@', at + 1, strlen(at + 1), name, (size_t)(at - name) };
	else
		*out = (struct ad_name){ 0, NULL, 0, name, strlen(name) };
}

static bool prefix_is(const struct ad_name *n, char separator, const char *what)
{
	return n->separator == separator && n->prefix_len == strlen(what) &&
	       !strncasecmp(n->prefix, what, n->prefix_len);
}

bool dir_name_answers(const char *asked, const char *served)
{
	if (!strcmp(asked, served))
		return true;
	struct ad_name a, s;
	ad_name_split(asked, &a);
	ad_name_split(served, &s);
	if (s.separator == '\\' && !a.separator)
		return false; /* a bare name is never answered with a qualified one */
	if (a.separator == '\\' && s.separator == '\\' &&
	    (a.prefix_len != s.prefix_len || strncasecmp(a.prefix, s.prefix, a.prefix_len)))
		return false; /* another domain */
	return a.account_len == s.account_len && !strncasecmp(a.account, s.account, a.account_len);
}

int ad_name_served(const struct dir_domain *d, const char *account, char *out, size_t cap)
{
	int n = d->use_default_domain ? snprintf(out, cap, "%s", account) :
					snprintf(out, cap, "%s\\%s", d->workgroup, account);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int ad_name_canonical(const struct dir_config *c, const char *name, size_t *domain, char *out,
		      size_t cap)
{
	struct ad_name n;
	ad_name_split(name, &n);
	for (size_t i = 0; i < c->n_domains; i++) {
		const struct dir_domain *d = &c->domains[i];
		if (d->type != DIR_DOMAIN_AD ||
		    !(prefix_is(&n, '\\', d->workgroup) || prefix_is(&n, '@', d->realm)))
			continue;
		char account[DIR_MAX_NAME + 1];
		if (!n.account_len || n.account_len >= sizeof(account))
			return -1;
		memcpy(account, n.account, n.account_len);
		account[n.account_len] = '\0';
		*domain = i;
		return ad_name_served(d, account, out, cap) < 0 ? -1 : NAME_QUALIFIED;
	}
	if (!*name || strlen(name) > DIR_MAX_NAME || snprintf(out, cap, "%s", name) >= (int)cap)
		return -1;
	return NAME_BARE;
}

const char *ad_name_account(const struct dir_domain *d, const char *served)
{
	struct ad_name n;
	ad_name_split(served, &n);
	if (prefix_is(&n, '\\', d->workgroup))
		return n.account;
	return d->use_default_domain && n.separator != '\\' ? served : NULL;
}

bool ad_name_domain_takes(const struct dir_config *c, size_t d, enum name_form form,
			  size_t name_domain)
{
	const struct dir_domain *dom = &c->domains[d];
	if (form == NAME_QUALIFIED)
		return d == name_domain;
	return dom->type != DIR_DOMAIN_AD || dom->use_default_domain;
}

bool ad_name_same(const struct dir_domain *d, const char *a, const char *b)
{
	return d->type == DIR_DOMAIN_AD ? !strcasecmp(a, b) : !strcmp(a, b);
}
