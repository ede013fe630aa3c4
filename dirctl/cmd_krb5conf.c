/* dirctl krb5conf: a krb5.conf for the realms of the configuration: each AD domain's realm (its
 * KDCs are its DCs: the hosts of its uris, else DNS) and the krb5_realm of LDAP domains with
 * auth = krb5.  Printed for the administrator to review and install. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dirctl.h"
#include "ldap_conn.h"

static const char *realm_of(const struct dir_domain *d)
{
	return d->type == DIR_DOMAIN_AD ? d->realm : d->auth == DIR_AUTH_KRB5 ? d->krb5_realm : NULL;
}

/* True when an earlier domain has the same realm (it was printed already). */
static bool seen_before(const struct dir_config *cfg, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (realm_of(&cfg->domains[j]) && !strcasecmp(realm_of(&cfg->domains[j]),
							      realm_of(&cfg->domains[i])))
			return true;
	return false;
}

/* "kdc = HOST" lines for the hosts of the domain's uris. */
static void print_servers(const struct dir_domain *d)
{
	const char *p = d->uri;
	while (p && *p) {
		size_t n = strcspn(p, " \t");
		char uri[1024];
		LDAPURLDesc *url = NULL;
		snprintf(uri, sizeof(uri), "%.*s", (int)(n < sizeof(uri) ? n : sizeof(uri) - 1), p);
		if (ldap_url_parse(uri, &url) == LDAP_URL_SUCCESS && url->lud_host && *url->lud_host)
			printf("\t\tkdc = %s\n\t\tadmin_server = %s\n", url->lud_host, url->lud_host);
		ldap_free_urldesc(url);
		p += n;
		p += strspn(p, " \t");
	}
}

int cmd_krb5conf(struct ctl *c)
{
	const struct dir_config *cfg = &c->cfg;
	const char *first = NULL;
	for (size_t i = 0; i < cfg->n_domains && !first; i++)
		first = realm_of(&cfg->domains[i]);
	if (!first) {
		fprintf(stderr, "dirctl: no realm in %s (type = ad domains and auth = krb5 have one)\n",
			cfg->path);
		return EXIT_FAIL;
	}
	printf("# krb5.conf for the realms of %s (dirctl krb5conf)\n", cfg->path);
	printf("[libdefaults]\n\tdefault_realm = %s\n\tdns_lookup_realm = false\n"
	       "\tdns_lookup_kdc = true\n\trdns = false\n\tforwardable = true\n\n[realms]\n", first);
	for (size_t i = 0; i < cfg->n_domains; i++) {
		const struct dir_domain *d = &cfg->domains[i];
		if (!realm_of(d) || seen_before(cfg, i))
			continue;
		printf("\t%s = {\n", realm_of(d));
		if (d->type == DIR_DOMAIN_AD)
			print_servers(d); /* without uris: the DCs from DNS (dns_lookup_kdc) */
		printf("\t}\n");
	}
	printf("\n[domain_realm]\n");
	for (size_t i = 0; i < cfg->n_domains; i++) {
		const struct dir_domain *d = &cfg->domains[i];
		if (d->type == DIR_DOMAIN_AD)
			printf("\t.%s = %s\n\t%s = %s\n", d->dns_domain, d->realm, d->dns_domain, d->realm);
	}
	return EXIT_OK;
}
