#include "idmap.h"

#include "protocol.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static int copy_account(const char *s, size_t len, char *out, size_t cap)
{
	if (len == 0 || len >= cap)
		return -1;
	memcpy(out, s, len);
	out[len] = '\0';
	return 0;
}

/* Splits a caller's name into its domain (for a qualified one) and its account part. */
static int split_name(const struct dir_config *c, const char *name, size_t *domain, char *account,
		      size_t cap)
{
	const char *bs = strchr(name, '\\'), *at = strrchr(name, '@');
	for (size_t i = 0; i < c->n_domains; i++) {
		const struct dir_domain *d = &c->domains[i];
		if (d->type != DIR_DOMAIN_AD)
			continue;
		size_t wl = strlen(d->workgroup);
		if (bs && (size_t)(bs - name) == wl && !strncasecmp(name, d->workgroup, wl)) {
			*domain = i;
			return copy_account(bs + 1, strlen(bs + 1), account, cap) < 0 ? -1 : NAME_QUALIFIED;
		}
		if (!bs && at && !strcasecmp(at + 1, d->realm)) {
			*domain = i;
			return copy_account(name, (size_t)(at - name), account, cap) < 0 ? -1 : NAME_QUALIFIED;
		}
	}
	return copy_account(name, strlen(name), account, cap) < 0 ? -1 : NAME_BARE;
}

int idmap_served_name(const struct dir_domain *d, const char *account, char *out, size_t cap)
{
	int n = d->use_default_domain ? snprintf(out, cap, "%s", account) :
					snprintf(out, cap, "%s\\%s", d->workgroup, account);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

bool idmap_domain_takes_name(const struct dir_config *c, size_t d, enum name_form form,
			     size_t name_domain)
{
	const struct dir_domain *dom = &c->domains[d];
	if (form == NAME_QUALIFIED)
		return d == name_domain;
	return dom->type != DIR_DOMAIN_AD || dom->use_default_domain;
}

bool idmap_domain_takes_id(const struct dir_domain *d, uint32_t id)
{
	return d->type != DIR_DOMAIN_AD || (id >= d->idmap_low && id <= d->idmap_high);
}

bool idmap_rid_to_id(const struct dir_domain *d, uint32_t rid, uint32_t *id)
{
	if (rid > d->idmap_high - d->idmap_low)
		return false;
	*id = d->idmap_low + rid;
	return true;
}

bool idmap_id_to_rid(const struct dir_domain *d, uint32_t id, uint32_t *rid)
{
	if (id < d->idmap_low || id > d->idmap_high)
		return false;
	*rid = id - d->idmap_low;
	return true;
}

int idmap_canonical_name(const struct dir_config *c, const char *name, size_t *domain, char *out,
			 size_t cap)
{
	char account[DIR_MAX_NAME + 1];
	int form = split_name(c, name, domain, account, sizeof(account));
	if (form == NAME_QUALIFIED)
		return idmap_served_name(&c->domains[*domain], account, out, cap) < 0 ? -1 : form;
	if (form == NAME_BARE && snprintf(out, cap, "%s", name) >= (int)cap)
		return -1;
	return form;
}

/* seconds from 1601-01-01 to 1970-01-01 */
#define NT_EPOCH_OFFSET 11644473600LL

long long idmap_ad_time(long long nt)
{
	if (nt <= 0 || nt == 0x7fffffffffffffffLL)
		return 0;
	long long t = nt / 10000000 - NT_EPOCH_OFFSET;
	return t > 0 ? t : 1;
}
